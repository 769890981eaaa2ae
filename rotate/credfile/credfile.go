// Package credfile reads and rewrites the AWS shared credentials file
// (~/.aws/credentials) for key rotation.
//
// The file is parsed the way aws-sdk-go-v2 reads it (bare [name] sections,
// key = value and key: value, '#' and ';' comments, indented nested values,
// case-insensitive keys, duplicate sections merged with later values winning)
// and kept losslessly: Bytes returns the input byte for byte, and SetKey
// changes only the lines it must. Lines the SDK would silently skip are a
// *SyntaxError instead, because rewriting a file whose meaning is unclear
// could hand a key to the wrong profile.
//
// Update and Restore replace the file atomically (temporary file, fsync,
// rename, fsync of the directory), so a crash leaves either the old or the
// new content. They take no lock: the caller serializes rotations.
//
// Secrets never appear in errors or in fmt output of this package's types.
package credfile

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
)

// Key names in the credentials file, as the SDK spells them.
const (
	keyAccessKeyID     = "aws_access_key_id"
	keySecretAccessKey = "aws_secret_access_key"
	keySessionToken    = "aws_session_token"
	// keySecurityToken is the boto2-era name botocore still reads as a
	// session token; a rotated long-term key must not be paired with it either.
	keySecurityToken = "aws_security_token"
)

// ErrSyntax is matched (errors.Is) by every *SyntaxError.
var ErrSyntax = errors.New("credentials file syntax error")

// ErrProfileNotFound is returned by ReadProfile when the file has no such profile.
var ErrProfileNotFound = errors.New("profile not found in credentials file")

// ErrInvalidArgument is returned by SetKey and Update for a profile name or
// key that the credentials file cannot hold so that the SDK reads it back.
var ErrInvalidArgument = errors.New("invalid argument")

// ErrUnsafeEdit is returned by SetKey when the profile is laid out so
// unusually (indented lines the SDK attaches to a neighbouring key) that
// editing it would change how other lines are read. Nothing is changed.
var ErrUnsafeEdit = errors.New("credentials file too unusual to edit safely")

// SyntaxError reports a line of a credentials file that is not a section
// header, key = value, comment, indented continuation or blank line. It never
// quotes the line, which may hold a secret.
type SyntaxError struct {
	Path string // file name; empty when parsing bytes
	Line int    // 1-based
	Msg  string
}

// Error implements error as "path:line: msg".
func (e *SyntaxError) Error() string {
	where := "line " + fmt.Sprint(e.Line)
	if e.Path != "" {
		where = fmt.Sprintf("%s:%d", e.Path, e.Line)
	}
	return where + ": " + e.Msg
}

// Is makes errors.Is(err, ErrSyntax) true.
func (e *SyntaxError) Is(target error) bool { return target == ErrSyntax }

// Secret holds a secret access key. Its fmt, slog and JSON forms are
// redacted; Reveal returns the key itself.
type Secret struct{ s string }

const redacted = "[REDACTED]"

// Reveal returns the secret access key.
func (s Secret) Reveal() string { return s.s }

// IsZero reports whether the secret is empty.
func (s Secret) IsZero() bool { return s.s == "" }

// Format implements fmt.Formatter so that every verb prints a placeholder.
func (s Secret) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(redacted)) }

// String returns a placeholder, never the secret.
func (s Secret) String() string { return redacted }

// GoString returns a placeholder, never the secret.
func (s Secret) GoString() string { return redacted }

// LogValue implements slog.LogValuer with a placeholder.
func (s Secret) LogValue() slog.Value { return slog.StringValue(redacted) }

// MarshalJSON encodes a placeholder; deliver the secret with Reveal.
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(redacted) }

// Profile is the credentials of one profile as the SDK would read them.
type Profile struct {
	Name            string
	AccessKeyID     string
	SecretAccessKey Secret
	// SessionToken reports whether the profile has aws_session_token (or
	// the legacy aws_security_token), i.e. holds temporary credentials.
	SessionToken bool
}

// File is a parsed credentials file that keeps every byte of its input.
// Its fmt forms show no content. The zero value is an empty file.
type File struct {
	d *document
}

type document struct {
	lines  []line
	runs   []run                       // section headers in file order; duplicates allowed
	values map[string]map[string]value // merged per name, as the SDK reads them
	eol    string                      // line ending for new lines
}

// run is one section header and the lines up to the next one.
type run struct {
	name   string
	header int // line index
	last   int // index of the last non-blank, non-comment line of the run
}

// Parse parses a credentials file. A *SyntaxError (ErrSyntax) reports the
// first line the SDK would not read as intended.
func Parse(data []byte) (*File, error) {
	d, err := parse(data)
	if err != nil {
		return nil, err
	}
	return &File{d: d}, nil
}

