package rotate

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/keyrot/keyrot/iamx"
)

// Keys is the part of IAM and STS the workflow needs. *iamx.Client
// satisfies it; every method is one API request (ListKeys one per page).
type Keys interface {
	ListKeys(ctx context.Context, user string) ([]iamx.Key, error)
	CreateKey(ctx context.Context, user string) (iamx.NewKey, error)
	SetStatus(ctx context.Context, user, id string, s iamx.Status) error
	DeleteKey(ctx context.Context, user, id string) error
	VerifyKey(ctx context.Context, id string, secret iamx.Secret) (iamx.Identity, error)
}

// OldKeyPolicy says what happens to the old key once the new one works.
type OldKeyPolicy string

// The old-key policies. The zero value means Deactivate.
const (
	// Deactivate sets the old key Inactive, so that Rollback stays possible.
	Deactivate OldKeyPolicy = "deactivate"
	// Keep leaves the old key Active for jobs that still hold it.
	Keep OldKeyPolicy = "keep"
	// Delete deletes the old key; the rotation can then not be undone.
	Delete OldKeyPolicy = "delete"
)

// ParseOldKeyPolicy accepts deactivate, keep or delete in any case.
func ParseOldKeyPolicy(s string) (OldKeyPolicy, error) {
	for _, p := range []OldKeyPolicy{Deactivate, Keep, Delete} {
		if strings.EqualFold(s, string(p)) {
			return p, nil
		}
	}
	return "", &iamx.InputError{Field: "--old-key", Value: s, Rule: "the old-key policy is deactivate, keep or delete"}
}

// Defaults for Options fields left zero.
const (
	DefaultWait           = 2 * time.Minute
	DefaultPollInterval   = 1500 * time.Millisecond
	DefaultSuccesses      = 3
	DefaultLockWait       = 5 * time.Second
	DefaultCleanupTimeout = time.Minute
)

// Options shape one rotation. The command layer resolves Caller and
// Signer (STS GetCallerIdentity, Client.Signer) before calling Run.
type Options struct {
	// User is U, the user whose key rotates; "" means the caller.
	User string
	// Caller is who signs the requests; it decides whether this is a
	// self-rotation and names U when User is "".
	Caller iamx.Identity
	// Signer is the signing key; when it is one of U's keys it is the
	// default old key and the lockout guard applies.
	Signer iamx.Signer
	// OldKeyID picks the key to replace (--access-key-id).
	OldKeyID string
	// SkipIfNotActive, with OldKeyID, makes a key that is gone or no
	// longer Active mean nothing to do rather than an error: a fleet run
	// decided on an earlier look, and another run may have rotated it since.
	SkipIfNotActive bool
	// RecoverOnly makes Run finish or roll back the rotation an earlier
	// run left unfinished, and stop there: no fresh rotation after a
	// rollback, nothing at all without an unfinished journal. A fleet run
	// recovers this way, then judges the user's keys by its policy.
	RecoverOnly bool
	// OldKey is the old-key policy; "" means Deactivate.
	OldKey OldKeyPolicy
	// DeleteInactive lets the capacity step delete an Inactive second key.
	DeleteInactive bool
	// Force overrides the lockout guard for a self-rotation without
	// verification.
	Force bool

	// Destination receives the new secret. Required unless DryRun.
	Destination Destination
	// Secrets and Parameters reach Secrets Manager and Parameter Store
	// when a journal names a destination there: a later run reads it back
	// and puts back what it held.
	Secrets    SecretStore
	Parameters ParameterStore
	// GitHub reaches GitHub Actions secrets a journal names, to write
	// them again after a crash.
	GitHub GitHubAPI

	// Verify polls STS with the new key until it names U Successes times
	// in a row, for at most Wait, every PollInterval.
	Verify       bool
	Wait         time.Duration
	PollInterval time.Duration
	Successes    int

	// ClientFor returns a Keys that signs with the given credentials. A
	// self-rotation uses it for every call after the old (signing) key was
	// deactivated, rollback included. The command layer builds it with
	// iamx.Client.WithCredentials and credentials.NewStaticCredentialsProvider.
	ClientFor func(id string, secret iamx.Secret) Keys

	// Now and Sleep are the clock; tests replace them.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
	// OnStep, when set, is called at the start and end of every step.
	OnStep func(Step)

	// StateDir holds journals and locks; "" means DefaultStateDir().
	StateDir string
	// LockWait is how long a second rotation of U waits for the lock.
	LockWait time.Duration
	// CleanupTimeout bounds rollback after an interrupt.
	CleanupTimeout time.Duration

	// DryRun makes Run return the plan without changing anything.
	DryRun bool
}

