package rotate

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/keyrot/keyrot/iamx"
)

// Result reports a rotation. It never holds a secret.
type Result struct {
	User        string
	NothingToDo bool
	Reason      string
	// DryRun is set when Run only planned; Plan is then the plan.
	DryRun bool
	Plan   *RotationPlan `json:",omitempty"`

	SelfRotation bool
	// Replacement: U had no Active key; the new key replaces the Inactive
	// OldKey, which stays Inactive (or was deleted).
	Replacement bool `json:",omitempty"`
	// OldKey carries its final status; OldKeyDeleted when it was deleted.
	OldKey        iamx.Key
	OldKeyDeleted bool
	NewKey        iamx.Key
	// OldKeyError: a replacement could not delete the key it replaced,
	// which stays Inactive.
	OldKeyError string `json:",omitempty"`
	// DeletedInactive is the Inactive key the capacity step deleted.
	DeletedInactive string `json:",omitempty"`
	Destination     string
	Verified        bool
	// VerifyCalls is the number of STS GetCallerIdentity calls made.
	VerifyCalls int
	Steps       []Timing
	// Recovered reports an unfinished rotation found in the journal and
	// what was done about it; nil when there was none.
	Recovered *Recovery `json:",omitempty"`
	Started   time.Time
	Duration  time.Duration
}

// Recovery is what Run or Rollback did about a rotation that an earlier
// run left unfinished (killed, or its rollback failed).
type Recovery struct {
	Step     string // the journal's step when it was found
	OldKeyID string
	NewKeyID string
	// Action is "finished", "rolled back" or "cleaned up".
	Action string
	Detail string
}

// Run rotates U's access key; see the package documentation for the steps.
// It holds U's lock for its whole duration, and first resumes or rolls
// back a rotation an earlier run left unfinished. A rotation that was
// finished from the journal is reported in Result.Recovered and not
// repeated; one that was rolled back is followed by a fresh rotation.
func Run(ctx context.Context, keys Keys, opts Options) (result Result, err error) {
	o := opts.withDefaults()
	if err := o.validate(); err != nil {
		return Result{}, err
	}
	name, apiUser, err := o.target()
	if err != nil {
		return Result{}, err
	}
	if o.Destination, err = o.destinationFor(name); err != nil {
		return Result{}, err
	}
	res := Result{User: name, Started: o.Now(), SelfRotation: o.self(name)}
	if o.DryRun {
		p, err := Plan(ctx, keys, opts)
		res.DryRun, res.Plan, res.NothingToDo, res.Reason = true, &p, p.NothingToDo, p.Reason
		return res, err
	}
	dir, err := stateDir(o)
	if err != nil {
		return res, err
	}
	if err := ensureStateDir(dir); err != nil {
		return res, err
	}
	release, err := lockUser(ctx, o, dir, name)
	if err != nil {
		return res, err
	}
	defer release()
	if snap, ok := keys.(Snapshot); ok {
		// Another run's journal written since the list was read means
		// that run changed U's keys meanwhile (it held the lock): look again.
		if fi, err := os.Stat(stateFile(dir, name, ".json")); err == nil && !fi.ModTime().Before(snap.ReadAt()) {
			snap.Invalidate()
		}
	}

	r := &runner{o: o, keys: keys, client: keys, name: name, apiUser: apiUser, res: &res,
		st: store{path: stateFile(dir, name, ".json"), now: o.Now}}
	defer func() { result.Duration = o.Now().Sub(result.Started) }()

	j, err := r.st.load()
	if err != nil {
		return res, err
	}
	if j != nil && !j.finished() {
		if err := checkJournalAccount(ctx, keys, &o, j, name, dir); err != nil {
			return res, err
		}
	}
	if j != nil && !j.finished() {
		var finished bool
		err := r.step(StepRecover, "journal step "+j.Step, func() error {
			var err error
			res.Recovered, finished, err = r.recover(ctx, j, false, false)
			return err
		})
		if err != nil || finished || o.RecoverOnly {
			return res, err
		}
		r = &runner{o: o, keys: keys, client: keys, name: name, apiUser: apiUser, res: &res, st: r.st}
	}
	if o.RecoverOnly {
		res.NothingToDo, res.Reason = true, "no unfinished rotation"
		return res, nil
	}

	var p RotationPlan
	err = r.step(StepInspect, "", func() error {
		var err error
		p, err = plan(ctx, keys, o, name, apiUser)
		return err
	})
	if err != nil {
		if ctx.Err() != nil {
			return res, &InterruptedError{Step: StepInspect, Err: ctx.Err()}
		}
		return res, err
	}
	if p.NothingToDo {
		res.NothingToDo, res.Reason = true, p.Reason
		return res, nil
	}
	return res, r.rotate(ctx, p)
}

