package rotate

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/keyrot/keyrot/iamx"
	"github.com/keyrot/keyrot/iamx/iamsim"
	"github.com/keyrot/keyrot/rotate/github"
)

// crashGitHub dies right after its first secret was written.
type crashGitHub struct{ GitHubAPI }

func (c crashGitHub) Put(ctx context.Context, s github.Scope, name string, value []byte, vis string, ids []int64) (bool, error) {
	_, _ = c.GitHubAPI.Put(ctx, s, name, value, vis, ids)
	crashNow()
	return false, nil
}

func githubEnv(t *testing.T) (*env, *github.Client) {
	e := newEnv(t)
	e.srv.GitHubToken("ghp_rotatetest", false)
	e.srv.GitHubRepo("acme/app")
	return e, github.New(e.srv.URL()+iamsim.GitHubAPIPrefix, "ghp_rotatetest", nil)
}

// githubHolds reports whether acme/app's two secrets hold key id with the
// secret IAM issued.
func githubHolds(e *env, user, id string) bool {
	gid, _ := e.srv.GitHubSecretOf("acme/app", DefaultGitHubIDName)
	gsec, _ := e.srv.GitHubSecretOf("acme/app", DefaultGitHubSecretName)
	for _, k := range e.srv.Keys(user) {
		if k.ID == id && gid.Value == id && gsec.Value == k.Secret {
			return true
		}
	}
	return false
}

// A rotation killed between GitHub's two writes, with the key also in
// Secrets Manager: the next run reads the secret back, writes GitHub's
// secrets again and finishes.
func TestGitHubCrashWithSecretStore(t *testing.T) {
	e, gh := githubEnv(t)
	o := e.opts(Destinations{SecretsManager{Store: e.admin, SecretID: "ci/alice"}, GitHubSecrets{API: crashGitHub{gh}, Repo: "acme/app"}})
	crash(t, e.admin, o)
	j := readJournal(t, e)
	if got, _ := e.srv.GitHubSecretOf("acme/app", DefaultGitHubIDName); got.Value != j.NewKeyID {
		t.Fatalf("the crash is not after the first write: %s holds %q", DefaultGitHubIDName, got.Value)
	}
	o = e.opts(Destinations{SecretsManager{Store: e.admin, SecretID: "ci/alice"}, GitHubSecrets{API: gh, Repo: "acme/app"}})
	o.Secrets, o.GitHub = e.admin, gh
	res, err := Run(context.Background(), e.admin, o)
	if err != nil {
		t.Fatal(err)
	}
	if res.Recovered == nil || res.Recovered.Action != "finished" {
		t.Fatalf("recovered %+v", res.Recovered)
	}
	if !githubHolds(e, "alice", j.NewKeyID) {
		t.Fatalf("GitHub does not hold the new key %s", j.NewKeyID)
	}
	if st := e.status("alice"); st[j.NewKeyID] != string(iamx.StatusActive) || st[j.OldKeyID] != string(iamx.StatusInactive) {
		t.Fatalf("alice: %v", st)
	}
}

// Killed between GitHub's two writes with GitHub the only destination:
// the secret is gone with the process, GitHub may hold the new key ID, so
// the next run deletes nothing and stops with both keys Active, even
// with --no-verify (GitHub never got the whole key); rollback, asked
// for, goes back.
func TestGitHubCrashAlone(t *testing.T) {
	e, gh := githubEnv(t)
	crash(t, e.admin, e.opts(GitHubSecrets{API: crashGitHub{gh}, Repo: "acme/app"}))
	j := readJournal(t, e)
	for _, verify := range []bool{true, false} {
		o := e.opts(GitHubSecrets{API: gh, Repo: "acme/app"})
		o.GitHub, o.Verify = gh, verify
		_, err := Run(context.Background(), e.admin, o)
		var held *HeldError
		if !errors.As(err, &held) || !errors.Is(err, ErrRollbackFailed) {
			t.Fatalf("verify=%v: err = %v, want a HeldError (exit 9)", verify, err)
		}
		if len(held.Finish) != 0 || !strings.Contains(held.Error(), "aws iam delete-access-key --user-name alice --access-key-id "+j.NewKeyID) {
			t.Fatalf("advice: %v", held)
		}
		if st := e.status("alice"); len(st) != 2 || st[j.NewKeyID] != string(iamx.StatusActive) || st[j.OldKeyID] != string(iamx.StatusActive) {
			t.Fatalf("verify=%v: alice: %v", verify, st)
		}
	}
	rb, err := Rollback(context.Background(), e.admin, RollbackOptions{User: "alice", StateDir: e.dir, GitHub: gh, DeleteNew: true})
	if err != nil {
		t.Fatal(err)
	}
	if rb.Recovered == nil || !strings.Contains(rb.Recovered.Detail, "may still hold "+j.NewKeyID) {
		t.Fatalf("rollback %+v", rb.Recovered)
	}
	if st := e.status("alice"); len(st) != 1 || st[j.OldKeyID] != string(iamx.StatusActive) {
		t.Fatalf("alice after rollback: %v", st)
	}
}

// The old key step fails after GitHub got the key: the old key is made
// Active again and the new one kept.
func TestGitHubOldKeyStepFails(t *testing.T) {
	e, gh := githubEnv(t)
	e.srv.FailAlways("UpdateAccessKey", "ServiceFailure")
	_, err := Run(context.Background(), e.admin, e.opts(GitHubSecrets{API: gh, Repo: "acme/app"}))
	e.srv.ClearFaults()
	var held *HeldError
	if !errors.As(err, &held) || !held.Complete || !held.OldActive {
		t.Fatalf("err = %v", err)
	}
	if st := e.status("alice"); len(st) != 2 || st[held.NewKeyID] != string(iamx.StatusActive) || st[held.OldKeyID] != string(iamx.StatusActive) {
		t.Fatalf("alice: %v", st)
	}
	if !githubHolds(e, "alice", held.NewKeyID) {
		t.Fatal("GitHub does not hold the new key")
	}
}

// GitHub answers the first write with a 5xx, retries included: it may
// have landed, so the new key is kept, both Active (exit 9). A refusal
// (4xx) proves nothing landed: the new key is deleted (exit 8).
func TestGitHubFirstWrite(t *testing.T) {
	for _, tc := range []struct {
		status string
		held   bool
	}{{"502", true}, {"403", false}} {
		e, gh := githubEnv(t)
		gh.Sleep = func(context.Context, time.Duration) error { return nil }
		e.srv.FailAlways("GitHub.PutRepoSecret", tc.status)
		_, err := Run(context.Background(), e.admin, e.opts(GitHubSecrets{API: gh, Repo: "acme/app"}))
		e.srv.ClearFaults()
		st := e.status("alice")
		if tc.held {
			if !errors.Is(err, ErrHeld) || len(st) != 2 {
				t.Fatalf("%s: err = %v, keys %v", tc.status, err, st)
			}
			if n := e.srv.CallCount("GitHub.PutRepoSecret"); n != 3 {
				t.Fatalf("%s: %d writes, want 3 (retried)", tc.status, n)
			}
			continue
		}
		if !errors.Is(err, ErrRolledBack) || len(st) != 1 || st[e.aliceOld] != string(iamx.StatusActive) {
			t.Fatalf("%s: err = %v, keys %v", tc.status, err, st)
		}
	}
}
