package rotate

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/keyrot/keyrot/iamx"
)

// RollbackOptions shape Rollback. Zero fields take the Options defaults.
type RollbackOptions struct {
	// User is U; "" means the caller (Caller must then name it).
	User   string
	Caller iamx.Identity
	// Signer is the signing key: deactivating it is refused (lockout
	// guard) when no credentials backup restores the old key, unless Force.
	Signer iamx.Signer
	Force  bool
	// DeleteNew deletes the new key instead of deactivating it.
	DeleteNew bool
	StateDir  string
	LockWait  time.Duration
	Now       func() time.Time
	Sleep     func(ctx context.Context, d time.Duration) error
	OnStep    func(Step)
	// DryRun reports what would be done, changing nothing.
	DryRun bool
	// Secrets and Parameters reach a secret or a parameter the journal
	// names.
	Secrets    SecretStore
	Parameters ParameterStore
	GitHub     GitHubAPI
}

// RollbackResult reports a rollback. It never holds a secret.
type RollbackResult struct {
	User string
	// OldKeyID is Active again; NewKeyID is Inactive, or deleted when
	// NewKeyDeleted.
	OldKeyID      string
	NewKeyID      string
	NewKeyDeleted bool
	// Restored names the credentials file restored from its backup.
	Restored string `json:",omitempty"`
	// Replacement: the rotation undone replaced a key that was Inactive
	// before it; that key stays Inactive.
	Replacement bool `json:",omitempty"`
	// Inferred is set when no journal described the rotation and the keys
	// were told apart from IAM state alone; Explanation says how.
	Inferred    bool
	Explanation string
	// Recovered is set when the rotation undone was an unfinished one.
	Recovered *Recovery `json:",omitempty"`
	DryRun    bool
	Actions   []string
}

// Rollback undoes the last rotation of U: reactivate the old key,
// deactivate the new one (delete it with DeleteNew), restore the
// credentials file backup the journal recorded. An unfinished rotation in
// the journal is undone first and that is all. Without a usable journal
// it infers the rotation from IAM alone: exactly two keys, the newer
// Active and the older Inactive. Anything else is refused with an
// *AmbiguousError. It takes U's lock like Run.
func Rollback(ctx context.Context, keys Keys, ro RollbackOptions) (RollbackResult, error) {
	o := Options{User: ro.User, Caller: ro.Caller, Signer: ro.Signer, Force: ro.Force, StateDir: ro.StateDir, Secrets: ro.Secrets, Parameters: ro.Parameters, GitHub: ro.GitHub,
		LockWait: ro.LockWait, Now: ro.Now, Sleep: ro.Sleep, OnStep: ro.OnStep}.withDefaults()
	name, apiUser, err := o.target()
	if err != nil {
		return RollbackResult{}, err
	}
	out := RollbackResult{User: name, DryRun: ro.DryRun}
	dir, err := stateDir(o)
	if err != nil {
		return out, err
	}
	if err := ensureStateDir(dir); err != nil {
		return out, err
	}
	st := store{path: stateFile(dir, name, ".json"), now: o.Now}
	j, err := st.load()
	if err != nil {
		return out, err
	}
	if err := checkJournalAccount(ctx, keys, &o, j, name, dir); err != nil {
		return out, err
	}
	if ro.DryRun {
		return rollbackPlan(ctx, keys, o, ro, name, apiUser, j, out)
	}
	release, err := lockUser(ctx, o, dir, name)
	if err != nil {
		return out, err
	}
	defer release()
	j, err = st.load() // it may have changed while we waited
	if err != nil {
		return out, err
	}
	var res Result
	r := &runner{o: o, keys: keys, client: keys, name: name, apiUser: apiUser, res: &res, st: st}

	if j != nil && !j.finished() {
		var rec *Recovery
		err := r.step(StepRecover, "journal step "+j.Step, func() error {
			var err error
			rec, _, err = r.recover(ctx, j, true, ro.DeleteNew)
			return err
		})
		out.Recovered, out.OldKeyID, out.NewKeyID = rec, j.OldKeyID, j.NewKeyID
		out.Explanation = "undid the unfinished rotation recorded in the journal"
		if rec != nil {
			out.Explanation += ": " + rec.Detail
		}
		return out, err
	}

	var ks []iamx.Key
	err = r.step(StepInspect, "", func() error {
		var err error
		ks, err = keys.ListKeys(ctx, apiUser)
		return err
	})
	if err != nil {
		return out, &StepError{User: name, Step: StepInspect, Err: err}
	}
	old, nw, undo, restoreTo, err := rollbackTarget(o, name, j, ks, &out)
	if err != nil {
		return out, err
	}
	if err := refuseContained(ctx, keys, apiUser, name, old, &out); err != nil {
		return out, err
	}
	if j == nil || j.Step != jDone || j.RolledBackByHand {
		j = &journal{User: name, APIUser: apiUser, OldKeyID: old.ID, NewKeyID: nw.ID, Started: o.Now().UTC()}
	}
	r.j = j
	r.j.KeysBefore = nil
	r.undo = undo
	if undo != nil {
		r.dest = restoreTo
	}
	var us undoState
	err = r.step(StepRollback, "", func() error {
		us = r.undoRotation(ctx, !ro.DeleteNew)
		return us.err()
	})
	if err != nil {
		return out, r.rollbackFailed(StepRollback, fmt.Errorf("rollback of %s requested", name), err, us, ctx.Err() != nil)
	}
	out.NewKeyDeleted, out.Restored = ro.DeleteNew, us.restored
	// Actions holds the reactivation already; add what the undo did next.
	if us.newGone && ro.DeleteNew {
		out.Actions = append(out.Actions, "delete access key "+nw.ID)
	} else if us.newGone {
		out.Actions = append(out.Actions, "deactivate access key "+nw.ID)
	}
	if us.restored != "" {
		out.Actions = append(out.Actions, "restore "+us.restored+" to what it held before")
	}
	j.RolledBackByHand = true
	return out, r.save(jRolledBack)
}

