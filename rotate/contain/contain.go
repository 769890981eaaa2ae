// Package contain is keyrot's leaked-key response: find who owns an access
// key, deactivate it, revoke the sessions minted from it with an inline
// deny on aws:TokenIssueTime, and report its last use and its recent
// activity in CloudTrail (Usage). Issuing the replacement is rotate.Run's
// job; the command runs it after Contain when a destination is given.
package contain

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/keyrot/keyrot/iamx"
	"github.com/keyrot/keyrot/rotate"
	"golang.org/x/time/rate"
)

// API is the part of IAM and STS Contain calls; *iamx.Client has it.
type API interface {
	AccessKeyAccount(ctx context.Context, id string) (string, error)
	CallerIdentity(ctx context.Context) (iamx.Identity, error)
	LastUsed(ctx context.Context, id string) (iamx.LastUsed, error)
	ListKeys(ctx context.Context, user string) ([]iamx.Key, error)
	ListUsers(ctx context.Context, pathPrefix string) ([]iamx.User, error)
	SetStatus(ctx context.Context, user, id string, s iamx.Status) error
	PutUserPolicy(ctx context.Context, user, name, document string) error
	UserPolicy(ctx context.Context, user, name string) (string, error)
	DeleteUserPolicy(ctx context.Context, user, name string) error
}

var _ API = (*iamx.Client)(nil)

// Defaults.
const (
	// DefaultUsageWait bounds the activity lookup once the key is
	// contained; keyrot usage reads the rest.
	DefaultUsageWait = time.Minute
	// DefaultScanRate is the ListAccessKeys rate of an owner search, as
	// for fleet runs.
	DefaultScanRate = 10
	scanWorkers     = 8
)

// ErrGuard: a safety guard refused (exit 7); nothing was changed.
var ErrGuard = errors.New("refused by a safety guard")

// Options say which key to contain and how.
type Options struct {
	AccessKeyID string
	// User owns the key; "" means find the owner.
	User   string
	Signer iamx.Signer
	// Force deactivates the key even when it signs the request, and
	// releases the policy before MaxSessionLife has passed.
	Force bool
	// DryRun finds the owner and reads the state, changes nothing.
	DryRun bool
	// Release deletes the revoke-sessions policy instead of containing.
	Release bool
	// Trail, when set, is used to look up the key's activity (Usage).
	Trail     Trail
	Usage     UsageOptions
	UsageWait time.Duration
	ScanRate  float64
	Now       func() time.Time
	// OnStep reports progress: each step as it ends.
	OnStep func(Step)
	// Check, when set, sees the owner's keys before any change; its error
	// stops Run with nothing changed (the command checks that the
	// replacement it will issue afterwards can be made).
	Check func(user string, keys []iamx.Key) error
}

// Step is one finished step, for progress output.
type Step struct {
	Name    string
	Detail  string
	Elapsed time.Duration
	Err     error
}

// Policy is the revoke-sessions policy: what Contain found and did.
type Policy struct {
	Name string
	// Action: "created", "updated", "unchanged", "deleted", "absent", or
	// with DryRun "would create", "would update", "would delete".
	Action string
	// RevokesBefore: sessions issued before this are refused.
	RevokesBefore time.Time `json:",omitempty"`
	// RemovableAfter: no session it revokes can still be alive.
	RemovableAfter time.Time `json:",omitempty"`
}

// Result reports a containment. It never holds a secret.
type Result struct {
	AccessKeyID  string `json:"AccessKeyId"`
	UserName     string
	Account      string
	OwnerFoundBy string
	StatusBefore iamx.Status
	StatusAfter  iamx.Status
	LastUsed     iamx.LastUsed
	Policy       Policy
	Usage        *Summary `json:",omitempty"`
	Warnings     []string
	NextSteps    []string
	DryRun       bool
	// Plan lists the changes a dry run would make.
	Plan []string `json:",omitempty"`
	// Keys are the user's keys after containment.
	Keys []iamx.Key `json:"-"`
}

// ForeignKeyError: the key belongs to another account.
type ForeignKeyError struct {
	KeyID, Account, CallerAccount string
}

