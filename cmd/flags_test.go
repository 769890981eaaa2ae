package cmd

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/keyrot/keyrot/iamx"
	"github.com/spf13/cobra"
)

// parse parses args with the command built by build and returns what the
// run function would have received, or the usage error.
func parse[T any](t *testing.T, build func(*Factory, func(context.Context, *T) error) *cobra.Command, args ...string) (*T, error) {
	t.Helper()
	ios, _, _, _ := TestIO()
	f := newFactory(ios)
	var got *T
	c := build(f, func(_ context.Context, o *T) error { got = o; return nil })
	// Global flags live on the root; mount the command under a fresh one.
	root := &cobra.Command{Use: "keyrot", SilenceErrors: true, SilenceUsage: true}
	f.Global.addFlags(root.PersistentFlags())
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return usageErrorf("%v", err) })
	root.AddCommand(c)
	root.SetArgs(append([]string{c.Name()}, args...))
	root.SetOut(ios.Out)
	root.SetErr(ios.ErrOut)
	err := root.Execute()
	return got, err
}

func isUsage(err error) bool {
	var ue *usageError
	return errors.As(err, &ue) || errors.Is(err, iamx.ErrInvalidInput)
}

func TestDeactivateFlags(t *testing.T) {
	o, err := parse(t, newCmdDeactivate, "--user", "Bob", "--access-key-id", "AKIAIOSFODNN7EXAMPLE", "--dry-run", "--force", "--unused-for", "7d")
	if err != nil {
		t.Fatal(err)
	}
	if o.User != "Bob" || o.KeyID != "AKIAIOSFODNN7EXAMPLE" || !o.DryRun || !o.Force || o.UnusedFor != 7*24*time.Hour || o.Status != iamx.StatusInactive {
		t.Fatalf("options = %+v", o.statusOptions)
	}
	for _, args := range [][]string{
		{"--user", "Bob Smith"},
		{"--access-key-id", "short"},
		{"--unused-for", "-1d"},
		{"extra"},
	} {
		if _, err := parse(t, newCmdDeactivate, args...); !isUsage(err) {
			t.Errorf("deactivate %v: err = %v, want usage error", args, err)
		}
	}
}

func TestActivateFlags(t *testing.T) {
	o, err := parse(t, newCmdActivate, "--user", "carol")
	if err != nil || o.User != "carol" || o.KeyID != "" || o.Status != iamx.StatusActive {
		t.Fatalf("activate: %+v, %v", o, err)
	}
}

func TestUpdateFlags(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		user    string
		status  iamx.Status
		wantErr string
	}{
		{args: []string{"--access-key-id", "AKIAIOSFODNN7EXAMPLE", "--status", "inactive"}, status: iamx.StatusInactive},
		{args: []string{"--user", "Bob", "--access-key-id", "AKIAIOSFODNN7EXAMPLE", "--status", "ACTIVE"}, user: "Bob", status: iamx.StatusActive},
		{args: []string{"--cli-input-json", `{"UserName":"Bob","AccessKeyId":"AKIAIOSFODNN7EXAMPLE","Status":"Inactive"}`}, user: "Bob", status: iamx.StatusInactive},
		{args: []string{"--cli-input-json", `{"UserName":"Bob","AccessKeyId":"AKIAIOSFODNN7EXAMPLE","Status":"Inactive"}`, "--user", "Ann", "--status", "Active"}, user: "Ann", status: iamx.StatusActive},
		{args: []string{"--status", "Active"}, wantErr: "needs --access-key-id"},
		{args: []string{"--access-key-id", "AKIAIOSFODNN7EXAMPLE"}, wantErr: "needs --status"},
		{args: []string{"--access-key-id", "AKIAIOSFODNN7EXAMPLE", "--status", "on"}, wantErr: `invalid --status "on"`},
	} {
		o, err := parse(t, newCmdUpdate, tc.args...)
		if tc.wantErr != "" {
			if !isUsage(err) || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("update %v: err = %v, want %q", tc.args, err, tc.wantErr)
			}
			continue
		}
		if err != nil || o.User != tc.user || o.Status != tc.status || o.KeyID != "AKIAIOSFODNN7EXAMPLE" {
			t.Errorf("update %v: %+v, %v", tc.args, o, err)
		}
	}
}

