package fleet

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/keyrot/keyrot/iamx"
)

// Selector picks users from the credential report. The zero Selector
// picks every IAM user (never the root user: its keys are managed only by
// signing in as root).
type Selector struct {
	// Path is an IAM path prefix such as "/team-a/"; "" or "/" means all.
	Path string
	// Only, when non-nil, restricts the run to these users (--users-from).
	Only map[string]bool
	// Exclude lists users never touched (--exclude).
	Exclude map[string]bool
}

// NewSelector builds a Selector; names compare case-insensitively, as IAM
// user names do. only nil means every user.
func NewSelector(path string, only, exclude []string) Selector {
	s := Selector{Path: path, Exclude: map[string]bool{}}
	if only != nil {
		s.Only = map[string]bool{}
		for _, u := range only {
			s.Only[strings.ToLower(u)] = true
		}
	}
	for _, u := range exclude {
		s.Exclude[strings.ToLower(u)] = true
	}
	return s
}

// Match reports whether the report row u is selected.
func (s Selector) Match(u iamx.ReportUser) bool {
	if u.User == iamx.RootUser {
		return false
	}
	lc := strings.ToLower(u.User)
	if s.Exclude[lc] {
		return false
	}
	if s.Only != nil && !s.Only[lc] {
		return false
	}
	if s.Path != "" && s.Path != "/" && !strings.HasPrefix(PathOf(u.ARN), s.Path) {
		return false
	}
	return true
}

// PathOf is the IAM path in a user ARN: "/team-a/" for
// arn:aws:iam::123456789012:user/team-a/bob, "/" when there is none.
func PathOf(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 || !strings.HasPrefix(parts[5], "user/") {
		return "/"
	}
	res := parts[5][len("user"):]
	return res[:strings.LastIndex(res, "/")+1]
}

// ValidatePath checks an IAM path prefix: it starts and ends with "/",
// as IAM requires, and holds printable ASCII.
func ValidatePath(p string) error {
	if p == "" {
		return nil
	}
	if !strings.HasPrefix(p, "/") || !strings.HasSuffix(p, "/") || len(p) > 512 {
		return &iamx.InputError{Field: "--path", Value: p, Rule: "an IAM path starts and ends with /, like /team-a/, up to 512 characters"}
	}
	for _, c := range p {
		if c < 0x21 || c > 0x7e {
			return &iamx.InputError{Field: "--path", Value: p, Rule: "an IAM path holds printable ASCII without spaces"}
		}
	}
	return nil
}

// ParseUserList reads a --users-from file: one user name per line; blank
// lines and everything after a # are ignored; surrounding spaces are
// trimmed; a name repeated (in any case) counts once. Every name is
// validated with IAM's rule, and the error names the line.
func ParseUserList(r io.Reader) ([]string, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	seen := map[string]bool{}
	users := []string{}
	for line := 1; sc.Scan(); line++ {
		s := sc.Text()
		if i := strings.IndexByte(s, '#'); i >= 0 {
			s = s[:i]
		}
		s = strings.TrimSpace(strings.TrimPrefix(s, "\ufeff"))
		if s == "" {
			continue
		}
		if err := iamx.ValidateUserName("--users-from", s); err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		if lc := strings.ToLower(s); !seen[lc] {
			seen[lc] = true
			users = append(users, s)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read user list: %w", err)
	}
	return users, nil
}
