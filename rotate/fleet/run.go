package fleet

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/keyrot/keyrot/iamx"
	"github.com/keyrot/keyrot/rotate"
)

// DefaultConcurrency is how many users a run works on at once.
const DefaultConcurrency = 4

// Results of one action, as UserResult and the audit log spell them.
const (
	ResultDone           = "done"
	ResultPlanned        = "planned"
	ResultOK             = "ok" // examined, nothing to do
	ResultFailed         = "failed"
	ResultBlocked        = "blocked"
	ResultRolledBack     = "rolled-back"
	ResultRollbackFailed = "rollback-failed"
	ResultDeferred       = "deferred"
	ResultGone           = "gone" // the user no longer exists
)

// Job is one fleet run: the client, how hard to drive it, and where
// records go. The zero values of the optional fields are sensible.
type Job struct {
	// Client signs as the caller; wrap it in Limited for the rate limit.
	Client Client
	// Concurrency is the number of users worked on at once.
	Concurrency int
	// Rotation is the template for rotate.Run: Destination, Verify, Wait,
	// PollInterval, Successes, OldKey, Caller, Signer, ClientFor,
	// StateDir, Now, Sleep. User, OldKeyID, DeleteInactive and OnStep are
	// set per user.
	Rotation rotate.Options
	// DeleteInactive lets a rotation delete the Inactive key holding the
	// second slot (rotate --delete-inactive).
	DeleteInactive bool
	DryRun         bool

	Now    func() time.Time
	Log    *AuditLog
	Ledger *Ledger
	// Run and Command label the audit records; Account, in an
	// organization run, too.
	Run     string
	Command string
	Account iamx.Account
	// OnStart, when set, receives the number of users the run will look
	// at, before the first; OnUser is called once per user as it
	// finishes, never concurrently.
	OnStart func(users int)
	OnUser  func(UserResult)

	// unfinished are the rotations earlier runs left unfinished in this
	// account, by user (rotate.Unfinished).
	unfinished map[string]rotate.UnfinishedRotation
}

// Outcome is what became of one action.
type Outcome struct {
	Action   Action
	Result   string
	NewKeyID string
	// Plan is a dry run's list of steps for a rotation.
	Plan []string
	Err  error
}

// UserResult is one user's part of the run.
type UserResult struct {
	User     string
	Outcomes []Outcome
	// Err is the first failure, nil when the user is within policy now
	// (or would be, in a dry run).
	Err error
	// Skipped is set when the run was interrupted before this user.
	Skipped bool
}

// Failed reports whether the user failed.
func (u UserResult) Failed() bool { return u.Err != nil }

// Changed reports whether anything was (or, in a dry run, would be) changed.
func (u UserResult) Changed() bool {
	for _, o := range u.Outcomes {
		if o.Result == ResultDone || o.Result == ResultPlanned {
			return true
		}
	}
	return false
}

// Summary is the whole run.
type Summary struct {
	// Selected users, and of them the ones looked at with live calls.
	Selected int
	Examined int
	Users    []UserResult // the examined users, in name order
	Failed   []UserResult
	// Counts of outcomes by action and result, as "rotate done".
	Counts      map[string]int
	Interrupted bool
}

func (j *Job) now() time.Time {
	if j.Now != nil {
		return j.Now()
	}
	return time.Now()
}

// Enforce applies p to the users of r that sel selects. It looks at the
// live keys only of users whose report row may break p (NeedsLook).
func (j *Job) Enforce(ctx context.Context, r iamx.Report, sel Selector, p Policy) (Summary, error) {
	if err := j.loadUnfinished(); err != nil {
		return Summary{}, err
	}
	var users []string
	selected := 0
	now := j.now()
	for _, u := range r.Users {
		if !sel.Match(u) {
			continue
		}
		selected++
		if _, ok := j.unfinished[u.User]; ok || NeedsLook(u, p, now) {
			users = append(users, u.User)
		}
	}
	g := Guard{SignerKeyID: j.Rotation.Signer.AccessKeyID, DeleteInactive: j.DeleteInactive}
	return j.each(ctx, selected, users, func(ctx context.Context, user string) UserResult {
		return j.enforceUser(ctx, user, p, g, true)
	})
}