// rollbackTarget decides which key is old and which is new, from the
// journal of a completed rotation or from IAM state.
func rollbackTarget(o Options, name string, j *journal, ks []iamx.Key, out *RollbackResult) (old, nw iamx.Key, undo func() error, restore Destination, err error) {
	if j != nil && j.Step == jDone && !j.RolledBackByHand {
		po, pn := findKey(ks, j.OldKeyID), findKey(ks, j.NewKeyID)
		switch {
		case po == nil:
			return old, nw, nil, nil, &AmbiguousError{User: name, Keys: ks, Reason: fmt.Sprintf("the last rotation's old key %s no longer exists (deleted by --old-key delete?)", j.OldKeyID)}
		case pn == nil:
			return old, nw, nil, nil, &AmbiguousError{User: name, Keys: ks, Reason: fmt.Sprintf("the last rotation's new key %s no longer exists", j.NewKeyID)}
		}
		old, nw = *po, *pn
		out.Explanation = fmt.Sprintf("the journal records the rotation of %s from %s to %s on %s", name, old.ID, nw.ID, j.Started.Format(time.RFC3339))
		ctx, cancel := context.WithTimeout(context.Background(), DefaultCleanupTimeout)
		defer cancel()
		var undos []func() error
		var dests Destinations
		for _, dr := range j.records() {
			if dr.Kind == KindGitHub && dr.MayHold {
				out.Explanation += fmt.Sprintf("; %s still hold %s, which keyrot cannot undo: set them to the old key's ID and secret", dr.Where, nw.ID)
			}
			if !dr.Delivered || !revertibleKind(dr.Kind) {
				continue
			}
			f, ferr := o.findAgain(ctx, dr, nw.ID, j.Started)
			switch {
			case ferr != nil:
				return old, nw, nil, nil, ferr
			case f.dest == nil:
			case f.holds && f.undo != nil:
				undos, dests = append(undos, f.undo), append(dests, f.dest)
			default:
				out.Explanation += fmt.Sprintf("; %s no longer holds %s, so it is left alone", f.dest.Describe(), nw.ID)
			}
		}
		if len(undos) > 0 {
			undo, restore = undoAll(undos), dests
			if len(dests) == 1 {
				restore = dests[0]
			}
		}
	} else {
		if len(ks) != 2 || ks[0].Status != iamx.StatusInactive || ks[1].Status != iamx.StatusActive || !ks[1].Created.After(ks[0].Created) {
			return old, nw, nil, nil, &AmbiguousError{User: name, Keys: ks,
				Reason: fmt.Sprintf("no rotation journal in the state directory, and IAM state is not one newer Active key plus one older Inactive key (%s)", describeKeys(ks))}
		}
		old, nw = ks[0], ks[1]
		out.Inferred = true
		out.Explanation = fmt.Sprintf("no rotation journal for %s; inferred from IAM: the newer key %s (created %s) is Active and the older key %s (created %s) is Inactive; no credentials file is restored",
			name, nw.ID, nw.Created.UTC().Format(time.RFC3339), old.ID, old.Created.UTC().Format(time.RFC3339))
	}
	out.OldKeyID, out.NewKeyID = old.ID, nw.ID
	if o.Signer.AccessKeyID == nw.ID && undo == nil && !o.Force {
		return old, nw, nil, nil, &LockoutError{KeyID: nw.ID, Reason: "rolling back deactivates it and no credentials backup puts the old key's secret back"}
	}
	switch {
	case j != nil && j.Step == jDone && !j.RolledBackByHand && j.replacement():
		out.Replacement = true
		out.Explanation += fmt.Sprintf("; %s was Inactive before that rotation (a replacement) and stays Inactive", old.ID)
	case old.Status != iamx.StatusActive:
		out.Actions = append(out.Actions, "reactivate access key "+old.ID)
	}
	return old, nw, undo, restore, nil
}

