package fleet

import (
	"fmt"
	"sort"
	"time"

	"github.com/keyrot/keyrot/iamx"
)

// Policy is what a key must satisfy. A zero duration turns its rule off.
type Policy struct {
	// MaxAge: an Active key created (IAM: last rotated) longer ago is due
	// for rotation. CIS AWS Foundations asks for 90 days.
	MaxAge time.Duration
	// MaxUnused: an Active key not used for longer (or never used and
	// older than this) is deactivated. CIS asks for 45 days.
	MaxUnused time.Duration
	// DeleteInactiveAfter: a key Inactive for longer is deleted. How long
	// a key has been Inactive comes from the Ledger; see the package
	// documentation.
	DeleteInactiveAfter time.Duration
	// RotateOnly is rotate --all-users: no deletion policy of its own, so
	// advice names only --delete-inactive.
	RotateOnly bool
}

// freeSlotAdvice is how the user frees a slot the Inactive key holds.
func (p Policy) freeSlotAdvice() string {
	if p.RotateOnly {
		return "pass --delete-inactive"
	}
	return "pass --delete-inactive or --delete-inactive-after"
}

// Finding kinds, as they appear in audit output.
const (
	FindingOld       = "KeyTooOld"
	FindingUnused    = "KeyUnused"
	FindingTwoActive = "TwoActiveKeys"
	FindingRootKey   = "RootAccessKey"
	FindingInactive  = "InactiveKey"
)

// Finding is one policy violation read off the credential report. The
// report names keys by slot (1 or 2), never by ID.
type Finding struct {
	User string
	ARN  string
	Kind string
	// Slot is the report's access_key_N, 0 for findings about the user.
	Slot        int
	Active      bool
	LastRotated time.Time
	LastUsed    time.Time
	// Age is how far past its reference time the key is: since last
	// rotated for KeyTooOld, since last used (or created) for KeyUnused.
	Age    time.Duration
	Detail string
}

// Audit lists every finding of the report under p, users in report order
// (root first, then by name), findings of a user in a fixed order.
func Audit(r iamx.Report, p Policy, now time.Time) []Finding {
	var out []Finding
	for _, u := range r.Users {
		out = append(out, auditUser(u, p, now)...)
	}
	return out
}

func auditUser(u iamx.ReportUser, p Policy, now time.Time) []Finding {
	var out []Finding
	add := func(slot int, k iamx.ReportKey, kind string, age time.Duration, detail string) {
		out = append(out, Finding{User: u.User, ARN: u.ARN, Kind: kind, Slot: slot, Active: k.Active,
			LastRotated: k.LastRotated, LastUsed: k.LastUsed.Date, Age: age, Detail: detail})
	}
	active := 0
	for i, k := range u.Keys {
		slot := i + 1
		if !k.Present {
			continue
		}
		if u.User == iamx.RootUser {
			status := "Inactive"
			if k.Active {
				status = "Active"
			}
			add(slot, k, FindingRootKey, now.Sub(k.LastRotated), fmt.Sprintf("the root user has an access key (%s); delete it and use IAM users or roles", status))
			continue
		}
		if !k.Active {
			add(slot, k, FindingInactive, 0, "Inactive key: delete it once nothing needs it back")
			continue
		}
		active++
		if p.MaxAge > 0 && !k.LastRotated.IsZero() && now.Sub(k.LastRotated) > p.MaxAge {
			age := now.Sub(k.LastRotated)
			add(slot, k, FindingOld, age, fmt.Sprintf("last rotated %s ago, more than %s", days(age), days(p.MaxAge)))
		}
		if age, never, ok := unused(k.LastRotated, k.LastUsed.Date, p.MaxUnused, now); ok {
			d := fmt.Sprintf("not used for %s, more than %s", days(age), days(p.MaxUnused))
			if never {
				d = fmt.Sprintf("never used, created %s ago, more than %s", days(age), days(p.MaxUnused))
			}
			add(slot, k, FindingUnused, age, d)
		}
	}
	if active == 2 && u.User != iamx.RootUser {
		out = append(out, Finding{User: u.User, ARN: u.ARN, Kind: FindingTwoActive, Active: true,
			Detail: "two Active keys: rotation needs a free slot; deactivate the one no longer in use"})
	}
	return out
}