func (e *ForeignKeyError) Error() string {
	return fmt.Sprintf("access key %s belongs to account %s, not to %s, the account of the credentials in use: contain it with credentials of account %s",
		e.KeyID, e.Account, e.CallerAccount, e.Account)
}

// Is makes errors.Is(err, iamx.ErrNotFound) true: exit 3.
func (e *ForeignKeyError) Is(target error) bool { return target == iamx.ErrNotFound }

// NoOwnerError: no IAM user of the account has the key.
type NoOwnerError struct {
	KeyID, Account string
	Users          int
	// Root: GetAccessKeyLastUsed named the root user.
	Root bool
}

func (e *NoOwnerError) Error() string {
	if e.Root {
		return fmt.Sprintf("access key %s belongs to the root user of account %s: keyrot does not contain root keys; delete it in the console (Security credentials) signed in as root", e.KeyID, e.Account)
	}
	return fmt.Sprintf("no IAM user of account %s has access key %s (%d users searched); it may have been deleted already, or belong to the root user",
		e.Account, e.KeyID, e.Users)
}

// Is makes errors.Is(err, iamx.ErrNotFound) true: exit 3.
func (e *NoOwnerError) Is(target error) bool { return target == iamx.ErrNotFound }

// RevokeError: PutUserPolicy of the revoke-sessions policy failed.
type RevokeError struct {
	KeyID, User, Policy string
	Err                 error
}

func (e *RevokeError) Error() string {
	return fmt.Sprintf("revoke the sessions of %s (PutUserPolicy %s on %s): %v", e.KeyID, e.Policy, e.User, e.Err)
}

func (e *RevokeError) Unwrap() error { return e.Err }

// GuardError is a refusal before any change; it matches ErrGuard.
type GuardError struct{ Reason string }

func (e *GuardError) Error() string { return e.Reason }

// Is makes errors.Is(err, ErrGuard) true.
func (e *GuardError) Is(target error) bool { return target == ErrGuard }

type runner struct {
	api    API
	o      Options
	res    *Result
	policy policyState
}

// step runs fn as a named step; later, when given, words the detail once
// fn has run.
func (r *runner) step(name, detail string, fn func() error, later ...func() string) error {
	start := r.o.Now()
	err := fn()
	if err == nil && len(later) > 0 {
		detail = later[0]()
	}
	if r.o.OnStep != nil {
		r.o.OnStep(Step{Name: name, Detail: detail, Elapsed: r.o.Now().Sub(start), Err: err})
	}
	return err
}

