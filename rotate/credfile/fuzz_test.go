package credfile

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// Seeds beyond testdata/fuzz: the shapes the table tests cover.
var fuzzSeeds = []string{
	"",
	"[default]\naws_access_key_id = " + oldID + "\naws_secret_access_key = " + oldSecret + "\n",
	"# c\r\n[ a ]\r\naws_access_key_id=x ; c\r\naws_session_token = t\r\n  t2\r\n\r\n[b]\r\nk = v",
	"[a]\ns3 =\n  max = 10\n  aws_access_key_id = n\nregion = r\n  aws_secret_access_key = p #c\n[a]\naws_access_key_id: \"q\"\n",
	"x = 1\n  y\n[profile a]\n[a  b]\n\tAWS_SECRET_ACCESS_KEY = 's'\n",
}

func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Parse(data)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) || se.Line < 1 || file != nil {
				t.Fatalf("Parse = %v, %v; want nil and a *SyntaxError with a line", file, err)
			}
			return
		}
		if got := file.Bytes(); !bytes.Equal(got, data) {
			t.Fatalf("Bytes() = %q, want the input", got)
		}
		for _, name := range file.Profiles() {
			if _, ok := file.Profile(name); !ok {
				t.Fatalf("Profiles() lists %q but Profile does not find it", name)
			}
		}
	})
}

func FuzzSetKey(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s), "default", newID, newSecret)
		f.Add([]byte(s), "a", newID, newSecret)
	}
	f.Fuzz(func(t *testing.T, data []byte, profile, id, secret string) {
		file, err := Parse(data)
		if err != nil {
			return
		}
		old := file.d
		err = file.SetKey(profile, id, secret)
		if err != nil {
			// The one known unsafe edit: removing a session token that
			// indented lines follow (see TestSetKeyRejects).
			if !errors.Is(err, ErrInvalidArgument) && !(errors.Is(err, ErrUnsafeEdit) && hasToken(file, profile)) {
				t.Fatalf("SetKey: unexpected error %v", err)
			}
			if !bytes.Equal(file.Bytes(), data) {
				t.Fatal("SetKey changed the file and failed")
			}
			return
		}
		out := file.Bytes()
		again, err := Parse(out)
		if err != nil {
			t.Fatalf("result does not parse: %v\n%q", err, out)
		}
		p, ok := again.Profile(profile)
		if !ok || p.AccessKeyID != id || p.SecretAccessKey.Reveal() != secret || p.SessionToken {
			t.Fatalf("Profile(%q) = %q token=%v found=%v after SetKey:\n%q", profile, p.AccessKeyID, p.SessionToken, ok, out)
		}
		for name, vals := range old.values {
			if name != profile && !sameValues(vals, again.d.values[name]) {
				t.Fatalf("profile %q changed:\n%q\n%q", name, data, out)
			}
		}
		if len(again.d.values) > len(old.values)+1 {
			t.Fatalf("profiles added besides %q", profile)
		}
		checkUntouchedLines(t, old, again.d, profile)
	})
}

// checkUntouchedLines checks that every line of old that SetKey had no
// reason to touch appears in nd, in order and byte for byte, and that at
// most four lines were added (blank, header and two keys).
func checkUntouchedLines(t *testing.T, old, nd *document, profile string) {
	t.Helper()
	edited := map[int]bool{}
	replaced := 0 // key lines rewritten in place
	for i, l := range old.lines {
		if l.run < 0 || old.runs[l.run].name != profile {
			continue
		}
		switch l.key {
		case keyAccessKeyID, keySecretAccessKey, keySessionToken, keySecurityToken:
			if l.kind == kindProperty || l.kind == kindPromoted {
				edited[i] = true
				if l.key == keyAccessKeyID || l.key == keySecretAccessKey {
					replaced++
				}
			}
		}
		if l.owner >= 0 && edited[l.owner] {
			edited[i] = true
		}
	}
	j, kept := 0, 0
	for i, l := range old.lines {
		if edited[i] {
			continue
		}
		kept++
		// The last line may gain a line ending: "x\r" becomes "x\r\n".
		last := i == len(old.lines)-1 && l.eol == ""
		for ; j < len(nd.lines); j++ {
			n := nd.lines[j]
			if n.text == l.text && n.eol == l.eol || last && strings.HasPrefix(n.text+n.eol, l.text) {
				break
			}
		}
		if j == len(nd.lines) {
			t.Fatalf("line %d %q lost or changed", i+1, l.text)
		}
		j++
	}
	if added := len(nd.lines) - kept - replaced; added > 4 {
		t.Fatalf("%d lines added", added)
	}
}

func hasToken(f *File, profile string) bool {
	p, _ := f.Profile(profile)
	return p.SessionToken
}
