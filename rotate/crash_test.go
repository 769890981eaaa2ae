package rotate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/keyrot/keyrot/iamx"
	"github.com/keyrot/keyrot/iamx/iamsim"
)

// crash runs Run in a goroutine that dies (runtime.Goexit) wherever the
// test's hooks call crashNow: deferred calls run, as the kernel would drop
// the flock of a killed process, but nothing else does.
func crash(t *testing.T, keys Keys, o Options) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, err := Run(context.Background(), keys, o)
		t.Errorf("Run returned instead of crashing: %v", err)
	}()
	<-done
}

func crashNow() { runtime.Goexit() }

// crashDest dies in Deliver, before or after handing the key over.
type crashDest struct {
	inner Destination
	after bool
}

func (c crashDest) Deliver(ctx context.Context, k iamx.NewKey) (func() error, error) {
	if c.after {
		_, _ = c.inner.Deliver(ctx, k)
	}
	crashNow()
	return nil, nil
}

func (c crashDest) Describe() string { return c.inner.Describe() }

// crashKeys dies right after CreateAccessKey succeeded.
type crashKeys struct{ Keys }

func (c crashKeys) CreateKey(ctx context.Context, user string) (iamx.NewKey, error) {
	_, _ = c.Keys.CreateKey(ctx, user)
	crashNow()
	return iamx.NewKey{}, nil
}

func readJournal(t *testing.T, e *env) *journal {
	t.Helper()
	j, err := (store{path: stateFile(e.dir, "alice", ".json"), now: time.Now}).load()
	if err != nil || j == nil {
		t.Fatalf("journal: %v", err)
	}
	return j
}

func TestResumeAfterCrash(t *testing.T) {
	for _, tc := range []struct {
		name       string
		setup      func(e *env, path string) Options
		edit       func(j *journal)
		wantAction string
		finished   bool // the resumed rotation is the result, no fresh one
	}{
		{"during-verify-credfile", func(e *env, path string) Options {
			e.clk.onSleep = func(n int) error { crashNow(); return nil }
			e.srv.SetPropagationDelay(time.Hour)
			return e.opts(CredentialsFile{Path: path, Profile: "alice"})
		}, nil, "finished", true},
		{"during-credfile-update", func(e *env, path string) Options {
			e.clk.onSleep = func(n int) error { crashNow(); return nil }
			e.srv.SetPropagationDelay(time.Hour)
			return e.opts(CredentialsFile{Path: path, Profile: "alice"})
		}, func(j *journal) { j.Step, j.Destination.Delivered, j.Destination.Backup = jDelivering, false, "" }, "finished", true},
		{"during-verify-stdout", func(e *env, path string) Options {
			e.clk.onSleep = func(n int) error { crashNow(); return nil }
			e.srv.SetPropagationDelay(time.Hour)
			return e.opts(Stdout{W: &bytes.Buffer{}})
		}, nil, "rolled back", false},
		{"before-delivery", func(e *env, path string) Options {
			return e.opts(crashDest{inner: Stdout{W: &bytes.Buffer{}}})
		}, nil, "rolled back", false},
		{"after-create", func(e *env, path string) Options {
			return e.opts(Stdout{W: &bytes.Buffer{}})
		}, nil, "cleaned up", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			path, _ := e.credFile()
			o := tc.setup(e, path)
			var keys Keys = e.admin
			if tc.name == "after-create" {
				keys = crashKeys{e.admin}
			}
			crash(t, keys, o)
			if tc.edit != nil {
				j := readJournal(t, e)
				tc.edit(j)
				if err := (store{path: stateFile(e.dir, "alice", ".json"), now: time.Now}).save(j); err != nil {
					t.Fatal(err)
				}
			}
			if len(e.srv.Keys("alice")) != 2 {
				t.Fatalf("crash left %v", e.status("alice"))
			}
			e.clk.onSleep = nil
			e.srv.SetPropagationDelay(0)
			var out bytes.Buffer
			res, err := Run(context.Background(), e.admin, e.opts(Stdout{W: &out}))
			if err != nil {
				t.Fatal(err)
			}
			if res.Recovered == nil || res.Recovered.Action != tc.wantAction {
				t.Fatalf("recovered %+v", res.Recovered)
			}
			t.Logf("recovered: %s", res.Recovered.Detail)
			if tc.finished {
				if out.Len() != 0 {
					t.Error("a fresh rotation ran after the resumed one finished")
				}
				e.learnFile(path, "alice")
			} else {
				var v struct{ AccessKeyId, SecretAccessKey string }
				if err := json.Unmarshal(out.Bytes(), &v); err != nil {
					t.Fatal(err)
				}
				e.known[v.AccessKeyId] = v.SecretAccessKey
			}
			st := e.status("alice")
			if len(st) != 2 || st[e.aliceOld] != "Inactive" {
				t.Errorf("statuses %v", st)
			}
			e.invariant("alice")
			if j := readJournal(t, e); j.Step != jDone {
				t.Errorf("journal step %s", j.Step)
			}
		})
	}
}

