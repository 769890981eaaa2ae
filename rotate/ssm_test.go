package rotate

import (
	"context"
	"strings"
	"testing"

	"github.com/keyrot/keyrot/iamx"
)

// crashParams dies right after a PutParameter landed, before the journal
// records it.
type crashParams struct{ ParameterStore }

func (c crashParams) PutParameter(ctx context.Context, name string, v iamx.Secret, kms string, overwrite bool) (int64, error) {
	_, _ = c.ParameterStore.PutParameter(ctx, name, v, kms, overwrite)
	crashNow()
	return 0, nil
}

// A rotation killed after its PutParameter landed: the next run finishes
// it, or a rollback writes the value before back (or deletes the
// parameter keyrot created) and deletes the new key.
func TestSSMParameterCrash(t *testing.T) {
	for _, tc := range []struct {
		name     string
		existing bool
		rollback bool
	}{
		{"put-then-resume", true, false},
		{"put-then-rollback", true, true},
		{"create-then-resume", false, false},
		{"create-then-rollback", false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			before := `{"AccessKeyId":"` + e.aliceOld + `","SecretAccessKey":"old","team":"ci"}`
			if tc.existing {
				e.srv.PutParameter("", "/ci/alice", "SecureString", before)
			}
			o := e.opts(SSMParameter{Store: crashParams{e.admin}, Name: "/ci/alice"})
			crash(t, e.admin, o)
			p, _ := e.srv.ParameterValue("", "/ci/alice")
			if strings.Contains(p.Value, e.aliceOld) || p.Value == "" {
				t.Fatalf("the crash came before the write: %q", p.Value)
			}
			if tc.rollback {
				if _, err := Rollback(context.Background(), e.admin, RollbackOptions{User: "alice", Caller: o.Caller, Signer: o.Signer,
					DeleteNew: true, StateDir: e.dir, Now: e.clk.Now, Sleep: e.clk.Sleep, Parameters: e.admin}); err != nil {
					t.Fatal(err)
				}
				if st := e.status("alice"); len(st) != 1 || st[e.aliceOld] != string(iamx.StatusActive) {
					t.Fatalf("alice after rollback: %v", st)
				}
				p, found := e.srv.ParameterValue("", "/ci/alice")
				switch {
				case !tc.existing && found:
					t.Fatalf("the parameter keyrot created survived the rollback: %+v", p)
				case tc.existing && p.Value != before:
					t.Fatalf("parameter after rollback: %s", p.Value)
				}
				return
			}
			o = e.opts(SSMParameter{Store: e.admin, Name: "/ci/alice"})
			o.Parameters = e.admin
			res, err := Run(context.Background(), e.admin, o)
			if err != nil {
				t.Fatal(err)
			}
			if res.Recovered == nil || res.Recovered.Action != "finished" {
				t.Fatalf("recovered %+v", res.Recovered)
			}
			p, _ = e.srv.ParameterValue("", "/ci/alice")
			st := e.status("alice")
			held := false
			for _, k := range e.srv.Keys("alice") {
				held = held || st[k.ID] == string(iamx.StatusActive) && strings.Contains(p.Value, k.ID) && strings.Contains(p.Value, k.Secret)
			}
			if !held || st[e.aliceOld] != string(iamx.StatusInactive) {
				t.Fatalf("after resume: %v, parameter %s", st, p.Value)
			}
		})
	}
}

// A rotation to Secrets Manager and Parameter Store killed after the
// secret took the key but before the parameter did: the rerun finds the
// key in one destination only, so it puts the secret back, deletes the
// new key and rotates afresh into both.
func TestMultiDestinationCrash(t *testing.T) {
	e := newEnv(t)
	before := `{"AccessKeyId":"` + e.aliceOld + `","SecretAccessKey":"old"}`
	e.srv.PutSecret("", "ci/alice", before)
	e.srv.PutParameter("", "/ci/alice", "SecureString", before)
	o := e.opts(Destinations{SecretsManager{Store: crashStore{e.admin}, SecretID: "ci/alice"}, SSMParameter{Store: e.admin, Name: "/ci/alice"}})
	crash(t, e.admin, o)
	sec, _ := e.srv.SecretValue("", "ci/alice")
	if p, _ := e.srv.ParameterValue("", "/ci/alice"); sec.Current == before || p.Value != before {
		t.Fatalf("the crash is not between the two: secret %s, parameter %s", sec.Current, p.Value)
	}
	o = e.opts(Destinations{SecretsManager{Store: e.admin, SecretID: "ci/alice"}, SSMParameter{Store: e.admin, Name: "/ci/alice"}})
	o.Secrets, o.Parameters = e.admin, e.admin
	res, err := Run(context.Background(), e.admin, o)
	if err != nil {
		t.Fatal(err)
	}
	if res.Recovered == nil || res.Recovered.Action != "rolled back" {
		t.Fatalf("recovered %+v", res.Recovered)
	}
	sec, _ = e.srv.SecretValue("", "ci/alice")
	p, _ := e.srv.ParameterValue("", "/ci/alice")
	if !strings.Contains(sec.Current, res.NewKey.ID) || !strings.Contains(p.Value, res.NewKey.ID) {
		t.Fatalf("after the fresh rotation: secret %s, parameter %s, new key %s", sec.Current, p.Value, res.NewKey.ID)
	}
	if st := e.status("alice"); len(st) != 2 || st[res.NewKey.ID] != string(iamx.StatusActive) {
		t.Fatalf("alice: %v", st)
	}
}
