package rotate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/keyrot/keyrot/iamx"
	"github.com/keyrot/keyrot/iamx/iamsim"
)

// bobContained gives the env a user bob whose keys are all Inactive, as
// `keyrot contain` leaves them; it returns their IDs, oldest first.
func (e *env) bobContained(n int) []string {
	e.t.Helper()
	if err := e.srv.AddUser("bob", "/"); err != nil {
		e.t.Fatal(err)
	}
	var ids []string
	for range n {
		id, _, err := e.srv.AddKey("bob", iamsim.KeySeed{Status: iamsim.StatusInactive})
		if err != nil {
			e.t.Fatal(err)
		}
		ids = append(ids, id)
		e.clk.Advance(time.Minute)
	}
	return ids
}

func (e *env) bobOpts(out *bytes.Buffer) Options {
	o := e.opts(Stdout{W: out})
	o.User = "bob"
	return o
}

// newSecret records the key pair a Stdout destination printed.
func (e *env) newSecret(out *bytes.Buffer) string {
	var v struct{ AccessKeyId, SecretAccessKey string }
	if err := json.Unmarshal(out.Bytes(), &v); err != nil {
		e.t.Fatalf("stdout: %v: %q", err, out.String())
	}
	e.known[v.AccessKeyId] = v.SecretAccessKey
	return v.AccessKeyId
}

// noReactivation fails if any call set a key Active.
func (e *env) noReactivation() {
	e.t.Helper()
	for _, c := range e.srv.Calls() {
		if c.Action == "UpdateAccessKey" {
			e.t.Errorf("UpdateAccessKey %s was called during a replacement", c.KeyID)
		}
	}
}

func TestReplacementOfContainedKey(t *testing.T) {
	for _, policy := range []OldKeyPolicy{Deactivate, Keep, Delete} {
		t.Run(string(policy), func(t *testing.T) {
			e := newEnv(t)
			leaked := e.bobContained(1)[0]
			var out bytes.Buffer
			o := e.bobOpts(&out)
			o.OldKey = policy
			res, err := Run(context.Background(), e.admin, o)
			if err != nil {
				t.Fatal(err)
			}
			nw := e.newSecret(&out)
			if !res.Replacement || !res.Verified || res.NewKey.ID != nw || res.OldKey.ID != leaked {
				t.Errorf("result %+v", res)
			}
			st := e.status("bob")
			switch policy {
			case Delete:
				if _, ok := st[leaked]; ok || !res.OldKeyDeleted {
					t.Errorf("replaced key not deleted: %v", st)
				}
			default:
				if st[leaked] != "Inactive" || res.OldKey.Status != iamx.StatusInactive {
					t.Errorf("replaced key %s, reported %s", st[leaked], res.OldKey.Status)
				}
			}
			e.invariant("bob")
			e.noReactivation()
		})
	}
}

func TestReplacementPlanNamesTheKeyLeftInactive(t *testing.T) {
	e := newEnv(t)
	leaked := e.bobContained(1)[0]
	p, err := Plan(context.Background(), e.admin, e.bobOpts(&bytes.Buffer{}))
	if err != nil || !p.Replacement || p.NothingToDo || p.OldKey.ID != leaked {
		t.Fatalf("%+v %v", p, err)
	}
	if last := p.Actions[len(p.Actions)-1]; !strings.Contains(last, "leave access key "+leaked+" Inactive") {
		t.Errorf("plan ends with %q", last)
	}
}

