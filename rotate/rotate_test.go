package rotate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/keyrot/keyrot/iamx"
	"github.com/keyrot/keyrot/iamx/iamsim"
)

func TestHappyPath(t *testing.T) {
	for _, tc := range []struct {
		name   string
		dest   string
		policy OldKeyPolicy
		want   string // old key's final status, "" deleted
	}{
		{"credfile-deactivate", "file", Deactivate, "Inactive"},
		{"stdout-keep", "stdout", Keep, "Active"},
		{"exec-delete", "exec", Delete, ""},
		{"credfile-default-policy", "file", "", "Inactive"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			var d Destination
			var out bytes.Buffer
			path, _ := e.credFile()
			hook := filepath.Join(t.TempDir(), "hook")
			switch tc.dest {
			case "file":
				d = CredentialsFile{Path: path, Profile: "alice", Now: e.clk.Now}
			case "stdout":
				d = Stdout{W: &out}
			case "exec":
				d = Exec{Command: `printf '%s %s %s %s' "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" "$KEYROT_USER" "$KEYROT_OLD_ACCESS_KEY_ID" > "$HOOK"`,
					Env: []string{"HOOK=" + hook, "PATH=" + os.Getenv("PATH"), "AWS_SESSION_TOKEN=stale"}}
			}
			o := e.opts(d)
			o.OldKey = tc.policy
			var steps []string
			o.OnStep = func(s Step) {
				if s.Done {
					steps = append(steps, s.Name)
				}
			}
			res, err := Run(context.Background(), e.admin, o)
			if err != nil {
				t.Fatal(err)
			}
			newID := res.NewKey.ID
			switch tc.dest {
			case "file":
				e.learnFile(path, "alice")
				data, _ := os.ReadFile(path)
				if !strings.Contains(string(data), "# keep me") || !strings.Contains(string(data), "[other]") {
					t.Errorf("other profile or comment lost:\n%s", data)
				}
			case "stdout":
				var v struct{ AccessKeyId, SecretAccessKey, UserName string }
				if err := json.Unmarshal(out.Bytes(), &v); err != nil || v.AccessKeyId != newID || v.UserName != "alice" {
					t.Fatalf("stdout %q: %v", out.String(), err)
				}
				e.known[v.AccessKeyId] = v.SecretAccessKey
			case "exec":
				b, err := os.ReadFile(hook)
				if err != nil {
					t.Fatal(err)
				}
				f := strings.Fields(string(b))
				if len(f) != 4 || f[0] != newID || f[2] != "alice" || f[3] != e.aliceOld {
					t.Fatalf("hook saw %q", b)
				}
				e.known[f[0]] = f[1]
			}
			if _, ok := e.known[newID]; !ok {
				t.Fatal("new secret not delivered")
			}
			st := e.status("alice")
			if st[newID] != "Active" || st[e.aliceOld] != tc.want {
				t.Errorf("statuses %v", st)
			}
			if res.OldKey.ID != e.aliceOld || !res.Verified || res.VerifyCalls != 3 {
				t.Errorf("result %+v", res)
			}
			// The API call budget: list, create, 3 × verify, update/delete.
			if n := e.srv.CallCount(""); tc.policy == Keep && n != 5 || tc.policy != Keep && n != 6 {
				t.Errorf("%d calls: %s", n, e.calls())
			}
			if e.srv.CallCount("GetCallerIdentity") != 3 || e.srv.CallCount("ListAccessKeys") != 1 || e.srv.CallCount("CreateAccessKey") != 1 {
				t.Errorf("calls: %s", e.calls())
			}
			if strings.Join(steps, ",") != "inspect,create,deliver,verify,old-key" && !(tc.policy == Keep && strings.Join(steps, ",") == "inspect,create,deliver,verify") {
				t.Errorf("steps %v", steps)
			}
			b, _ := json.Marshal(res)
			if strings.Contains(string(b), e.known[newID]) {
				t.Error("result holds the secret")
			}
			j, _ := os.ReadFile(stateFile(e.dir, "alice", ".json"))
			if strings.Contains(string(j), e.known[newID]) || !strings.Contains(string(j), `"done"`) {
				t.Errorf("journal: %s", j)
			}
			e.invariant("alice")
		})
	}
}

