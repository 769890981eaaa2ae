package credfile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

// Key pairs from AWS's documentation, never valid credentials.
const (
	oldID     = "AKIAIOSFODNN7EXAMPLE"
	oldSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	newID     = "AKIAI44QH8DHBEXAMPLE"
	newSecret = "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY"
)

type wantProfile struct {
	id, secret string
	token      bool
}

func TestParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want map[string]wantProfile
	}{
		{"empty", "", map[string]wantProfile{}},
		{"default", "[default]\naws_access_key_id = " + oldID + "\naws_secret_access_key = " + oldSecret + "\n",
			map[string]wantProfile{"default": {oldID, oldSecret, false}}},
		{"no spaces, no final newline", "[default]\naws_access_key_id=" + oldID + "\naws_secret_access_key=" + oldSecret,
			map[string]wantProfile{"default": {oldID, oldSecret, false}}},
		{"CRLF", "[default]\r\naws_access_key_id = " + oldID + "\r\naws_secret_access_key = " + oldSecret + "\r\n",
			map[string]wantProfile{"default": {oldID, oldSecret, false}}},
		{"space inside brackets and comment after header", "[  ci  ] # deploy\naws_access_key_id = " + oldID + "\n",
			map[string]wantProfile{"ci": {oldID, "", false}}},
		{"keys are case-insensitive", "[a]\nAWS_Access_Key_ID = " + oldID + "\nAWS_SECRET_ACCESS_KEY = " + oldSecret + "\n",
			map[string]wantProfile{"a": {oldID, oldSecret, false}}},
		{"colon separator, quotes, inline comments", "[a]\naws_access_key_id: \"" + oldID + "\" # laptop\naws_secret_access_key = '" + oldSecret + "'\t; old\n",
			map[string]wantProfile{"a": {oldID, oldSecret, false}}},
		{"comment marks without a space belong to the value", "[a]\naws_secret_access_key = ab#cd;ef\n",
			map[string]wantProfile{"a": {"", "ab#cd;ef", false}}},
		{"comments and blank lines", "# top\n; also\n   # indented\n\n[a]\n\n# x = y\naws_access_key_id = " + oldID + "\n",
			map[string]wantProfile{"a": {oldID, "", false}}},
		{"session token", "[a]\naws_access_key_id = ASIAIOSFODNN7EXAMPLE\naws_secret_access_key = s\naws_session_token = tok\n",
			map[string]wantProfile{"a": {"ASIAIOSFODNN7EXAMPLE", "s", true}}},
		{"legacy security token", "[a]\naws_security_token = tok\n",
			map[string]wantProfile{"a": {"", "", true}}},
		{"duplicate profiles merge, later wins", "[a]\naws_access_key_id = one\naws_secret_access_key = s1\n[b]\n[a]\naws_access_key_id = two\n",
			map[string]wantProfile{"a": {"two", "s1", false}, "b": {}}},
		{"nested sub-section", "[a]\ns3 =\n  max_concurrent_requests = 10\n  aws_access_key_id = nested\naws_secret_access_key = s\n",
			map[string]wantProfile{"a": {"", "s", false}}},
		{"indented key after a value is promoted", "[a]\nregion = us-east-1\n  aws_access_key_id = promoted # c\n",
			map[string]wantProfile{"a": {"promoted", "", false}}},
		{"continuation extends a value", "[a]\naws_secret_access_key = ab\n  cd\n",
			map[string]wantProfile{"a": {"", "ab\ncd", false}}},
		{"keys before any section are ignored", "aws_access_key_id = global\n  more\n[a]\n",
			map[string]wantProfile{"a": {}}},
		{"profile-prefixed and spaced names", "[profile  x]\n[a  b c]\n",
			map[string]wantProfile{"profile x": {}, "a b c": {}}},
		{"unicode comment", "# clé — ne pas partager ✓\n[a]\naws_access_key_id = " + oldID + " ; ключ\n",
			map[string]wantProfile{"a": {oldID, "", false}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, err := Parse([]byte(tt.in))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got := string(f.Bytes()); got != tt.in {
				t.Errorf("Bytes() = %q, want the input %q", got, tt.in)
			}
			if got := f.Profiles(); len(got) != len(tt.want) {
				t.Errorf("Profiles() = %q, want %d profiles", got, len(tt.want))
			}
			for name, w := range tt.want {
				p, ok := f.Profile(name)
				if !ok {
					t.Errorf("Profile(%q) not found", name)
					continue
				}
				if p.Name != name || p.AccessKeyID != w.id || p.SecretAccessKey.Reveal() != w.secret || p.SessionToken != w.token {
					t.Errorf("Profile(%q) = %q %q token=%v, want %q %q token=%v",
						name, p.AccessKeyID, p.SecretAccessKey.Reveal(), p.SessionToken, w.id, w.secret, w.token)
				}
			}
			if _, ok := f.Profile("missing"); ok {
				t.Error(`Profile("missing") found`)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		line     int
	}{
		{"unterminated header", "[default\naws_access_key_id = x\n", 1},
		{"header with trailing text", "[a]\n[b] extra\n", 2},
		{"comment mark inside header", "[a;b]\n", 1},
		{"empty header", "# c\n[ ]\n", 2},
		{"bare word", "[a]\naws_access_key_id = x\nAKIAIOSFODNN7EXAMPLE\n", 3},
		{"word before comment", "[a]\r\n\r\nfoo # a = b\r\n", 3},
		{"lone quote value crashes the SDK", "[a]\naws_secret_access_key = \"\n", 2},
		{"lone quote in indented value", "[a]\nx =\n  y = '\n", 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, err := Parse([]byte(tt.in))
			if f != nil || !errors.Is(err, ErrSyntax) {
				t.Fatalf("Parse = %v, %v; want a syntax error", f, err)
			}
			var se *SyntaxError
			if !errors.As(err, &se) || se.Line != tt.line {
				t.Fatalf("error %v, want line %d", err, tt.line)
			}
			if want := fmt.Sprintf("line %d: ", tt.line); !strings.HasPrefix(err.Error(), want) {
				t.Errorf("error %q, want prefix %q", err, want)
			}
			if strings.Contains(err.Error(), "AKIA") {
				t.Errorf("error %q quotes the file's content", err)
			}
		})
	}
}

func TestSetKey(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, profile, in, want string
	}{
		{"default",
			"default",
			"[default]\naws_access_key_id = " + oldID + "\naws_secret_access_key = " + oldSecret + "\n",
			"[default]\naws_access_key_id = " + newID + "\naws_secret_access_key = " + newSecret + "\n"},
		{"CRLF, comments and other profiles kept",
			"default",
			"# managed by hand\r\n[ci]\r\naws_access_key_id = " + oldID + "\r\n\r\n; laptop\r\n[default]\r\naws_access_key_id=" + oldID + "\r\naws_secret_access_key =  " + oldSecret + " ; 2024\r\nregion = eu-west-1\r\n",
			"# managed by hand\r\n[ci]\r\naws_access_key_id = " + oldID + "\r\n\r\n; laptop\r\n[default]\r\naws_access_key_id=" + newID + "\r\naws_secret_access_key =  " + newSecret + " ; 2024\r\nregion = eu-west-1\r\n"},
		{"spacing, case, quotes and inline comments kept",
			"a",
			"[a]\nAWS_ACCESS_KEY_ID\t=\t\"" + oldID + "\"   # laptop\naws_secret_access_key:" + oldSecret + "\n",
			"[a]\nAWS_ACCESS_KEY_ID\t=\t\"" + newID + "\"   # laptop\naws_secret_access_key:" + newSecret + "\n"},
		{"empty values filled",
			"a",
			"[a]\naws_access_key_id =\naws_secret_access_key=\n",
			"[a]\naws_access_key_id = " + newID + "\naws_secret_access_key=" + newSecret + "\n"},
		{"session token and its continuation removed",
			"a",
			"[a]\naws_access_key_id = ASIAIOSFODNN7EXAMPLE\naws_session_token = part1\n  part2\naws_secret_access_key = s\n# after\n",
			"[a]\naws_access_key_id = " + newID + "\naws_secret_access_key = " + newSecret + "\n# after\n"},
		{"missing keys added at the end of the section, before trailing comments",
			"a",
			"[a]\nregion = us-east-1\n\n# b follows\n[b]\nregion = x\n",
			"[a]\nregion = us-east-1\naws_access_key_id = " + newID + "\naws_secret_access_key = " + newSecret + "\n\n# b follows\n[b]\nregion = x\n"},
		{"added keys copy the section's separator",
			"a",
			"[a]\nregion=us-east-1\n",
			"[a]\nregion=us-east-1\naws_access_key_id=" + newID + "\naws_secret_access_key=" + newSecret + "\n"},
		{"missing secret added after the key ID",
			"a",
			"[a]\naws_access_key_id = " + oldID + "\nregion = x\n",
			"[a]\naws_access_key_id = " + newID + "\naws_secret_access_key = " + newSecret + "\nregion = x\n"},
		{"no final newline kept",
			"a",
			"[a]\naws_access_key_id = " + oldID,
			"[a]\naws_access_key_id = " + newID + "\naws_secret_access_key = " + newSecret},
		{"profile appended after a blank line",
			"ci",
			"[default]\naws_access_key_id = " + oldID + "\n",
			"[default]\naws_access_key_id = " + oldID + "\n\n[ci]\naws_access_key_id = " + newID + "\naws_secret_access_key = " + newSecret + "\n"},
		{"profile appended to CRLF file without final newline",
			"ci",
			"[default]\r\nregion = x",
			"[default]\r\nregion = x\r\n\r\n[ci]\r\naws_access_key_id = " + newID + "\r\naws_secret_access_key = " + newSecret},
		{"CRLF file ending in a continuation: no \r enters its value",
			"ci",
			"[a]\r\nk = v\r\n  more",
			"[a]\r\nk = v\r\n  more\n\r\n[ci]\r\naws_access_key_id = " + newID + "\r\naws_secret_access_key = " + newSecret},
		{"profile appended after an existing blank line",
			"ci",
			"[default]\nregion = x\n\n",
			"[default]\nregion = x\n\n[ci]\naws_access_key_id = " + newID + "\naws_secret_access_key = " + newSecret + "\n"},
		{"profile created in an empty file",
			"default",
			"",
			"[default]\naws_access_key_id = " + newID + "\naws_secret_access_key = " + newSecret + "\n"},
		{"profile-prefixed section is not the profile",
			"ci",
			"[profile ci]\naws_access_key_id = " + oldID + "\n",
			"[profile ci]\naws_access_key_id = " + oldID + "\n\n[ci]\naws_access_key_id = " + newID + "\naws_secret_access_key = " + newSecret + "\n"},
		{"duplicate profiles: every occurrence updated, tokens removed from all",
			"a",
			"[a]\naws_access_key_id = one\naws_session_token = t1\n[b]\naws_access_key_id = " + oldID + "\n[a]\naws_access_key_id = two\naws_session_token = t2\nregion = x\n",
			"[a]\naws_access_key_id = " + newID + "\n[b]\naws_access_key_id = " + oldID + "\n[a]\naws_access_key_id = " + newID + "\naws_secret_access_key = " + newSecret + "\nregion = x\n"},
		{"duplicate profiles: missing keys go to the last",
			"a",
			"[a]\nregion = x\n[b]\n[a]\noutput = json\n",
			"[a]\nregion = x\n[b]\n[a]\noutput = json\naws_access_key_id = " + newID + "\naws_secret_access_key = " + newSecret + "\n"},
		{"sub-sections kept",
			"a",
			"[a]\ns3 =\n  max_concurrent_requests = 10\n  aws_access_key_id = nested\naws_secret_access_key = " + oldSecret + "\n",
			"[a]\ns3 =\n  max_concurrent_requests = 10\n  aws_access_key_id = nested\naws_secret_access_key = " + newSecret + "\naws_access_key_id = " + newID + "\n"},
		{"unicode comments kept",
			"a",
			"# clé — ne pas partager ✓\n[a]\naws_access_key_id = " + oldID + " ; ключ\naws_secret_access_key = " + oldSecret + "\n",
			"# clé — ne pas partager ✓\n[a]\naws_access_key_id = " + newID + " ; ключ\naws_secret_access_key = " + newSecret + "\n"},
		{"indented promoted key edited in place",
			"a",
			"[a]\nregion = x\n  aws_access_key_id = " + oldID + "\naws_secret_access_key = s\n",
			"[a]\nregion = x\n  aws_access_key_id = " + newID + "\naws_secret_access_key = " + newSecret + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, err := Parse([]byte(tt.in))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if err := f.SetKey(tt.profile, newID, newSecret); err != nil {
				t.Fatalf("SetKey: %v", err)
			}
			if got := string(f.Bytes()); got != tt.want {
				t.Errorf("Bytes() =\n%q\nwant\n%q", got, tt.want)
			}
			p, ok := f.Profile(tt.profile)
			if !ok || p.AccessKeyID != newID || p.SecretAccessKey.Reveal() != newSecret || p.SessionToken {
				t.Errorf("Profile(%q) = %q token=%v, %v", tt.profile, p.AccessKeyID, p.SessionToken, ok)
			}
		})
	}
}