// unused reports whether a key created at created and last used at
// lastUsed (zero: never) has gone unused for longer than maxUnused, and
// for how long.
func unused(created, lastUsed time.Time, maxUnused time.Duration, now time.Time) (age time.Duration, never, ok bool) {
	if maxUnused <= 0 {
		return 0, false, false
	}
	if lastUsed.IsZero() {
		if created.IsZero() {
			return 0, true, false
		}
		age = now.Sub(created)
		return age, true, age > maxUnused
	}
	age = now.Sub(lastUsed)
	return age, false, age > maxUnused
}

// days prints a duration in whole days when it is at least one.
func days(d time.Duration) string {
	day := 24 * time.Hour
	if d >= day {
		return fmt.Sprintf("%dd", d/day)
	}
	return d.Round(time.Minute).String()
}

// Summarize counts findings by kind and the users they touch.
func Summarize(fs []Finding) (byKind map[string]int, users int) {
	byKind = map[string]int{}
	seen := map[string]bool{}
	for _, f := range fs {
		byKind[f.Kind]++
		seen[f.User] = true
	}
	return byKind, len(seen)
}

// FindingKinds lists the kinds in the order summaries print them.
var FindingKinds = []string{FindingOld, FindingUnused, FindingTwoActive, FindingRootKey, FindingInactive}

// Kind is what an Action does.
type Kind string

// The actions enforce takes, in the order it takes them for one user.
const (
	// Delete deletes an Inactive key (DeleteInactiveAfter).
	Delete Kind = "delete"
	// Deactivate sets an unused Active key Inactive (MaxUnused).
	Deactivate Kind = "deactivate"
	// Rotate replaces an old Active key through rotate.Run (MaxAge).
	Rotate Kind = "rotate"
	// Blocked is a change the policy asks for that keyrot will not make
	// without a decision (two Active keys, a guarded key); it counts as a
	// failure of the user.
	Blocked Kind = "blocked"
	// Deferred is a rotation that waits for the second key slot, which
	// the policy itself frees later (DeleteInactiveAfter); not a failure.
	Deferred Kind = "deferred"
	// Recover finishes or rolls back the rotation an earlier run left
	// unfinished (its journal), before the policy is applied.
	Recover Kind = "recover"
)

// Action is one change for one key.
type Action struct {
	Kind   Kind
	User   string
	KeyID  string
	Reason string
	// DeleteInactive lets a Rotate delete the Inactive key in the second
	// slot (the rotate --delete-inactive behaviour).
	DeleteInactive bool
}

// LiveKey is a key as ListAccessKeys shows it, with what enforce knows
// besides: LastUsed (GetAccessKeyLastUsed; nil when not looked up) and,
// from the Ledger, since when it is known to be Inactive (zero: unknown)
// and whether keyrot deactivated it itself.
type LiveKey struct {
	iamx.Key
	InactiveSince time.Time
	ByKeyrot      bool
}

// Guard is what Evaluate must never touch.
type Guard struct {
	// SignerKeyID is the key signing keyrot's requests: never
	// deactivated, deleted or rotated by a fleet run.
	SignerKeyID string
	// DeleteInactive allows a rotation to delete an Inactive key that
	// holds the second slot, unless keyrot deactivated it less than
	// DeleteInactiveAfter ago.
	DeleteInactive bool
}