func TestReplacementRollbacksLeaveTheOldKeyInactive(t *testing.T) {
	t.Run("failed delivery", func(t *testing.T) {
		e := newEnv(t)
		leaked := e.bobContained(1)[0]
		o := e.bobOpts(nil)
		o.Destination = Exec{Command: "exit 3", Stderr: &bytes.Buffer{}}
		res, err := Run(context.Background(), e.admin, o)
		var rb *RolledBackError
		if !errors.As(err, &rb) || !rb.Replacement || !strings.Contains(err.Error(), leaked+" stays Inactive") {
			t.Fatalf("err = %v", err)
		}
		if st := e.status("bob"); len(st) != 1 || st[leaked] != "Inactive" || res.OldKey.Status != iamx.StatusInactive {
			t.Errorf("after rollback: %v, reported %s", st, res.OldKey.Status)
		}
		e.noReactivation()
	})
	t.Run("failed verification", func(t *testing.T) {
		e := newEnv(t)
		leaked := e.bobContained(1)[0]
		e.srv.SetPropagationDelay(time.Hour)
		_, err := Run(context.Background(), e.admin, e.bobOpts(&bytes.Buffer{}))
		if !errors.Is(err, ErrRolledBack) {
			t.Fatalf("err = %v", err)
		}
		if st := e.status("bob"); len(st) != 1 || st[leaked] != "Inactive" {
			t.Errorf("after rollback: %v", st)
		}
		e.noReactivation()
	})
	t.Run("keyrot rollback", func(t *testing.T) {
		e := newEnv(t)
		leaked := e.bobContained(1)[0]
		var out bytes.Buffer
		if _, err := Run(context.Background(), e.admin, e.bobOpts(&out)); err != nil {
			t.Fatal(err)
		}
		nw := e.newSecret(&out)
		e.srv.ResetCalls()
		ro := RollbackOptions{User: "bob", Caller: iamx.Identity{Account: iamsim.DefaultAccountID, User: "admin"},
			Signer: iamx.Signer{AccessKeyID: e.adminID}, StateDir: e.dir, Now: e.clk.Now, Sleep: e.clk.Sleep, LockWait: time.Second}
		ro.DryRun = true
		plan, err := Rollback(context.Background(), e.admin, ro)
		if err != nil || strings.Contains(strings.Join(plan.Actions, ";"), "reactivate") || !plan.Replacement {
			t.Fatalf("dry run %+v %v", plan, err)
		}
		ro.DryRun = false
		rr, err := Rollback(context.Background(), e.admin, ro)
		if err != nil {
			t.Fatal(err)
		}
		if st := e.status("bob"); st[leaked] != "Inactive" || st[nw] != "Inactive" {
			t.Errorf("after keyrot rollback: %v (%+v)", st, rr)
		}
		for _, c := range e.srv.Calls() {
			if c.Action == "UpdateAccessKey" && c.KeyID == leaked {
				t.Errorf("keyrot rollback touched the replaced key %s", leaked)
			}
		}
	})
}

func TestReplacementWithTwoInactiveKeys(t *testing.T) {
	t.Run("no name", func(t *testing.T) {
		e := newEnv(t)
		ids := e.bobContained(2)
		o := e.bobOpts(&bytes.Buffer{})
		o.DeleteInactive = true
		_, err := Run(context.Background(), e.admin, o)
		var ce *ChooseKeyError
		if !errors.As(err, &ce) || !errors.Is(err, iamx.ErrInvalidInput) {
			t.Fatalf("err = %v", err)
		}
		for _, id := range ids {
			if !strings.Contains(err.Error(), id) {
				t.Errorf("error does not list %s: %v", id, err)
			}
		}
		if calls := e.calls(); calls != "ListAccessKeys" {
			t.Errorf("calls: %s", calls)
		}
	})
	t.Run("named without --delete-inactive", func(t *testing.T) {
		e := newEnv(t)
		ids := e.bobContained(2)
		o := e.bobOpts(&bytes.Buffer{})
		o.OldKeyID = ids[1]
		_, err := Run(context.Background(), e.admin, o)
		if !errors.Is(err, iamx.ErrKeyLimit) || !strings.Contains(err.Error(), "--delete-inactive") {
			t.Fatalf("err = %v", err)
		}
		if len(e.status("bob")) != 2 {
			t.Error("a key changed")
		}
	})
	t.Run("named with --delete-inactive", func(t *testing.T) {
		e := newEnv(t)
		ids := e.bobContained(2)
		var out bytes.Buffer
		o := e.bobOpts(&out)
		o.OldKeyID, o.DeleteInactive = ids[1], true
		res, err := Run(context.Background(), e.admin, o)
		if err != nil {
			t.Fatal(err)
		}
		nw := e.newSecret(&out)
		st := e.status("bob")
		if _, ok := st[ids[1]]; ok || st[ids[0]] != "Inactive" || st[nw] != "Active" || res.DeletedInactive != ids[1] || !res.OldKeyDeleted {
			t.Errorf("keys %v, result %+v", st, res)
		}
		e.noReactivation()
	})
	t.Run("failed delivery after deleting the named key", func(t *testing.T) {
		e := newEnv(t)
		ids := e.bobContained(2)
		o := e.bobOpts(nil)
		o.Destination = Exec{Command: "exit 1", Stderr: &bytes.Buffer{}}
		o.OldKeyID, o.DeleteInactive = ids[0], true
		_, err := Run(context.Background(), e.admin, o)
		if !errors.Is(err, ErrRolledBack) {
			t.Fatalf("err = %v", err)
		}
		if st := e.status("bob"); len(st) != 1 || st[ids[1]] != "Inactive" {
			t.Errorf("after rollback: %v", st)
		}
		e.noReactivation()
	})
}

