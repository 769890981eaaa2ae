package rotate

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/keyrot/keyrot/iamx"
)

// ErrHeld: the rotation stopped with both keys Active, because a
// destination that can be neither read back nor undone (GitHub Actions
// secrets) may hold the new key; *HeldError says what to do (exit 9, with
// ErrRollbackFailed).
var ErrHeld = errors.New("rotation stopped with both keys Active")

// HeldError is a rotation that failed after GitHub Actions secrets may
// have received the new key. Deleting or deactivating that key could
// break the workflows that read them, and keyrot cannot put back what they
// held, so nothing is undone: both keys stay Active (the old one made
// Active again if the failure came after it was changed), and the other
// destinations keep the new key, so the next run can write GitHub's
// secrets again from them.
type HeldError struct {
	User     string
	Step     string
	Cause    error
	OldKeyID string
	NewKeyID string
	// OldActive is false when the old key could not be made Active
	// again (OldErr says why).
	OldActive bool
	OldErr    error
	// Held names the destinations that may hold the new key; Complete
	// is set when every one of them received both secrets.
	Held     []string
	Complete bool
	// SecretIn names the destinations that can be read back and hold
	// the new key's secret, "" when none does.
	SecretIn    string
	Interrupted bool
	// Finish and GoBack are the commands that finish the rotation or
	// undo it; Finish is empty when it cannot be finished.
	Finish []string
	GoBack []string
}

func (e *HeldError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "rotation of %s stopped at %s (%v): %s may hold new key %s and cannot be read back or undone, so keyrot deletes no key",
		e.User, e.Step, e.Cause, strings.Join(e.Held, " and "), e.NewKeyID)
	if e.OldActive {
		fmt.Fprintf(&b, ": new key %s and old key %s are both Active", e.NewKeyID, e.OldKeyID)
	} else {
		fmt.Fprintf(&b, ": new key %s is Active, and old key %s could not be made Active again (%v)", e.NewKeyID, e.OldKeyID, e.OldErr)
	}
	if e.SecretIn != "" {
		fmt.Fprintf(&b, "; the new key is also in %s", e.SecretIn)
	}
	if len(e.Finish) > 0 {
		b.WriteString("\nto finish the rotation, run:\n  " + strings.Join(e.Finish, "\n  "))
	}
	if len(e.GoBack) > 0 {
		fmt.Fprintf(&b, "\nto go back to old key %s instead, run:\n  %s", e.OldKeyID, strings.Join(e.GoBack, "\n  "))
	}
	return b.String()
}

// Unwrap exposes ErrHeld, ErrRollbackFailed (exit 9), ErrInterrupted when
// interrupted, and the cause.
func (e *HeldError) Unwrap() []error {
	errs := []error{ErrHeld, ErrRollbackFailed}
	if e.Interrupted {
		errs = append(errs, ErrInterrupted)
	}
	return append(errs, e.Cause)
}

// hold stops a rotation whose new key GitHub's secrets may hold: the old
// key is made Active again if this run may have changed it, and nothing
// else is undone.
func (r *runner) hold(ctx context.Context, step string, cause error, interrupted bool) error {
	e := &HeldError{User: r.name, Step: step, Cause: cause, OldKeyID: r.j.OldKeyID, NewKeyID: r.j.NewKeyID,
		OldActive: true, Interrupted: interrupted}
	if r.j.OldTouched && !r.j.replacement() {
		e.OldErr = r.reactivateOld(ctx)
		e.OldActive = e.OldErr == nil
	}
	var in []string
	for _, rec := range r.j.records() {
		if revertibleKind(rec.Kind) && rec.Delivered {
			in = append(in, rec.Where)
		}
	}
	e.SecretIn = strings.Join(in, ", ")
	r.heldAdvice(e)
	r.j.Step = jHeld
	_ = r.st.save(r.j)
	r.res.NewKey.Status, r.res.OldKey.Status = iamx.StatusActive, iamx.StatusActive
	if !e.OldActive {
		r.res.OldKey.Status = iamx.StatusInactive
	}
	return e
}

// reactivateOld makes the old key Active unless it is.
func (r *runner) reactivateOld(ctx context.Context) error {
	ks, err := r.client.ListKeys(ctx, r.apiUser)
	if err != nil && r.swapped {
		ks, err = r.keys.ListKeys(ctx, r.apiUser)
	}
	if err == nil {
		k := findKey(ks, r.j.OldKeyID)
		if k == nil {
			return fmt.Errorf("old key %s no longer exists", r.j.OldKeyID)
		}
		if k.Status == iamx.StatusActive {
			return nil
		}
	}
	if err := r.client.SetStatus(ctx, r.apiUser, r.j.OldKeyID, iamx.StatusActive); err != nil {
		return fmt.Errorf("reactivate old key %s: %w", r.j.OldKeyID, err)
	}
	return nil
}

