package rotate

import (
	"context"
	"fmt"

	"github.com/keyrot/keyrot/iamx"
)

// maxKeys is IAM's AccessKeysPerUser quota.
const maxKeys = 2

// RotationPlan is what a rotation will do, worked out from ListAccessKeys
// alone. Plan returns it; Run returns it in Result.Plan for a dry run.
type RotationPlan struct {
	User string
	// SelfRotation: U is the caller. SelfSigned: the old key signs the
	// requests, so the lockout guard applies.
	SelfRotation bool
	SelfSigned   bool
	Keys         []iamx.Key // U's keys, oldest first
	OldKey       iamx.Key
	// Replacement: U has no Active key, so the rotation issues a new one
	// and the Inactive OldKey stays Inactive (or is deleted with
	// --old-key delete); nothing reactivates it, not even a rollback.
	Replacement bool `json:",omitempty"`
	// DeleteInactive is the Inactive key the capacity step deletes, "" if none.
	DeleteInactive string
	OldKeyPolicy   OldKeyPolicy
	Destination    string
	Verify         bool
	NothingToDo    bool
	Reason         string
	// Unfinished describes an interrupted rotation that Run resumes or
	// rolls back before anything else, "" if none.
	Unfinished string
	// Actions are the changes, in order, as sentences.
	Actions []string
}