func TestSelfRotation(t *testing.T) {
	for _, policy := range []OldKeyPolicy{Deactivate, Delete} {
		t.Run(string(policy), func(t *testing.T) {
			e := newEnv(t)
			alice := e.client(e.aliceOld, 1)
			path, _ := e.credFile()
			o := e.opts(CredentialsFile{Path: path, Profile: "alice"})
			o.User, o.Caller, o.Signer = "", iamx.Identity{Account: iamsim.DefaultAccountID, User: "alice"}, iamx.Signer{AccessKeyID: e.aliceOld}
			o.OldKey, o.ClientFor = policy, e.clientFor(alice)
			res, err := Run(context.Background(), alice, o)
			if err != nil {
				t.Fatal(err)
			}
			if !res.SelfRotation || res.OldKey.ID != e.aliceOld {
				t.Errorf("result %+v", res)
			}
			e.learnFile(path, "alice")
			e.invariant("alice")
			// The old key signed everything up to and including its own change.
			for _, c := range e.srv.Calls() {
				if c.Action != "GetCallerIdentity" && c.Signer != e.aliceOld {
					t.Errorf("%s signed by %s", c.Action, c.Signer)
				}
			}
		})
	}
}

func TestSelfRotationRollbackSignsWithNewKey(t *testing.T) {
	e := newEnv(t)
	alice := e.client(e.aliceOld, 1)
	path, _ := e.credFile()
	o := e.opts(CredentialsFile{Path: path, Profile: "alice"})
	o.User, o.Caller, o.Signer = "", iamx.Identity{Account: iamsim.DefaultAccountID, User: "alice"}, iamx.Signer{AccessKeyID: e.aliceOld}
	o.ClientFor = e.clientFor(alice)
	// The deactivation lands but its response is lost: the old key is
	// Inactive and only the new key can sign the rollback.
	e.srv.DropNextResponse("UpdateAccessKey")
	_, err := Run(context.Background(), alice, o)
	// The step landed: keyrot sees it and finishes.
	if err != nil {
		t.Fatal(err)
	}
	e.learnFile(path, "alice")
	e.invariant("alice")
	var after []iamsim.Call
	seen := false
	for _, c := range e.srv.Calls() {
		if seen {
			after = append(after, c)
		}
		seen = seen || c.Action == "UpdateAccessKey"
	}
	newID := ""
	for id, s := range e.status("alice") {
		if s == "Active" {
			newID = id
		}
	}
	if len(after) == 0 || after[0].Signer != newID {
		t.Errorf("calls after the deactivation: %+v (new key %s)", after, newID)
	}
}

func TestSelfRotationWithoutVerifyRefused(t *testing.T) {
	e := newEnv(t)
	alice := e.client(e.aliceOld, 1)
	o := e.opts(Stdout{W: &bytes.Buffer{}})
	o.User, o.Caller, o.Signer, o.Verify = "", iamx.Identity{User: "alice"}, iamx.Signer{AccessKeyID: e.aliceOld}, false
	_, err := Run(context.Background(), alice, o)
	if !errors.Is(err, ErrLockout) {
		t.Fatalf("err = %v", err)
	}
	if e.srv.CallCount("CreateAccessKey") != 0 {
		t.Error("changed something")
	}
}

