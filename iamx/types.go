package iamx

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"
)

// Status is an access key's state as IAM spells it.
type Status string

// The two states IAM knows.
const (
	StatusActive   Status = "Active"
	StatusInactive Status = "Inactive"
)

// Key is one access key as ListAccessKeys and GetAccessKeyLastUsed describe it.
type Key struct {
	ID       string
	User     string
	Status   Status
	Created  time.Time
	LastUsed *LastUsed // nil when not looked up; Date zero when never used
}

// LastUsed is what GetAccessKeyLastUsed reports. IAM answers "N/A" for the
// service and region of a key that was never used; they are empty here.
type LastUsed struct {
	Date    time.Time
	Service string
	Region  string
	// User owns the key, as GetAccessKeyLastUsed names it ("root" for the
	// root user's keys).
	User string `json:"-"`
}

// Never reports whether the key has no recorded use.
func (l *LastUsed) Never() bool { return l == nil || l.Date.IsZero() }

// Secret is a secret access key. It redacts itself wherever it could be
// printed by accident (fmt verbs, %#v, slog) so that only an explicit call to
// Reveal puts the value anywhere.
type Secret struct{ value string }

// NewSecret wraps a secret access key.
func NewSecret(s string) Secret { return Secret{value: s} }

// Reveal returns the secret itself. Call it only where the user asked for
// the secret to be delivered.
func (s Secret) Reveal() string { return s.value }

// IsZero reports whether the secret is empty.
func (s Secret) IsZero() bool { return s.value == "" }

const redacted = "[redacted]"

// String implements fmt.Stringer without revealing the secret.
func (s Secret) String() string { return redacted }

// GoString implements fmt.GoStringer without revealing the secret.
func (s Secret) GoString() string { return redacted }

// Format implements fmt.Formatter: every verb (%d and %x too, which would
// otherwise print the struct's field) writes the redaction.
func (s Secret) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, redacted) }

// LogValue implements slog.LogValuer without revealing the secret.
func (s Secret) LogValue() slog.Value { return slog.StringValue(redacted) }

// MarshalText keeps encoders (JSON included) from writing the secret.
func (s Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// NewKey is a key fresh from CreateAccessKey: the only moment IAM reveals
// its secret.
type NewKey struct {
	Key
	Secret Secret
}

// Identity is the caller as STS GetCallerIdentity names it.
type Identity struct {
	Account string
	ARN     string
	UserID  string
	// User is the IAM user name, "" for the root user and for assumed roles.
	User string
	// Root is true when the account's root user signs the requests.
	Root bool
	// AssumedRole is true for role sessions and federated users.
	AssumedRole bool
}

// Name is how messages refer to the identity.
func (id Identity) Name() string {
	switch {
	case id.Root:
		return RootUser
	case id.User != "":
		return id.User
	default:
		return id.ARN
	}
}

// RootUser is how IAM's credential report names the account's root user, and
// how keyrot shows it.
const RootUser = "<root_account>"

// identityFromARN splits a caller ARN. IAM user ARNs carry a path:
// arn:aws:iam::123456789012:user/division/team/Bob names Bob.
func identityFromARN(account, arn, userID string) Identity {
	id := Identity{Account: account, ARN: arn, UserID: userID}
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 {
		return id
	}
	resource := parts[5]
	switch {
	case resource == "root":
		id.Root = true
	case strings.HasPrefix(resource, "user/"):
		id.User = resource[strings.LastIndex(resource, "/")+1:]
	default:
		id.AssumedRole = true
	}
	return id
}

// Signer describes the credentials that sign keyrot's requests, read from
// the credential chain without calling AWS.
type Signer struct {
	AccessKeyID string
	// Temporary is true for session credentials (a session token, or an
	// ASIA key id): IAM then cannot infer a user name from the signature.
	Temporary bool
	Source    string
}

// Count writes "1 call", "2 calls": n and the noun, plural unless n is 1.
func Count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// Times writes "once", "twice", "3 times".
func Times(n int) string {
	switch n {
	case 1:
		return "once"
	case 2:
		return "twice"
	}
	return fmt.Sprintf("%d times", n)
}