// Plan works out the rotation Run would perform, with one ListAccessKeys
// call and no change. It returns the errors Run would return before its
// first change: *KeyLimitError, *LockoutError, input errors.
func Plan(ctx context.Context, keys Keys, opts Options) (RotationPlan, error) {
	o := opts.withDefaults()
	if err := o.validate(); err != nil {
		return RotationPlan{}, err
	}
	name, apiUser, err := o.target()
	if err != nil {
		return RotationPlan{}, err
	}
	if o.Destination, err = o.destinationFor(name); err != nil {
		return RotationPlan{}, err
	}
	p, err := plan(ctx, keys, o, name, apiUser)
	if err != nil {
		return p, err
	}
	if o.Destination != nil && !p.NothingToDo {
		if err := precheck(ctx, o.Destination); err != nil {
			return p, err
		}
	}
	if dir, derr := stateDir(o); derr == nil {
		if j, jerr := (store{path: stateFile(dir, name, ".json"), now: o.Now}).load(); jerr != nil {
			p.Unfinished = jerr.Error()
		} else if j != nil && !j.finished() {
			p.Unfinished = fmt.Sprintf("a rotation of %s stopped at step %q (old key %s, new key %s) is resumed or rolled back first",
				name, j.Step, j.OldKeyID, orNone(j.NewKeyID))
		}
	}
	return p, nil
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func stateDir(o Options) (string, error) {
	if o.StateDir != "" {
		return o.StateDir, nil
	}
	return DefaultStateDir()
}

func findKey(ks []iamx.Key, id string) *iamx.Key {
	for i := range ks {
		if ks[i].ID == id {
			return &ks[i]
		}
	}
	return nil
}

func plan(ctx context.Context, keys Keys, o Options, name, apiUser string) (RotationPlan, error) {
	p := RotationPlan{User: name, SelfRotation: o.self(name), OldKeyPolicy: o.OldKey, Verify: o.Verify}
	if o.Destination != nil {
		p.Destination = o.Destination.Describe()
	}
	ks, err := keys.ListKeys(ctx, apiUser)
	if err != nil {
		return p, &StepError{User: name, Step: StepInspect, Err: err}
	}
	p.Keys = ks
	var old *iamx.Key
	switch {
	case o.OldKeyID != "" && o.SkipIfNotActive && (findKey(ks, o.OldKeyID) == nil || findKey(ks, o.OldKeyID).Status != iamx.StatusActive):
		p.NothingToDo, p.Reason = true, "access key "+o.OldKeyID+" of "+name+" is no longer Active (rotated since it was chosen): nothing to rotate"
		return p, nil
	case o.OldKeyID != "":
		old = findKey(ks, o.OldKeyID)
		if old == nil {
			return p, &StepError{User: name, Step: StepInspect, Err: fmt.Errorf("%w: access key %s is not one of %s's keys", iamx.ErrNotFound, o.OldKeyID, name)}
		}
		if old.Status != iamx.StatusActive {
			for _, k := range ks {
				if k.Status == iamx.StatusActive {
					return p, &iamx.InputError{Field: "--access-key-id", Value: o.OldKeyID,
						Rule: fmt.Sprintf("the key is Inactive and %s still has Active key %s: rotate that one, or deactivate it first to replace %s", name, k.ID, o.OldKeyID)}
				}
			}
			p.Replacement = true
		}
	case len(ks) == 0:
		p.NothingToDo, p.Reason = true, name+" has no access keys: nothing to rotate"
		return p, nil
	default:
		var active []*iamx.Key
		for i := range ks {
			if ks[i].Status == iamx.StatusActive {
				active = append(active, &ks[i])
			}
			if o.Signer.AccessKeyID != "" && ks[i].ID == o.Signer.AccessKeyID && ks[i].Status == iamx.StatusActive {
				old = &ks[i]
			}
		}
		switch {
		case old != nil:
		case len(active) == 0 && len(ks) == 1:
			old, p.Replacement = &ks[0], true
		case len(active) == 0:
			return p, &ChooseKeyError{User: name, Keys: ks}
		case len(active) == 1:
			old = active[0]
		default:
			return p, &KeyLimitError{User: name, InTheWay: ks,
				Hint: fmt.Sprintf("both are Active; deactivate the one no longer in use first (keyrot deactivate --user %s --access-key-id ID)", name)}
		}
	}
	p.OldKey = *old
	p.SelfSigned = o.Signer.AccessKeyID == old.ID
	for _, k := range ks {
		if k.ID == old.ID {
			if p.Replacement && len(ks) == maxKeys && o.DeleteInactive {
				// Both keys are Inactive: the named one makes room.
				p.DeleteInactive = k.ID
			}
			continue
		}
		switch {
		case p.Replacement && len(ks) == maxKeys && !o.DeleteInactive:
			return p, &KeyLimitError{User: name, InTheWay: ks,
				Hint: fmt.Sprintf("both are Inactive; pass --delete-inactive to delete %s, the one named, first", old.ID)}
		case p.Replacement:
			continue // the other Inactive key stays as it is
		case k.Status == iamx.StatusActive:
			return p, &KeyLimitError{User: name, InTheWay: ks,
				Hint: fmt.Sprintf("both are Active; deactivate %s first if it is no longer in use", k.ID)}
		case !o.DeleteInactive:
			return p, &KeyLimitError{User: name, InTheWay: []iamx.Key{k},
				Hint: "pass --delete-inactive to delete the Inactive key first"}
		}
		p.DeleteInactive = k.ID
	}
	if p.SelfSigned && o.OldKey != Keep && !o.Verify && !o.Force {
		return p, &LockoutError{KeyID: old.ID, Reason: "without verification of the new key, " + string(o.OldKey) + " could lock the caller out"}
	}
	if p.DeleteInactive != "" {
		p.Actions = append(p.Actions, fmt.Sprintf("delete Inactive access key %s of %s", p.DeleteInactive, name))
	}
	p.Actions = append(p.Actions, fmt.Sprintf("create a new access key for %s", name))
	if p.Destination == "" {
		p.Actions = append(p.Actions, "deliver the new secret (no destination chosen yet: --exec CMD, --stdout or --profile-name)")
	} else {
		p.Actions = append(p.Actions, fmt.Sprintf("deliver the new secret to %s", p.Destination))
	}
	if o.Verify {
		p.Actions = append(p.Actions, fmt.Sprintf("verify the new key with STS GetCallerIdentity until it names %s %s in a row (up to %s)", name, iamx.Times(o.Successes), o.Wait))
	}
	switch {
	case p.Replacement && p.DeleteInactive == old.ID:
	case p.Replacement && o.OldKey == Delete:
		p.Actions = append(p.Actions, fmt.Sprintf("delete Inactive access key %s, the key replaced", old.ID))
	case p.Replacement:
		p.Actions = append(p.Actions, fmt.Sprintf("leave access key %s Inactive (a replacement never reactivates it)", old.ID))
	case o.OldKey == Deactivate:
		p.Actions = append(p.Actions, fmt.Sprintf("deactivate old access key %s", old.ID))
	case o.OldKey == Delete:
		p.Actions = append(p.Actions, fmt.Sprintf("delete old access key %s", old.ID))
	case o.OldKey == Keep:
		p.Actions = append(p.Actions, fmt.Sprintf("keep old access key %s Active", old.ID))
	}
	return p, nil
}
