package rotate

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/keyrot/keyrot/iamx"
	"github.com/keyrot/keyrot/rotate/credfile"
)

func restoreCredentials(path, backup string) error { return credfile.Restore(path, backup) }

// undoState is how far an undo got.
type undoState struct {
	oldActive bool
	newGone   bool   // deleted, or (deactivateNew) Inactive
	restored  string // the destination restored, "" if none
	errs      []error
}

func (s undoState) err() error { return errors.Join(s.errs...) }

// undoRotation puts the old key back: reactivate it if it may have been
// changed, then delete (or deactivate) the new key, then undo the
// destination. It never deletes the new key unless the old one is Active,
// and never undoes the destination while the new key lives, so a working
// secret is never lost. It lists U's keys first to act on the true state.
func (r *runner) undoRotation(ctx context.Context, deactivateNew bool) undoState {
	_ = r.save(jRollingBack)
	oldID, newID := r.j.OldKeyID, r.j.NewKeyID
	ks, lerr := r.client.ListKeys(ctx, r.apiUser)
	if lerr != nil && r.swapped {
		ks, lerr = r.keys.ListKeys(ctx, r.apiUser)
	}
	known := lerr == nil
	var st undoState
	var old, nw *iamx.Key
	if known {
		old, nw = findKey(ks, oldID), findKey(ks, newID)
	}
	switch {
	case r.j.replacement():
		// The old key was Inactive before the rotation: it stays so, and
		// U is back where it began once the new key is gone.
		st.oldActive = true
	case known && old == nil:
		st.errs = append(st.errs, fmt.Errorf("old key %s no longer exists", oldID))
	case (known && old.Status != iamx.StatusActive) || (!known && r.j.OldTouched):
		if err := r.client.SetStatus(ctx, r.apiUser, oldID, iamx.StatusActive); err != nil {
			st.errs = append(st.errs, fmt.Errorf("reactivate old key %s: %w", oldID, err))
		} else {
			st.oldActive = true
		}
	default:
		st.oldActive = true
	}
	switch {
	case known && nw == nil:
		st.newGone = true
	case known && deactivateNew && nw.Status == iamx.StatusInactive:
		st.newGone = true
	case !st.oldActive:
		st.errs = append(st.errs, fmt.Errorf("new key %s left Active: the old key is not Active, so it may be %s's only working key", newID, r.name))
	default:
		var err error
		if deactivateNew {
			err = r.client.SetStatus(ctx, r.apiUser, newID, iamx.StatusInactive)
		} else {
			err = r.client.DeleteKey(ctx, r.apiUser, newID)
		}
		switch {
		case err == nil, !deactivateNew && errors.Is(err, iamx.ErrNotFound):
			st.newGone = true
		default:
			verb := "delete"
			if deactivateNew {
				verb = "deactivate"
			}
			st.errs = append(st.errs, fmt.Errorf("%s new key %s: %w", verb, newID, err))
		}
	}
	if r.undo != nil && st.newGone {
		if err := r.undo(); err != nil {
			st.errs = append(st.errs, fmt.Errorf("restore %s: %w", r.dest.Describe(), err))
		} else {
			st.restored = r.dest.Describe()
		}
	}
	if len(st.errs) > 0 && lerr != nil {
		st.errs = append(st.errs, fmt.Errorf("list keys: %w", lerr))
	}
	return st
}

// fail rolls back after step failed with cause, once the new key exists.
// The rollback runs on a context that survives an interrupt.
func (r *runner) fail(ctx context.Context, step string, cause error) error {
	interrupted := ctx.Err() != nil
	cctx, cancel := r.cleanupContext(ctx)
	defer cancel()
	if len(r.j.heldBy()) > 0 {
		return r.hold(cctx, step, cause, interrupted)
	}
	var st undoState
	rbErr := r.step(StepRollback, "after "+step+" failed", func() error {
		st = r.undoRotation(cctx, false)
		return st.err()
	})
	if rbErr == nil {
		r.j.Step = jRolledBack
		_ = r.st.save(r.j)
		r.res.OldKey.Status, r.res.NewKey.Status = iamx.StatusActive, ""
		if r.j.replacement() {
			r.res.OldKey.Status = iamx.StatusInactive
		}
		return &RolledBackError{User: r.name, Step: step, Cause: cause, OldKeyID: r.j.OldKeyID,
			NewKeyID: r.j.NewKeyID, Interrupted: interrupted, Restored: st.restored, Replacement: r.j.replacement()}
	}
	return r.rollbackFailed(step, cause, rbErr, st, interrupted)
}