// Rotate rotates the Active keys older than olderThan (every Active key
// when 0) of the users sel selects, one rotate.Run per user.
func (j *Job) Rotate(ctx context.Context, r iamx.Report, sel Selector, olderThan time.Duration) (Summary, error) {
	if err := j.loadUnfinished(); err != nil {
		return Summary{}, err
	}
	var users []string
	selected := 0
	now := j.now()
	for _, u := range r.Users {
		if !sel.Match(u) {
			continue
		}
		selected++
		if _, ok := j.unfinished[u.User]; ok {
			users = append(users, u.User)
			continue
		}
		for _, k := range u.Keys {
			if k.Present && k.Active && (olderThan <= 0 || k.LastRotated.IsZero() || now.Sub(k.LastRotated) > olderThan) {
				users = append(users, u.User)
				break
			}
		}
	}
	// "Older than 0" means every Active key: a policy whose MaxAge every
	// key exceeds.
	p := Policy{MaxAge: max(olderThan, time.Nanosecond), RotateOnly: true}
	g := Guard{SignerKeyID: j.Rotation.Signer.AccessKeyID, DeleteInactive: j.DeleteInactive}
	return j.each(ctx, selected, users, func(ctx context.Context, user string) UserResult {
		return j.enforceUser(ctx, user, p, g, false)
	})
}

// loadUnfinished reads which rotations earlier runs left unfinished, in
// the caller's account: a journal another account's run wrote in a shared
// state directory is not this run's to finish.
func (j *Job) loadUnfinished() error {
	dir, err := rotate.StateDir(j.Rotation)
	if err != nil {
		return err
	}
	all, err := rotate.Unfinished(dir)
	if err != nil {
		return err
	}
	acct := j.Rotation.Caller.Account
	for user, u := range all {
		if u.Account != "" && acct != "" && u.Account != acct {
			delete(all, user)
		}
	}
	j.unfinished = all
	return nil
}

// each runs fn for every user with j.Concurrency workers. Once ctx is
// done no new user starts; the ones in flight finish or roll back.
func (j *Job) each(ctx context.Context, selected int, users []string, fn func(context.Context, string) UserResult) (Summary, error) {
	sort.Strings(users)
	if j.OnStart != nil {
		j.OnStart(len(users))
	}
	n := j.Concurrency
	if n < 1 {
		n = DefaultConcurrency
	}
	results := make([]UserResult, len(users))
	var mu sync.Mutex
	started := forEach(ctx, n, len(users), func(i int) {
		res := fn(ctx, users[i])
		results[i] = res
		mu.Lock()
		if j.OnUser != nil {
			j.OnUser(res)
		}
		mu.Unlock()
	})

	s := Summary{Selected: selected, Counts: map[string]int{}}
	for i, r := range results {
		if i >= started {
			results[i] = UserResult{User: users[i], Skipped: true}
			continue
		}
		s.Examined++
		for _, o := range r.Outcomes {
			s.Counts[countKey(string(o.Action.Kind), o.Result)]++
		}
		if r.Failed() {
			s.Failed = append(s.Failed, r)
		}
	}
	s.Users = results[:started]
	s.Interrupted = started < len(users) || ctx.Err() != nil
	counts := map[string]int{"Selected": s.Selected, "Examined": s.Examined, "Failed": len(s.Failed)}
	for k, v := range s.Counts {
		counts[k] = v
	}
	j.Log.Write(Record{Time: j.now(), Run: j.Run, Command: j.Command, AccountID: j.Account.ID, AccountName: j.Account.Name, Action: "summary", Result: summaryResult(s), Counts: counts, DryRun: j.DryRun})
	if err := j.Ledger.Save(); err != nil && !j.DryRun {
		return s, err
	}
	return s, nil
}