// Run contains the key (or, with Release, deletes its policy). Its steps:
// owner (STS GetAccessKeyInfo for the account, then the user), deactivate,
// revoke (PutUserPolicy), and the activity lookup, which runs beside the
// others and never stops or delays them: its failure is a warning.
func Run(ctx context.Context, api API, o Options) (Result, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.UsageWait <= 0 {
		o.UsageWait = DefaultUsageWait
	}
	if o.ScanRate <= 0 {
		o.ScanRate = DefaultScanRate
	}
	res := Result{AccessKeyID: o.AccessKeyID, DryRun: o.DryRun, Policy: Policy{Name: PolicyName(o.AccessKeyID)}, Warnings: []string{}, NextSteps: []string{}}
	r := &runner{api: api, o: o, res: &res}

	// The activity lookup starts at once and runs beside the containment.
	var usage chan usageResult
	if o.Trail != nil && !o.Release {
		usage = make(chan usageResult, 1)
		uctx, cancel := context.WithCancel(ctx)
		defer cancel()
		uo := o.Usage
		uo.AccessKeyID = o.AccessKeyID
		go func() {
			s, err := Usage(uctx, o.Trail, uo)
			usage <- usageResult{s, err}
		}()
	}

	var keys []iamx.Key
	err := r.step("owner", "", func() error {
		var err error
		keys, err = r.owner(ctx)
		return err
	}, func() string {
		return fmt.Sprintf("%s in account %s, found by %s", r.res.UserName, r.res.Account, r.res.OwnerFoundBy)
	})
	if err != nil {
		return res, err
	}
	if o.Release {
		return res, r.release(ctx, findKey(keys, o.AccessKeyID))
	}
	k := findKey(keys, o.AccessKeyID)
	res.StatusBefore, res.StatusAfter = k.Status, k.Status
	if o.Check != nil {
		if err := o.Check(res.UserName, keys); err != nil {
			return res, err
		}
	}
	if k.Status == iamx.StatusActive && k.ID == o.Signer.AccessKeyID && !o.Force {
		return res, &rotate.LockoutError{KeyID: k.ID, Reason: "it signs this request; sign with another key (--profile) or pass --force, knowing that these credentials stop working"}
	}

	doc, current, err := r.currentPolicy()
	if err != nil {
		// Only a rerun's "unchanged" needs it: warn and revoke anyway.
		res.Warnings = append(res.Warnings, err.Error()+"; the policy is written regardless")
		current = false
	}
	cut := cutAfter(o.Now())
	keep := false
	if current && k.Status == iamx.StatusInactive {
		// The key was off when the policy was written, so every session
		// minted from it is older than the policy's cut-off, unless the
		// key was used after that (reactivated and deactivated by hand).
		if t, err := cutOff(doc); err == nil && !res.LastUsed.Date.After(t.Add(-DeactivationMargin)) {
			cut, keep = t, true
		}
	}
	res.Policy.RevokesBefore, res.Policy.RemovableAfter = cut, cut.Add(MaxSessionLife)

	if o.DryRun {
		if k.Status == iamx.StatusActive {
			res.Plan = append(res.Plan, fmt.Sprintf("deactivate access key %s of %s", k.ID, res.UserName))
		}
		what := fmt.Sprintf("deny every action to sessions issued before %s after the deactivation", DeactivationMargin)
		switch {
		case keep:
			res.Policy.Action = "unchanged"
		case current:
			res.Policy.Action = "would update"
			res.Plan = append(res.Plan, fmt.Sprintf("update inline policy %s of %s: %s", res.Policy.Name, res.UserName, what))
		default:
			res.Policy.Action = "would create"
			res.Plan = append(res.Plan, fmt.Sprintf("put inline policy %s on %s: %s", res.Policy.Name, res.UserName, what))
		}
		r.finishUsage(usage)
		r.nextSteps(keys)
		return res, nil
	}

	// A key signing this request (--force) is revoked first, then turned
	// off: afterwards nothing it signs works.
	self := k.ID == o.Signer.AccessKeyID
	if self && !keep {
		if err := r.putPolicy(ctx, cut, current); err != nil {
			return res, err
		}
	}
	if k.Status == iamx.StatusActive {
		err := r.step("deactivate", k.ID, func() error {
			return api.SetStatus(ctx, res.UserName, k.ID, iamx.StatusInactive)
		})
		if err != nil {
			return res, fmt.Errorf("deactivate %s of %s: %w", k.ID, res.UserName, err)
		}
		res.StatusAfter = iamx.StatusInactive
		for i := range keys {
			if keys[i].ID == k.ID {
				keys[i].Status = iamx.StatusInactive
			}
		}
		if !self {
			// IAM takes a few seconds to refuse the key everywhere; a
			// session minted meanwhile must fall before the cut-off too.
			cut = cutAfter(o.Now())
			res.Policy.RevokesBefore, res.Policy.RemovableAfter = cut, cut.Add(MaxSessionLife)
		}
	}
	switch {
	case keep:
		res.Policy.Action = "unchanged"
	case !self:
		if err := r.putPolicy(ctx, cut, current); err != nil {
			if res.StatusAfter != res.StatusBefore {
				res.Warnings = append(res.Warnings, fmt.Sprintf("%s is Inactive now, but the sessions minted from it are not revoked", k.ID))
			}
			res.Policy.Action = "failed"
			return res, err
		}
	}
	res.Keys = keys
	r.finishUsage(usage)
	r.nextSteps(keys)
	return res, nil
}

// DeactivationMargin is how long after the deactivation the cut-off lies:
// IAM takes seconds to refuse a deactivated key everywhere (reports range
// from 3 to 15 seconds), and a session the key minted meanwhile must be
// issued before the cut-off too.
const DeactivationMargin = 30 * time.Second

// cutAfter is the cut-off for a key deactivated at t: the margin later,
// rounded up to the second (aws:TokenIssueTime has seconds).
func cutAfter(t time.Time) time.Time {
	return t.UTC().Truncate(time.Second).Add(time.Second + DeactivationMargin)
}

