// Package fleet is keyrot's account-wide mode: it reads IAM's credential
// report once, finds the keys that break a policy (too old, unused, a
// second Active key, keys on the root user, Inactive keys), selects users,
// and applies the policy to each of them with bounded concurrency and a
// client-side rate limit, every rotation going through rotate.Run with its
// guards and rollback.
//
// # The credential report is a snapshot
//
// IAM regenerates the credential report at most every four hours, so a
// rerun soon after a change reads the state before it. The report is
// therefore only used to choose candidates; every change is decided again
// on the live state (ListAccessKeys, and GetAccessKeyLastUsed before a key
// is deactivated for non-use). That is what makes a rerun idempotent: users
// already within policy get read, never changed.
//
// # How long a key has been Inactive
//
// IAM records when a key was created and last used, not when it became
// Inactive. The Ledger, a small file in the state directory, records it:
// the time keyrot deactivated a key itself, or the time a run first saw the
// key Inactive. Both are at or after the real moment, so a key is never
// deleted earlier than the policy allows; a key that was already Inactive
// when keyrot first looked is deleted that long after the first look.
//
// The package prints nothing and imports no cobra: progress comes out
// through callbacks, records through an AuditLog.
package fleet
