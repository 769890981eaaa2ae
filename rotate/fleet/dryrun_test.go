package fleet

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/keyrot/keyrot/iamx/iamsim"
)

// TestEnforceDryRunPlansOnPlannedState: bob's Active key is past max age
// and his Inactive key has been Inactive past --delete-inactive-after. The
// real run deletes the Inactive key, then rotates into the freed slot; the
// dry run must plan the same, not report that bob already has two keys.
func TestEnforceDryRunPlansOnPlannedState(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, iamsim.User("bob",
		iamsim.KeySeed{Created: now.Add(-100 * day), LastUsed: now.Add(-time.Hour)},
		iamsim.KeySeed{Status: iamsim.StatusInactive, Created: now.Add(-200 * day)}))
	var active, inactive string
	for _, k := range e.srv.Keys("bob") {
		if k.Status == iamsim.StatusActive {
			active = k.ID
		} else {
			inactive = k.ID
		}
	}
	j := e.job()
	j.DryRun = true
	j.Ledger.Observe("bob", inactive, now.Add(-60*day))

	sum, err := j.Enforce(context.Background(), e.report(), NewSelector("", []string{"bob"}, nil), Policy{MaxAge: 90 * day, DeleteInactiveAfter: 30 * day})
	if err != nil {
		t.Fatal(err)
	}
	if len(sum.Failed) != 0 || len(sum.Users) != 1 {
		t.Fatalf("failed %v, users %d; want bob planned, not failed", sum.Failed, len(sum.Users))
	}
	var got []string
	for _, o := range sum.Users[0].Outcomes {
		got = append(got, string(o.Action.Kind)+" "+o.Action.KeyID+" "+o.Result)
		if o.Action.Kind == Rotate && !strings.Contains(strings.Join(o.Plan, "\n"), "create") {
			t.Errorf("rotation plan %q has no create step", o.Plan)
		}
	}
	want := []string{"delete " + inactive + " planned", "rotate " + active + " planned"}
	if strings.Join(got, "; ") != strings.Join(want, "; ") {
		t.Errorf("outcomes %q, want %q", got, want)
	}
	if c := e.changes(); len(c) != 0 {
		t.Errorf("the dry run changed keys: %v", c)
	}
}