// rollbackFailed builds the exit-9 error: the recovery commands, and the
// fate of the new secret.
func (r *runner) rollbackFailed(step string, cause, rbErr error, st undoState, interrupted bool) error {
	r.j.Step = jRollingBack
	_ = r.st.save(r.j)
	e := &RollbackFailedError{User: r.name, Step: step, Cause: cause, RollbackErr: rbErr,
		OldKeyID: r.j.OldKeyID, NewKeyID: r.j.NewKeyID, Interrupted: interrupted}
	switch {
	case st.newGone:
		e.SecretState = "destroyed: the new key was deleted"
	case r.delivered || r.j.delivered():
		e.SecretState = fmt.Sprintf("delivered to %s; the new key is still Active", r.j.where())
	default:
		e.SecretState = "never delivered: the new key is still Active and its secret exists only in this error (NewSecret); delete the key"
		e.NewSecret = r.newKey.Secret
	}
	u := userFlags(r.name)
	if !st.oldActive {
		e.Recovery = append(e.Recovery,
			fmt.Sprintf("keyrot activate%s --access-key-id %s", u.keyrot, r.j.OldKeyID),
			fmt.Sprintf("aws iam update-access-key%s --access-key-id %s --status Active", u.aws, r.j.OldKeyID))
	}
	if !st.newGone {
		e.Recovery = append(e.Recovery, deleteCommands(r.name, []string{r.j.NewKeyID})...)
	}
	for _, dr := range r.j.records() {
		if r.undo == nil || st.restored != "" || dr.Kind != KindCredentialsFile {
			continue
		}
		if b := dr.Backup; b != "" {
			e.Recovery = append(e.Recovery, fmt.Sprintf("cp -p -- %s %s", shellQuote(b), shellQuote(dr.Path)))
		} else if dr.Delivered {
			e.Recovery = append(e.Recovery, fmt.Sprintf("rm -- %s", shellQuote(dr.Path)))
		}
	}
	return e
}

type flags struct{ keyrot, aws string }

func userFlags(name string) flags {
	if name == iamx.RootUser {
		return flags{}
	}
	return flags{keyrot: " --user " + name, aws: " --user-name " + name}
}

func deleteCommands(name string, ids []string) []string {
	var cmds []string
	for _, id := range ids {
		cmds = append(cmds, fmt.Sprintf("aws iam delete-access-key%s --access-key-id %s", userFlags(name).aws, id))
	}
	return cmds
}

// shellQuote quotes s for sh.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// findBackup finds the backup Update wrote for path since started, when
// a crash kept it out of the journal. "" means none found.
func findBackup(path string, started time.Time) string {
	matches, _ := filepath.Glob(path + ".keyrot-backup-*")
	type cand struct {
		p string
		t time.Time
	}
	var cs []cand
	for _, m := range matches {
		fi, err := os.Stat(m)
		if err == nil && !fi.ModTime().Before(started.Add(-2*time.Second)) {
			cs = append(cs, cand{m, fi.ModTime()})
		}
	}
	if len(cs) == 0 {
		return ""
	}
	sort.Slice(cs, func(i, j int) bool { return cs[i].t.After(cs[j].t) })
	return cs[0].p
}

