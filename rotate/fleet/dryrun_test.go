package fleet

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/keyrot/keyrot/iamx"
	"github.com/keyrot/keyrot/iamx/iamsim"
	"github.com/keyrot/keyrot/rotate"
)

// TestEnforceDryRunPlansOnPlannedState: bob's Active key is past max age
// and his Inactive key has been Inactive past --delete-inactive-after. The
// real run deletes the Inactive key, then rotates into the freed slot; the
// dry run must plan the same, not report that bob already has two keys.
func TestEnforceDryRunPlansOnPlannedState(t *testing.T) {
	t.Parallel()
	now := time.Now().UTC()
	day := 24 * time.Hour
	srv := iamsim.NewServer(
		iamsim.User("admin", iamsim.KeySeed{}),
		iamsim.User("bob", iamsim.KeySeed{Created: now.Add(-100 * day), LastUsed: now.Add(-time.Hour)},
			iamsim.KeySeed{Status: iamsim.StatusInactive, Created: now.Add(-200 * day)}),
	)
	t.Cleanup(srv.Close)
	admin := srv.Keys("admin")[0]
	var active, inactive string
	for _, k := range srv.Keys("bob") {
		if k.Status == iamsim.StatusActive {
			active = k.ID
		} else {
			inactive = k.ID
		}
	}
	c := iamx.New(aws.Config{BaseEndpoint: aws.String(srv.URL()),
		Credentials: credentials.NewStaticCredentialsProvider(admin.ID, admin.Secret, "")})
	dir := t.TempDir()
	ledger, err := OpenLedger(dir)
	if err != nil {
		t.Fatal(err)
	}
	ledger.Observe("bob", inactive, now.Add(-60*day))

	ctx := context.Background()
	report, err := c.CredentialReport(ctx)
	if err != nil {
		t.Fatal(err)
	}
	j := &Job{
		Client: c, Concurrency: 1, DryRun: true, Ledger: ledger,
		Rotation: rotate.Options{
			Caller: iamx.Identity{Account: iamsim.DefaultAccountID, User: "admin"}, Signer: iamx.Signer{AccessKeyID: admin.ID},
			Destination: rotate.Stdout{W: &bytes.Buffer{}}, Verify: true, StateDir: dir,
		},
	}
	sum, err := j.Enforce(ctx, report, NewSelector("", []string{"bob"}, nil), Policy{MaxAge: 90 * day, DeleteInactiveAfter: 30 * day})
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
	if n := srv.CallCount("DeleteAccessKey") + srv.CallCount("CreateAccessKey") + srv.CallCount("UpdateAccessKey"); n != 0 {
		t.Errorf("the dry run made %d changing calls", n)
	}
}
