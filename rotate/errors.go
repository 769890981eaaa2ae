package rotate

import (
	"errors"
	"fmt"
	"strings"

	"github.com/keyrot/keyrot/iamx"
)

// Error kinds of the workflow. Errors returned by Run, Plan and Rollback
// match them with errors.Is; see ExitCode for their precedence.
var (
	// ErrRolledBack: the rotation failed after a change and was undone;
	// the old key is Active again (exit 8).
	ErrRolledBack = errors.New("rotation failed and was rolled back")
	// ErrRollbackFailed: the rotation failed and so did the rollback; the
	// *RollbackFailedError carries the recovery commands (exit 9).
	ErrRollbackFailed = errors.New("rotation failed and rollback failed")
	// ErrInterrupted: the context was cancelled; the step in flight was
	// finished or rolled back (exit 130).
	ErrInterrupted = errors.New("interrupted")
	// ErrLocked: another rotation of the same user holds the lock.
	ErrLocked = errors.New("another keyrot run holds the lock for this user")
	// ErrAmbiguous: Rollback cannot tell from the journal and IAM which
	// key is old and which is new.
	ErrAmbiguous = errors.New("ambiguous key state")
	// ErrLockout: refused by the lockout guard (exit 7).
	ErrLockout = errors.New("refused: the caller would lose its signing key")
	// ErrVerifyTimeout: the new key did not name U often enough within Wait.
	ErrVerifyTimeout = errors.New("new key not verified in time")
	// ErrForeignJournal: the state directory holds another account's
	// unfinished rotation of a user of the same name; rotating here would
	// overwrite its journal. Exit 7, as a guard.
	ErrForeignJournal = errors.New("refused: the state directory holds another account's unfinished rotation of this user")
)

// ExitCode maps the workflow's error kinds to keyrot's exit codes. ok is
// false when err is none of them (nil included); the caller then
// classifies by iamx kind.
func ExitCode(err error) (code int, ok bool) {
	switch {
	case err == nil:
		return 0, false
	case errors.Is(err, ErrRollbackFailed):
		return 9, true
	case errors.Is(err, ErrInterrupted):
		return 130, true
	case errors.Is(err, ErrRolledBack):
		return 8, true
	case errors.Is(err, ErrLockout), errors.Is(err, ErrForeignJournal):
		return 7, true
	case errors.Is(err, ErrAmbiguous):
		return 2, true
	case errors.Is(err, ErrLocked):
		return 1, true
	}
	return 0, false
}

// KeyLimitError: U already has two keys and none may be removed. It is
// returned before any change and matches iamx.ErrKeyLimit.
type KeyLimitError struct {
	User     string
	InTheWay []iamx.Key // the key(s) that would have to go
	Hint     string
}

func (e *KeyLimitError) Error() string {
	ids := make([]string, len(e.InTheWay))
	for i, k := range e.InTheWay {
		ids[i] = fmt.Sprintf("%s (%s)", k.ID, k.Status)
	}
	s := fmt.Sprintf("user %s already has 2 access keys, the IAM maximum; in the way: %s", e.User, strings.Join(ids, ", "))
	if e.Hint != "" {
		s += "; " + e.Hint
	}
	return s
}

// Is makes errors.Is(err, iamx.ErrKeyLimit) true.
func (e *KeyLimitError) Is(target error) bool { return target == iamx.ErrKeyLimit }

// LockoutError is the lockout guard's refusal.
type LockoutError struct {
	KeyID  string
	Reason string
}

func (e *LockoutError) Error() string {
	return fmt.Sprintf("refused: %s is the key signing this request; %s (use --force to override)", e.KeyID, e.Reason)
}

// Is makes errors.Is(err, ErrLockout) true.
func (e *LockoutError) Is(target error) bool { return target == ErrLockout }

// LockedError names the run holding U's lock.
type LockedError struct {
	User   string
	Path   string
	Holder string // "pid 123 on host since 2006-01-02T15:04:05Z", "" if unreadable
}

func (e *LockedError) Error() string {
	h := e.Holder
	if h == "" {
		h = "unknown holder"
	}
	return fmt.Sprintf("another keyrot run is rotating %s (%s; lock %s)", e.User, h, e.Path)
}

// Is makes errors.Is(err, ErrLocked) true.
func (e *LockedError) Is(target error) bool { return target == ErrLocked }

// ChooseKeyError: U has two access keys, both Inactive, and no
// --access-key-id says which one a replacement replaces. Exit 2.
type ChooseKeyError struct {
	User string
	Keys []iamx.Key
}

func (e *ChooseKeyError) Error() string {
	return fmt.Sprintf("%s has no Active access key and two Inactive ones (%s): name the one to replace with --access-key-id (with --delete-inactive it is deleted to make room)",
		e.User, describeKeys(e.Keys))
}

// Is makes errors.Is(err, iamx.ErrInvalidInput) true.
func (e *ChooseKeyError) Is(target error) bool { return target == iamx.ErrInvalidInput }

// AmbiguousError explains why Rollback refuses to guess.
type AmbiguousError struct {
	User   string
	Reason string
	Keys   []iamx.Key
}

func (e *AmbiguousError) Error() string {
	return fmt.Sprintf("cannot roll back %s: %s", e.User, e.Reason)
}

// Is makes errors.Is(err, ErrAmbiguous) true.
func (e *AmbiguousError) Is(target error) bool { return target == ErrAmbiguous }

// InterruptedError: the context was cancelled before anything changed
// (or after the rotation completed). After a change, Run returns a
// *RolledBackError or *RollbackFailedError with Interrupted set instead.
type InterruptedError struct {
	Step string
	Err  error
	// Completed is set when the step in flight was the last one and it
	// landed: the rotation is complete.
	Completed bool
}