// RevokePolicyPrefix starts the name of the inline policy keyrot contain
// puts on a user; the contained key's ID follows.
const RevokePolicyPrefix = "keyrot-revoke-sessions-"

// refuseContained asks IAM whether the key a rollback would reactivate
// was contained since (keyrot contain leaves its revoke-sessions policy on
// the user): such a key is never reactivated. An inferred rollback cannot
// otherwise tell a replacement from a rotation, and a journal's old key
// may have leaked after the rotation.
func refuseContained(ctx context.Context, keys Keys, apiUser, name string, old iamx.Key, out *RollbackResult) error {
	pr, ok := keys.(interface {
		UserPolicy(ctx context.Context, user, policy string) (string, error)
	})
	if !ok || out.Replacement || old.Status == iamx.StatusActive {
		return nil
	}
	user := apiUser
	if user == "" {
		user = name
	}
	policy := RevokePolicyPrefix + old.ID
	_, err := pr.UserPolicy(ctx, user, policy)
	switch {
	case errors.Is(err, iamx.ErrNotFound):
		return nil
	case err != nil:
		return fmt.Errorf("cannot roll back %s: whether %s was contained could not be checked (GetUserPolicy %s), and a contained key is never reactivated: %w", name, old.ID, policy, err)
	}
	return &AmbiguousError{User: name, Reason: fmt.Sprintf("the old key %s was contained by keyrot contain (inline policy %s on %s); keyrot never reactivates a contained key (to turn the newer key off: keyrot deactivate --user %s --access-key-id %s)",
		old.ID, policy, name, name, out.NewKeyID)}
}

func describeKeys(ks []iamx.Key) string {
	if len(ks) == 0 {
		return "no keys"
	}
	s := ""
	for i, k := range ks {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprintf("%s %s created %s", k.ID, k.Status, k.Created.UTC().Format(time.RFC3339))
	}
	return s
}

// rollbackPlan is Rollback's dry run: one ListAccessKeys, no change.
func rollbackPlan(ctx context.Context, keys Keys, o Options, ro RollbackOptions, name, apiUser string, j *journal, out RollbackResult) (RollbackResult, error) {
	ks, err := keys.ListKeys(ctx, apiUser)
	if err != nil {
		return out, &StepError{User: name, Step: StepInspect, Err: err}
	}
	if j != nil && !j.finished() {
		out.OldKeyID, out.NewKeyID = j.OldKeyID, j.NewKeyID
		out.Explanation = fmt.Sprintf("the journal holds an unfinished rotation (step %q): it would be undone", j.Step)
		out.Actions = []string{fmt.Sprintf("undo the rotation from %s to %s", j.OldKeyID, orNone(j.NewKeyID))}
		return out, nil
	}
	old, nw, _, restore, err := rollbackTarget(o, name, j, ks, &out)
	if err != nil {
		return out, err
	}
	if err := refuseContained(ctx, keys, apiUser, name, old, &out); err != nil {
		return out, err
	}
	if ro.DeleteNew {
		out.Actions = append(out.Actions, "delete access key "+nw.ID)
	} else {
		out.Actions = append(out.Actions, "deactivate access key "+nw.ID)
	}
	if restore != nil {
		out.Actions = append(out.Actions, "restore "+restore.Describe()+" to what it held before")
	}
	return out, nil
}
