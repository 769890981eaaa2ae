package rotate

import (
	"bytes"
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/keyrot/keyrot/iamx"
	"github.com/keyrot/keyrot/iamx/iamsim"
)

// Two rotations of alice from two machines (two state directories, so the
// per-user lock cannot see the other run). The simulator holds run B's
// CreateAccessKey while run A rotates from start to finish; B's create then
// reaches IAM after A's key exists. Before the fix, B's clean-up deleted
// A's new key (every key not in B's "before" list) and left alice with her
// old key, Inactive: locked out.
func TestTwoMachinesRotatingOneUser(t *testing.T) {
	for _, tc := range []struct {
		name     string
		policyA  OldKeyPolicy
		dropB    bool  // B's create runs but its response is lost
		want     error // B's error kind
		wantText string
	}{
		{"second create refused", Deactivate, false, iamx.ErrKeyLimit, "another rotation of alice is in progress or just finished"},
		{"second create ambiguous, old key deactivated", Deactivate, true, iamx.ErrUnreachable, "old key AKIA[A-Z0-9]+ became Inactive meanwhile"},
		{"second create ambiguous, old key kept", Keep, true, iamx.ErrUnreachable, "it was used at"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			path, _ := e.credFile()
			oA := e.opts(CredentialsFile{Path: path, Profile: "alice"})
			oA.OldKey = tc.policyA
			var outB bytes.Buffer
			oB := e.opts(Stdout{W: &outB})
			oB.StateDir = t.TempDir()

			release := e.srv.HoldNext("CreateAccessKey")
			doneB := make(chan error, 1)
			go func() {
				_, err := Run(context.Background(), e.client(e.adminID, 1), oB)
				doneB <- err
			}()
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			if err := e.srv.WaitHeld(ctx, "CreateAccessKey"); err != nil {
				t.Fatal(err)
			}
			resA, err := Run(context.Background(), e.client(e.adminID, 1), oA)
			if err != nil {
				t.Fatalf("run A: %v", err)
			}
			e.learnFile(path, "alice")
			newA := resA.NewKey.ID
			if tc.dropB {
				e.srv.DropNextResponse("CreateAccessKey")
			}
			e.srv.ResetCalls()
			release()
			errB := <-doneB

			if !errors.Is(errB, tc.want) {
				t.Fatalf("run B: err = %v, want %v", errB, tc.want)
			}
			if !regexp.MustCompile(tc.wantText).MatchString(errB.Error()) {
				t.Errorf("run B says %q, want it to say %q", errB, tc.wantText)
			}
			if outB.Len() != 0 {
				t.Errorf("run B delivered a key: %s", outB.String())
			}
			for _, c := range e.srv.Calls() {
				if c.Action == "DeleteAccessKey" || c.Action == "UpdateAccessKey" {
					t.Errorf("run B changed a key: %+v (calls %s)", c, e.calls())
				}
			}
			if st := e.status("alice"); st[newA] != "Active" {
				t.Errorf("run A's key %s is %q after run B; keys %v", newA, st[newA], st)
			}
			e.invariant("alice")
		})
	}
}

// The orphan rule's other conditions: each left key would have been
// deleted by the clean-up before the fix.
func TestAmbiguousCreateLeavesUnprovenKeys(t *testing.T) {
	t.Run("created before this run's create began", func(t *testing.T) {
		e := newEnv(t)
		var out bytes.Buffer
		o := e.opts(Stdout{W: &out})
		var other string
		o.OnStep = func(s Step) {
			if s.Name == StepCreate && !s.Done {
				// Another tool creates a key between this run's look and
				// its create, and then the create's response is lost.
				other, _, _ = e.srv.AddKey("alice", iamsim.KeySeed{Created: e.clk.Now().Add(-10 * time.Second)})
				e.srv.DropNextResponse("CreateAccessKey")
			}
		}
		_, err := Run(context.Background(), e.client(e.adminID, 1), o)
		var ue *UnprovenKeyError
		if !errors.As(err, &ue) || !errors.Is(err, iamx.ErrUnreachable) || !strings.Contains(err.Error(), "before this run's create began") {
			t.Fatalf("err = %v, want an UnprovenKeyError about the creation time", err)
		}
		if !strings.Contains(err.Error(), "aws iam delete-access-key --user-name alice --access-key-id "+other) {
			t.Errorf("no command to delete the orphan in %q", err)
		}
		if _, ok := e.status("alice")[other]; !ok {
			t.Errorf("key %s was deleted", other)
		}
	})
	t.Run("own orphan whose delete answers NoSuchEntity", func(t *testing.T) {
		e := newEnv(t)
		var out bytes.Buffer
		e.srv.DropNextResponse("CreateAccessKey")
		e.srv.FailNext("DeleteAccessKey", "NoSuchEntity")
		_, err := Run(context.Background(), e.client(e.adminID, 1), e.opts(Stdout{W: &out}))
		if !errors.Is(err, iamx.ErrUnreachable) || errors.Is(err, ErrRollbackFailed) {
			t.Fatalf("err = %v, want the create's own error: a key already gone is deleted", err)
		}
	})
	t.Run("own orphan deleted", func(t *testing.T) {
		e := newEnv(t)
		var out bytes.Buffer
		e.srv.DropNextResponse("CreateAccessKey")
		_, err := Run(context.Background(), e.client(e.adminID, 1), e.opts(Stdout{W: &out}))
		if !errors.Is(err, iamx.ErrUnreachable) {
			t.Fatalf("err = %v", err)
		}
		if st := e.status("alice"); len(st) != 1 || st[e.aliceOld] != "Active" {
			t.Errorf("keys %v, want only the old key, Active (the orphan deleted)", st)
		}
	})
}

// A definite refusal from IAM created nothing: no clean-up call follows.
func TestRefusedCreateCleansUpNothing(t *testing.T) {
	e := newEnv(t)
	var out bytes.Buffer
	e.srv.FailNext("CreateAccessKey", "AccessDenied")
	_, err := Run(context.Background(), e.client(e.adminID, 1), e.opts(Stdout{W: &out}))
	if !errors.Is(err, iamx.ErrAccessDenied) {
		t.Fatalf("err = %v", err)
	}
	if got := e.calls(); got != "ListAccessKeys,CreateAccessKey" {
		t.Errorf("calls %s, want ListAccessKeys,CreateAccessKey", got)
	}
}

// An old key that another run deleted while this one deactivated it is
// done, not a failure: the rotation finishes instead of rolling back.
func TestOldKeyGoneMeanwhileFinishes(t *testing.T) {
	e := newEnv(t)
	var out bytes.Buffer
	o := e.opts(Stdout{W: &out})
	o.OnStep = func(s Step) {
		if s.Name == StepOldKey && !s.Done {
			if err := e.admin.DeleteKey(context.Background(), "alice", e.aliceOld); err != nil {
				t.Error(err)
			}
		}
	}
	res, err := Run(context.Background(), e.client(e.adminID, 1), o)
	if err != nil {
		t.Fatalf("err = %v", err)
	}
	if !res.OldKeyDeleted || res.NewKey.Status != iamx.StatusActive {
		t.Errorf("result old deleted %v, new %+v", res.OldKeyDeleted, res.NewKey)
	}
	if st := e.status("alice"); len(st) != 1 || st[res.NewKey.ID] != "Active" {
		t.Errorf("keys %v", st)
	}
}
