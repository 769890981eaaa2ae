package rotate

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keyrot/keyrot/iamx"
)

func TestExecCheck(t *testing.T) {
	dir := t.TempDir()
	hook := filepath.Join(dir, "hook.sh")
	plain := filepath.Join(dir, "plain.sh")
	if err := os.WriteFile(hook, []byte("#!/bin/sh\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(plain, []byte("#!/bin/sh\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	path := "PATH=" + dir + string(filepath.ListSeparator) + "/usr/bin:/bin"
	for _, tc := range []struct {
		cmd, want string // want "" = accepted
	}{
		{hook, ""},
		{hook + " --flag 'quoted arg'", ""},
		{"hook.sh", ""}, // on PATH
		{"sh -c 'exit 0'", ""},
		{"echo hi >/dev/null", ""},         // builtin
		{"FOO=1 ./missing.sh", ""},         // an assignment: left to the shell
		{"$HOOK", ""},                      // a variable: left to the shell
		{"if true; then :; fi", ""},        // a keyword
		{"'./missing.sh'", ""},             // quoted: left to the shell
		{"./missing.sh", "does not exist"}, // relative to the working directory
		{filepath.Join(dir, "missing.sh") + " arg", "does not exist"},
		{plain, "is not executable"},
		{dir, "is a directory"},
		{"no-such-program-keyrot", "is not found on PATH"},
		{"   ", "the command is empty"},
	} {
		err := Exec{Command: tc.cmd, Env: []string{path}}.Check()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%q: err = %v", tc.cmd, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, iamx.ErrInvalidInput)):
			t.Errorf("%q: err = %v, want an input error with %q", tc.cmd, err, tc.want)
		}
	}
}

// A destination that cannot take a key stops the rotation before any
// request: no key is created and rolled back.
func TestUnusableDestinationChangesNothing(t *testing.T) {
	e := newEnv(t)
	for _, d := range []Destination{
		Exec{Command: "./missing.sh"},
		CredentialsFile{Path: t.TempDir(), Profile: "alice"},
	} {
		e.srv.ResetCalls()
		_, err := Run(t.Context(), e.admin, e.opts(d))
		if !errors.Is(err, iamx.ErrInvalidInput) {
			t.Errorf("%s: err = %v, want invalid input", d.Describe(), err)
		}
		if n := len(e.srv.Calls()); n != 0 {
			t.Errorf("%s: %d calls (%s), want none", d.Describe(), n, e.calls())
		}
		o := e.opts(d)
		o.DryRun = true
		if _, err := Plan(t.Context(), e.admin, o); !errors.Is(err, iamx.ErrInvalidInput) {
			t.Errorf("%s: dry run err = %v, want the real run's", d.Describe(), err)
		}
	}
}
