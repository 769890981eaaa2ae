package rotate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/keyrot/keyrot/iamx"
	"github.com/keyrot/keyrot/iamx/iamsim"
)

// Tests of the paths that could lock a user out or leak a new secret.

// learnStdout records the key pair a Stdout destination printed, if any.
func (e *env) learnStdout(out *bytes.Buffer) {
	e.t.Helper()
	if out.Len() == 0 {
		return
	}
	var v struct{ AccessKeyId, SecretAccessKey string }
	if err := json.Unmarshal(out.Bytes(), &v); err != nil {
		e.t.Fatalf("stdout %q: %v", out.String(), err)
	}
	e.known[v.AccessKeyId] = v.SecretAccessKey
}

// saveJournal writes j as alice's journal.
func (e *env) saveJournal(j *journal) {
	e.t.Helper()
	if err := (store{path: stateFile(e.dir, "alice", ".json"), now: time.Now}).save(j); err != nil {
		e.t.Fatal(err)
	}
}

// The old key was deactivated, the rotation failed after that, and
// reactivating the old key failed too: the rollback must leave the new key
// Active, or alice has no Active key at all.
func TestRollbackKeepsNewKeyWhenOldKeyStaysInactive(t *testing.T) {
	for _, tc := range []struct {
		name   string
		inject func(s *iamsim.Server)
	}{
		// The deactivation lands but its answer is lost, the check listing
		// fails, and so does the reactivation.
		{"rollback-sees-keys", func(s *iamsim.Server) {
			s.DropNextResponse("UpdateAccessKey")
			s.FailNth("ListAccessKeys", 2, "ServiceFailure")
			s.FailNth("UpdateAccessKey", 2, "ServiceFailure")
		}},
		// As above, and the rollback cannot list the keys either: it acts
		// on the journal (old key touched) alone.
		{"rollback-blind", func(s *iamsim.Server) {
			s.DropNextResponse("UpdateAccessKey")
			s.FailNth("ListAccessKeys", 2, "ServiceFailure")
			s.FailNth("ListAccessKeys", 3, "ServiceFailure")
			s.FailNth("UpdateAccessKey", 2, "ServiceFailure")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			var out bytes.Buffer
			tc.inject(e.srv)
			res, err := Run(context.Background(), e.admin, e.opts(Stdout{W: &out}))
			var rf *RollbackFailedError
			if !errors.Is(err, ErrRollbackFailed) || !errors.As(err, &rf) {
				t.Fatalf("err = %v, want a *RollbackFailedError; calls %s", err, e.calls())
			}
			if code, _ := ExitCode(err); code != 9 {
				t.Errorf("exit code %d, want 9", code)
			}
			e.learnStdout(&out)
			newID := res.NewKey.ID
			if newID == "" || rf.NewKeyID != newID {
				t.Fatalf("new key %q, error names %q", newID, rf.NewKeyID)
			}
			st := e.status("alice")
			if st[e.aliceOld] != "Inactive" || st[newID] != "Active" {
				t.Errorf("statuses %v, want old %s Inactive and new %s Active; calls %s", st, e.aliceOld, newID, e.calls())
			}
			if n := e.srv.CallCount("DeleteAccessKey"); n != 0 {
				t.Errorf("%d DeleteAccessKey calls while the old key was not Active", n)
			}
			if !strings.Contains(rf.SecretState, "still Active") {
				t.Errorf("secret state %q", rf.SecretState)
			}
			if want := "keyrot activate --user alice --access-key-id " + e.aliceOld; !contains(rf.Recovery, want) {
				t.Errorf("recovery %q lacks %q", rf.Recovery, want)
			}
			e.invariant("alice")
		})
	}
}

// crashWriter dies in Stdout.Deliver, before or after the secret is written.
type crashWriter struct {
	w     *bytes.Buffer
	after bool
}

func (c crashWriter) Write(p []byte) (int, error) {
	if c.after {
		c.w.Write(p)
	}
	crashNow()
	return len(p), nil
}

