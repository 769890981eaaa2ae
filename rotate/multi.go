package rotate

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/keyrot/keyrot/iamx"
)

// Destinations hands one key to several destinations as one: those that
// can be undone (a credentials file, Secrets Manager, Parameter Store)
// first, in the order given, then those that cannot (stdout, --exec), so
// that a failure anywhere before them is undone everywhere. Run delivers
// to each itself, with its own journal record.
type Destinations []Destination

// Describe lists the destinations in delivery order.
func (m Destinations) Describe() string {
	var names []string
	for _, d := range m.ordered() {
		names = append(names, d.Describe())
	}
	return strings.Join(names, ", ")
}

// Deliver hands the key to each destination in turn; a failure undoes
// those delivered, newest first. (Run does not use it: it journals each
// delivery.)
func (m Destinations) Deliver(ctx context.Context, k iamx.NewKey) (func() error, error) {
	var undos []func() error
	for _, d := range m.ordered() {
		u, err := d.Deliver(ctx, k)
		if u != nil {
			undos = append(undos, u)
		}
		if err != nil {
			return nil, errors.Join(err, undoAll(undos)())
		}
	}
	return undoAll(undos), nil
}

// ordered puts the revertible destinations first and GitHub's, which can
// be neither undone nor read back, last.
func (m Destinations) ordered() []Destination {
	out := slices.Clone([]Destination(m))
	slices.SortStableFunc(out, func(a, b Destination) int { return deliveryRank(a) - deliveryRank(b) })
	return out
}

func deliveryRank(d Destination) int {
	switch d.(type) {
	case GitHubSecrets, *GitHubSecrets:
		return 2
	}
	if revertible(d) {
		return 0
	}
	return 1
}

// ForUser fills {user} and {account} in every destination's name.
func (m Destinations) ForUser(user, account string) Destination {
	out := make(Destinations, len(m))
	for i, d := range m {
		if p, ok := d.(PerUser); ok {
			d = p.ForUser(user, account)
		}
		out[i] = d
	}
	return out
}

// Check checks every destination, and that no two are the same place.
func (m Destinations) Check() error {
	seen := map[string]bool{}
	for _, d := range m {
		if err := check(d); err != nil {
			return err
		}
		if seen[d.Describe()] {
			return &iamx.InputError{Field: "destination", Value: d.Describe(), Rule: "given twice"}
		}
		seen[d.Describe()] = true
	}
	return nil
}

// revertible reports whether a delivery to d can be undone.
func revertible(d Destination) bool {
	switch d.(type) {
	case CredentialsFile, *CredentialsFile, SecretsManager, *SecretsManager, SSMParameter, *SSMParameter:
		return true
	}
	return false
}

func revertibleKind(kind string) bool {
	return kind == KindCredentialsFile || kind == KindSecretsManager || kind == KindSSMParameter
}

// undoAll runs undos newest first and joins their errors.
func undoAll(undos []func() error) func() error {
	return func() error {
		var errs []error
		for i := len(undos) - 1; i >= 0; i-- {
			if err := undos[i](); err != nil {
				errs = append(errs, err)
			}
		}
		return errors.Join(errs...)
	}
}

// records are the journal's destination records: Destination alone, or
// every one of a Destinations.
func (j *journal) records() []*destRecord {
	if len(j.Destinations) > 0 {
		out := make([]*destRecord, len(j.Destinations))
		for i := range j.Destinations {
			out[i] = &j.Destinations[i]
		}
		return out
	}
	return []*destRecord{&j.Destination}
}

// where names every destination of the journal.
func (j *journal) where() string {
	var w []string
	for _, rec := range j.records() {
		if rec.Where != "" {
			w = append(w, rec.Where)
		}
	}
	return strings.Join(w, ", ")
}

// heldBy are the destinations that may hold the new key and can be
// neither read back nor undone (GitHub Actions secrets).
func (j *journal) heldBy() []*destRecord {
	var out []*destRecord
	for _, rec := range j.records() {
		if rec.MayHold {
			out = append(out, rec)
		}
	}
	return out
}

// delivered reports whether any destination took the key.
func (j *journal) delivered() bool {
	for _, rec := range j.records() {
		if rec.Delivered {
			return true
		}
	}
	return false
}

// found is a destination of a journal found again: what it is, whether it
// holds the new key (and its secret), and the undo of its delivery.
type found struct {
	dest   Destination
	holds  bool
	secret iamx.Secret
	undo   func() error
}

// findAgain rebuilds the destination rec records and reads it back.
// started dates the rotation, for a credentials file backup the journal
// did not get to record.
func (o Options) findAgain(ctx context.Context, rec *destRecord, newKeyID string, started time.Time) (found, error) {
	switch rec.Kind {
	case KindCredentialsFile:
		cf := CredentialsFile{Path: rec.Path, Profile: rec.Profile}
		f := found{dest: cf}
		f.secret, f.holds = cf.readBack(newKeyID)
		if f.holds {
			backup, ok := rec.Backup, rec.Delivered
			if !ok {
				backup = findBackup(cf.Path, started)
				ok = backup != ""
			}
			if ok {
				f.undo = func() error { return restoreCredentials(cf.Path, backup) }
			}
		}
		return f, nil
	case KindSecretsManager:
		if o.Secrets == nil {
			return found{}, nil
		}
		sm, d := smFromRecord(o.Secrets, *rec, newKeyID)
		f := found{dest: sm}
		var err error
		if f.secret, _, f.holds, err = sm.holds(ctx, newKeyID); err != nil {
			return f, fmt.Errorf("read %s: %w", sm.Describe(), err)
		}
		if f.holds {
			f.undo = sm.undoFor(d)
		}
		return f, nil
	case KindGitHub:
		if o.GitHub == nil || rec.GitHub == nil {
			return found{}, nil
		}
		// GitHub never returns a secret: found, never holding.
		return found{dest: githubFromRecord(o.GitHub, rec.GitHub)}, nil
	case KindSSMParameter:
		if o.Parameters == nil {
			return found{}, nil
		}
		p, d := paramFromRecord(o.Parameters, *rec, newKeyID)
		f := found{dest: p}
		var err error
		if f.secret, f.holds, err = p.holds(ctx, newKeyID); err != nil {
			return f, fmt.Errorf("read %s: %w", p.Describe(), err)
		}
		if f.holds {
			f.undo = p.undoFor(d)
		}
		return f, nil
	}
	return found{}, nil
}

// Prechecker is a Destination that can read, before any key exists, what
// it holds, to refuse a hand-over it would have to fail (a secret that is
// not a JSON object, a parameter that is not a SecureString).
type Prechecker interface {
	Precheck(ctx context.Context) error
}

// precheck runs the Precheck of d, or of each of several.
func precheck(ctx context.Context, d Destination) error {
	ds, ok := d.(Destinations)
	if !ok {
		ds = Destinations{d}
	}
	for _, x := range ds {
		if p, ok := x.(Prechecker); ok {
			if err := p.Precheck(ctx); err != nil {
				return err
			}
		}
	}
	return nil
}