// Snapshot is a Keys whose first ListKeys answers from a list read
// before Run took the user's lock (a fleet run reads every user's keys to
// decide, then rotates). Run calls Invalidate when another rotation of the
// same user may have changed the keys since ReadAt; ListKeys then asks IAM.
type Snapshot interface {
	Keys
	ReadAt() time.Time
	Invalidate()
}

// runner is one rotation in progress.
type runner struct {
	o       Options
	keys    Keys // signs as the caller
	client  Keys // signs IAM calls now: keys, or the new key once the old signing key was changed
	name    string
	apiUser string
	res     *Result
	st      store
	j       *journal

	dest      Destination
	newKey    iamx.NewKey
	created   bool
	delivered bool
	undo      func() error
	swapped   bool
}

func (r *runner) emit(s Step) {
	if r.o.OnStep != nil {
		r.o.OnStep(s)
	}
}

// step runs fn as the named step, reporting and timing it.
func (r *runner) step(name, detail string, fn func() error) error {
	start := r.o.Now()
	r.emit(Step{Name: name, Detail: detail})
	err := fn()
	d := r.o.Now().Sub(start)
	t := Timing{Step: name, Started: start, Duration: d}
	if err != nil {
		t.Err = err.Error()
	}
	r.res.Steps = append(r.res.Steps, t)
	r.emit(Step{Name: name, Done: true, Detail: detail, Elapsed: d, Err: err})
	return err
}

// save records the journal at step s.
func (r *runner) save(s string) error {
	r.j.Step = s
	return r.st.save(r.j)
}

// before turns a failure before the create into the error Run returns.
func (r *runner) before(ctx context.Context, step string, err error) error {
	r.j.Step = jAborted
	_ = r.st.save(r.j)
	if ctx.Err() != nil {
		return &InterruptedError{Step: step, Err: ctx.Err()}
	}
	return &StepError{User: r.name, Step: step, Err: err}
}

// cleanupContext outlives an interrupt: cleanup must finish.
func (r *runner) cleanupContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), r.o.CleanupTimeout)
}

func (r *runner) rotate(ctx context.Context, p RotationPlan) error {
	o := r.o
	res := r.res
	res.OldKey, res.SelfRotation, res.Replacement = p.OldKey, p.SelfRotation, p.Replacement
	r.dest = withOldKey(o.Destination, p.OldKey.ID)
	res.Destination = r.dest.Describe()
	r.j = &journal{User: r.name, APIUser: r.apiUser, Account: o.Caller.Account, OldKeyID: p.OldKey.ID,
		OldStatus: p.OldKey.Status, Policy: o.OldKey, SelfSigned: p.SelfSigned, Started: o.Now().UTC()}
	if m, ok := r.dest.(Destinations); ok {
		for _, d := range m {
			r.j.Destinations = append(r.j.Destinations, recordOf(d))
		}
	} else {
		r.j.Destination = recordOf(r.dest)
	}
	for _, k := range p.Keys {
		if k.ID != p.DeleteInactive {
			r.j.KeysBefore = append(r.j.KeysBefore, k.ID)
		}
	}
	// What a destination holds may rule it out: found now, nothing changed.
	if err := precheck(ctx, r.dest); err != nil {
		return err
	}
	if err := r.save(jStarted); err != nil {
		return &StepError{User: r.name, Step: StepCapacity, Err: err}
	}

	if id := p.DeleteInactive; id != "" {
		err := r.step(StepCapacity, "delete Inactive key "+id, func() error {
			if err := r.save(jDeleteInactive); err != nil {
				return err
			}
			err := r.client.DeleteKey(ctx, r.apiUser, id)
			if errors.Is(err, iamx.ErrNotFound) {
				return nil // already gone: what this step wanted
			}
			return err
		})
		if err != nil {
			return r.before(ctx, StepCapacity, err)
		}
		res.DeletedInactive = id
	}

	var createEnd time.Time
	err := r.step(StepCreate, "", func() error {
		r.j.CreateStarted = o.Now().UTC()
		if err := r.save(jCreating); err != nil {
			return err
		}
		k, err := r.client.CreateKey(ctx, r.apiUser)
		createEnd = o.Now().UTC()
		if err != nil {
			return err
		}
		r.newKey, r.created = k, true
		r.j.NewKeyID = k.ID
		res.NewKey = k.Key
		return r.save(jCreated)
	})
	if err != nil {
		if r.created {
			return r.fail(ctx, StepCreate, err)
		}
		return r.createFailed(ctx, err, createEnd)
	}

	err = r.step(StepDeliver, res.Destination, func() error {
		if err := r.save(jDelivering); err != nil {
			return err
		}
		var undos []func() error
		dests, recs := []Destination{r.dest}, r.j.records()
		if m, ok := r.dest.(Destinations); ok {
			dests = m
		}
		for i, d := range dests {
			if err := r.deliverTo(ctx, d, recs[i], &undos); err != nil {
				return err
			}
		}
		return r.save(jDelivered)
	})
	if err != nil {
		return r.fail(ctx, StepDeliver, err)
	}

	if o.Verify {
		err = r.step(StepVerify, fmt.Sprintf("until STS names %s %s in a row", r.name, iamx.Times(o.Successes)), func() error {
			if err := r.verify(ctx, r.newKey.ID, r.newKey.Secret); err != nil {
				return err
			}
			res.Verified = true
			return r.save(jVerified)
		})
		if err != nil {
			return r.fail(ctx, StepVerify, err)
		}
	}

	return r.oldKeyStep(ctx)
}