// Evaluate decides, from a user's live keys, the actions that bring the
// user within p: deletes first, then deactivations, then rotations, so
// that each rotation sees the slots the earlier actions freed. Keys whose
// LastUsed is nil are not judged for non-use. A rotation that cannot get a
// free slot is returned as Blocked with the reason.
func Evaluate(user string, keys []LiveKey, p Policy, g Guard, now time.Time) []Action {
	keys = append([]LiveKey(nil), keys...)
	sort.SliceStable(keys, func(i, j int) bool { return keys[i].Created.Before(keys[j].Created) })
	var out []Action
	gone := map[string]bool{}        // deleted this run
	deactivated := map[string]bool{} // deactivated this run
	signer := func(k LiveKey) bool { return g.SignerKeyID != "" && k.ID == g.SignerKeyID }

	for _, k := range keys {
		if k.Status != iamx.StatusInactive || p.DeleteInactiveAfter <= 0 || k.InactiveSince.IsZero() {
			continue
		}
		if d := now.Sub(k.InactiveSince); d > p.DeleteInactiveAfter {
			if signer(k) {
				continue // an Inactive key cannot sign; defensive only
			}
			gone[k.ID] = true
			out = append(out, Action{Kind: Delete, User: user, KeyID: k.ID,
				Reason: fmt.Sprintf("Inactive for at least %s, more than %s", days(d), days(p.DeleteInactiveAfter))})
		}
	}
	for _, k := range keys {
		if k.Status != iamx.StatusActive || k.LastUsed == nil {
			continue
		}
		age, never, ok := unused(k.Created, k.LastUsed.Date, p.MaxUnused, now)
		if !ok {
			continue
		}
		reason := fmt.Sprintf("not used for %s, more than %s", days(age), days(p.MaxUnused))
		if never {
			reason = fmt.Sprintf("never used, created %s ago, more than %s", days(age), days(p.MaxUnused))
		}
		if signer(k) {
			out = append(out, Action{Kind: Blocked, User: user, KeyID: k.ID, Reason: reason + "; refused: it signs keyrot's requests"})
			continue
		}
		deactivated[k.ID] = true
		out = append(out, Action{Kind: Deactivate, User: user, KeyID: k.ID, Reason: reason})
	}
	var due []LiveKey
	for _, k := range keys {
		if k.Status == iamx.StatusActive && !deactivated[k.ID] && p.MaxAge > 0 && now.Sub(k.Created) > p.MaxAge {
			due = append(due, k)
		}
	}
	for _, k := range due {
		reason := fmt.Sprintf("created %s ago, more than %s", days(now.Sub(k.Created)), days(p.MaxAge))
		if signer(k) {
			out = append(out, Action{Kind: Blocked, User: user, KeyID: k.ID, Reason: reason + "; refused: it signs keyrot's requests, rotate it with `keyrot rotate`"})
			continue
		}
		if len(due) > 1 {
			out = append(out, Action{Kind: Blocked, User: user, KeyID: k.ID, Reason: reason + "; both Active keys are due and rotation needs a free slot: deactivate the one no longer in use"})
			continue
		}
		a := Action{Kind: Rotate, User: user, KeyID: k.ID, Reason: reason}
		later := p.DeleteInactiveAfter > 0 // the policy frees an Inactive slot in time
		for _, o := range keys {
			if o.ID == k.ID || gone[o.ID] {
				continue
			}
			switch {
			case o.Status == iamx.StatusActive && !deactivated[o.ID]:
				a = Action{Kind: Blocked, User: user, KeyID: k.ID, Reason: reason + "; the other Active key " + o.ID + " holds the second slot: deactivate it if no longer in use"}
			case deactivated[o.ID] && later:
				a = Action{Kind: Deferred, User: user, KeyID: k.ID, Reason: reason + "; " + o.ID + " is deactivated now and holds the second slot until it is deleted after " + days(p.DeleteInactiveAfter)}
			case deactivated[o.ID]:
				advice := "set --delete-inactive-after to have it deleted in time"
				if p.RotateOnly {
					advice = "pass --delete-inactive"
				}
				a = Action{Kind: Blocked, User: user, KeyID: k.ID, Reason: reason + "; " + o.ID + " is deactivated now and holds the second slot: " + advice}
			case g.DeleteInactive && o.ByKeyrot && later && now.Sub(o.InactiveSince) <= p.DeleteInactiveAfter:
				a = Action{Kind: Deferred, User: user, KeyID: k.ID, Reason: reason + "; keyrot deactivated " + o.ID + " less than " + days(p.DeleteInactiveAfter) + " ago (it may still be rolled back to); it holds the second slot until then"}
			case g.DeleteInactive:
				a.DeleteInactive = true
			case later:
				a = Action{Kind: Deferred, User: user, KeyID: k.ID, Reason: reason + "; the Inactive key " + o.ID + " holds the second slot until it is deleted after " + days(p.DeleteInactiveAfter) + " Inactive (or pass --delete-inactive)"}
			default:
				a = Action{Kind: Blocked, User: user, KeyID: k.ID, Reason: reason + "; the Inactive key " + o.ID + " holds the second slot: " + p.freeSlotAdvice()}
			}
		}
		out = append(out, a)
	}
	return out
}

// NeedsLook reports whether a report row may need an action under p,
// that is whether enforce must look at the user's live keys. Rows within
// policy are skipped without a single call.
func NeedsLook(u iamx.ReportUser, p Policy, now time.Time) bool {
	if u.User == iamx.RootUser {
		return false
	}
	for _, k := range u.Keys {
		switch {
		case !k.Present:
		case !k.Active:
			if p.DeleteInactiveAfter > 0 {
				return true
			}
		case p.MaxAge > 0 && !k.LastRotated.IsZero() && now.Sub(k.LastRotated) > p.MaxAge:
			return true
		default:
			if _, _, ok := unused(k.LastRotated, k.LastUsed.Date, p.MaxUnused, now); ok {
				return true
			}
		}
	}
	return false
}