// forEach calls fn(i) for i in [0, count) with n workers (at least 1).
// Once ctx is done no new i starts; it returns how many did: 0 to
// started-1 ran, the rest did not.
func forEach(ctx context.Context, n, count int, fn func(i int)) (started int) {
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(max(n, 1), max(count, 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				fn(i)
			}
		}()
	}
feed:
	for i := range count {
		// select picks at random among ready cases: without this check a
		// worker waiting for work could still be handed an item after ctx
		// is done, and it would fail instead of being skipped.
		if ctx.Err() != nil {
			break
		}
		select {
		case <-ctx.Done():
			break feed
		case next <- i:
			started++
		}
	}
	close(next)
	wg.Wait()
	return started
}

// countKey labels an outcome "action result", or only "blocked" where the
// result repeats the action.
func countKey(kind, result string) string {
	if kind == result {
		return kind
	}
	return kind + " " + result
}

func summaryResult(s Summary) string {
	switch {
	case s.Interrupted:
		return "interrupted"
	case len(s.Failed) > 0:
		return ResultFailed
	}
	return ResultDone
}

// enforceUser looks at one user's live keys, decides and acts. With
// unusedRule false only rotations are considered (rotate --all-users).
func (j *Job) enforceUser(ctx context.Context, user string, p Policy, g Guard, unusedRule bool) UserResult {
	res := UserResult{User: user}
	if u, ok := j.unfinished[user]; ok {
		o, stop := j.recover(ctx, user, u, g)
		res.Outcomes = append(res.Outcomes, o)
		j.record(user, o)
		if stop {
			res.Err = o.Err
			return res
		}
	}
	listedAt := time.Now()
	keys, err := j.Client.ListKeys(ctx, user)
	if errors.Is(err, iamx.ErrNotFound) {
		// Deleted since the report was generated: nothing to enforce.
		res.Outcomes = append(res.Outcomes, Outcome{Action: Action{Kind: "none", User: user}, Result: ResultGone})
		j.record(user, Outcome{Action: Action{Kind: "none", User: user, Reason: "the user no longer exists"}, Result: ResultGone})
		return res
	}
	if err != nil {
		res.Err = fmt.Errorf("list access keys of %s: %w", user, err)
		o := Outcome{Action: Action{Kind: "none", User: user}, Result: ResultFailed, Err: res.Err}
		res.Outcomes = append(res.Outcomes, o)
		j.record(user, o)
		return res
	}
	now := j.now()
	live := make([]LiveKey, len(keys))
	present := map[string]bool{}
	for i, k := range keys {
		live[i] = LiveKey{Key: k}
		present[k.ID] = true
		switch {
		case k.Status == iamx.StatusInactive && j.DryRun:
			e, ok := j.Ledger.Get(k.ID)
			if !ok {
				e = LedgerEntry{Since: now}
			}
			live[i].InactiveSince, live[i].ByKeyrot = e.Since, e.ByKeyrot
		case k.Status == iamx.StatusInactive:
			e := j.Ledger.Observe(user, k.ID, now)
			live[i].InactiveSince, live[i].ByKeyrot = e.Since, e.ByKeyrot
		case !j.DryRun:
			j.Ledger.Forget(k.ID) // Active again
		}
		if unusedRule && k.Status == iamx.StatusActive && k.ID != g.SignerKeyID && p.MaxUnused > 0 && now.Sub(k.Created) > p.MaxUnused {
			lu, err := j.Client.LastUsed(ctx, k.ID)
			if err != nil {
				res.Err = fmt.Errorf("get last use of %s (%s): %w", k.ID, user, err)
				o := Outcome{Action: Action{Kind: "none", User: user, KeyID: k.ID}, Result: ResultFailed, Err: res.Err}
				res.Outcomes = append(res.Outcomes, o)
				j.record(user, o)
				return res
			}
			live[i].LastUsed = &lu
		}
	}
	if !j.DryRun {
		j.Ledger.ForgetMissing(user, present)
	}
	actions := Evaluate(user, live, p, g, now)
	if len(actions) == 0 {
		o := Outcome{Action: Action{Kind: "none", User: user, Reason: "within policy"}, Result: ResultOK}
		res.Outcomes = append(res.Outcomes, o)
		j.record(user, o)
		return res
	}
	changed := false
	for _, a := range actions {
		o := j.apply(ctx, a, keys, listedAt, changed)
		res.Outcomes = append(res.Outcomes, o)
		j.record(user, o)
		if o.Err != nil {
			res.Err = o.Err
			break
		}
		changed = true
		if j.DryRun {
			keys = planned(keys, a)
		}
		if ctx.Err() != nil {
			break
		}
	}
	return res
}