func TestRollback(t *testing.T) {
	for _, deleteNew := range []bool{false, true} {
		t.Run("journal", func(t *testing.T) {
			e := newEnv(t)
			path, original := e.credFile()
			res, err := Run(context.Background(), e.admin, e.opts(CredentialsFile{Path: path, Profile: "alice", Now: e.clk.Now}))
			if err != nil {
				t.Fatal(err)
			}
			ro := RollbackOptions{User: "alice", StateDir: e.dir, Now: e.clk.Now, Sleep: e.clk.Sleep, DeleteNew: deleteNew}
			rr, err := Rollback(context.Background(), e.admin, ro)
			if err != nil {
				t.Fatal(err)
			}
			if rr.Inferred || rr.OldKeyID != e.aliceOld || rr.NewKeyID != res.NewKey.ID || rr.Restored == "" {
				t.Errorf("%+v", rr)
			}
			want := map[string]string{e.aliceOld: "Active", res.NewKey.ID: "Inactive"}
			if deleteNew {
				delete(want, res.NewKey.ID)
			}
			if st := e.status("alice"); len(st) != len(want) || st[e.aliceOld] != "Active" || st[res.NewKey.ID] != want[res.NewKey.ID] {
				t.Errorf("statuses %v", st)
			}
			if data, _ := os.ReadFile(path); string(data) != original {
				t.Error("credentials file not restored")
			}
			e.invariant("alice")
			// A second rollback has nothing it can tell apart.
			if _, err := Rollback(context.Background(), e.admin, ro); !errors.Is(err, ErrAmbiguous) {
				t.Errorf("second rollback: %v", err)
			}
		})
	}
	t.Run("inferred", func(t *testing.T) {
		e := newEnv(t)
		e.clk.Advance(time.Minute)
		id, secret, _ := e.srv.AddKey("alice", iamsim.KeySeed{})
		e.known[id] = secret
		if err := e.admin.SetStatus(context.Background(), "alice", e.aliceOld, iamx.StatusInactive); err != nil {
			t.Fatal(err)
		}
		ro := RollbackOptions{User: "alice", StateDir: e.dir, Now: e.clk.Now, Sleep: e.clk.Sleep, DryRun: true}
		rr, err := Rollback(context.Background(), e.admin, ro)
		if err != nil || !rr.Inferred || len(rr.Actions) != 2 || e.status("alice")[e.aliceOld] != "Inactive" {
			t.Fatalf("dry run %+v %v", rr, err)
		}
		ro.DryRun = false
		rr, err = Rollback(context.Background(), e.admin, ro)
		if err != nil || !rr.Inferred || !strings.Contains(rr.Explanation, "inferred") {
			t.Fatalf("%+v %v", rr, err)
		}
		if st := e.status("alice"); st[e.aliceOld] != "Active" || st[id] != "Inactive" {
			t.Errorf("statuses %v", st)
		}
	})
	t.Run("ambiguous", func(t *testing.T) {
		e := newEnv(t)
		e.clk.Advance(time.Minute)
		_, _, _ = e.srv.AddKey("alice", iamsim.KeySeed{})
		_, err := Rollback(context.Background(), e.admin, RollbackOptions{User: "alice", StateDir: e.dir, Now: e.clk.Now, Sleep: e.clk.Sleep})
		var ae *AmbiguousError
		if !errors.As(err, &ae) || len(ae.Keys) != 2 {
			t.Fatalf("err = %v", err)
		}
		if n := e.srv.CallCount("UpdateAccessKey") + e.srv.CallCount("DeleteAccessKey"); n != 0 {
			t.Error("changed something")
		}
	})
	t.Run("lockout", func(t *testing.T) {
		e := newEnv(t)
		e.clk.Advance(time.Minute)
		id, secret, _ := e.srv.AddKey("alice", iamsim.KeySeed{})
		e.known[id] = secret
		_ = e.admin.SetStatus(context.Background(), "alice", e.aliceOld, iamx.StatusInactive)
		_, err := Rollback(context.Background(), e.client(id, 1), RollbackOptions{StateDir: e.dir, Now: e.clk.Now, Sleep: e.clk.Sleep,
			Caller: iamx.Identity{User: "alice"}, Signer: iamx.Signer{AccessKeyID: id}})
		if !errors.Is(err, ErrLockout) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("unfinished", func(t *testing.T) {
		e := newEnv(t)
		path, original := e.credFile()
		e.clk.onSleep = func(n int) error { crashNow(); return nil }
		e.srv.SetPropagationDelay(time.Hour)
		crash(t, e.admin, e.opts(CredentialsFile{Path: path, Profile: "alice"}))
		e.clk.onSleep = nil
		rr, err := Rollback(context.Background(), e.admin, RollbackOptions{User: "alice", StateDir: e.dir, Now: e.clk.Now, Sleep: e.clk.Sleep, DeleteNew: true})
		if err != nil || rr.Recovered == nil || rr.Recovered.Action != "rolled back" {
			t.Fatalf("%+v %v", rr, err)
		}
		if st := e.status("alice"); len(st) != 1 || st[e.aliceOld] != "Active" {
			t.Errorf("statuses %v", st)
		}
		if data, _ := os.ReadFile(path); string(data) != original {
			t.Error("credentials file not restored")
		}
	})
}
