package fleet

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"unicode/utf8"

	"github.com/keyrot/keyrot/iamx"
)

func TestSelectAccounts(t *testing.T) {
	all := []iamx.Account{
		{ID: "333333333333", Name: "legacy", Status: "SUSPENDED"},
		{ID: "111111111111", Name: "dev", Status: iamx.AccountActive},
		{ID: "222222222222", Name: "prod", Status: iamx.AccountActive},
		{ID: "444444444444", Name: "closing", Status: "PENDING_CLOSURE"},
	}
	ids := func(as []iamx.Account) string {
		var s []string
		for _, a := range as {
			s = append(s, a.ID[:1])
		}
		return strings.Join(s, ",")
	}
	for _, tc := range []struct {
		name          string
		sel           AccountSelection
		work, skipped string
		err           string
	}{
		{name: "all", work: "1,2", skipped: "3,4"},
		{name: "only", sel: AccountSelection{Only: []string{"222222222222", "333333333333"}}, work: "2", skipped: "3"},
		{name: "exclude", sel: AccountSelection{Exclude: []string{"111111111111", "444444444444"}}, work: "2", skipped: "3"},
		{name: "ou", sel: AccountSelection{InOU: map[string]bool{"111111111111": true}}, work: "1"},
		{name: "ou and exclude", sel: AccountSelection{InOU: map[string]bool{"111111111111": true}, Exclude: []string{"111111111111"}}},
		{name: "unknown only", sel: AccountSelection{Only: []string{"999999999999"}}, err: "--accounts"},
		{name: "unknown exclude", sel: AccountSelection{Exclude: []string{"999999999999"}}, err: "--exclude-account"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			work, skipped, err := SelectAccounts(all, tc.sel)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || !errors.Is(err, iamx.ErrInvalidInput) {
					t.Fatalf("err = %v, want an input error naming %s", err, tc.err)
				}
				return
			}
			if err != nil || ids(work) != tc.work || ids(skipped) != tc.skipped {
				t.Fatalf("work %q skipped %q err %v; want %q %q", ids(work), ids(skipped), err, tc.work, tc.skipped)
			}
		})
	}
}

func TestEachAccount(t *testing.T) {
	accounts := make([]iamx.Account, 10)
	var running, peak, done atomic.Int32
	started := EachAccount(context.Background(), accounts, 3, func(ctx context.Context, i int, a iamx.Account) {
		n := running.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		done.Add(1)
		running.Add(-1)
	})
	if started != 10 || done.Load() != 10 || peak.Load() > 3 {
		t.Fatalf("started %d, done %d, peak concurrency %d (want ≤3)", started, done.Load(), peak.Load())
	}
	// Cancelled: nothing more starts.
	ctx, cancel := context.WithCancel(context.Background())
	n := EachAccount(ctx, accounts, 1, func(ctx context.Context, i int, a iamx.Account) {
		if i == 2 {
			cancel()
		}
	})
	if n != 3 {
		t.Fatalf("after cancel at the third account, %d started", n)
	}
}

func TestSessionName(t *testing.T) {
	for in, want := range map[string]string{
		"":                      "keyrot",
		"admin":                 "keyrot-admin",
		"ops@example.com":       "keyrot-ops@example.com",
		"über user":             "keyrot-_ber_user",
		strings.Repeat("a", 80): "keyrot-" + strings.Repeat("a", 57),
	} {
		if got := SessionName(in); got != want {
			t.Errorf("SessionName(%q) = %q, want %q", in, got, want)
		}
	}
}

// Whatever the caller's name, the session name is one STS accepts.
func FuzzOrgNames(f *testing.F) {
	for _, s := range []string{"admin", "ou-ab12-cd34ef56", "r-ab12", "123456789012", "ünï", "", "ou--", "r-"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := SessionName(s)
		if len(n) < 2 || len(n) > 64 || !utf8.ValidString(n) {
			t.Fatalf("SessionName(%q) = %q", s, n)
		}
		// A session name has the characters of a role name ([\w+=,.@-]).
		if err := iamx.ValidateRoleName("session", n); err != nil {
			t.Fatalf("SessionName(%q) = %q: %v", s, n, err)
		}
	})
}