// A run died between the create and a delivery that cannot be read back
// (stdout, a command): nothing proves anybody holds the new secret. A
// rerun without verification has no way to prove it either, so it must
// undo that rotation, not finish it by deactivating the old key.
func TestRecoverWithoutVerifyUndoesUnprovenDelivery(t *testing.T) {
	for _, tc := range []struct {
		name string
		dest func(crashOut *bytes.Buffer) Destination
		edit func(j *journal)
	}{
		{"stdout-before-write", func(b *bytes.Buffer) Destination { return Stdout{W: crashWriter{w: b}} }, nil},
		{"stdout-after-write", func(b *bytes.Buffer) Destination { return Stdout{W: crashWriter{w: b, after: true}} }, nil},
		{"stdout-journal-created", func(b *bytes.Buffer) Destination { return Stdout{W: crashWriter{w: b}} },
			func(j *journal) { j.Step = jCreated }},
		{"exec-after-run", func(b *bytes.Buffer) Destination {
			return crashDest{inner: Exec{Command: "true", Env: []string{"PATH=" + os.Getenv("PATH")}}, after: true}
		}, func(j *journal) { j.Destination.Kind = KindExec }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			var crashOut bytes.Buffer
			crash(t, e.admin, e.opts(tc.dest(&crashOut)))
			j := readJournal(t, e)
			if tc.edit != nil {
				tc.edit(j)
				e.saveJournal(j)
			}
			crashedID := j.NewKeyID
			if crashedID == "" || (j.Step != jDelivering && j.Step != jCreated) || len(e.srv.Keys("alice")) != 2 {
				t.Fatalf("crash left journal step %q, new key %q, keys %v", j.Step, crashedID, e.status("alice"))
			}

			var out bytes.Buffer
			o := e.opts(Stdout{W: &out})
			o.Verify = false
			res, err := Run(context.Background(), e.admin, o)
			if err != nil {
				t.Fatalf("rerun: %v", err)
			}
			if res.Recovered == nil || res.Recovered.Action != "rolled back" {
				t.Fatalf("recovered %+v, want the unproven rotation rolled back", res.Recovered)
			}
			st := e.status("alice")
			if _, ok := st[crashedID]; ok {
				t.Errorf("key %s, whose delivery is unproven, survived: %v", crashedID, st)
			}
			// The fresh rotation that follows the rollback delivered its key.
			e.learnStdout(&out)
			if res.NewKey.ID == "" || res.NewKey.ID == crashedID || st[res.NewKey.ID] != "Active" {
				t.Errorf("fresh rotation: new key %q, statuses %v", res.NewKey.ID, st)
			}
			e.invariant("alice")
		})
	}
}

// alternatingVerify makes the simulator refuse every second VerifyKey
// with InvalidClientTokenId: success, failure, success... (A wrong secret
// would not do: the SDK signer caches the signing key by access key ID.)
type alternatingVerify struct {
	Keys
	srv *iamsim.Server
	n   int
}

func (a *alternatingVerify) VerifyKey(ctx context.Context, id string, secret iamx.Secret) (iamx.Identity, error) {
	a.n++
	if a.n%2 == 0 {
		a.srv.FailNext("GetCallerIdentity", "InvalidClientTokenId")
	}
	return a.Keys.VerifyKey(ctx, id, secret)
}

// Verification needs Successes answers in a row: a failure in between
// starts the count again.
func TestVerifyNeedsConsecutiveSuccesses(t *testing.T) {
	t.Run("alternating-never-verifies", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		var out bytes.Buffer
		o := e.opts(Stdout{W: &out})
		o.Successes = 2
		keys := &alternatingVerify{Keys: e.admin, srv: e.srv}
		res, err := Run(context.Background(), keys, o)
		if !errors.Is(err, ErrRolledBack) || !errors.Is(err, ErrVerifyTimeout) {
			t.Fatalf("err = %v after %d verify calls, want a verify timeout rolled back", err, res.VerifyCalls)
		}
		if res.Verified || res.VerifyCalls < 4 {
			t.Errorf("verified %v after %d calls", res.Verified, res.VerifyCalls)
		}
		if st := e.status("alice"); len(st) != 1 || st[e.aliceOld] != "Active" {
			t.Errorf("statuses %v", st)
		}
		e.invariant("alice")
	})
	for _, n := range []int{2, 3} {
		// The simulator's flaky key: success, failure, then success for good.
		t.Run(fmt.Sprintf("flaky-%d-in-a-row", n), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, iamsim.FlakyPropagation())
			var out bytes.Buffer
			o := e.opts(Stdout{W: &out})
			o.Successes = n
			res, err := Run(context.Background(), e.admin, o)
			if err != nil {
				t.Fatal(err)
			}
			if want := n + 2; res.VerifyCalls != want || e.srv.CallCount("GetCallerIdentity") != want {
				t.Errorf("%d verify calls (%d GetCallerIdentity), want %d: ok, fail, then %d ok in a row",
					res.VerifyCalls, e.srv.CallCount("GetCallerIdentity"), want, n)
			}
			e.learnStdout(&out)
			if !res.Verified || e.status("alice")[e.aliceOld] != "Inactive" {
				t.Errorf("result %+v, statuses %v", res, e.status("alice"))
			}
			e.invariant("alice")
		})
	}
}