func (e *InterruptedError) Error() string {
	if e.Completed {
		return fmt.Sprintf("interrupted during %s, which completed: the rotation is done", e.Step)
	}
	return fmt.Sprintf("interrupted during %s: nothing was changed", e.Step)
}

// Unwrap exposes ErrInterrupted and the context's error.
func (e *InterruptedError) Unwrap() []error { return []error{ErrInterrupted, e.Err} }

// RolledBackError: step failed with Cause after the new key was created,
// and the rollback succeeded: OldKeyID is Active and NewKeyID is deleted.
type RolledBackError struct {
	User        string
	Step        string
	Cause       error
	OldKeyID    string
	NewKeyID    string
	Interrupted bool
	// Restored names the destination restored from its backup, if any.
	Restored string
	// Replacement: the old key was Inactive before and stays so.
	Replacement bool `json:",omitempty"`
}

func (e *RolledBackError) Error() string {
	why := "failed"
	if e.Interrupted {
		why = "was interrupted"
	}
	state := "is Active"
	if e.Replacement {
		state = "stays Inactive"
	}
	s := fmt.Sprintf("rotation of %s %s at %s (%v); rolled back: %s %s, new key %s deleted", e.User, why, e.Step, e.Cause, e.OldKeyID, state, e.NewKeyID)
	if e.Restored != "" {
		s += ", " + e.Restored + " restored"
	}
	return s
}

// Unwrap exposes ErrRolledBack, ErrInterrupted when interrupted, and the cause.
func (e *RolledBackError) Unwrap() []error {
	errs := []error{ErrRolledBack}
	if e.Interrupted {
		errs = append(errs, ErrInterrupted)
	}
	return append(errs, e.Cause)
}

// RollbackFailedError: the rotation failed with Cause and the rollback
// failed with RollbackErr. Recovery holds the exact commands that restore
// a working state. The new secret is never dropped silently: SecretState
// says whether it was destroyed (the key is deleted), where it was
// delivered, or that it was never delivered, in which case NewSecret holds
// it (it redacts itself when printed) and Recovery deletes the key.
type RollbackFailedError struct {
	User        string
	Step        string
	Cause       error
	RollbackErr error
	OldKeyID    string
	NewKeyID    string
	Interrupted bool
	SecretState string
	NewSecret   iamx.Secret
	Recovery    []string
}

func (e *RollbackFailedError) Error() string {
	return fmt.Sprintf("rotation of %s failed at %s (%v) and rollback failed (%v); new key %s: %s; to recover run:\n  %s",
		e.User, e.Step, e.Cause, e.RollbackErr, e.NewKeyID, e.SecretState, strings.Join(e.Recovery, "\n  "))
}

// Unwrap exposes ErrRollbackFailed, ErrInterrupted when interrupted, and the cause.
func (e *RollbackFailedError) Unwrap() []error {
	errs := []error{ErrRollbackFailed}
	if e.Interrupted {
		errs = append(errs, ErrInterrupted)
	}
	return append(errs, e.Cause, e.RollbackErr)
}

// StepError is a failure before the new key existed: nothing needs undoing.
type StepError struct {
	User string
	Step string
	Err  error
}

func (e *StepError) Error() string {
	return fmt.Sprintf("rotation of %s failed at %s: %v", e.User, e.Step, e.Err)
}

// Unwrap exposes the iamx error.
func (e *StepError) Unwrap() error { return e.Err }

// ConcurrentRotationError: IAM refused the new key with LimitExceeded
// although U had room when this run looked, so another rotation of U (from
// another machine or state directory) created a key meanwhile. This run
// left that key alone. It matches iamx.ErrKeyLimit (exit 4).
type ConcurrentRotationError struct {
	User string
	Err  error
	// DeletedInactive is the Inactive key this run's capacity step had
	// deleted before the create, "" when it changed nothing.
	DeletedInactive string
}

func (e *ConcurrentRotationError) Error() string {
	changed := "this run changed nothing"
	if e.DeletedInactive != "" {
		changed = "this run only deleted the Inactive key " + e.DeletedInactive
	}
	return fmt.Sprintf("another rotation of %s is in progress or just finished: IAM refused a new key (%v) although %s had room when this run looked; %s",
		e.User, e.Err, e.User, changed)
}

// Unwrap exposes the IAM error (ErrKeyLimit).
func (e *ConcurrentRotationError) Unwrap() error { return e.Err }

// UnprovenKeyError: CreateAccessKey failed without an answer from IAM, a
// key appeared meanwhile, and keyrot cannot prove that its own create made
// it, so the key was left alone. Its exit code is the cause's.
type UnprovenKeyError struct {
	User        string
	Cause       error
	Keys        []iamx.Key // the keys that appeared
	Reason      string
	Interrupted bool
}

func (e *UnprovenKeyError) Error() string {
	ids := make([]string, len(e.Keys))
	for i, k := range e.Keys {
		ids[i] = k.ID
	}
	return fmt.Sprintf("rotation of %s failed at %s (%v); key %s appeared meanwhile and was left alone, because keyrot cannot prove its create made it: %s. If nothing else made it (another keyrot run, a person, a pipeline), its secret is lost; delete it: %s",
		e.User, StepCreate, e.Cause, strings.Join(ids, ", "), e.Reason, strings.Join(deleteCommands(e.User, ids), "; "))
}

// Unwrap exposes ErrInterrupted when interrupted, and the cause.
func (e *UnprovenKeyError) Unwrap() []error {
	if e.Interrupted {
		return []error{ErrInterrupted, e.Cause}
	}
	return []error{e.Cause}
}