// deliverTo hands the key to one destination, recorded in jd. A store's
// journal record is written before the write, with what an undo needs
// after a crash (Secrets Manager's versions, the parameter's version).
// The undo joins undos, and r.undo undoes every delivery so far.
func (r *runner) deliverTo(ctx context.Context, d Destination, jd *destRecord, undos *[]func() error) error {
	push := func(u func() error) {
		if u != nil {
			*undos = append(*undos, u)
			r.undo = undoAll(*undos)
		}
	}
	switch d := d.(type) {
	case SecretsManager:
		sd, value, err := d.prepare(ctx, r.newKey)
		if err != nil {
			return err
		}
		jd.SecretARN, jd.PrevVer, jd.PrevPrevVer, jd.CreatedNew = sd.ARN, sd.Previous, sd.BeforePrevious, sd.Created
		if err := r.save(jDelivering); err != nil {
			return err
		}
		push(d.undoFor(sd))
		arn, err := d.write(ctx, sd, value)
		if err != nil {
			return err
		}
		r.delivered = true
		jd.SecretARN, jd.Delivered = arn, true
		return r.save(jDelivering)
	case SSMParameter:
		pd, value, err := d.prepare(ctx, r.newKey)
		if err != nil {
			return err
		}
		jd.PrevVer, jd.KMSKeyID = "", pd.KeyID
		if pd.Previous > 0 {
			jd.PrevVer = strconv.FormatInt(pd.Previous, 10)
		}
		if err := r.save(jDelivering); err != nil {
			return err
		}
		push(d.undoFor(pd))
		if err := d.write(ctx, pd, value); err != nil {
			return err
		}
		r.delivered, jd.Delivered = true, true
		return r.save(jDelivering)
	case GitHubSecrets:
		// Recorded first: from now on GitHub may hold the new key.
		jd.MayHold = true
		if err := r.save(jDelivering); err != nil {
			return err
		}
		mayHold, err := d.deliver(ctx, r.newKey)
		jd.MayHold = mayHold
		if err != nil {
			_ = r.save(jDelivering)
			return err
		}
		r.delivered, jd.Delivered = true, true
		return r.save(jDelivering)
	}
	undo, backup, err := deliver(ctx, d, r.newKey)
	push(undo)
	if err != nil {
		return err
	}
	r.delivered = true
	jd.Backup, jd.Delivered = backup, true
	return r.save(jDelivering)
}

// withOldKey is d with pointers resolved, in delivery order, and the old
// key's ID given to a hook.
func withOldKey(d Destination, oldKeyID string) Destination {
	switch d := d.(type) {
	case *SecretsManager:
		return *d
	case *SSMParameter:
		return *d
	case *CredentialsFile:
		return *d
	case *GitHubSecrets:
		return *d
	case Exec:
		d.OldKeyID = oldKeyID
		return d
	case *Exec:
		return withOldKey(*d, oldKeyID)
	case Destinations:
		out := make(Destinations, 0, len(d))
		for _, x := range d.ordered() {
			out = append(out, withOldKey(x, oldKeyID))
		}
		return out
	}
	return d
}