type usageResult struct {
	s   Summary
	err error
}

// finishUsage waits, up to UsageWait, for the activity lookup.
func (r *runner) finishUsage(ch chan usageResult) {
	if ch == nil {
		return
	}
	t := time.NewTimer(r.o.UsageWait)
	defer t.Stop()
	select {
	case u := <-ch:
		if u.err != nil {
			r.res.Warnings = append(r.res.Warnings, fmt.Sprintf("the key's activity could not be read: %v (the key is contained regardless; try keyrot usage --access-key-id %s)", u.err, r.o.AccessKeyID))
			return
		}
		r.res.Usage = &u.s
		for _, inc := range u.s.Incomplete {
			r.res.Warnings = append(r.res.Warnings, "activity lookup incomplete: "+inc)
		}
	case <-t.C:
		r.res.Warnings = append(r.res.Warnings, fmt.Sprintf("the key's activity lookup did not finish within %s; read it with keyrot usage --access-key-id %s", r.o.UsageWait, r.o.AccessKeyID))
	}
}

func (r *runner) currentPolicy() (doc string, exists bool, err error) {
	return r.policy.doc, r.policy.exists, r.policy.err
}

func (r *runner) putPolicy(ctx context.Context, cut time.Time, exists bool) error {
	err := r.step("revoke", r.res.Policy.Name, func() error {
		return r.api.PutUserPolicy(ctx, r.res.UserName, r.res.Policy.Name, revokeDocument(r.o.AccessKeyID, cut))
	})
	if err != nil {
		return &RevokeError{KeyID: r.o.AccessKeyID, User: r.res.UserName, Policy: r.res.Policy.Name, Err: err}
	}
	r.res.Policy.Action = "created"
	if exists {
		r.res.Policy.Action = "updated"
	}
	return nil
}

// release deletes the policy once MaxSessionLife has passed since its
// cut-off, and only once the key is gone: afterwards nothing marks it as
// contained, and keyrot rollback could reactivate it. Force skips both.
func (r *runner) release(ctx context.Context, k *iamx.Key) error {
	res := r.res
	if k != nil {
		res.StatusBefore, res.StatusAfter = k.Status, k.Status
	}
	doc, exists, err := r.currentPolicy()
	if err != nil {
		return err
	}
	if !exists {
		res.Policy.Action = "absent"
		return nil
	}
	cut, err := cutOff(doc)
	switch {
	case err != nil && !r.o.Force:
		return &GuardError{fmt.Sprintf("refusing to delete %s of %s: its cut-off cannot be read (%v), so whether its sessions are gone is unknown; pass --force if they are", res.Policy.Name, res.UserName, err)}
	case err == nil:
		res.Policy.RevokesBefore, res.Policy.RemovableAfter = cut, cut.Add(MaxSessionLife)
		if now := r.o.Now(); now.Before(res.Policy.RemovableAfter) && !r.o.Force {
			return &GuardError{fmt.Sprintf("refusing to delete %s of %s before %s: sessions issued before %s may live until then; pass --force if the key's sessions are known to be gone",
				res.Policy.Name, res.UserName, res.Policy.RemovableAfter.Format(time.RFC3339), cut.Format(time.RFC3339))}
		}
	}
	if k != nil && !r.o.Force {
		return &GuardError{fmt.Sprintf("refusing to delete %s while access key %s still exists: the policy is what marks it as contained (keyrot rollback never reactivates such a key); delete the key first (aws iam delete-access-key --user-name %s --access-key-id %s), or pass --force",
			res.Policy.Name, k.ID, res.UserName, k.ID)}
	}
	if r.o.DryRun {
		res.Policy.Action = "would delete"
		res.Plan = append(res.Plan, fmt.Sprintf("delete inline policy %s of %s", res.Policy.Name, res.UserName))
		return nil
	}
	err = r.step("release", res.Policy.Name, func() error {
		return r.api.DeleteUserPolicy(ctx, res.UserName, res.Policy.Name)
	})
	if err != nil && !errors.Is(err, iamx.ErrNotFound) {
		return fmt.Errorf("delete inline policy %s of %s: %w", res.Policy.Name, res.UserName, err)
	}
	res.Policy.Action = "deleted"
	return nil
}

