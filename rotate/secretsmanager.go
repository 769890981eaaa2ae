package rotate

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/keyrot/keyrot/iamx"
)

// KindSecretsManager is a Secrets Manager destination in the journal.
const KindSecretsManager = "secrets-manager"

// SecretStore is the part of Secrets Manager a SecretsManager destination
// uses (iamx.Client).
type SecretStore interface {
	CurrentSecret(ctx context.Context, id string) (iamx.SecretVersion, bool, error)
	PutSecret(ctx context.Context, id string, value iamx.Secret, token string) (iamx.SecretVersion, error)
	CreateSecret(ctx context.Context, name string, value iamx.Secret, kmsKeyID, token string) (iamx.SecretVersion, error)
	MoveSecretStage(ctx context.Context, id, stage, to, from string) error
	SecretStageVersion(ctx context.Context, id, stage string) (string, error)
	DeleteSecretNow(ctx context.Context, id string) error
}

// SecretsManager writes the key into an AWS Secrets Manager secret as the
// JSON object {"AccessKeyId", "SecretAccessKey"}, keeping the other fields
// of a JSON object the secret already holds. One PutSecretValue makes the
// new version AWSCURRENT (the one before becomes AWSPREVIOUS); a missing
// secret is created. Undo moves AWSCURRENT back to the version before, or
// deletes the secret it created.
type SecretsManager struct {
	Store    SecretStore
	SecretID string // a name or an ARN
	KMSKeyID string // for a secret keyrot creates; "" is aws/secretsmanager
}

// Describe names the secret.
func (s SecretsManager) Describe() string { return "Secrets Manager secret " + s.SecretID }

// smDelivery is what a delivery to Secrets Manager changes, as the
// journal keeps it before the write: the secret's ARN and the version that
// was AWSCURRENT, or that keyrot creates the secret.
type smDelivery struct {
	ARN, Previous string
	// BeforePrevious held AWSPREVIOUS before ("" if none): an undo puts
	// the label back there.
	BeforePrevious string
	Created        bool
	KeyID          string // the new key the delivery writes
}

// versionToken is the ClientRequestToken of the version holding key id:
// a retried PutSecretValue or CreateSecret makes no second version.
func versionToken(id string) string { return "keyrot-" + id + "-0000000000" }

// Deliver puts the new version and returns its undo.
func (s SecretsManager) Deliver(ctx context.Context, k iamx.NewKey) (func() error, error) {
	d, value, err := s.prepare(ctx, k)
	if err != nil {
		return nil, err
	}
	if _, err := s.write(ctx, d, value); err != nil {
		return nil, err
	}
	return s.undoFor(d), nil
}

// prepare reads the secret and builds the value to write.
func (s SecretsManager) prepare(ctx context.Context, k iamx.NewKey) (smDelivery, iamx.Secret, error) {
	cur, found, err := s.Store.CurrentSecret(ctx, s.SecretID)
	if err != nil {
		return smDelivery{}, iamx.Secret{}, fmt.Errorf("read %s: %w", s.Describe(), err)
	}
	if !found && strings.HasPrefix(s.SecretID, "arn:") {
		return smDelivery{}, iamx.Secret{}, fmt.Errorf("%s does not exist: keyrot creates a missing secret from a name, not from an ARN", s.Describe())
	}
	var base string
	if found {
		base = cur.Value.Reveal()
	}
	value, err := MergeKeyJSON(base, k.ID, k.Secret)
	if err != nil {
		return smDelivery{}, iamx.Secret{}, fmt.Errorf("%s: %w", s.Describe(), err)
	}
	d := smDelivery{ARN: cur.ARN, Previous: cur.VersionID, Created: !found, KeyID: k.ID}
	if found {
		if d.BeforePrevious, err = s.Store.SecretStageVersion(ctx, cmp.Or(cur.ARN, s.SecretID), iamx.StagePrevious); err != nil {
			return smDelivery{}, iamx.Secret{}, fmt.Errorf("read %s: %w", s.Describe(), err)
		}
	}
	return d, value, nil
}

// write creates the secret or puts the new version; it returns the
// secret's ARN.
func (s SecretsManager) write(ctx context.Context, d smDelivery, value iamx.Secret) (string, error) {
	if d.Created {
		v, err := s.Store.CreateSecret(ctx, s.SecretID, value, s.KMSKeyID, versionToken(d.KeyID))
		if err != nil {
			return "", fmt.Errorf("create %s: %w", s.Describe(), err)
		}
		return v.ARN, nil
	}
	if _, err := s.Store.PutSecret(ctx, cmp.Or(d.ARN, s.SecretID), value, versionToken(d.KeyID)); err != nil {
		return "", fmt.Errorf("put a new version of %s: %w", s.Describe(), err)
	}
	return d.ARN, nil
}