// recover resumes or undoes the unfinished rotation j. With rollbackOnly
// it always undoes (deactivating rather than deleting a delivered new key
// unless deleteNew); otherwise a new key that was delivered and can be
// verified is kept and the rotation finished. finished reports that.
func (r *runner) recover(ctx context.Context, j *journal, rollbackOnly, deleteNew bool) (rec *Recovery, finished bool, err error) {
	r.j = j
	rec = &Recovery{Step: j.Step, OldKeyID: j.OldKeyID, NewKeyID: j.NewKeyID}
	ks, err := r.keys.ListKeys(ctx, r.apiUser)
	if err != nil {
		return rec, false, &StepError{User: r.name, Step: StepRecover, Err: err}
	}
	old := findKey(ks, j.OldKeyID)

	// The new key is in its destinations when every one that can be
	// read back holds it; then its secret is known again.
	var secret iamx.Secret
	inDest := false
	if j.NewKeyID != "" {
		var undos []func() error
		var dests Destinations
		allHold, readable := true, false
		for _, dr := range j.records() {
			f, err := r.o.findAgain(ctx, dr, j.NewKeyID, j.Started)
			if err != nil {
				return rec, false, &StepError{User: r.name, Step: StepRecover, Err: err}
			}
			if f.dest != nil {
				dests = append(dests, f.dest)
			}
			if revertibleKind(dr.Kind) {
				readable, allHold = true, allHold && f.holds
			}
			if f.holds {
				secret = f.secret
				if f.undo != nil {
					undos = append(undos, f.undo)
				}
			}
		}
		inDest = readable && allHold
		if len(undos) > 0 {
			r.undo = undoAll(undos)
		}
		switch len(dests) {
		case 0:
		case 1:
			r.dest = dests[0]
		default:
			r.dest = dests
		}
	}
	r.delivered = j.delivered() || inDest

	switch {
	case j.Step == jStarted || j.Step == jDeleteInactive:
		rec.Action, rec.Detail = "cleaned up", "the earlier run stopped before creating a key; nothing to undo"
		return rec, false, r.save(jAborted)
	case j.NewKeyID == "":
		return rec, false, r.recoverCreate(ctx, ks, rec)
	}
	nw := findKey(ks, j.NewKeyID)
	r.newKey = iamx.NewKey{Key: iamx.Key{ID: j.NewKeyID, User: r.name}, Secret: secret}
	if nw != nil {
		r.newKey.Key = *nw
	}

	// A replacement may have deleted its old key on purpose
	// (--delete-inactive): a missing old key proves nothing then.
	oldGone := old == nil && !j.replacement()
	// GitHub's secrets may hold the new key: it is never deleted here.
	// With its secret known again, they are written again and the
	// rotation goes on; without, it finishes only when they got the whole
	// key and the user takes the verification on (--no-verify).
	held := nw != nil && len(j.heldBy()) > 0 && !rollbackOnly && j.Step != jRollingBack
	heldDone := held && !inDest && j.heldDelivered() && !r.o.Verify
	if held && !inDest && !heldDone {
		return rec, false, r.hold(ctx, StepRecover, errors.New("an earlier rotation stopped after writing GitHub Actions secrets"), ctx.Err() != nil)
	}
	forward := !rollbackOnly && nw != nil && j.Step != jRollingBack &&
		(j.Step == jVerified || j.Step == jOldKey || inDest || oldGone || heldDone)
	if forward && inDest {
		if err := r.redeliverGitHub(ctx, j); err != nil {
			if len(j.heldBy()) > 0 {
				return rec, false, r.hold(ctx, StepRecover, err, ctx.Err() != nil)
			}
			forward = false
			rec.Detail = fmt.Sprintf("the GitHub secrets could not be written (%v); ", err)
		}
	}
	if forward && j.Step != jVerified && j.Step != jOldKey && !oldGone && r.o.Verify {
		if verr := r.verify(ctx, j.NewKeyID, secret); verr != nil {
			if ctx.Err() != nil {
				return rec, false, &InterruptedError{Step: StepRecover, Err: ctx.Err()}
			}
			if len(j.heldBy()) > 0 {
				return rec, false, r.hold(ctx, StepRecover, verr, false)
			}
			forward = false
			rec.Detail = fmt.Sprintf("the new key did not verify (%v); ", verr)
		}
	}
	if forward {
		r.res.NewKey, r.res.Destination = r.newKey.Key, j.where()
		if old != nil {
			r.res.OldKey = *old
			switch j.Policy {
			case Delete:
				if err := r.keys.DeleteKey(ctx, r.apiUser, old.ID); err != nil && !errors.Is(err, iamx.ErrNotFound) {
					return rec, false, &StepError{User: r.name, Step: StepRecover, Err: err}
				}
				r.res.OldKeyDeleted, r.res.OldKey.Status = true, ""
			case Keep:
			default:
				if old.Status == iamx.StatusActive {
					if err := r.keys.SetStatus(ctx, r.apiUser, old.ID, iamx.StatusInactive); err != nil {
						return rec, false, &StepError{User: r.name, Step: StepRecover, Err: err}
					}
				}
				r.res.OldKey.Status = iamx.StatusInactive
			}
		} else {
			r.res.OldKey, r.res.OldKeyDeleted = iamx.Key{ID: j.OldKeyID}, true
		}
		rec.Action = "finished"
		rec.Detail += fmt.Sprintf("new key %s, delivered to %s, kept; old key %s: %s", j.NewKeyID, j.where(), j.OldKeyID, j.Policy)
		r.res.Verified = r.o.Verify || j.Step == jVerified || j.Step == jOldKey
		return rec, true, r.finish()
	}

	if old == nil && !j.replacement() {
		return rec, false, &AmbiguousError{User: r.name, Keys: ks,
			Reason: fmt.Sprintf("old key %s no longer exists, so the rotation to %s cannot be undone", j.OldKeyID, j.NewKeyID)}
	}
	deactivate := rollbackOnly && !deleteNew && r.delivered
	st := r.undoRotation(ctx, deactivate)
	if err := st.err(); err != nil {
		return rec, false, r.rollbackFailed(StepRecover, errors.New("unfinished rotation found in the journal"), err, st, ctx.Err() != nil)
	}
	rec.Action = "rolled back"
	oldState := fmt.Sprintf("old key %s is Active", j.OldKeyID)
	if j.replacement() {
		oldState = fmt.Sprintf("old key %s stays Inactive", j.OldKeyID)
	}
	switch {
	case nw == nil:
		rec.Detail += fmt.Sprintf("new key %s was already gone; %s", j.NewKeyID, oldState)
	case !r.delivered:
		rec.Detail += fmt.Sprintf("deleted new key %s, whose secret never reached %s; %s", j.NewKeyID, j.where(), oldState)
	case deactivate:
		rec.Detail += fmt.Sprintf("deactivated new key %s; %s", j.NewKeyID, oldState)
	default:
		rec.Detail += fmt.Sprintf("deleted new key %s (delivered to %s but not verifiable after the crash); %s", j.NewKeyID, j.where(), oldState)
	}
	if st.restored != "" {
		rec.Detail += "; restored " + st.restored
	}
	for _, h := range j.heldBy() {
		rec.Detail += fmt.Sprintf("; %s may still hold %s, which keyrot cannot undo: set them to a working key", h.Where, j.NewKeyID)
	}
	return rec, false, r.save(jRolledBack)
}

