package cmd

import (
	"regexp"
	"strings"
	"testing"
)

// Each entry of subcommands must be named as its command: newCmdRootFor
// finds a command by that name, and a wrong one would quietly build the
// whole tree for every run.
func TestSubcommandNames(t *testing.T) {
	ios, _, _, _ := TestIO()
	f := newFactory(ios)
	for _, s := range subcommands {
		if got := s.make(f).Name(); got != s.name {
			t.Errorf("subcommands entry %q builds command %q", s.name, got)
		}
	}
}

func TestCommandName(t *testing.T) {
	ios, _, _, _ := TestIO()
	global := newRootOnly(newFactory(ios)).PersistentFlags()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"update", "--user", "bob"}, "update"},
		{[]string{"--profile", "list", "update"}, "update"},
		{[]string{"--profile=list", "update"}, "update"},
		{[]string{"--debug", "-q", "list"}, "list"},
		{[]string{"--output", "json", "--no-verify-ssl", "audit"}, "audit"},
		{[]string{"--user", "bob", "list"}, ""}, // not a global flag: cobra decides
		{[]string{"--", "list"}, ""},
		{[]string{"--profile"}, ""},
		{nil, ""},
		{[]string{"lsit"}, "lsit"},
	} {
		if got := commandName(global, tc.args); got != tc.want {
			t.Errorf("commandName(%q) = %q, want %q", tc.args, got, tc.want)
		}
	}
}

// isRegion must accept what the regular expression it replaces accepted.
func FuzzIsRegion(f *testing.F) {
	re := regexp.MustCompile(`^[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$`)
	for _, s := range []string{"us-east-1", "", "-a", "a-", "a", strings.Repeat("a", 63), strings.Repeat("a", 64), "eu_west", "é"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := isRegion(s), re.MatchString(s); got != want {
			t.Errorf("isRegion(%q) = %v, the pattern says %v", s, got, want)
		}
	})
}