func TestTwoKeys(t *testing.T) {
	for _, tc := range []struct {
		name           string
		secondStatus   string
		deleteInactive bool
		wantErr        error
	}{
		{"inactive-delete", "Inactive", true, nil},
		{"inactive-refused", "Inactive", false, iamx.ErrKeyLimit},
		{"two-active", "Active", true, iamx.ErrKeyLimit},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.clk.Advance(time.Minute)
			id, secret, err := e.srv.AddKey("alice", iamsim.KeySeed{Status: tc.secondStatus})
			if err != nil {
				t.Fatal(err)
			}
			e.known[id] = secret
			var out bytes.Buffer
			o := e.opts(Stdout{W: &out})
			if tc.secondStatus == "Inactive" {
				o.OldKeyID = e.aliceOld
			}
			o.DeleteInactive = tc.deleteInactive
			res, err := Run(context.Background(), e.admin, o)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if err != nil {
				var kl *KeyLimitError
				if !errors.As(err, &kl) || !strings.Contains(err.Error(), id) {
					t.Errorf("error does not name the key in the way: %v", err)
				}
				if tc.secondStatus == "Active" && !strings.Contains(err.Error(), e.aliceOld) {
					t.Errorf("error does not name both keys: %v", err)
				}
				if calls := e.calls(); calls != "ListAccessKeys" {
					t.Errorf("calls before refusing: %s", calls)
				}
				e.invariant("alice")
				return
			}
			if res.DeletedInactive != id || e.status("alice")[id] != "" {
				t.Errorf("inactive key not deleted: %+v", res)
			}
			var v struct{ AccessKeyId, SecretAccessKey string }
			_ = json.Unmarshal(out.Bytes(), &v)
			e.known[v.AccessKeyId] = v.SecretAccessKey
			e.invariant("alice")
		})
	}
}

func TestNothingToRotate(t *testing.T) {
	e := newEnv(t, iamsim.User("bob"))
	o := e.opts(Stdout{W: &bytes.Buffer{}})
	o.User = "bob"
	res, err := Run(context.Background(), e.admin, o)
	if err != nil || !res.NothingToDo || res.Reason == "" {
		t.Fatalf("%+v %v", res, err)
	}
}

func TestPropagationDelay(t *testing.T) {
	e := newEnv(t, iamsim.PropagationDelay(10*time.Second))
	var out bytes.Buffer
	res, err := Run(context.Background(), e.admin, e.opts(Stdout{W: &out}))
	if err != nil {
		t.Fatal(err)
	}
	if res.VerifyCalls < 10 {
		t.Errorf("verify calls %d: propagation not waited for", res.VerifyCalls)
	}
	if e.status("alice")[e.aliceOld] != "Inactive" {
		t.Error("old key not deactivated")
	}
}

func TestVerifyTimeoutRollsBack(t *testing.T) {
	e := newEnv(t, iamsim.PropagationDelay(time.Hour))
	path, original := e.credFile()
	_, err := Run(context.Background(), e.admin, e.opts(CredentialsFile{Path: path, Profile: "alice"}))
	if !errors.Is(err, ErrRolledBack) || !errors.Is(err, ErrVerifyTimeout) {
		t.Fatalf("err = %v", err)
	}
	if code, _ := ExitCode(err); code != 8 {
		t.Errorf("exit code %d", code)
	}
	if st := e.status("alice"); len(st) != 1 || st[e.aliceOld] != "Active" {
		t.Errorf("statuses %v", st)
	}
	if data, _ := os.ReadFile(path); string(data) != original {
		t.Errorf("credentials file not restored:\n%s", data)
	}
	e.invariant("alice")
}

func TestExecFailureRollsBack(t *testing.T) {
	e := newEnv(t)
	var stderr bytes.Buffer
	_, err := Run(context.Background(), e.admin, e.opts(Exec{Command: "echo nope >&2; exit 3", Stderr: &stderr}))
	var ee *ExecError
	if !errors.Is(err, ErrRolledBack) || !errors.As(err, &ee) || ee.ExitCode != 3 {
		t.Fatalf("err = %v", err)
	}
	if stderr.String() != "nope\n" {
		t.Errorf("stderr %q", stderr.String())
	}
	if st := e.status("alice"); len(st) != 1 || st[e.aliceOld] != "Active" {
		t.Errorf("statuses %v", st)
	}
	e.invariant("alice")
}

