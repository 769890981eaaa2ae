package rotate

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/keyrot/keyrot/iamx"
)

// KindSSMParameter is an SSM Parameter Store destination in the journal.
const KindSSMParameter = "ssm-parameter"

// ParameterStore is the part of SSM Parameter Store an SSMParameter
// destination uses (iamx.Client).
type ParameterStore interface {
	ParameterHistory(ctx context.Context, name string) ([]iamx.ParameterVersion, bool, error)
	PutParameter(ctx context.Context, name string, value iamx.Secret, kmsKeyID string, overwrite bool) (int64, error)
	DeleteParameter(ctx context.Context, name string) error
}

// SSMParameter writes the key into an SSM Parameter Store SecureString as
// the same JSON object as SecretsManager, keeping the other fields of a
// JSON object it holds: a new version of the parameter, or a new
// parameter. Undo writes the value before back (as a newer version, with
// the KMS key it had) or deletes the parameter keyrot created.
type SSMParameter struct {
	Store    ParameterStore
	Name     string
	KMSKeyID string // for a parameter keyrot creates; "" is alias/aws/ssm
}

// Describe names the parameter.
func (p SSMParameter) Describe() string { return "SSM parameter " + p.Name }

// ForUser fills {user} and {account} in the parameter's name.
func (p SSMParameter) ForUser(user, account string) Destination {
	p.Name = ExpandName(p.Name, user, account)
	return p
}

// Check refuses a name Parameter Store would refuse, before any key exists.
func (p SSMParameter) Check() error { return iamx.ValidateParameterName("--ssm-parameter", p.Name) }

// paramDelivery is what a delivery to Parameter Store changes, as the
// journal keeps it before the write.
type paramDelivery struct {
	Previous int64 // the version before; 0 when keyrot creates the parameter
	KeyID    string
	KeyIDNew string // the new key the delivery writes
}

// Deliver writes the new version and returns its undo.
func (p SSMParameter) Deliver(ctx context.Context, k iamx.NewKey) (func() error, error) {
	d, value, err := p.prepare(ctx, k)
	if err != nil {
		return nil, err
	}
	if err := p.write(ctx, d, value); err != nil {
		return nil, err
	}
	return p.undoFor(d), nil
}

func (p SSMParameter) prepare(ctx context.Context, k iamx.NewKey) (paramDelivery, iamx.Secret, error) {
	vs, found, err := p.Store.ParameterHistory(ctx, p.Name)
	if err != nil {
		return paramDelivery{}, iamx.Secret{}, fmt.Errorf("read %s: %w", p.Describe(), err)
	}
	d := paramDelivery{KeyIDNew: k.ID, KeyID: p.KMSKeyID}
	var base string
	if found && len(vs) > 0 {
		cur := vs[len(vs)-1]
		if cur.Type != "SecureString" {
			return paramDelivery{}, iamx.Secret{}, fmt.Errorf("%s is a %s, not a SecureString: keyrot writes secrets only encrypted", p.Describe(), cur.Type)
		}
		d.Previous, d.KeyID, base = cur.Version, cur.KeyID, cur.Value.Reveal()
	}
	value, err := MergeKeyJSON(base, k.ID, k.Secret)
	if err != nil {
		return paramDelivery{}, iamx.Secret{}, fmt.Errorf("%s: %w", p.Describe(), err)
	}
	return d, value, nil
}

func (p SSMParameter) write(ctx context.Context, d paramDelivery, value iamx.Secret) error {
	if _, err := p.Store.PutParameter(ctx, p.Name, value, d.KeyID, d.Previous > 0); err != nil {
		return fmt.Errorf("put %s: %w", p.Describe(), err)
	}
	return nil
}

// undoFor puts back what d changed while the parameter's latest version
// still holds the new key: the value of version d.Previous is written
// again, or the parameter keyrot created is deleted.
func (p SSMParameter) undoFor(d paramDelivery) func() error {
	return func() error {
		ctx, cancel := context.WithTimeout(context.Background(), DefaultCleanupTimeout)
		defer cancel()
		vs, found, err := p.Store.ParameterHistory(ctx, p.Name)
		if err != nil {
			return fmt.Errorf("read %s: %w", p.Describe(), err)
		}
		if !found || len(vs) == 0 || !holdsKey(vs[len(vs)-1].Value, d.KeyIDNew) {
			return nil
		}
		if d.Previous == 0 {
			return p.Store.DeleteParameter(ctx, p.Name)
		}
		for _, v := range vs {
			if v.Version == d.Previous {
				_, err := p.Store.PutParameter(ctx, p.Name, v.Value, v.KeyID, true)
				return err
			}
		}
		return fmt.Errorf("%s no longer has version %d to put back", p.Describe(), d.Previous)
	}
}

// holds reports whether the latest version holds key id, with its secret.
func (p SSMParameter) holds(ctx context.Context, id string) (iamx.Secret, bool, error) {
	vs, found, err := p.Store.ParameterHistory(ctx, p.Name)
	if err != nil || !found || len(vs) == 0 {
		return iamx.Secret{}, false, err
	}
	s, ok := keyIn(vs[len(vs)-1].Value, id)
	return s, ok, nil
}

// keyIn returns the secret of key id in a JSON value holding it.
func keyIn(value iamx.Secret, id string) (iamx.Secret, bool) {
	var v struct{ AccessKeyId, SecretAccessKey string }
	if json.Unmarshal([]byte(value.Reveal()), &v) != nil || v.AccessKeyId != id || v.SecretAccessKey == "" {
		return iamx.Secret{}, false
	}
	return iamx.NewSecret(v.SecretAccessKey), true
}

func holdsKey(value iamx.Secret, id string) bool {
	_, ok := keyIn(value, id)
	return ok
}

// paramFromRecord is the destination and delivery a journal records.
func paramFromRecord(store ParameterStore, rec destRecord, newKeyID string) (SSMParameter, paramDelivery) {
	prev, _ := strconv.ParseInt(rec.PrevVer, 10, 64)
	return SSMParameter{Store: store, Name: rec.Parameter, KMSKeyID: rec.KMSKeyID},
		paramDelivery{Previous: prev, KeyID: rec.KMSKeyID, KeyIDNew: newKeyID}
}

// Precheck refuses, before any key exists, a parameter that is not a
// SecureString or does not hold a JSON object.
func (p SSMParameter) Precheck(ctx context.Context) error {
	vs, found, err := p.Store.ParameterHistory(ctx, p.Name)
	if err != nil {
		return fmt.Errorf("read %s: %w", p.Describe(), err)
	}
	if !found || len(vs) == 0 {
		return nil
	}
	cur := vs[len(vs)-1]
	if cur.Type != "SecureString" {
		return &iamx.InputError{Field: "--ssm-parameter", Value: p.Name, Rule: fmt.Sprintf("the parameter is a %s, not a SecureString: keyrot writes secrets only encrypted", cur.Type)}
	}
	if _, err := MergeKeyJSON(cur.Value.Reveal(), "", iamx.Secret{}); err != nil {
		return &iamx.InputError{Field: "--ssm-parameter", Value: p.Name, Rule: strings.Replace(err.Error(), "secret", "parameter", 1)}
	}
	return nil
}
