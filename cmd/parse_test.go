package cmd

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseAge(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"0": 0, "90d": 90 * 24 * time.Hour, "2w": 14 * 24 * time.Hour, "36h": 36 * time.Hour, "1h30m": 90 * time.Minute, "0d": 0,
	} {
		got, err := parseAge(in)
		if err != nil || got != want {
			t.Errorf("parseAge(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "d", "-1d", "+3d", "1.5d", "soon", "-5m", "99999999d", "7 d"} {
		if _, err := parseAge(in); err == nil {
			t.Errorf("parseAge(%q) = nil error", in)
		}
	}
}

func FuzzParseAge(f *testing.F) {
	for _, s := range []string{"90d", "2w", "36h", "0", "-1d", "d", "", "1h30m", "\xffd"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := parseAge(s)
		if err == nil && d < 0 {
			t.Fatalf("parseAge(%q) = %v: negative", s, d)
		}
		if err == nil && d > 0 {
			back, err := parseAge(formatAge(d))
			if err != nil || back != d {
				t.Fatalf("formatAge(%v) = %q does not parse back: %v, %v", d, formatAge(d), back, err)
			}
		}
	})
}

func TestParseUpdateInput(t *testing.T) {
	in, err := parseUpdateInput([]byte(`{"UserName":"bob","AccessKeyId":"AKIAIOSFODNN7EXAMPLE","Status":"inactive"}`), "--cli-input-json")
	if err != nil || *in.UserName != "bob" || *in.AccessKeyID != "AKIAIOSFODNN7EXAMPLE" || *in.Status != "inactive" {
		t.Fatalf("parseUpdateInput = %+v, %v", in, err)
	}
	in, err = parseUpdateInput([]byte(` {"Status":"Active"} `), "--cli-input-json")
	if err != nil || in.UserName != nil || in.AccessKeyID != nil {
		t.Fatalf("partial input = %+v, %v", in, err)
	}
	for doc, want := range map[string]string{
		``:                         "is empty",
		`null`:                     "not a JSON object",
		`[]`:                       "not a JSON object",
		`"x"`:                      "not a JSON object",
		`{"Status":"Active"} {}`:   "unexpected data",
		`{"Status":true}`:          "Status must be a string",
		`{"Bogus":"x"}`:            `unknown parameter "Bogus"`,
		`{"accesskeyid":"x"}`:      `unknown parameter "accesskeyid"`,
		`{"UserName":"a"`:          "the JSON ends early",
		strings.Repeat(" ", 2<<20): "larger than",
	} {
		_, err := parseUpdateInput([]byte(doc), "--cli-input-json")
		var ue *usageError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), want) {
			t.Errorf("parseUpdateInput(%.40q) = %v, want usage error containing %q", doc, err, want)
		}
	}
}

func FuzzParseUpdateInput(f *testing.F) {
	for _, s := range []string{`{"UserName":"bob","AccessKeyId":"AKIAIOSFODNN7EXAMPLE","Status":"Inactive"}`, `{}`, `null`, `{"Status":1}`, `{"a":`, `[{}]`, `{"UserName":null}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		in, err := parseUpdateInput(data, "--cli-input-json")
		if err != nil {
			var ue *usageError
			if !errors.As(err, &ue) {
				t.Fatalf("error is not a usage error: %v", err)
			}
			return
		}
		_ = in
	})
}

func TestLegacyLiterals(t *testing.T) {
	for in, want := range map[string]string{
		"a[?Status==`Inactive`].b": "a[?Status==`\"Inactive\"`].b",
		"a[?n==`5`]":               "a[?n==`5`]",
		"a[?s=='`x`']":             "a[?s=='`x`']",
		"`unterminated":            "`unterminated",
		"`\"json\"`":               "`\"json\"`",
	} {
		got, at := legacyLiterals(in)
		if len(at) != len(got)+1 || at[len(got)] != len(in) {
			t.Errorf("legacyLiterals(%q): offsets %v do not map %q back", in, at, got)
		}
		if got != want {
			t.Errorf("legacyLiterals(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzCompileQuery(f *testing.F) {
	for _, s := range []string{"a.b", "a[?S==`I`]", "`", "'", "\"", "a[?x==`\\``]", "[["} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		_, _ = compileQuery(q)
	})
}

func FuzzParseUpdateYAML(f *testing.F) {
	for _, s := range []string{"UserName: bob\nAccessKeyId: AKIAIOSFODNN7EXAMPLE\nStatus: Inactive\n", "{}", "- a", "Status: 1", "a: [", "UserName: null", "&a [*a]", "Status: !!binary aGk="} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if _, err := parseUpdateYAML(data); err != nil {
			var ue *usageError
			if !errors.As(err, &ue) {
				t.Fatalf("error is not a usage error: %v", err)
			}
		}
	})
}
