package credfile

import (
	"fmt"
	"strings"
)

// SetKey sets aws_access_key_id and aws_secret_access_key of the named
// profile and removes its aws_session_token (and legacy aws_security_token):
// a rotated long-term key must not be paired with an old session token.
//
// Only the values of the edited lines change; their key, spacing, quotes
// and inline comments stay. Every occurrence of a key in the profile is
// updated, so readers that let the first duplicate win see the new key too.
// A key the profile lacks is added after the other credential key or at the
// end of the profile's last section; a missing profile is appended as a new
// section after a blank line. New lines use the file's line ending.
//
// SetKey returns ErrInvalidArgument for a profile name or key the file
// cannot hold, and ErrUnsafeEdit when the edit would change how any other
// line is read; f is unchanged on error.
func (f *File) SetKey(profile, accessKeyID, secret string) error {
	if err := validName(profile); err != nil {
		return err
	}
	if !validValue(accessKeyID) {
		return fmt.Errorf("access key ID: %w: want printable ASCII without spaces, quotes, '#' or ';'", ErrInvalidArgument)
	}
	if !validValue(secret) {
		return fmt.Errorf("secret access key: %w: want printable ASCII without spaces, quotes, '#' or ';'", ErrInvalidArgument)
	}
	d := f.doc()
	data := d.edit(profile, map[string]string{keyAccessKeyID: accessKeyID, keySecretAccessKey: secret})
	nd, err := parse(data)
	if err != nil || !d.sameExcept(nd, profile, accessKeyID, secret) {
		return fmt.Errorf("profile %q: %w; edit it by hand", profile, ErrUnsafeEdit)
	}
	f.d = nd
	return nil
}

// edit returns the file with set's keys set in profile and session tokens
// removed. The caller verifies the result by parsing it again.
func (d *document) edit(profile string, set map[string]string) []byte {
	var runs []int
	for i, r := range d.runs {
		if r.name == profile {
			runs = append(runs, i)
		}
	}
	type outLine struct {
		text, eol string
		added     bool
		cont      bool // a continuation, whose value would take in a "\r"
	}
	var out []outLine
	noFinalEOL := len(d.lines) > 0 && d.lines[len(d.lines)-1].eol == ""

	if len(runs) == 0 {
		for _, l := range d.lines {
			out = append(out, outLine{text: l.text, eol: l.eol, cont: l.kind == kindContinuation})
		}
		if n := len(d.lines); n > 0 && strings.TrimSpace(d.lines[n-1].text) != "" {
			out = append(out, outLine{eol: d.eol, added: true})
		}
		out = append(out, outLine{text: "[" + profile + "]", eol: d.eol, added: true})
		for _, k := range []string{keyAccessKeyID, keySecretAccessKey} {
			out = append(out, outLine{text: k + " = " + set[k], eol: d.eol, added: true})
		}
	} else {
		inProfile := map[int]bool{}
		for _, r := range runs {
			inProfile[r] = true
		}
		replace := map[int]string{}
		drop := map[int]bool{}
		found := map[string]int{} // key → line ending the block of its last occurrence
		for i, l := range d.lines {
			if l.kind != kindProperty && l.kind != kindPromoted || !inProfile[l.run] {
				continue
			}
			switch v, ok := set[l.key]; {
			case ok:
				replace[i] = withValue(l, v)
				found[l.key] = d.blockEnd(i)
				d.dropAttached(i, drop)
			case l.key == keySessionToken || l.key == keySecurityToken:
				drop[i] = true
				d.dropAttached(i, drop)
			}
		}
		// Missing keys go after their sibling credential key, else at the
		// end of the profile's last section, where the SDK reads them last.
		lastRun := d.runs[runs[len(runs)-1]]
		style := d.sepStyle(lastRun)
		idLine := keyAccessKeyID + style + set[keyAccessKeyID]
		secretLine := keySecretAccessKey + style + set[keySecretAccessKey]
		insert := map[int][]string{}
		idAt, hasID := found[keyAccessKeyID]
		secretAt, hasSecret := found[keySecretAccessKey]
		switch {
		case !hasID && !hasSecret:
			insert[lastRun.last] = []string{idLine, secretLine}
		case !hasID:
			insert[secretAt] = []string{idLine}
		case !hasSecret:
			insert[idAt] = []string{secretLine}
		}
		for i, l := range d.lines {
			if !drop[i] {
				text, ok := replace[i]
				if !ok {
					text = l.text
				}
				out = append(out, outLine{text: text, eol: l.eol, cont: l.kind == kindContinuation})
			}
			for _, t := range insert[i] {
				out = append(out, outLine{text: t, eol: d.eol, added: true})
			}
		}
	}

	var b strings.Builder
	for i, l := range out {
		switch {
		case i < len(out)-1 && l.eol == "" && l.cont:
			l.eol = "\n" // the SDK would append the "\r" of "\r\n" to the value
		case i < len(out)-1 && l.eol == "":
			l.eol = d.eol // a new line follows the former last line
		case i == len(out)-1 && l.added && noFinalEOL:
			l.eol = "" // keep the file's lack of a final newline
		}
		b.WriteString(l.text)
		b.WriteString(l.eol)
	}
	return []byte(b.String())
}