func TestInactiveKeyNamedBesideAnActiveOne(t *testing.T) {
	e := newEnv(t)
	inactive, _, err := e.srv.AddKey("alice", iamsim.KeySeed{Status: iamsim.StatusInactive})
	if err != nil {
		t.Fatal(err)
	}
	o := e.opts(Stdout{W: &bytes.Buffer{}})
	o.OldKeyID = inactive
	_, err = Run(context.Background(), e.admin, o)
	if !errors.Is(err, iamx.ErrInvalidInput) || !strings.Contains(err.Error(), e.aliceOld) {
		t.Fatalf("err = %v", err)
	}
}

// TestReplacementKeepsNewKeyWhenOldDeleteFails: the replaced key is
// Inactive already, so a failed --old-key delete leaves it so and never
// takes the delivered, verified replacement away.
func TestReplacementKeepsNewKeyWhenOldDeleteFails(t *testing.T) {
	e := newEnv(t)
	leaked := e.bobContained(1)[0]
	e.srv.FailAlways("DeleteAccessKey", "AccessDenied")
	var out bytes.Buffer
	o := e.bobOpts(&out)
	o.OldKey = Delete
	res, err := Run(context.Background(), e.admin, o)
	if err != nil {
		t.Fatalf("err = %v", err)
	}
	nw := e.newSecret(&out)
	st := e.status("bob")
	if st[nw] != "Active" || st[leaked] != "Inactive" || res.OldKeyDeleted || res.OldKeyError == "" {
		t.Errorf("keys %v, result %+v", st, res)
	}
	e.invariant("bob")
}

// TestReplacementCrashBeforeDeliveryAfterDeletingTheNamedKey: the old key
// is gone on purpose (--delete-inactive), which must not make the next
// run keep a new key whose secret never arrived.
func TestReplacementCrashBeforeDeliveryAfterDeletingTheNamedKey(t *testing.T) {
	e := newEnv(t)
	ids := e.bobContained(2)
	o := e.bobOpts(nil)
	o.OldKeyID, o.DeleteInactive = ids[0], true
	o.Destination = crashDest{inner: Stdout{W: &bytes.Buffer{}}}
	crash(t, e.admin, o)
	if st := e.status("bob"); len(st) != 2 {
		t.Fatalf("after the crash: %v", st)
	}
	// ids[0] is gone now: the rerun replaces bob's remaining key.
	var out bytes.Buffer
	res, err := Run(context.Background(), e.admin, e.bobOpts(&out))
	if err != nil {
		t.Fatal(err)
	}
	if res.Recovered == nil || res.Recovered.Action != "rolled back" {
		t.Errorf("recovery %+v: the undelivered key must be deleted", res.Recovered)
	}
	nw := e.newSecret(&out)
	st := e.status("bob")
	if len(st) != 2 || st[nw] != "Active" || st[ids[1]] != "Inactive" {
		t.Errorf("keys %v", st)
	}
	e.invariant("bob")
}

// TestRollbackRefusesKeyContainedAfterItsRotation: the journal says the
// old key was Active before the rotation, but it leaked and was contained
// since; keyrot rollback must not turn it back on.
func TestRollbackRefusesKeyContainedAfterItsRotation(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if _, err := Run(ctx, e.admin, e.opts(Stdout{W: &bytes.Buffer{}})); err != nil {
		t.Fatal(err)
	}
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"DateLessThan":{"aws:TokenIssueTime":"2026-03-01T13:00:00Z"}}}]}`
	if err := e.admin.PutUserPolicy(ctx, "alice", RevokePolicyPrefix+e.aliceOld, doc); err != nil {
		t.Fatal(err)
	}
	ro := RollbackOptions{User: "alice", Caller: iamx.Identity{Account: iamsim.DefaultAccountID, User: "admin"},
		Signer: iamx.Signer{AccessKeyID: e.adminID}, StateDir: e.dir, Now: e.clk.Now, Sleep: e.clk.Sleep, LockWait: time.Second}
	for _, dry := range []bool{true, false} {
		ro.DryRun = dry
		_, err := Rollback(ctx, e.admin, ro)
		if !errors.Is(err, ErrAmbiguous) || !strings.Contains(err.Error(), "was contained") {
			t.Fatalf("dry run %v: err = %v", dry, err)
		}
	}
	if st := e.status("alice"); st[e.aliceOld] != "Inactive" {
		t.Errorf("the contained key is %s", st[e.aliceOld])
	}
}