// recoverCreate handles a run that stopped during CreateAccessKey: a key
// that appeared since has a secret nobody received, and is deleted when
// orphan proves the interrupted create made it (the call's end is unknown,
// so only its start bounds the key's creation). Otherwise it is reported
// and left alone.
func (r *runner) recoverCreate(ctx context.Context, ks []iamx.Key, rec *Recovery) error {
	started := r.j.CreateStarted
	if started.IsZero() {
		started = r.j.Updated // journals before createStarted: saved as the create began
	}
	id, why := r.orphan(ctx, ks, started, time.Time{})
	rec.Action = "cleaned up"
	switch {
	case id == "" && why == "":
		rec.Detail = "the interrupted create left no key behind"
	case id == "":
		_ = r.save(jAborted)
		return &UnprovenKeyError{User: r.name, Cause: errors.New("an earlier run was interrupted during CreateAccessKey"),
			Keys: newKeys(ks, r.j.KeysBefore), Reason: why}
	default:
		if err := r.keys.DeleteKey(ctx, r.apiUser, id); err != nil && !errors.Is(err, iamx.ErrNotFound) {
			r.j.NewKeyID = id
			return r.rollbackFailed(StepRecover, errors.New("key created by an interrupted run"), err, undoState{oldActive: true}, false)
		}
		rec.NewKeyID = id
		rec.Detail = fmt.Sprintf("deleted key %s created by the interrupted run: its secret was never received", id)
	}
	return r.save(jAborted)
}