// withValue returns the text of a property line with its value replaced,
// keeping the key, the spacing, quotes and any inline comment.
func withValue(l line, v string) string {
	if l.vs == l.ve && l.vs == l.sepAt+1 && l.sepAt > 0 && isLineSpace(rune(l.text[l.sepAt-1])) {
		v = " " + v // "key =" becomes "key = v", not "key =v"
	}
	return l.text[:l.vs] + v + l.text[l.ve:]
}

// dropAttached marks the continuation and nested lines that belong to the
// property on line i: they are part of the value being replaced or removed.
func (d *document) dropAttached(i int, drop map[int]bool) {
	for j := i + 1; j < len(d.lines) && d.lines[j].kind != kindSection; j++ {
		if d.lines[j].owner == i {
			drop[j] = true
		}
	}
}

// blockEnd returns the last line that belongs to the property on line i.
func (d *document) blockEnd(i int) int {
	end := i
	for j := i + 1; j < len(d.lines) && d.lines[j].kind != kindSection; j++ {
		if d.lines[j].owner == i {
			end = j
		}
	}
	return end
}

// sepStyle returns the separator ("=" or " = ") used by the first plain
// property of the run, so added lines look like their neighbours.
func (d *document) sepStyle(r run) string {
	for j := r.header + 1; j <= r.last; j++ {
		l := d.lines[j]
		if l.kind != kindProperty {
			continue
		}
		keyEnd := len(strings.TrimRight(l.text[:l.sepAt], " \t"))
		if s := l.text[keyEnd:l.vs]; s == "=" || s == " = " {
			return s
		}
		return " = "
	}
	return " = "
}

// sameExcept reports whether nd reads like d except that profile now holds
// exactly the new key pair and no session token.
func (d *document) sameExcept(nd *document, profile, id, secret string) bool {
	for name := range nd.values {
		if _, ok := d.values[name]; !ok && name != profile {
			return false
		}
	}
	for name, old := range d.values {
		nv, ok := nd.values[name]
		if !ok || name != profile && !sameValues(old, nv) {
			return false
		}
	}
	nv := nd.values[profile]
	if nv == nil || !nv[keyAccessKeyID].equal(value{str: id}) || !nv[keySecretAccessKey].equal(value{str: secret}) {
		return false
	}
	if _, ok := nv[keySessionToken]; ok {
		return false
	}
	if _, ok := nv[keySecurityToken]; ok {
		return false
	}
	old := d.values[profile]
	skip := map[string]bool{keyAccessKeyID: true, keySecretAccessKey: true, keySessionToken: true, keySecurityToken: true}
	for k, v := range old {
		if !skip[k] && !v.equal(nv[k]) {
			return false
		}
	}
	for k := range nv {
		if _, ok := old[k]; !ok && !skip[k] {
			return false
		}
	}
	return true
}

func sameValues(a, b map[string]value) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		w, ok := b[k]
		if !ok || !v.equal(w) {
			return false
		}
	}
	return true
}

// validName reports whether name can be written as a section header that
// the SDK reads back as name.
func validName(name string) error {
	bad := func(why string) error {
		return fmt.Errorf("profile name %q: %w: %s", name, ErrInvalidArgument, why)
	}
	if name == "" {
		return bad("empty")
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f || strings.ContainsRune("[]#;", r) {
			return bad("control characters and [ ] # ; are not allowed")
		}
	}
	if n, ok := sectionName("[" + name + "]"); !ok || n != name {
		return bad("leading, trailing or repeated spaces are not allowed")
	}
	if strings.HasPrefix(name, "profile ") {
		return bad(`the SDK ignores "profile "-prefixed sections in the credentials file`)
	}
	return nil
}

// validValue reports whether v reads back unchanged as a value: AWS key IDs
// and secrets are printable ASCII without spaces, quotes or comment marks.
func validValue(v string) bool {
	if v == "" {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"'#;`, c) >= 0 {
			return false
		}
	}
	return true
}