func parse(data []byte) (*document, error) {
	d := &document{
		lines:  splitLines(data),
		values: map[string]map[string]value{},
		eol:    "\n",
	}
	if len(d.lines) > 0 && d.lines[0].eol != "" {
		d.eol = d.lines[0].eol
	}
	cur := -1       // current run
	var sect string // current section name
	ckey := -1      // line of the current key (the SDK's ckey), -1 for none
	for i := range d.lines {
		l := &d.lines[i]
		l.run, l.owner = cur, -1
		s := l.sdkText()
		trimmed := strings.TrimSpace(s)
		switch {
		case trimmed == "":
			l.kind = kindBlank
			continue
		case isLineComment(s):
			l.kind = kindComment
			continue
		}
		if name, ok := sectionName(s); ok {
			if name == "" {
				return nil, &SyntaxError{Line: i + 1, Msg: "empty profile name in section header"}
			}
			l.kind = kindSection
			cur, sect, ckey = len(d.runs), name, -1
			l.run = cur
			d.runs = append(d.runs, run{name: name, header: i, last: i})
			if d.values[name] == nil {
				d.values[name] = map[string]value{}
			}
			continue
		}
		if strings.HasPrefix(trimmed, "[") {
			return nil, &SyntaxError{Line: i + 1, Msg: "malformed section header: want [profile-name] with no '#' or ';' inside"}
		}
		if cur >= 0 {
			d.runs[cur].last = i
		}
		indented := isLineSpace(rune(s[0]))
		if !indented {
			key, sep, vs, ve, ok := propertySpan(s)
			if !ok {
				return nil, &SyntaxError{Line: i + 1, Msg: "want [profile-name], key = value, an indented continuation or a comment"}
			}
			if loneQuote(strings.TrimSpace(trimPropertyComment(s)[sep+1:])) {
				return nil, &SyntaxError{Line: i + 1, Msg: loneQuoteMsg}
			}
			l.key, l.sepAt, l.vs, l.ve = key, sep, vs, ve
			if cur < 0 {
				l.kind = kindIgnored // the SDK ignores keys before the first section
				continue
			}
			l.kind = kindProperty
			d.values[sect][key] = value{str: s[vs:ve]}
			ckey = keyLine(i, key)
			continue
		}
		if sep := separator(s); sep >= 0 {
			if loneQuote(strings.TrimSpace(s[sep+1:])) {
				return nil, &SyntaxError{Line: i + 1, Msg: loneQuoteMsg}
			}
			if cur < 0 {
				l.kind = kindIgnored
				continue
			}
			key, sep, vs, ve := promotedSpan(s)
			if ckey < 0 || d.values[sect][d.lines[ckey].key].str != "" {
				l.kind = kindPromoted
				l.key, l.sepAt, l.vs, l.ve = key, sep, vs, ve
				d.values[sect][key] = value{str: s[vs:ve]}
				ckey = keyLine(i, key)
				continue
			}
			l.kind, l.key, l.owner = kindSubProperty, key, ckey
			pk := d.lines[ckey].key
			v := d.values[sect][pk]
			if v.mp == nil {
				v = value{mp: map[string]string{}}
			}
			// A sub-property keeps its comment but loses its quotes.
			sub := strings.TrimSpace(s[sep+1:])
			sub, _ = unquote(sub)
			v.mp[key] = sub
			d.values[sect][pk] = v
			continue
		}
		l.kind = kindContinuation
		if ckey < 0 {
			l.kind = kindIgnored
			continue
		}
		l.owner = ckey
		pk := d.lines[ckey].key
		if v := d.values[sect][pk]; v.str != "" && v.mp == nil {
			v.str += "\n" + strings.TrimLeft(s, " \t")
			d.values[sect][pk] = v
		}
	}
	return d, nil
}

// loneQuoteMsg explains a value the SDK cannot read: it strips "surrounding"
// quotes from a one-character value and panics (aws-sdk-go-v2 config v1.33).
const loneQuoteMsg = "a value that is a single quote character crashes the AWS SDK; quote it or remove it"

func loneQuote(v string) bool { return v == `"` || v == "'" }

// keyLine returns the line that becomes the SDK's current key: none for an
// empty key, which the SDK cannot tell apart from "no key".
func keyLine(i int, key string) int {
	if key == "" {
		return -1
	}
	return i
}

func (f *File) doc() *document {
	if f.d == nil {
		f.d = &document{values: map[string]map[string]value{}, eol: "\n"}
	}
	return f.d
}

// Bytes returns the file's content. For a parsed file that SetKey has not
// changed, it is exactly the input of Parse.
func (f *File) Bytes() []byte {
	var b strings.Builder
	for _, l := range f.doc().lines {
		b.WriteString(l.text)
		b.WriteString(l.eol)
	}
	return []byte(b.String())
}

// Profiles returns the names of the profiles in the file, sorted. Sections
// named "profile NAME" are included although the SDK ignores them in the
// credentials file.
func (f *File) Profiles() []string {
	names := make([]string, 0, len(f.doc().values))
	for n := range f.doc().values {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Profile returns the credentials of the named profile as the SDK would
// read them: keys are case-insensitive and, when a section appears twice,
// later values win.
func (f *File) Profile(name string) (Profile, bool) {
	vals, ok := f.doc().values[name]
	if !ok {
		return Profile{}, false
	}
	_, tok := vals[keySessionToken]
	_, sec := vals[keySecurityToken]
	return Profile{
		Name:            name,
		AccessKeyID:     vals[keyAccessKeyID].str,
		SecretAccessKey: Secret{vals[keySecretAccessKey].str},
		SessionToken:    tok || sec,
	}, true
}

// Format implements fmt.Formatter: a File prints its profile count only,
// never its content. The value receiver covers File as well as *File: fmt
// would otherwise dump the lines of a File value, secrets included.
func (f File) Format(s fmt.State, _ rune) {
	n := 0
	if f.d != nil {
		n = len(f.d.values)
	}
	fmt.Fprintf(s, "credfile.File{%d profiles}", n)
}