// recover finishes or rolls back user's unfinished rotation u, and says
// whether to stop there (it failed, must not be done, or a dry run only
// plans it) or go on to judge the user's keys as they are now. A rotation
// of the key that signs this run is left to its owner: finishing it would
// deactivate the run's own credentials.
func (j *Job) recover(ctx context.Context, user string, u rotate.UnfinishedRotation, g Guard) (Outcome, bool) {
	a := Action{Kind: Recover, User: user, KeyID: u.OldKeyID, Reason: "an earlier run left the rotation of " + orNone(u.OldKeyID) + " unfinished"}
	switch {
	case u.Err != nil:
		a.Kind = "none"
		return Outcome{Action: a, Result: ResultFailed, Err: fmt.Errorf("journal of %s: %w", user, u.Err)}, true
	case u.OldKeyID != "" && u.OldKeyID == g.SignerKeyID:
		a.Kind = Blocked
		a.Reason = fmt.Sprintf("the unfinished rotation of %s replaces the key that signs this run: finish it with `keyrot rotate --user %s`, signed by other credentials", orNone(u.OldKeyID), user)
		return Outcome{Action: a, Result: ResultBlocked, Err: fmt.Errorf("%s", a.Reason)}, true
	case j.DryRun:
		// The keys as they stand are mid-rotation: judging them would
		// report a failure the real run does not have.
		return Outcome{Action: a, Result: ResultPlanned, Plan: []string{"finish or roll back the unfinished rotation of " + orNone(u.OldKeyID) + " (journal); the policy applies to the keys it leaves, in the same run"}}, true
	}
	ro := j.rotation(Action{Kind: Rotate, User: user, KeyID: u.OldKeyID})
	ro.RecoverOnly = true
	r, err := rotate.Run(ctx, j.Client, ro)
	o := Outcome{Action: a, Result: ResultDone}
	if err != nil {
		o.Err = err
		switch {
		case errors.Is(err, rotate.ErrRollbackFailed):
			o.Result = ResultRollbackFailed
		default:
			o.Result = ResultFailed
		}
		return o, true
	}
	if rec := r.Recovered; rec != nil {
		o.Action.Reason += ": " + rec.Action
		if rec.Action == "finished" {
			// The new key stays; the old one was deactivated by keyrot
			// (or deleted, or kept Active: the next look corrects the
			// ledger), so its --delete-inactive-after count starts now.
			o.NewKeyID = rec.NewKeyID
			j.Ledger.Deactivated(user, u.OldKeyID, j.now())
		}
	}
	return o, ctx.Err() != nil
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// apply carries out one action. keys is the list the decision was made on;
// unchanged says whether it still describes IAM.
func (j *Job) apply(ctx context.Context, a Action, keys []iamx.Key, listedAt time.Time, changed bool) Outcome {
	o := Outcome{Action: a}
	switch a.Kind {
	case Blocked:
		o.Result, o.Err = ResultBlocked, fmt.Errorf("key %s: %s", a.KeyID, a.Reason)
		return o
	case Deferred:
		o.Result = ResultDeferred
		return o
	}
	if j.DryRun {
		o.Result = ResultPlanned
		if a.Kind == Rotate {
			// keys already shows the earlier planned actions (see planned).
			c := &prefetched{Client: j.Client, user: a.User, keys: keys, at: listedAt}
			plan, err := rotate.Plan(ctx, c, j.rotation(a))
			if err != nil {
				o.Result, o.Err = ResultFailed, err
				return o
			}
			o.Plan = plan.Actions
		}
		return o
	}
	switch a.Kind {
	case Delete:
		err := j.Client.DeleteKey(ctx, a.User, a.KeyID)
		if err != nil && !errors.Is(err, iamx.ErrNotFound) {
			o.Result, o.Err = ResultFailed, fmt.Errorf("delete %s of %s: %w", a.KeyID, a.User, err)
			return o
		}
		j.Ledger.Forget(a.KeyID)
	case Deactivate:
		if err := j.Client.SetStatus(ctx, a.User, a.KeyID, iamx.StatusInactive); err != nil {
			o.Result, o.Err = ResultFailed, fmt.Errorf("deactivate %s of %s: %w", a.KeyID, a.User, err)
			return o
		}
		j.Ledger.Deactivated(a.User, a.KeyID, j.now())
	case Rotate:
		ro := j.rotation(a)
		var c rotate.Keys = j.Client
		if !changed {
			c = &prefetched{Client: j.Client, user: a.User, keys: keys, at: listedAt}
		}
		r, err := rotate.Run(ctx, c, ro)
		if r.DeletedInactive != "" {
			j.Ledger.Forget(r.DeletedInactive)
		}
		if err != nil {
			o.Err = err
			switch {
			case errors.Is(err, rotate.ErrRollbackFailed):
				o.Result = ResultRollbackFailed
			case errors.Is(err, rotate.ErrRolledBack):
				o.Result = ResultRolledBack
			default:
				o.Result = ResultFailed
			}
			return o
		}
		o.NewKeyID = r.NewKey.ID
		switch {
		case r.NothingToDo:
			o.Result = ResultOK
			return o
		case r.OldKeyDeleted:
			j.Ledger.Forget(a.KeyID)
		case r.OldKey.Status == iamx.StatusInactive:
			j.Ledger.Deactivated(a.User, a.KeyID, j.now())
		}
	}
	o.Result = ResultDone
	return o
}

// planned is keys as they would be after a (dry runs): a deleted key
// gone, a deactivated one Inactive.
func planned(keys []iamx.Key, a Action) []iamx.Key {
	out := make([]iamx.Key, 0, len(keys))
	for _, k := range keys {
		if k.ID == a.KeyID {
			switch a.Kind {
			case Delete:
				continue
			case Deactivate:
				k.Status = iamx.StatusInactive
			}
		}
		out = append(out, k)
	}
	return out
}

func (j *Job) rotation(a Action) rotate.Options {
	ro := j.Rotation
	ro.User, ro.OldKeyID, ro.DeleteInactive, ro.DryRun = a.User, a.KeyID, a.DeleteInactive, j.DryRun
	ro.SkipIfNotActive = true
	ro.OnStep = nil
	if ro.Now == nil {
		ro.Now = j.Now
	}
	return ro
}

func (j *Job) record(user string, o Outcome) {
	if j.Log == nil {
		return
	}
	r := Record{Time: j.now(), Run: j.Run, Command: j.Command, AccountID: j.Account.ID, AccountName: j.Account.Name, User: user, Action: string(o.Action.Kind),
		AccessKeyID: o.Action.KeyID, NewAccessKeyID: o.NewKeyID, Result: o.Result, Reason: o.Action.Reason, DryRun: j.DryRun}
	if o.Err != nil {
		r.Error = o.Err.Error()
	}
	j.Log.Write(r)
}
