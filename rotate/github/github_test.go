package github_test

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

const token = "ghp_clienttest0000000000"

func newClient(t *testing.T) (*iamsim.Server, *github.Client) {
	t.Helper()
	srv := iamsim.NewServer()
	t.Cleanup(srv.Close)
	srv.GitHubToken(token, false)
	srv.GitHubRepo("acme/app", "prod")
	srv.GitHubOrg("acme")
	c := github.New(srv.URL()+iamsim.GitHubAPIPrefix, token, nil)
	c.Sleep = func(context.Context, time.Duration) error { return nil }
	return srv, c
}

// Each scope's secret arrives sealed and the simulator opens it; the
// public key is read once per scope.
func TestPut(t *testing.T) {
	srv, c := newClient(t)
	ctx := context.Background()
	for _, tc := range []struct {
		scope github.Scope
		sim   string
	}{
		{github.Scope{Owner: "acme", Repo: "app"}, "acme/app"},
		{github.Scope{Owner: "acme", Repo: "app", Environment: "prod"}, "acme/app/prod"},
		{github.Scope{Org: "acme"}, "acme"},
	} {
		for i, want := range []string{"first", "second"} {
			created, err := c.Put(ctx, tc.scope, "MY_SECRET", []byte(want), "private", nil)
			if err != nil {
				t.Fatalf("%s: %v", tc.scope, err)
			}
			if created != (i == 0) {
				t.Errorf("%s: created = %v on write %d", tc.scope, created, i+1)
			}
			got, ok := srv.GitHubSecretOf(tc.sim, "my_secret")
			if !ok || got.Value != want {
				t.Fatalf("%s: holds %q, want %q", tc.scope, got.Value, want)
			}
		}
	}
	for _, op := range []string{"GitHub.GetRepoPublicKey", "GitHub.GetEnvironmentPublicKey", "GitHub.GetOrgPublicKey"} {
		if n := srv.CallCount(op); n != 1 {
			t.Errorf("%s: %d calls, want 1", op, n)
		}
	}
}

// GitHub's answers map to keyrot's kinds (and so to its exit codes);
// what may succeed on a second try is retried, nothing else; the token
// never appears in an error.
func TestErrors(t *testing.T) {
	for _, tc := range []struct {
		status string
		kind   error
		calls  int
	}{
		{"401", iamx.ErrAccessDenied, 1},
		{"403", iamx.ErrAccessDenied, 1},
		{"404", iamx.ErrNotFound, 1},
		{"422", iamx.ErrInvalidInput, 1},
		{"429", iamx.ErrThrottled, 3},
		{"502", iamx.ErrServiceFailure, 3},
	} {
		srv, c := newClient(t)
		srv.FailAlways("GitHub.GetRepoPublicKey", tc.status)
		_, err := c.PublicKey(context.Background(), github.Scope{Owner: "acme", Repo: "app"})
		if !errors.Is(err, tc.kind) {
			t.Errorf("%s: err = %v, want %v", tc.status, err, tc.kind)
		}
		if n := srv.CallCount("GitHub.GetRepoPublicKey"); n != tc.calls {
			t.Errorf("%s: %d calls, want %d", tc.status, n, tc.calls)
		}
		if err != nil && strings.Contains(err.Error(), token) {
			t.Errorf("%s: the token is in the error: %v", tc.status, err)
		}
	}
}

// A token GitHub does not know, and none at all: access denied, the
// second without a request.
func TestToken(t *testing.T) {
	srv, _ := newClient(t)
	bad := github.New(srv.URL()+iamsim.GitHubAPIPrefix, "ghp_unknown", nil)
	if _, err := bad.PublicKey(context.Background(), github.Scope{Org: "acme"}); !errors.Is(err, iamx.ErrAccessDenied) || !strings.Contains(err.Error(), "Bad credentials") {
		t.Fatalf("bad token: %v", err)
	}
	none := github.New(srv.URL()+iamsim.GitHubAPIPrefix, "", nil)
	if _, err := none.PublicKey(context.Background(), github.Scope{Org: "acme"}); !errors.Is(err, github.ErrNoToken) || !errors.Is(err, iamx.ErrAccessDenied) {
		t.Fatalf("no token: %v", err)
	}
	if n := srv.CallCount(""); n != 1 {
		t.Fatalf("%d calls, want 1", n)
	}
	env := map[string]string{"GITHUB_TOKEN": "b"}
	if got := github.TokenFromEnv(func(k string) string { return env[k] }); got != "b" {
		t.Errorf("GITHUB_TOKEN: %q", got)
	}
	env["GH_TOKEN"] = "a"
	if got := github.TokenFromEnv(func(k string) string { return env[k] }); got != "a" {
		t.Errorf("GH_TOKEN first: %q", got)
	}
}

// An organization secret's selected repositories are read across pages.
func TestSelectedRepos(t *testing.T) {
	srv, c := newClient(t)
	var ids []int64
	for i := range 250 {
		ids = append(ids, int64(1000+i))
	}
	if err := srv.SetGitHubSecret("acme", "S", "v", "selected", ids...); err != nil {
		t.Fatal(err)
	}
	got, err := c.SelectedRepos(context.Background(), "acme", "S")
	if err != nil || len(got) != 250 || got[0] != 1000 || got[249] != 1249 {
		t.Fatalf("got %d repos (%v), err %v", len(got), got[:min(3, len(got))], err)
	}
	if n := srv.CallCount("GitHub.ListSelectedReposForOrgSecret"); n != 3 {
		t.Errorf("%d pages, want 3", n)
	}
	sec, found, err := c.OrgSecret(context.Background(), "acme", "S")
	if err != nil || !found || sec.Visibility != "selected" {
		t.Fatalf("OrgSecret: %+v %v %v", sec, found, err)
	}
	if _, found, err := c.OrgSecret(context.Background(), "acme", "NONE"); err != nil || found {
		t.Fatalf("missing OrgSecret: %v %v", found, err)
	}
}

func FuzzValidSecretName(f *testing.F) {
	for _, s := range []string{"AWS_ACCESS_KEY_ID", "github_x", "1A", "", "A-B", "é"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		if github.ValidSecretName(name) != nil {
			return
		}
		if name == "" || name[0] >= '0' && name[0] <= '9' || strings.HasPrefix(strings.ToUpper(name), "GITHUB_") ||
			strings.Trim(name, "_0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
			t.Fatalf("%q accepted", name)
		}
	})
}