func TestSetKeyRejects(t *testing.T) {
	t.Parallel()
	const in = "[a]\nfoo =\naws_session_token = t\n  x = 1\n"
	tests := []struct {
		name, profile, id, secret string
		want                      error
	}{
		{"empty profile", "", newID, newSecret, ErrInvalidArgument},
		{"newline in profile", "a\n[b]", newID, newSecret, ErrInvalidArgument},
		{"bracket in profile", "a]", newID, newSecret, ErrInvalidArgument},
		{"spaces around profile", " a", newID, newSecret, ErrInvalidArgument},
		{"double space in profile", "a  b", newID, newSecret, ErrInvalidArgument},
		{"profile prefix", "profile a", newID, newSecret, ErrInvalidArgument},
		{"empty ID", "a", "", newSecret, ErrInvalidArgument},
		{"space in secret", "a", newID, "wJalrXUtnFEMI K7MDENG", ErrInvalidArgument},
		{"comment mark in secret", "a", newID, "wJalrXUtnFEMI;K7MDENG", ErrInvalidArgument},
		{"quote in ID", "a", `"x"`, newSecret, ErrInvalidArgument},
		// Removing the token would make "  x = 1" a nested value of foo.
		{"edit changes another line's meaning", "a", newID, newSecret, ErrUnsafeEdit},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, err := Parse([]byte(in))
			if err != nil {
				t.Fatal(err)
			}
			err = f.SetKey(tt.profile, tt.id, tt.secret)
			if !errors.Is(err, tt.want) {
				t.Fatalf("SetKey = %v, want %v", err, tt.want)
			}
			if strings.Contains(err.Error(), tt.secret) {
				t.Errorf("error %q shows the secret", err)
			}
			if got := string(f.Bytes()); got != in {
				t.Errorf("file changed on error: %q", got)
			}
		})
	}
}