// heldAdvice fills e's Held, Complete, Finish and GoBack from the journal.
func (r *runner) heldAdvice(e *HeldError) {
	e.Complete = true
	for _, rec := range r.j.heldBy() {
		e.Held = append(e.Held, rec.Where)
		e.Complete = e.Complete && rec.Delivered
	}
	u := userFlags(r.name)
	rerun := "keyrot rotate" + u.keyrot + r.j.rerunFlags()
	if !e.OldActive {
		e.Finish = append(e.Finish, fmt.Sprintf("keyrot activate%s --access-key-id %s", u.keyrot, r.j.OldKeyID))
	}
	switch {
	case e.SecretIn != "":
		// The next run reads the secret back and writes GitHub's again.
		e.Finish = append(e.Finish, rerun+"   # writes the GitHub secrets again from "+e.SecretIn+", verifies, then "+string(r.j.Policy)+"s the old key")
	case e.Complete:
		e.Finish = append(e.Finish, rerun+" --no-verify   # once a workflow has run with the new key (keyrot list"+u.keyrot+" shows it used)")
	default:
		// The secret is gone with this process: only a fresh key helps.
		e.Finish = nil
	}
	e.GoBack = append(e.GoBack, deleteCommands(r.name, []string{r.j.NewKeyID})...)
	e.GoBack = append(e.GoBack, rerun+"   # puts back the other destinations and gives the GitHub secrets a fresh key")
}

// rerunFlags are the flags of a keyrot rotate that sends the key where
// j's did, with the same old-key policy.
func (j *journal) rerunFlags() string {
	var b strings.Builder
	for _, rec := range j.records() {
		switch rec.Kind {
		case KindCredentialsFile:
			fmt.Fprintf(&b, " --credentials-file %s --profile-name %s", shellQuote(rec.Path), shellQuote(rec.Profile))
		case KindSecretsManager:
			b.WriteString(" --secret-id " + shellQuote(rec.SecretID))
		case KindSSMParameter:
			b.WriteString(" --ssm-parameter " + shellQuote(rec.Parameter))
		case KindStdout:
			b.WriteString(" --stdout")
		case KindExec:
			if c, err := strconv.Unquote(strings.TrimPrefix(rec.Where, "command ")); err == nil {
				b.WriteString(" --exec " + shellQuote(c))
			}
		case KindGitHub:
			if rec.GitHub != nil {
				b.WriteString(rec.GitHub.flags())
			}
		}
	}
	if j.Policy != "" && j.Policy != Deactivate {
		b.WriteString(" --old-key " + string(j.Policy))
	}
	return b.String()
}

// flags are the rotate flags that name the record's secrets.
func (g *githubRecord) flags() string {
	var b strings.Builder
	if g.Org != "" {
		b.WriteString(" --github-org " + shellQuote(g.Org))
	} else {
		b.WriteString(" --github-secret " + shellQuote(g.Repo))
	}
	if g.Environment != "" {
		b.WriteString(" --github-environment " + shellQuote(g.Environment))
	}
	if g.Visibility != "" {
		b.WriteString(" --github-visibility " + g.Visibility)
	}
	if g.IDName != "" || g.SecretName != "" {
		gs := GitHubSecrets{IDName: g.IDName, SecretName: g.SecretName}
		id, secret := gs.names()
		b.WriteString(" --github-secret-names " + shellQuote(id+","+secret))
	}
	return b.String()
}

// redeliverGitHub writes the GitHub secrets of j that did not get the
// whole key, now that the recovery knows the secret again.
func (r *runner) redeliverGitHub(ctx context.Context, j *journal) error {
	var undos []func() error
	for _, rec := range j.records() {
		if rec.Kind != KindGitHub || rec.Delivered || rec.GitHub == nil {
			continue
		}
		if r.o.GitHub == nil {
			return fmt.Errorf("%s: no GitHub client to write them again", rec.Where)
		}
		if err := r.deliverTo(ctx, githubFromRecord(r.o.GitHub, rec.GitHub), rec, &undos); err != nil {
			return err
		}
	}
	return nil
}

// heldDelivered reports whether every GitHub destination that may hold
// the new key received both of its secrets.
func (j *journal) heldDelivered() bool {
	for _, rec := range j.heldBy() {
		if !rec.Delivered {
			return false
		}
	}
	return true
}