func (r *runner) nextSteps(keys []iamx.Key) {
	res := r.res
	u := res.UserName
	active, replacement := "", ""
	for _, k := range keys {
		switch {
		case k.Status != iamx.StatusActive || k.ID == res.AccessKeyID:
		case !k.Created.IsZero() && !k.Created.Before(res.Policy.RevokesBefore.Add(-time.Second)):
			replacement = k.ID // made after the containment
		default:
			active = k.ID
		}
	}
	switch {
	case active != "":
		res.NextSteps = append(res.NextSteps, fmt.Sprintf("%s still has Active key %s: rotate it too if it may have leaked with this one (keyrot rotate --user %s --access-key-id %s ...)", u, active, u, active))
	case replacement != "":
		res.NextSteps = append(res.NextSteps, fmt.Sprintf("%s has a replacement already: Active key %s, created after the containment", u, replacement))
	default:
		res.NextSteps = append(res.NextSteps, fmt.Sprintf("issue %s a replacement: keyrot rotate --user %s --exec CMD (or --profile-name P, --stdout); the contained key stays Inactive", u, u))
	}
	if res.Usage == nil {
		res.NextSteps = append(res.NextSteps, fmt.Sprintf("see who used the key: keyrot usage --access-key-id %s", res.AccessKeyID))
	} else if len(res.Usage.Flagged) > 0 {
		res.NextSteps = append(res.NextSteps, fmt.Sprintf("investigate the %d flagged events (users, keys, policies or instances the key's user created may keep access): keyrot usage --access-key-id %s --output json", len(res.Usage.Flagged), res.AccessKeyID))
	}
	res.NextSteps = append(res.NextSteps,
		fmt.Sprintf("delete the key once nothing needs it for the investigation: aws iam delete-access-key --user-name %s --access-key-id %s", u, res.AccessKeyID),
		fmt.Sprintf("after %s remove the session deny: keyrot contain --release --access-key-id %s --user %s", res.Policy.RemovableAfter.Format(time.RFC3339), res.AccessKeyID, u))
}

// owner finds the key's account and user, and returns the user's keys.
// Requests that do not depend on each other overlap: the key's account,
// the caller's and the key's last use (which names the owner) at once;
// then the owner's keys and the revoke-sessions policy at once.
func (r *runner) owner(ctx context.Context) ([]iamx.Key, error) {
	res, o := r.res, r.o
	var caller iamx.Identity
	var callerErr, luErr error
	var lu iamx.LastUsed
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		caller, callerErr = r.api.CallerIdentity(ctx)
	}()
	go func() {
		defer wg.Done()
		lu, luErr = r.api.LastUsed(ctx, o.AccessKeyID)
	}()
	account, err := r.api.AccessKeyAccount(ctx, o.AccessKeyID)
	wg.Wait()
	if err != nil {
		return nil, fmt.Errorf("find the account of %s (STS GetAccessKeyInfo): %w", o.AccessKeyID, err)
	}
	if callerErr != nil {
		return nil, fmt.Errorf("identify the caller (STS GetCallerIdentity): %w", callerErr)
	}
	res.Account = account
	if account != caller.Account {
		return nil, &ForeignKeyError{KeyID: o.AccessKeyID, Account: account, CallerAccount: caller.Account}
	}
	res.LastUsed = lu
	if luErr != nil && !errors.Is(luErr, iamx.ErrNotFound) {
		res.Warnings = append(res.Warnings, fmt.Sprintf("the key's last use could not be read: %v", luErr))
	}
	if o.User != "" {
		keys, err := r.keysAndPolicy(ctx, o.User)
		if err != nil {
			return nil, fmt.Errorf("list the keys of %s: %w", o.User, err)
		}
		k := findKey(keys, o.AccessKeyID)
		switch {
		case k == nil && o.Release:
			// Deleted since it was contained: the policy can still go.
			res.UserName, res.OwnerFoundBy = o.User, "--user"
			return keys, nil
		case k == nil:
			return nil, fmt.Errorf("%w: access key %s is not one of %s's keys (leave out --user to find its owner)", iamx.ErrNotFound, o.AccessKeyID, o.User)
		}
		res.UserName, res.OwnerFoundBy = k.User, "--user"
		if res.UserName == "" {
			res.UserName = o.User
		}
		return keys, nil
	}
	// GetAccessKeyLastUsed names the owner, in the call the report needs
	// anyway; the owner's key list confirms it.
	if luErr == nil && lu.User != "" {
		keys, lerr := r.keysAndPolicy(ctx, lu.User)
		switch {
		case lerr == nil && findKey(keys, o.AccessKeyID) != nil:
			res.UserName, res.OwnerFoundBy = lu.User, "IAM GetAccessKeyLastUsed"
			return keys, nil
		case lu.User == "root":
			return nil, &NoOwnerError{KeyID: o.AccessKeyID, Account: account, Root: true}
		}
	}
	// Otherwise search every user.
	keys, err := r.scan(ctx, account)
	if err != nil {
		return nil, err
	}
	r.policy = r.readPolicy(ctx, r.res.UserName)
	return keys, nil
}