// Step names, in the order a rotation runs them.
const (
	StepRecover  = "recover"  // resume or undo an unfinished journal
	StepInspect  = "inspect"  // ListAccessKeys, pick the old key
	StepCapacity = "capacity" // delete an Inactive second key if allowed
	StepCreate   = "create"   // CreateAccessKey
	StepDeliver  = "deliver"  // hand the secret to the destination
	StepVerify   = "verify"   // STS GetCallerIdentity with the new key
	StepOldKey   = "old-key"  // deactivate, keep or delete the old key
	StepRollback = "rollback" // undo after a failure
)

// Step is a progress event: OnStep receives one when a step starts (Done
// false) and one when it ends (Done true, Err set on failure). It never
// carries a secret.
type Step struct {
	Name    string
	Done    bool
	Detail  string
	Elapsed time.Duration // set when Done
	Err     error
}

// Timing is how long one step took, for the result.
type Timing struct {
	Step     string
	Started  time.Time
	Duration time.Duration
	Err      string `json:",omitempty"`
}

func (o Options) withDefaults() Options {
	if o.OldKey == "" {
		o.OldKey = Deactivate
	}
	if o.Wait <= 0 {
		o.Wait = DefaultWait
	}
	if o.PollInterval <= 0 {
		o.PollInterval = DefaultPollInterval
	}
	if o.Successes <= 0 {
		o.Successes = DefaultSuccesses
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Sleep == nil {
		o.Sleep = sleep
	}
	if o.LockWait <= 0 {
		o.LockWait = DefaultLockWait
	}
	if o.CleanupTimeout <= 0 {
		o.CleanupTimeout = DefaultCleanupTimeout
	}
	return o
}

// target resolves U: the name used in journals and messages, and the
// UserName sent to IAM ("" lets IAM use the signing user).
func (o Options) target() (name, apiUser string, err error) {
	if o.User != "" {
		if err := iamx.ValidateUserName("--user", o.User); err != nil {
			return "", "", err
		}
		return o.User, o.User, nil
	}
	switch {
	case o.Caller.User != "":
		if o.Signer.Temporary {
			// IAM cannot infer the user from session credentials.
			return o.Caller.User, o.Caller.User, nil
		}
		return o.Caller.User, "", nil
	case o.Caller.Root:
		return iamx.RootUser, "", nil
	}
	return "", "", &iamx.InputError{Field: "--user", Value: "", Rule: "the user is required when the caller is not an IAM user (pass User or resolve Caller)"}
}

// self reports whether U is the caller.
func (o Options) self(name string) bool {
	if o.Caller.Root {
		return name == iamx.RootUser
	}
	return o.Caller.User != "" && o.Caller.User == name
}

func (o Options) validate() error {
	switch o.OldKey {
	case Deactivate, Keep, Delete:
	default:
		return &iamx.InputError{Field: "--old-key", Value: string(o.OldKey), Rule: "the old-key policy is deactivate, keep or delete"}
	}
	if o.OldKeyID != "" {
		if err := iamx.ValidateAccessKeyID("--access-key-id", o.OldKeyID); err != nil {
			return err
		}
	}
	if !o.DryRun && !o.RecoverOnly && o.Destination == nil {
		return fmt.Errorf("%w: rotate: no destination for the new secret", iamx.ErrInvalidInput)
	}
	return nil
}

// PerUser is a Destination whose names take {user} and {account} (a
// fleet run's 'ci/{user}/aws'): Run hands the key to ForUser's result.
type PerUser interface {
	ForUser(user, account string) Destination
}

// ExpandName fills {user} and {account} in a destination's name; an
// unknown one ("") is left as it is, for the destination's check to refuse.
func ExpandName(tmpl, user, account string) string {
	if account == "" {
		account = "{account}"
	}
	return strings.NewReplacer("{user}", user, "{account}", account).Replace(tmpl)
}

// destinationFor is the destination of U's key, checked.
func (o Options) destinationFor(name string) (Destination, error) {
	d := o.Destination
	if p, ok := d.(PerUser); ok {
		d = p.ForUser(name, o.Caller.Account)
	}
	return d, check(d)
}

// check runs the destination's Check, when it has one.
func check(d Destination) error {
	if c, ok := d.(Checker); ok {
		return c.Check()
	}
	return nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
