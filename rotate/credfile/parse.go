package credfile

import (
	"strings"
	"unicode"
)

// The helpers in this file mirror, line for line, how aws-sdk-go-v2
// (config/internal/ini) tokenizes a shared credentials file, so that keyrot
// reads exactly what the SDK reads. Where the SDK silently skips a line it
// does not understand, keyrot reports a SyntaxError instead: rewriting a file
// whose meaning is unclear could move keys into the wrong profile.

type kind uint8

const (
	kindBlank        kind = iota // whitespace only
	kindComment                  // '#' or ';' after optional spaces and tabs
	kindSection                  // [name]
	kindProperty                 // key = value, not indented
	kindPromoted                 // indented key = value that the SDK promotes to a property
	kindSubProperty              // indented key = value inside a nested map (s3 =\n  k = v)
	kindContinuation             // indented text without a separator
	kindIgnored                  // property or continuation the SDK ignores (before any section)
)

// line is one physical line of the file.
type line struct {
	text  string // without the line ending
	eol   string // "\n", "\r\n" or "" (last line without a newline)
	kind  kind
	run   int    // index of the section run the line belongs to; -1 before the first header
	key   string // lower-cased key of a property, promoted or sub-property line
	owner int    // continuation/sub-property: index of the property line it extends; -1 if none
	vs    int    // value span in text of property and promoted lines
	ve    int
	sepAt int // index of the separator in text of property and promoted lines
}

// sdkText is the line as the SDK sees it: it splits on "\n" only, so a CRLF
// line keeps its "\r".
func (l *line) sdkText() string {
	if l.eol == "\r\n" {
		return l.text + "\r"
	}
	return l.text
}

// splitLines splits data into lines that concatenate back to data exactly.
func splitLines(data []byte) []line {
	s := string(data)
	var lines []line
	for len(s) > 0 {
		i := strings.IndexByte(s, '\n')
		if i < 0 {
			lines = append(lines, line{text: s})
			break
		}
		l := line{text: s[:i], eol: "\n"}
		if strings.HasSuffix(l.text, "\r") {
			l.text, l.eol = l.text[:len(l.text)-1], "\r\n"
		}
		lines = append(lines, l)
		s = s[i+1:]
	}
	return lines
}

func isLineSpace(r rune) bool { return r == ' ' || r == '\t' }

func isLineComment(s string) bool {
	t := strings.TrimLeft(s, " \t")
	return strings.HasPrefix(t, "#") || strings.HasPrefix(t, ";")
}

func trimProfileComment(s string) string {
	r, _, _ := strings.Cut(s, "#")
	r, _, _ = strings.Cut(r, ";")
	return r
}

func trimPropertyComment(s string) string {
	r, _, _ := strings.Cut(s, " #")
	r, _, _ = strings.Cut(r, " ;")
	r, _, _ = strings.Cut(r, "\t#")
	r, _, _ = strings.Cut(r, "\t;")
	return r
}

// separator returns the index of the separator the SDK splits a property at:
// the first '=', or a ':' that comes before it (a legacy form).
func separator(s string) int {
	eq := strings.IndexByte(s, '=')
	colon := strings.IndexByte(s, ':')
	if eq == -1 || colon != -1 && colon < eq {
		return colon
	}
	return eq
}

// sectionName returns the normalized name of a section header line, as the
// SDK derives it: comments cut at the first '#' or ';', surrounding space
// trimmed, and "type   name" collapsed to "type name".
func sectionName(s string) (string, bool) {
	t := strings.TrimSpace(trimProfileComment(s))
	if len(t) < 2 || t[0] != '[' || t[len(t)-1] != ']' {
		return "", false
	}
	t = strings.TrimSpace(t[1 : len(t)-1])
	typ, name := splitProfile(t)
	if typ != "" {
		return typ + " " + name, true
	}
	return name, true
}

func splitProfile(s string) (string, string) {
	var first int
	for i, r := range s {
		if isLineSpace(r) {
			if first == 0 {
				first = i
			}
		} else if first != 0 {
			return s[:first], s[i:]
		}
	}
	if first == 0 {
		return "", s
	}
	return "", ""
}

// unquote strips one pair of matching surrounding quotes. Unlike the SDK it
// needs two characters: the SDK panics on a value that is a lone quote.
func unquote(s string) (string, bool) {
	if len(s) >= 2 && (s[0] == '"' || s[0] == '\'') && s[len(s)-1] == s[0] {
		return s[1 : len(s)-1], true
	}
	return s, false
}

// trimSpan returns the bounds of strings.TrimSpace(s[lo:hi]) within s.
func trimSpan(s string, lo, hi int) (int, int) {
	sub := s[lo:hi]
	left := strings.TrimLeftFunc(sub, unicode.IsSpace)
	lo += len(sub) - len(left)
	right := strings.TrimRightFunc(left, unicode.IsSpace)
	return lo, lo + len(right)
}

// propertySpan analyses a non-indented key = value line. It returns the key,
// the separator index and the value span (inside any quotes) in s.
func propertySpan(s string) (key string, sep, vs, ve int, ok bool) {
	t := strings.TrimRight(trimPropertyComment(s), " \t")
	sep = separator(t)
	if sep < 0 {
		return "", 0, 0, 0, false
	}
	vs, ve = trimSpan(t, sep+1, len(t))
	if _, q := unquote(t[vs:ve]); q {
		vs, ve = vs+1, ve-1
	}
	return strings.ToLower(strings.TrimSpace(t[:sep])), sep, vs, ve, true
}

// promotedSpan is propertySpan for an indented line the SDK promotes to a
// property: it finds the separator before cutting comments and unquotes
// before trimming them, which propertySpan does the other way round.
func promotedSpan(s string) (key string, sep, vs, ve int) {
	sep = separator(s)
	vs, ve = trimSpan(s, sep+1, len(s))
	if _, q := unquote(s[vs:ve]); q {
		vs, ve = vs+1, ve-1
	}
	ve = vs + len(trimPropertyComment(s[vs:ve]))
	vs, ve = trimSpan(s, vs, ve)
	return strings.ToLower(strings.TrimSpace(s[:sep])), sep, vs, ve
}

// value is a parsed value as the SDK holds it: a string, or a nested map
// when the key's own value is empty and indented key = value lines follow.
type value struct {
	str string
	mp  map[string]string
}

func (v value) equal(w value) bool {
	if v.str != w.str || len(v.mp) != len(w.mp) || (v.mp == nil) != (w.mp == nil) {
		return false
	}
	for k, x := range v.mp {
		if y, ok := w.mp[k]; !ok || x != y {
			return false
		}
	}
	return true
}
