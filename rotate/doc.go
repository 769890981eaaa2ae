// Package rotate is keyrot's key rotation workflow for one IAM user U:
// inspect U's keys, make room, create the new key, hand its secret to a
// Destination, verify that it signs as U, then deactivate, keep or delete
// the old key. Every failure after the create rolls back (old key active
// again, new key deleted, destination restored), and a write-ahead journal
// in the state directory lets the next Run or Rollback resume or undo a
// rotation that was killed half way.
//
// The package prints nothing, never exits and never sleeps on its own:
// the clock, the waiting and progress reporting come in through Options.
// It talks to AWS only through the small Keys interface, which
// *iamx.Client satisfies.
//
// # Self-rotation and the lockout guard
//
// When U is the caller and the old key signs the requests, that key is the
// caller's only way back. Run therefore keeps it Active and untouched
// until the new key has been delivered and verified; only then does the
// old-key policy (deactivate or delete) apply, and every call after that
// is signed with the new key (Options.ClientFor). Deactivating or deleting
// the signing key is allowed for exactly that reason: the caller already
// holds a verified replacement. Without verification (Verify false) Run
// refuses such a self-rotation with ErrLockout unless Options.Force is set.
//
// # Errors
//
// Errors match, with errors.Is, one of the package's sentinels in addition
// to the underlying iamx kind. Check them in this order, which is what
// ExitCode does: ErrRollbackFailed (9), ErrInterrupted (130),
// ErrRolledBack (8), ErrLockout (7), ErrAmbiguous (2), ErrLocked (1), then
// the iamx kinds (a KeyLimitError matches iamx.ErrKeyLimit, 4).
//
// # API calls
//
// A rotation with verification costs ListAccessKeys, CreateAccessKey,
// at least Options.Successes STS GetCallerIdentity calls signed with the new
// key, and one UpdateAccessKey (or DeleteAccessKey) for the old key. Failure
// paths add one ListAccessKeys to learn the true state before undoing.
package rotate
