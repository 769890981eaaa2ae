package cmd

import (
	"errors"
	"strings"
	"testing"

	"github.com/keyrot/keyrot/iamx"
	"github.com/keyrot/keyrot/rotate"
)

// The hint after an error never contradicts its exit code: after exit 8
// or 9 (a rollback, done or failed) keyrot must not add "nothing is known
// to have changed".
func TestReportErrorHintsMatchTheExitCode(t *testing.T) {
	svc := &iamx.Error{Kind: iamx.ErrServiceFailure, Code: "ServiceFailure"}
	for _, tc := range []struct {
		name     string
		err      error
		code     int
		hint     string // "" = no second line
		mustNot  string
		wantText string
	}{
		{"service failure", svc, 5, "IAM failed on its side", "", ""},
		{"rolled back after a service failure", &rotate.RolledBackError{User: "bob", Step: "verify", Cause: svc, OldKeyID: "AKIAOLD", NewKeyID: "AKIANEW"},
			8, "", "nothing is known to have changed", "rolled back"},
		{"rollback failed after a service failure", &rotate.RollbackFailedError{User: "bob", Step: "old-key", Cause: svc, RollbackErr: svc,
			Recovery: []string{"keyrot activate --user bob --access-key-id AKIAOLD"}}, 9, "", "nothing is known to have changed", "keyrot activate --user bob"},
		{"timeout", &iamx.TimeoutError{Endpoint: "http://127.0.0.1:1", Phase: "read", Err: errors.New("x")}, 5, "raise --cli-read-timeout", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b strings.Builder
			if code := reportError(&b, tc.err); code != tc.code {
				t.Errorf("exit %d, want %d", code, tc.code)
			}
			out := b.String()
			lines := strings.Split(strings.TrimSpace(out), "\n")
			last := lines[len(lines)-1]
			switch {
			case tc.hint != "" && !strings.Contains(last, tc.hint):
				t.Errorf("hint %q, want %q\n%s", last, tc.hint, out)
			case tc.mustNot != "" && strings.Contains(out, tc.mustNot):
				t.Errorf("output says %q:\n%s", tc.mustNot, out)
			case tc.wantText != "" && !strings.Contains(out, tc.wantText):
				t.Errorf("output lacks %q:\n%s", tc.wantText, out)
			}
		})
	}
}