// --access-key-id OLD --delete-inactive lets the capacity step delete an
// Inactive second key, never an Active one.
func TestNamedOldKeyDeleteInactiveSparesActiveKey(t *testing.T) {
	for _, tc := range []struct {
		name     string
		pickNew  bool // name the second (newer) key rather than the first
		policy   OldKeyPolicy
		withPlan bool
	}{
		{"old-first-deactivate", false, Deactivate, false},
		{"old-second-delete", true, Delete, false},
		{"old-first-keep", false, Keep, false},
		{"plan", false, Deactivate, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			e.clk.Advance(time.Minute)
			other, secret, err := e.srv.AddKey("alice", iamsim.KeySeed{Status: "Active"})
			if err != nil {
				t.Fatal(err)
			}
			e.known[other] = secret
			named := e.aliceOld
			if tc.pickNew {
				named, other = other, e.aliceOld
			}
			o := e.opts(Stdout{W: &bytes.Buffer{}})
			o.OldKeyID, o.DeleteInactive, o.OldKey = named, true, tc.policy
			if tc.withPlan {
				p, err := Plan(context.Background(), e.admin, o)
				if !errors.Is(err, iamx.ErrKeyLimit) || p.DeleteInactive != "" {
					t.Errorf("plan: err = %v, deletes %q", err, p.DeleteInactive)
				}
			} else {
				_, err = Run(context.Background(), e.admin, o)
				var kl *KeyLimitError
				if !errors.Is(err, iamx.ErrKeyLimit) || !errors.As(err, &kl) {
					t.Fatalf("err = %v, want a *KeyLimitError; calls %s", err, e.calls())
				}
				if !strings.Contains(err.Error(), other) {
					t.Errorf("error does not name the Active key %s in the way: %v", other, err)
				}
				// Not a workflow kind: the command layer maps ErrKeyLimit to exit 4.
				if code, ok := ExitCode(err); ok {
					t.Errorf("ExitCode = %d, want the iamx kind to decide", code)
				}
			}
			if calls := e.calls(); calls != "ListAccessKeys" {
				t.Errorf("calls %s, want nothing changed", calls)
			}
			if st := e.status("alice"); len(st) != 2 || st[e.aliceOld] != "Active" || st[other] != "Active" {
				t.Errorf("statuses %v", st)
			}
			e.invariant("alice")
		})
	}
}

// brokenPipe fails every write, so a stdout delivery fails and the new
// secret is never delivered.
type brokenPipe struct{}

func (brokenPipe) Write([]byte) (int, error) { return 0, errors.New("broken pipe") }

// A rollback that fails with an undelivered secret keeps it in NewSecret,
// but no text made from the error may hold it.
func TestRollbackFailedErrorHidesSecret(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.srv.FailAlways("DeleteAccessKey", "AccessDenied")
	o := e.opts(Stdout{W: brokenPipe{}})
	var stepErrs []string
	o.OnStep = func(s Step) {
		if s.Err != nil {
			stepErrs = append(stepErrs, s.Err.Error(), fmt.Sprintf("%+v", s))
		}
	}
	res, err := Run(context.Background(), e.admin, o)
	var rf *RollbackFailedError
	if !errors.As(err, &rf) {
		t.Fatalf("err = %v", err)
	}
	if code, _ := ExitCode(err); code != 9 {
		t.Errorf("exit code %d", code)
	}
	secret := rf.NewSecret.Reveal()
	if secret == "" || !strings.Contains(rf.SecretState, "never delivered") {
		t.Fatalf("secret dropped: %q", rf.SecretState)
	}
	e.known[rf.NewKeyID] = secret

	texts := map[string]string{
		"Error()":           err.Error(),
		"%v":                fmt.Sprintf("%v", err),
		"%+v":               fmt.Sprintf("%+v", err),
		"%s":                fmt.Sprintf("%s", err),
		"%q":                fmt.Sprintf("%q", err),
		"%#v":               fmt.Sprintf("%#v", err),
		"%+v of the struct": fmt.Sprintf("%+v", *rf),
		"%#v of the struct": fmt.Sprintf("%#v", *rf),
		"wrapped":           fmt.Errorf("rotate alice: %w", err).Error(),
		"joined":            errors.Join(errors.New("fleet"), err).Error(),
		"steps":             strings.Join(stepErrs, "\n"),
	}
	for i, u := range rf.Unwrap() {
		texts[fmt.Sprintf("Unwrap()[%d]", i)] = u.Error()
	}
	if b, jerr := json.Marshal(rf); jerr != nil {
		t.Errorf("json: %v", jerr)
	} else {
		texts["json"] = string(b)
	}
	if b, jerr := json.Marshal(res); jerr == nil {
		texts["result json"] = string(b)
	}
	var logs bytes.Buffer
	slog.New(slog.NewTextHandler(&logs, nil)).Error("rotation failed", "err", err)
	slog.New(slog.NewJSONHandler(&logs, nil)).Error("rotation failed", "err", err, "detail", rf)
	texts["slog"] = logs.String()
	if b, rerr := os.ReadFile(stateFile(e.dir, "alice", ".json")); rerr == nil {
		texts["journal"] = string(b)
	}
	for name, s := range texts {
		if strings.Contains(s, secret) {
			t.Errorf("%s holds the new secret: %s", name, strings.ReplaceAll(s, secret, "<NEW SECRET>"))
		}
	}
	if !strings.Contains(err.Error(), rf.NewKeyID) {
		t.Errorf("error does not name the new key: %v", err)
	}
	e.invariant("alice")
}
