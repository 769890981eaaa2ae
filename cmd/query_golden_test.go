package cmd

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// TestQueryOutputLikeAWSCLI: --query results as text, JSON, tables and YAML are what the
// AWS CLI prints for the same document and query. The golden files come
// from the AWS CLI's own formatters (testdata/query/gen.py).
func TestQueryOutputLikeAWSCLI(t *testing.T) {
	dir := filepath.Join("testdata", "query")
	data, err := os.ReadFile(filepath.Join(dir, "cases.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cases []struct{ Name, Doc, Query string }
	if err := json.Unmarshal(data, &cases); err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join(dir, c.Doc))
			if err != nil {
				t.Fatal(err)
			}
			var doc any
			if err := json.Unmarshal(raw, &doc); err != nil {
				t.Fatal(err)
			}
			res, err := search(c.Query, doc)
			if err != nil {
				t.Fatal(err)
			}
			for _, form := range []string{"text", "json", "table", "yaml"} {
				want, err := os.ReadFile(filepath.Join(dir, c.Name+"."+form))
				if form == "table" && os.IsNotExist(err) {
					continue // the AWS CLI itself fails on this result
				}
				if err != nil {
					t.Fatal(err)
				}
				var got bytes.Buffer
				switch form {
				case "text":
					err = writeQueryText(&got, res)
				case "json":
					err = writeOrderedJSON(&got, res, newKeyOrder(raw, c.Query))
				case "yaml":
					err = writeYAML(&got, res, false)
				default:
					err = writeQueryTable(&got, "ListAccessKeys", res, 80)
				}
				if err != nil {
					t.Fatal(err)
				}
				if got.String() != string(want) {
					t.Errorf("%s of %q:\ngot:\n%s\nthe AWS CLI prints:\n%s", form, c.Query, got.String(), want)
				}
			}
		})
	}
}

// FuzzQuery: any --query compiles or fails with a worded error, and its
// result prints in every form without a panic.
func FuzzQuery(f *testing.F) {
	raw, err := os.ReadFile(filepath.Join("testdata", "query", "list.json"))
	if err != nil {
		f.Fatal(err)
	}
	var doc any
	if err := json.Unmarshal(raw, &doc); err != nil {
		f.Fatal(err)
	}
	for _, q := range []string{"AccessKeyMetadata[.Status", "a[?b==", "{a: b, \"c\": d}", "length(@)", "é[", "`x`"} {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, q string) {
		res, err := search(q, doc)
		if err != nil {
			_ = queryError(q, err)
			return
		}
		var b bytes.Buffer
		_ = writeQueryText(&b, res)
		_ = writeOrderedJSON(&b, res, newKeyOrder(raw, q))
		_ = writeYAML(&b, res, true)
		_ = writeQueryTable(&b, "List", res, 80)
	})
}

// FuzzYAMLFold: whatever a string holds, the YAML written for it (folded
// at 80 columns as the AWS CLI folds) reads back as the same string, as a
// mapping value, a list item and a nested one.
func FuzzYAMLFold(f *testing.F) {
	for _, s := range []string{
		"two Active keys: rotation needs a free slot; deactivate the one no longer in use",
		"key AKIAIOSFODNN7EXAMPLE: created 200d ago, more than 90d; the other Active key AKIAI44QH8DHBEXAMPLE holds the second slot",
		strings.Repeat("word ", 40), strings.Repeat("x", 100) + " y", "'quoted' " + strings.Repeat("a b ", 30), "",
		"2026-12-03T07:19:51Z", "line\nbreak " + strings.Repeat("z ", 50), "tab\there " + strings.Repeat("é ", 60),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			return
		}
		doc := map[string]any{"Detail": s, "List": []any{s, map[string]any{"Inner": s}}}
		var b bytes.Buffer
		if err := writeYAML(&b, doc, false); err != nil {
			t.Fatal(err)
		}
		var back struct {
			Detail string `yaml:"Detail"`
			List   []any  `yaml:"List"`
		}
		if err := yaml.Unmarshal(b.Bytes(), &back); err != nil {
			t.Fatalf("%q: the YAML does not parse: %v\n%s", s, err, b.String())
		}
		if len(back.List) != 2 {
			t.Fatalf("%q: list read back as %v\n%s", s, back.List, b.String())
		}
		inner, _ := back.List[1].(map[string]any)
		if back.Detail != s || back.List[0] != s || inner["Inner"] != s {
			t.Fatalf("%q read back as %q, %q, %q\n%s", s, back.Detail, back.List[0], inner["Inner"], b.String())
		}
	})
}