func TestFaults(t *testing.T) {
	for _, tc := range []struct {
		name     string
		policy   OldKeyPolicy
		attempts int
		inject   func(s *iamsim.Server)
		want     error
		oldFinal string // "" = unchanged Active, with the new key gone
	}{
		{"create-fails", Deactivate, 1, func(s *iamsim.Server) { s.FailNext("CreateAccessKey", "ServiceFailure") }, iamx.ErrServiceFailure, ""},
		{"create-throttled-beyond-retries", Deactivate, 3, func(s *iamsim.Server) { s.Throttle("CreateAccessKey", 5) }, iamx.ErrThrottled, ""},
		{"create-response-lost", Deactivate, 1, func(s *iamsim.Server) { s.DropNextResponse("CreateAccessKey") }, iamx.ErrUnreachable, ""},
		{"update-fails", Deactivate, 1, func(s *iamsim.Server) { s.FailNext("UpdateAccessKey", "ServiceFailure") }, ErrRolledBack, ""},
		{"update-throttled", Deactivate, 2, func(s *iamsim.Server) { s.Throttle("UpdateAccessKey", 2) }, ErrRolledBack, ""},
		{"delete-fails", Delete, 1, func(s *iamsim.Server) { s.FailNext("DeleteAccessKey", "AccessDenied") }, ErrRolledBack, ""},
		{"verify-denied-then-ok", Deactivate, 1, func(s *iamsim.Server) { s.FailNext("GetCallerIdentity", "InvalidClientTokenId") }, nil, "Inactive"},
		{"update-response-lost", Deactivate, 1, func(s *iamsim.Server) { s.DropNextResponse("UpdateAccessKey") }, nil, "Inactive"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			c := e.client(e.adminID, tc.attempts)
			var out bytes.Buffer
			o := e.opts(Stdout{W: &out})
			o.OldKey = tc.policy
			tc.inject(e.srv)
			_, err := Run(context.Background(), c, o)
			if tc.want == nil && err != nil || !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if out.Len() > 0 {
				var v struct{ AccessKeyId, SecretAccessKey string }
				_ = json.Unmarshal(out.Bytes(), &v)
				e.known[v.AccessKeyId] = v.SecretAccessKey
			}
			st := e.status("alice")
			if tc.oldFinal == "" {
				if len(st) != 1 || st[e.aliceOld] != "Active" {
					t.Errorf("statuses %v; calls %s", st, e.calls())
				}
			} else if st[e.aliceOld] != tc.oldFinal {
				t.Errorf("statuses %v", st)
			}
			e.invariant("alice")
		})
	}
}

// failingWriter fails every write: stdout delivery fails.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("broken pipe") }

func TestRollbackFailed(t *testing.T) {
	t.Run("delivered", func(t *testing.T) {
		e := newEnv(t, iamsim.PropagationDelay(time.Hour))
		path, _ := e.credFile()
		e.srv.FailAlways("DeleteAccessKey", "AccessDenied")
		_, err := Run(context.Background(), e.admin, e.opts(CredentialsFile{Path: path, Profile: "alice"}))
		var rf *RollbackFailedError
		if !errors.Is(err, ErrRollbackFailed) || !errors.As(err, &rf) {
			t.Fatalf("err = %v", err)
		}
		if code, _ := ExitCode(err); code != 9 {
			t.Errorf("exit code %d", code)
		}
		want := "aws iam delete-access-key --user-name alice --access-key-id " + rf.NewKeyID
		if !contains(rf.Recovery, want) || !strings.Contains(rf.SecretState, path) || !rf.NewSecret.IsZero() {
			t.Errorf("recovery %q, secret state %q", rf.Recovery, rf.SecretState)
		}
		if !strings.HasPrefix(rf.Recovery[len(rf.Recovery)-1], "cp -p -- ") {
			t.Errorf("no restore command: %q", rf.Recovery)
		}
		e.learnFile(path, "alice")
		e.invariant("alice")
		if strings.Contains(err.Error(), e.known[rf.NewKeyID]) {
			t.Error("error message holds the secret")
		}
		// A later Run resumes the unfinished rollback once IAM lets it.
		e.srv.ClearFaults()
		e.srv.SetPropagationDelay(0)
		var out bytes.Buffer
		res, err := Run(context.Background(), e.admin, e.opts(Stdout{W: &out}))
		if err != nil || res.Recovered == nil || res.Recovered.Action != "rolled back" {
			t.Fatalf("rerun: %+v %v", res.Recovered, err)
		}
		if data, _ := os.ReadFile(path); !strings.Contains(string(data), e.aliceOld) {
			t.Error("credentials file not restored on resume")
		}
		var v struct{ AccessKeyId, SecretAccessKey string }
		_ = json.Unmarshal(out.Bytes(), &v)
		e.known[v.AccessKeyId] = v.SecretAccessKey
		if st := e.status("alice"); len(st) != 2 || st[v.AccessKeyId] != "Active" || st[e.aliceOld] != "Inactive" {
			t.Errorf("statuses %v", st)
		}
		e.invariant("alice")
	})
	t.Run("never-delivered", func(t *testing.T) {
		e := newEnv(t)
		e.srv.FailAlways("DeleteAccessKey", "AccessDenied")
		_, err := Run(context.Background(), e.admin, e.opts(Stdout{W: failingWriter{}}))
		var rf *RollbackFailedError
		if !errors.As(err, &rf) {
			t.Fatalf("err = %v", err)
		}
		if rf.NewSecret.IsZero() || !strings.Contains(rf.SecretState, "never delivered") {
			t.Fatalf("secret dropped: %q", rf.SecretState)
		}
		e.known[rf.NewKeyID] = rf.NewSecret.Reveal()
		e.invariant("alice")
	})
}