// policyState is what GetUserPolicy said about the revoke-sessions policy.
type policyState struct {
	doc    string
	exists bool
	err    error
}

func (r *runner) readPolicy(ctx context.Context, user string) policyState {
	doc, err := r.api.UserPolicy(ctx, user, r.res.Policy.Name)
	switch {
	case err == nil:
		return policyState{doc: doc, exists: true}
	case errors.Is(err, iamx.ErrNotFound):
		return policyState{}
	}
	return policyState{err: fmt.Errorf("read inline policy %s of %s: %w", r.res.Policy.Name, user, err)}
}

// keysAndPolicy lists user's keys and reads the policy concurrently.
func (r *runner) keysAndPolicy(ctx context.Context, user string) ([]iamx.Key, error) {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		r.policy = r.readPolicy(ctx, user)
	}()
	keys, err := r.api.ListKeys(ctx, user)
	wg.Wait()
	return keys, err
}

// scan lists the account's users and their keys, concurrently at
// ScanRate, until one holds the key.
func (r *runner) scan(ctx context.Context, account string) ([]iamx.Key, error) {
	users, err := r.api.ListUsers(ctx, "")
	if err != nil {
		return nil, fmt.Errorf("search the account's users for %s (ListUsers): %w", r.o.AccessKeyID, err)
	}
	if r.o.OnStep != nil {
		r.o.OnStep(Step{Name: "search", Detail: fmt.Sprintf("GetAccessKeyLastUsed named no owner: searching %d users at %g a second", len(users), r.o.ScanRate)})
	}
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	lim := rate.NewLimiter(rate.Limit(r.o.ScanRate), 1)
	names := make(chan string)
	var mu sync.Mutex
	var found []iamx.Key
	var owner string
	var errs []error
	var wg sync.WaitGroup
	for range min(scanWorkers, len(users)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range names {
				if lim.Wait(sctx) != nil {
					return
				}
				keys, err := r.api.ListKeys(sctx, n)
				mu.Lock()
				switch {
				case err != nil && sctx.Err() == nil && !errors.Is(err, iamx.ErrNotFound):
					errs = append(errs, fmt.Errorf("%s: %w", n, err))
				case err == nil && findKey(keys, r.o.AccessKeyID) != nil:
					found, owner = keys, n
					cancel()
				}
				mu.Unlock()
			}
		}()
	}
feed:
	for _, u := range users {
		select {
		case names <- u.Name:
		case <-sctx.Done():
			break feed
		}
	}
	close(names)
	wg.Wait()
	if owner != "" {
		r.res.UserName, r.res.OwnerFoundBy = owner, fmt.Sprintf("IAM ListUsers and ListAccessKeys (%d users)", len(users))
		return found, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("search the account's users for %s: %d of %d users could not be read: %w", r.o.AccessKeyID, len(errs), len(users), errors.Join(errs...))
	}
	return nil, &NoOwnerError{KeyID: r.o.AccessKeyID, Account: account, Users: len(users)}
}

func findKey(ks []iamx.Key, id string) *iamx.Key {
	for i := range ks {
		if ks[i].ID == id {
			return &ks[i]
		}
	}
	return nil
}