// undoFor puts back what d changed, if the secret's current version still
// holds the new key (otherwise there is nothing of keyrot's to undo: the
// write never landed, was undone, or someone wrote the secret since): the
// secret keyrot created is deleted; otherwise AWSCURRENT goes back to the
// version before and AWSPREVIOUS to the version that held it, which
// leaves the new version with no label.
func (s SecretsManager) undoFor(d smDelivery) func() error {
	return func() error {
		ctx, cancel := context.WithTimeout(context.Background(), DefaultCleanupTimeout)
		defer cancel()
		_, ver, holds, err := s.holds(ctx, d.KeyID)
		switch {
		case err != nil:
			return fmt.Errorf("read %s: %w", s.Describe(), err)
		case !holds:
			return nil
		case d.Created:
			return s.Store.DeleteSecretNow(ctx, s.SecretID)
		}
		if err := s.Store.MoveSecretStage(ctx, s.SecretID, iamx.StageCurrent, d.Previous, ver); err != nil {
			return err
		}
		// Moving AWSCURRENT gave AWSPREVIOUS to the new version.
		return s.Store.MoveSecretStage(ctx, s.SecretID, iamx.StagePrevious, d.BeforePrevious, ver)
	}
}

// holds reports whether the secret's current version holds key id, with
// that key's secret and the version's ID.
func (s SecretsManager) holds(ctx context.Context, id string) (iamx.Secret, string, bool, error) {
	cur, found, err := s.Store.CurrentSecret(ctx, s.SecretID)
	if err != nil || !found {
		return iamx.Secret{}, "", false, err
	}
	var v struct{ AccessKeyId, SecretAccessKey string }
	if json.Unmarshal([]byte(cur.Value.Reveal()), &v) != nil || v.AccessKeyId != id || v.SecretAccessKey == "" {
		return iamx.Secret{}, "", false, nil
	}
	return iamx.NewSecret(v.SecretAccessKey), cur.VersionID, true, nil
}

// smFromRecord is the destination and delivery a journal records.
func smFromRecord(store SecretStore, rec destRecord, newKeyID string) (SecretsManager, smDelivery) {
	return SecretsManager{Store: store, SecretID: rec.SecretID, KMSKeyID: rec.KMSKeyID},
		smDelivery{ARN: rec.SecretARN, Previous: rec.PrevVer, BeforePrevious: rec.PrevPrevVer, Created: rec.CreatedNew, KeyID: newKeyID}
}

// ErrNotJSONObject is a secret value that is not a JSON object: keyrot
// will not overwrite what it cannot keep.
var ErrNotJSONObject = errors.New("the secret holds a value that is not a JSON object; keyrot keeps the other fields of a JSON object and will not overwrite anything else")

// MergeKeyJSON is the value a secret store holds for a key: the JSON
// object existing ("" for none) with AccessKeyId and SecretAccessKey set
// and its other fields kept.
func MergeKeyJSON(existing, id string, secret iamx.Secret) (iamx.Secret, error) {
	fields := map[string]json.RawMessage{}
	if t := bytes.TrimSpace([]byte(existing)); len(t) > 0 {
		if t[0] != '{' || json.Unmarshal(t, &fields) != nil {
			return iamx.Secret{}, ErrNotJSONObject
		}
		if fields == nil {
			fields = map[string]json.RawMessage{}
		}
	}
	idJSON, _ := json.Marshal(id)
	secretJSON, _ := json.Marshal(secret.Reveal())
	fields["AccessKeyId"], fields["SecretAccessKey"] = idJSON, secretJSON
	b, err := json.Marshal(fields)
	if err != nil {
		return iamx.Secret{}, err
	}
	return iamx.NewSecret(string(b)), nil
}

// ForUser fills {user} and {account} in the secret's name.
func (s SecretsManager) ForUser(user, account string) Destination {
	s.SecretID = ExpandName(s.SecretID, user, account)
	return s
}

// Check refuses a secret name Secrets Manager would refuse, before any key
// exists (a template can make one: a user name may hold a comma).
func (s SecretsManager) Check() error { return iamx.ValidateSecretID("--secret-id", s.SecretID) }

// Precheck refuses, before any key exists, a secret that holds something
// other than a JSON object, and a missing secret named by its ARN.
func (s SecretsManager) Precheck(ctx context.Context) error {
	cur, found, err := s.Store.CurrentSecret(ctx, s.SecretID)
	switch {
	case err != nil:
		return fmt.Errorf("read %s: %w", s.Describe(), err)
	case !found && strings.HasPrefix(s.SecretID, "arn:"):
		return &iamx.InputError{Field: "--secret-id", Value: s.SecretID, Rule: "no such secret, and keyrot creates a missing secret from a name, not from an ARN"}
	case found:
		if _, err := MergeKeyJSON(cur.Value.Reveal(), "", iamx.Secret{}); err != nil {
			return &iamx.InputError{Field: "--secret-id", Value: s.SecretID, Rule: err.Error()}
		}
	}
	return nil
}