func TestListFlags(t *testing.T) {
	if _, err := parse(t, newCmdList, "--user", "Bob", "--all-users"); !isUsage(err) {
		t.Fatalf("--user with --all-users: %v", err)
	}
	o, err := parse(t, newCmdList, "--all-users")
	if err != nil || !o.AllUsers {
		t.Fatalf("list --all-users: %+v, %v", o, err)
	}
}

func TestRotateFlags(t *testing.T) {
	o, err := parse(t, newCmdRotate, "--user", "Bob", "--stdout", "--old-key", "DELETE", "--delete-inactive", "--wait", "30s", "--verify-successes", "2")
	if err != nil {
		t.Fatal(err)
	}
	if o.User != "Bob" || !o.Stdout || o.OldKey != "delete" || !o.DeleteInactive || o.Wait != 30*time.Second || o.Successes != 2 || o.PollInterval != 1500*time.Millisecond {
		t.Fatalf("options = %+v", o)
	}
	for _, args := range [][]string{
		{"--stdout", "--credentials-file", "f"}, // a file without the profile to write
		{"--kms-key-id", "alias/k", "--stdout"},
		{"--secret-id", "bad name"},
		{"--ssm-parameter", "no/leading-slash"},
		{"--old-key", "shred"},
		{"--mfa-serial", "arn:aws:iam::123456789012:mfa/bob"},
		{"--mfa-serial", "x", "--mfa-token", "1234567"},
		{"--verify-successes", "0"},
		{"--verify-interval", "1ms"},
		{"--wait", "0s"},
		{"--profile-name", "a]b"},
	} {
		if _, err := parse(t, newCmdRotate, args...); !isUsage(err) {
			t.Errorf("rotate %v: err = %v, want usage error", args, err)
		}
	}
	// Several destinations at once are one rotation.
	if _, err := parse(t, newCmdRotate, "--user", "Bob", "--stdout", "--exec", "true", "--secret-id", "ci/{user}", "--ssm-parameter", "/ci/{user}", "--profile-name", "p"); err != nil {
		t.Errorf("several destinations: %v", err)
	}
}

func TestRollbackFlags(t *testing.T) {
	o, err := parse(t, newCmdRollback, "--user", "Bob", "--delete-new", "--state-dir", "/tmp/x")
	if err != nil || o.User != "Bob" || !o.DeleteNew || o.StateDir != "/tmp/x" {
		t.Fatalf("rollback: %+v, %v", o, err)
	}
}

func TestExitCodes(t *testing.T) {
	for _, tc := range []struct {
		err  error
		code int
	}{
		{nil, 0},
		{errors.New("boom"), 1},
		{usageErrorf("x"), 2},
		{&iamx.InputError{Field: "--user"}, 2},
		{&iamx.Error{Kind: iamx.ErrNotFound}, 3},
		{&iamx.Error{Kind: iamx.ErrKeyLimit}, 4},
		{&iamx.Error{Kind: iamx.ErrServiceFailure}, 5},
		{&iamx.Error{Kind: iamx.ErrThrottled}, 5},
		{&iamx.Error{Kind: iamx.ErrAccessDenied}, 6},
		{&iamx.Error{Kind: iamx.ErrInvalidCredentials}, 6},
		{&guardError{"no"}, 7},
		{context.Canceled, 130},
		{withHint(&iamx.Error{Kind: iamx.ErrNotFound}, "hint"), 3},
	} {
		if got := exitCode(tc.err); got != tc.code {
			t.Errorf("exitCode(%v) = %d, want %d", tc.err, got, tc.code)
		}
	}
}