func TestDryRun(t *testing.T) {
	e := newEnv(t)
	o := e.opts(CredentialsFile{Path: "/nonexistent/credentials", Profile: "alice"})
	o.DryRun = true
	res, err := Run(context.Background(), e.admin, o)
	if err != nil {
		t.Fatal(err)
	}
	if calls := e.calls(); calls != "ListAccessKeys" {
		t.Errorf("calls %s", calls)
	}
	if !res.DryRun || res.Plan == nil || res.Plan.OldKey.ID != e.aliceOld || len(res.Plan.Actions) != 4 ||
		!strings.Contains(strings.Join(res.Plan.Actions, "\n"), "deactivate old access key "+e.aliceOld) {
		t.Errorf("plan %+v", res.Plan)
	}
}

func TestLockContention(t *testing.T) {
	e := newEnv(t)
	o := e.opts(Stdout{W: &bytes.Buffer{}}).withDefaults()
	release, err := lockUser(context.Background(), o, e.dir, "alice")
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	_, err = Run(context.Background(), e.admin, e.opts(Stdout{W: &bytes.Buffer{}}))
	var le *LockedError
	if !errors.Is(err, ErrLocked) || !errors.As(err, &le) || !strings.Contains(le.Holder, "pid ") {
		t.Fatalf("err = %v", err)
	}
	if e.srv.CallCount("") != 0 {
		t.Error("called IAM while locked out")
	}
}

func TestInterruptMidVerify(t *testing.T) {
	e := newEnv(t, iamsim.PropagationDelay(time.Hour))
	path, original := e.credFile()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e.clk.onSleep = func(n int) error {
		if n == 3 {
			cancel()
			return context.Canceled
		}
		return nil
	}
	_, err := Run(ctx, e.admin, e.opts(CredentialsFile{Path: path, Profile: "alice"}))
	if !errors.Is(err, ErrInterrupted) || !errors.Is(err, ErrRolledBack) {
		t.Fatalf("err = %v", err)
	}
	if code, _ := ExitCode(err); code != 130 {
		t.Errorf("exit code %d", code)
	}
	if st := e.status("alice"); len(st) != 1 || st[e.aliceOld] != "Active" {
		t.Errorf("statuses %v", st)
	}
	if data, _ := os.ReadFile(path); string(data) != original {
		t.Error("credentials file not restored")
	}
	e.invariant("alice")
}

func TestParseOldKeyPolicy(t *testing.T) {
	if p, err := ParseOldKeyPolicy("DELETE"); err != nil || p != Delete {
		t.Error(p, err)
	}
	if _, err := ParseOldKeyPolicy("shred"); !errors.Is(err, iamx.ErrInvalidInput) {
		t.Error(err)
	}
}
