package fleet

import (
	"context"
	"path/filepath"
	"sort"
	"strings"

	"github.com/keyrot/keyrot/iamx"
)

// DefaultAccountConcurrency is how many accounts an organization run works
// in at once.
const DefaultAccountConcurrency = 4

// AccountSelection narrows an organization's accounts: Only (empty: all),
// minus Exclude, and when InOU is set only the accounts it holds (the
// accounts of --ou and the OUs under it).
type AccountSelection struct {
	Only    []string
	Exclude []string
	InOU    map[string]bool
}

// SelectAccounts picks the accounts of all that sel selects, in ID order:
// the ACTIVE ones to work in, and the others, skipped, with their status.
// An ID of Only or Exclude that is not in the organization is an input
// error: a typo must not silently leave an account out, or in.
func SelectAccounts(all []iamx.Account, sel AccountSelection) (work, skipped []iamx.Account, err error) {
	known := make(map[string]bool, len(all))
	for _, a := range all {
		known[a.ID] = true
	}
	for _, list := range []struct {
		flag string
		ids  []string
	}{{"--accounts", sel.Only}, {"--exclude-account", sel.Exclude}} {
		var missing []string
		for _, id := range list.ids {
			if !known[id] {
				missing = append(missing, id)
			}
		}
		if len(missing) > 0 {
			return nil, nil, &iamx.InputError{Field: list.flag, Value: strings.Join(missing, ","), Rule: "not an account of the organization (Organizations ListAccounts)"}
		}
	}
	only := set(sel.Only)
	exclude := set(sel.Exclude)
	sorted := append([]iamx.Account(nil), all...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].ID < sorted[j].ID })
	for _, a := range sorted {
		switch {
		case len(only) > 0 && !only[a.ID], exclude[a.ID], sel.InOU != nil && !sel.InOU[a.ID]:
			continue
		case a.Status != iamx.AccountActive:
			skipped = append(skipped, a)
		default:
			work = append(work, a)
		}
	}
	return work, skipped, nil
}

func set(ids []string) map[string]bool {
	m := make(map[string]bool, len(ids))
	for _, id := range ids {
		m[id] = true
	}
	return m
}

// AccountStateDir is where the journals, locks and Inactive-key ledger of
// account id live within state directory dir, so that a user of the same
// name in two accounts never shares them.
func AccountStateDir(dir, id string) string {
	return filepath.Join(dir, "accounts", id)
}

// EachAccount calls fn for every account with n workers (at least 1). Once
// ctx is done no new account starts; it returns how many did, in order:
// accounts[:started] ran, the rest did not.
func EachAccount(ctx context.Context, accounts []iamx.Account, n int, fn func(context.Context, int, iamx.Account)) (started int) {
	return forEach(ctx, n, len(accounts), func(i int) { fn(ctx, i, accounts[i]) })
}

// SessionName is the RoleSessionName of an organization run's AssumeRole:
// it says keyrot and who ran it, so the member account's CloudTrail shows
// both. AWS allows 2-64 characters of [\w+=,.@-].
func SessionName(callerName string) string {
	var b strings.Builder
	b.WriteString("keyrot")
	if callerName != "" {
		b.WriteByte('-')
	}
	for _, r := range callerName {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', strings.ContainsRune("_+=,.@-", r):
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
		if b.Len() >= 64 {
			break
		}
	}
	s := b.String()
	if len(s) > 64 {
		s = s[:64]
	}
	return s
}