// deliver hands the key over; for a credentials file it also returns the
// backup, and an undo even when the update failed after replacing the file.
func deliver(ctx context.Context, d Destination, k iamx.NewKey) (undo func() error, backup string, err error) {
	if cf, ok := d.(*CredentialsFile); ok {
		d = *cf
	}
	cf, ok := d.(CredentialsFile)
	if !ok {
		undo, err = d.Deliver(ctx, k)
		return undo, "", err
	}
	undo, backup, err = cf.deliver(ctx, k)
	if err != nil && undo == nil {
		if _, holds := cf.readBack(k.ID); holds {
			undo = func() error { return restoreCredentials(cf.Path, backup) }
		}
	}
	return undo, backup, err
}

// identifier is the part of a client that asks STS who signs (iamx.Client).
type identifier interface {
	CallerIdentity(ctx context.Context) (iamx.Identity, error)
}

// checkJournalAccount refuses a journal another account's run wrote in a
// shared state directory: finishing, undoing or overwriting it here would
// act on keys of another account's user of the same name. When the journal
// names its account and the caller's is not known (a rotation with --user
// asks STS nothing), it asks STS once, through keys.
func checkJournalAccount(ctx context.Context, keys Keys, o *Options, j *journal, name, dir string) error {
	if j == nil || j.Account == "" {
		return nil
	}
	if o.Caller.Account == "" {
		id, ok := keys.(identifier)
		if !ok {
			return nil
		}
		ident, err := id.CallerIdentity(ctx)
		if err != nil {
			return fmt.Errorf("identify the caller's account to check the journal of %s (STS GetCallerIdentity): %w", name, err)
		}
		o.Caller.Account = ident.Account
	}
	if o.Caller.Account != "" && j.Account != o.Caller.Account {
		return fmt.Errorf("%w (%s in account %s, %s): finish it signed into that account (keyrot rotate --user %s), or give each account a state directory of its own",
			ErrForeignJournal, name, j.Account, dir, name)
	}
	return nil
}

// names reports whether id is U.
func (r *runner) names(id iamx.Identity) bool {
	if r.name == iamx.RootUser {
		return id.Root
	}
	if r.o.Caller.Account != "" && id.Account != "" && id.Account != r.o.Caller.Account {
		return false
	}
	return !id.AssumedRole && !id.Root && id.User == r.name
}

// verify polls STS with the new key until it names U o.Successes times in
// a row. Errors (InvalidClientTokenId while IAM propagates the key, above
// all) reset the streak and polling goes on until o.Wait has passed.
func (r *runner) verify(ctx context.Context, id string, secret iamx.Secret) error {
	deadline := r.o.Now().Add(r.o.Wait)
	streak := 0
	var last error
	for {
		ident, err := r.keys.VerifyKey(ctx, id, secret)
		r.res.VerifyCalls++
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case err != nil:
			streak, last = 0, err
		case !r.names(ident):
			return fmt.Errorf("new key %s signs as %s, not as %s", id, ident.Name(), r.name)
		default:
			if r.j != nil && r.j.Account == "" && ident.Account != "" {
				// A rotation with --user asked STS nothing: the new key's
				// identity tells the journal its account.
				r.j.Account = ident.Account
			}
			streak++
			if streak >= r.o.Successes {
				return nil
			}
		}
		if !r.o.Now().Before(deadline) {
			if last == nil {
				last = errors.New("no error")
			}
			return fmt.Errorf("%w: %s did not name %s %s in a row within %s (%s; last error: %v)",
				ErrVerifyTimeout, id, r.name, iamx.Times(r.o.Successes), r.o.Wait, iamx.Count(r.res.VerifyCalls, "call"), last)
		}
		if err := r.o.Sleep(ctx, r.o.PollInterval); err != nil {
			return err
		}
	}
}

// swapToNew makes the new key sign every further call: the old signing key
// may be Inactive from now on.
func (r *runner) swapToNew() {
	if r.j.SelfSigned && r.o.ClientFor != nil && !r.swapped {
		r.client = r.o.ClientFor(r.newKey.ID, r.newKey.Secret)
		r.swapped = true
	}
}

