package cmd

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/keyrot/keyrot/iamx/iamsim"
)

// TestProgressDuringPropagation: while a new key propagates, a terminal
// sees a live line for the verify step with the elapsed time; a pipe
// sees none of it.
func TestProgressDuringPropagation(t *testing.T) {
	for _, tty := range []bool{true, false} {
		benchEnv(t, iamsim.PropagationDelay(1500*time.Millisecond))
		ios, _, _, errOut := TestIO()
		ios.SetTTY(false, tty)
		f := newFactory(ios)
		root := newCmdRoot(f)
		root.SetArgs([]string{"rotate", "--user", "alice", "--exec", "true", "--verify-interval", "100ms"})
		if err := execute(context.Background(), f, root); err != nil {
			t.Fatalf("tty %v: %v\n%s", tty, err, errOut)
		}
		live := strings.Contains(errOut.String(), "\r") && strings.Contains(errOut.String(), "verify    until STS names alice")
		if live != tty {
			t.Errorf("tty %v: live line shown %v:\n%q", tty, live, errOut.String())
		}
		if tty && !strings.Contains(errOut.String(), "s]") && !strings.Contains(errOut.String(), "s)") {
			t.Errorf("no elapsed time in the live line:\n%q", errOut.String())
		}
	}
}

// TestFleetProgressBar: a fleet run draws its bar on a terminal and clears
// it before the summary; a pipe gets the summary alone.
func TestFleetProgressBar(t *testing.T) {
	for _, tty := range []bool{true, false} {
		benchEnv(t, iamsim.User("bob", iamsim.KeySeed{Created: time.Now().Add(-200 * 24 * time.Hour)}))
		ios, _, _, errOut := TestIO()
		ios.SetTTY(false, tty)
		f := newFactory(ios)
		root := newCmdRoot(f)
		root.SetArgs([]string{"rotate", "--all-users", "--older-than", "90d", "--exec", "true", "--verify-interval", "100ms"})
		if err := execute(context.Background(), f, root); err != nil {
			t.Fatalf("tty %v: %v\n%s", tty, err, errOut)
		}
		drawn := strings.Contains(errOut.String(), "(0/1)")
		if drawn != tty {
			t.Errorf("tty %v: bar drawn %v:\n%q", tty, drawn, errOut.String())
		}
	}
}
