package cmd

import (
	"testing"

	"github.com/keyrot/keyrot/iamx/iamsim"
)

// TestQuietFleetReadsLeaveStderrEmpty repeats the fleet reads of a large
// account under which the SDK used to log "failed to discard remaining
// HTTP response body ... use of closed network connection" to stderr: with
// --quiet, a cron job's mail must stay empty.
func TestQuietFleetReadsLeaveStderrEmpty(t *testing.T) {
	benchEnv(t, iamsim.Seed(2000, 3))
	for i := 0; i < 8; i++ {
		for _, args := range [][]string{
			{"audit", "--quiet", "--output", "json"},
			{"list", "--all-users", "--quiet", "--output", "json"},
		} {
			if got := runCommand(t, args...); got != "" {
				t.Fatalf("run %d: keyrot %v wrote to stderr:\n%s", i, args, got)
			}
		}
	}
}