func (r *runner) oldKeyStep(ctx context.Context) error {
	old := r.j.OldKeyID
	res := r.res
	if r.j.replacement() && (r.o.OldKey != Delete || res.DeletedInactive == old) {
		// The replaced key stays Inactive, or the capacity step deleted it.
		if res.DeletedInactive == old {
			res.OldKeyDeleted, res.OldKey.Status = true, ""
		}
		return r.finish()
	}
	if r.j.replacement() {
		// The replaced key is Inactive already: failing to delete it
		// is no reason to take the working replacement away.
		err := r.step(StepOldKey, "delete "+old, func() error {
			err := r.client.DeleteKey(ctx, r.apiUser, old)
			if errors.Is(err, iamx.ErrNotFound) {
				return nil
			}
			return err
		})
		if err != nil {
			res.OldKey.Status, res.OldKeyError = iamx.StatusInactive, err.Error()
		} else {
			res.OldKeyDeleted, res.OldKey.Status = true, ""
		}
		return r.finish()
	}
	if r.o.OldKey == Keep {
		res.OldKey.Status = iamx.StatusActive
		return r.finish()
	}
	err := r.step(StepOldKey, string(r.o.OldKey)+" "+old, func() error {
		r.j.OldTouched = true
		if err := r.save(jOldKey); err != nil {
			return err
		}
		var err error
		if r.o.OldKey == Delete {
			err = r.client.DeleteKey(ctx, r.apiUser, old)
		} else {
			err = r.client.SetStatus(ctx, r.apiUser, old, iamx.StatusInactive)
		}
		r.swapToNew()
		return err
	})
	if err == nil {
		r.setOldFinal()
		return r.finish()
	}
	// The request may have landed although it reported an error (a lost
	// response, an interrupt): look before undoing anything.
	cctx, cancel := r.cleanupContext(ctx)
	defer cancel()
	if ks, lerr := r.client.ListKeys(cctx, r.apiUser); lerr == nil {
		k := findKey(ks, old)
		if k == nil || (r.o.OldKey == Deactivate && k.Status == iamx.StatusInactive) {
			// Gone (deleted by this request, or by another run) counts
			// as deactivated: the old key signs nothing any more.
			r.setOldFinal()
			if k == nil {
				r.res.OldKeyDeleted, r.res.OldKey.Status = true, ""
			}
			if ferr := r.finish(); ferr != nil {
				return ferr
			}
			if ctx.Err() != nil {
				return &InterruptedError{Step: StepOldKey, Err: ctx.Err(), Completed: true}
			}
			return nil
		}
	}
	return r.fail(ctx, StepOldKey, err)
}

func (r *runner) setOldFinal() {
	if r.o.OldKey == Delete {
		r.res.OldKeyDeleted = true
		r.res.OldKey.Status = ""
	} else {
		r.res.OldKey.Status = iamx.StatusInactive
	}
}

func (r *runner) finish() error {
	r.res.NewKey.Status = iamx.StatusActive
	if err := r.save(jDone); err != nil {
		// Everything is done in IAM; only the record is missing.
		return fmt.Errorf("rotation of %s completed but the journal could not be written: %w", r.name, err)
	}
	return nil
}