func TestZeroFile(t *testing.T) {
	t.Parallel()
	var f File
	if err := f.SetKey("default", newID, newSecret); err != nil {
		t.Fatal(err)
	}
	want := "[default]\naws_access_key_id = " + newID + "\naws_secret_access_key = " + newSecret + "\n"
	if got := string(f.Bytes()); got != want {
		t.Errorf("Bytes() = %q, want %q", got, want)
	}
}

func TestSecretNeverShown(t *testing.T) {
	t.Parallel()
	f, err := Parse([]byte("[a]\naws_access_key_id = " + oldID + "\naws_secret_access_key = " + oldSecret + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	p, _ := f.Profile("a")
	var out bytes.Buffer
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d"} {
		for _, arg := range []any{p, &p, p.SecretAccessKey, f, *f, []any{p}} {
			fmt.Fprintf(&out, verb+"\n", arg)
		}
	}
	j, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	out.Write(j)
	slog.New(slog.NewTextHandler(&out, nil)).Info("x", "profile", p, "secret", p.SecretAccessKey)
	slog.New(slog.NewJSONHandler(&out, nil)).Info("x", "secret", p.SecretAccessKey)
	for _, s := range []string{oldSecret, fmt.Sprintf("%x", oldSecret), fmt.Sprintf("%X", oldSecret)} {
		if strings.Contains(out.String(), s) {
			t.Fatalf("secret printed:\n%s", out.String())
		}
	}
	if !strings.Contains(out.String(), oldID) {
		t.Errorf("key ID should stay visible:\n%s", out.String())
	}
}