// createFailed handles a CreateAccessKey that returned an error.
//
// An error response from IAM (HTTP 4xx: LimitExceeded, AccessDenied,
// Throttling ...) means IAM created nothing: there is nothing to clean up.
// A LimitExceeded although U had room when this run looked means another
// rotation of U created a key meanwhile: its key must survive.
//
// end is when the call returned, zero when it was never sent.
//
// Any other failure (no response, a 5xx, an interrupt) is ambiguous: the
// key may exist although its secret never arrived. Such a key is deleted
// only when orphan proves that this run created it; otherwise it is
// reported and left alone.
func (r *runner) createFailed(ctx context.Context, err error, end time.Time) error {
	if end.IsZero() {
		// The journal could not be written, so CreateAccessKey was never sent.
		return r.before(ctx, StepCreate, err)
	}
	if refusedByIAM(err) {
		if errors.Is(err, iamx.ErrKeyLimit) && len(r.j.KeysBefore) < 2 {
			err = &ConcurrentRotationError{User: r.name, Err: err, DeletedInactive: r.res.DeletedInactive}
		}
		return r.before(ctx, StepCreate, err)
	}
	cctx, cancel := r.cleanupContext(ctx)
	defer cancel()
	ks, lerr := r.client.ListKeys(cctx, r.apiUser)
	if lerr != nil {
		// Nothing known to be wrong; the journal lets the next run look again.
		return r.before(ctx, StepCreate, err)
	}
	id, why := r.orphan(cctx, ks, r.j.CreateStarted, end)
	switch {
	case id == "" && why == "":
		return r.before(ctx, StepCreate, err)
	case id == "":
		r.j.Step = jAborted
		_ = r.st.save(r.j)
		return &UnprovenKeyError{User: r.name, Cause: err, Keys: newKeys(ks, r.j.KeysBefore), Reason: why,
			Interrupted: ctx.Err() != nil}
	}
	if derr := r.client.DeleteKey(cctx, r.apiUser, id); derr != nil && !errors.Is(derr, iamx.ErrNotFound) {
		r.j.NewKeyID = id
		_ = r.save(jRollingBack)
		return &RollbackFailedError{User: r.name, Step: StepCreate, Cause: fmt.Errorf("CreateAccessKey failed but created a key: %w", err),
			RollbackErr: fmt.Errorf("could not delete %s: %w", id, derr), OldKeyID: r.j.OldKeyID, NewKeyID: id,
			SecretState: "never received: the key is unusable and must be deleted",
			Recovery:    deleteCommands(r.name, []string{id}), Interrupted: ctx.Err() != nil}
	}
	return r.before(ctx, StepCreate, err)
}

// refusedByIAM reports whether IAM answered the request with an error
// response (HTTP 4xx), which means it changed nothing.
func refusedByIAM(err error) bool {
	var e *iamx.Error
	return errors.As(err, &e) && e.HTTPStatus >= 400 && e.HTTPStatus < 500
}

// orphanSlack covers IAM's one-second resolution of CreateDate.
const orphanSlack = time.Second

// orphan decides whether a key that appeared around an ambiguous create is
// this run's own, whose secret never arrived. It returns the key to delete,
// or why no key may be deleted ("" and "" when no key appeared). The rule
// (docs/rotation.md, "Orphans"): exactly one key is new; IAM created it
// within this run's create call (from started to end, when end is known);
// every key U had before is still there, the old key in the status the
// plan saw (another rotation would have changed it); and the new key has
// never been used (another run verifies or uses its key at once). Another
// keyrot run on this machine cannot own it: this run holds U's lock.
func (r *runner) orphan(ctx context.Context, ks []iamx.Key, started, end time.Time) (id, why string) {
	fresh := newKeys(ks, r.j.KeysBefore)
	switch {
	case len(fresh) == 0:
		return "", ""
	case len(fresh) > 1:
		return "", fmt.Sprintf("%d keys appeared, so keyrot cannot tell which one its create made", len(fresh))
	}
	k := fresh[0]
	if !started.IsZero() && k.Created.Before(started.Truncate(time.Second).Add(-orphanSlack)) {
		return "", fmt.Sprintf("it was created at %s, before this run's create began", k.Created.UTC().Format(time.RFC3339))
	}
	if !end.IsZero() && k.Created.After(end.Add(orphanSlack)) {
		return "", fmt.Sprintf("it was created at %s, after this run's create ended", k.Created.UTC().Format(time.RFC3339))
	}
	for _, before := range r.j.KeysBefore {
		b := findKey(ks, before)
		switch {
		case b == nil:
			return "", fmt.Sprintf("key %s was deleted meanwhile, so another rotation of %s is at work", before, r.name)
		case before == r.j.OldKeyID && r.j.OldStatus != "" && b.Status != r.j.OldStatus:
			return "", fmt.Sprintf("old key %s became %s meanwhile, so another rotation of %s is at work", before, b.Status, r.name)
		}
	}
	if lu, ok := r.keys.(interface {
		LastUsed(context.Context, string) (iamx.LastUsed, error)
	}); ok {
		used, err := lu.LastUsed(ctx, k.ID)
		switch {
		case err != nil:
			return "", fmt.Sprintf("its last use could not be read (%v)", err)
		case !used.Never():
			return "", fmt.Sprintf("it was used at %s, so someone holds its secret", used.Date.UTC().Format(time.RFC3339))
		}
	}
	return k.ID, ""
}

// newKeys are the keys of ks that are not in before.
func newKeys(ks []iamx.Key, before []string) []iamx.Key {
	var out []iamx.Key
	for _, k := range ks {
		if !contains(before, k.ID) {
			out = append(out, k)
		}
	}
	return out
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}
