package iamx

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/keyrot/keyrot/iamx/internal/awsjson"
)

// ssmClient is the SSM client, made on first use.
type ssmClient struct {
	once sync.Once
	api  *awsjson.Client
}

func (c *Client) parameters() *awsjson.Client {
	c.ssm.once.Do(func() { c.ssm.api = c.jsonClient(awsjson.SSM, "") })
	return c.ssm.api
}

// The SSM operations' members keyrot sends and reads (AmazonSSM, AWS JSON
// 1.1). Value holds a secret: these are never printed.
type (
	putParameterInput struct {
		Name      string
		Value     string
		Type      string
		KeyID     string `json:"KeyId,omitempty"`
		Overwrite bool
	}
	putParameterOutput struct {
		Version int64
	}
	getParameterHistoryInput struct {
		Name           string
		WithDecryption bool
		MaxResults     int32
		NextToken      string `json:",omitempty"`
	}
	getParameterHistoryOutput struct {
		Parameters []struct {
			Version int64
			Type    string
			KeyID   string `json:"KeyId"`
			Value   string
		}
		NextToken string
	}
	deleteParameterInput struct {
		Name string
	}
)

// ParameterVersion is one version of an SSM parameter; Value holds a
// secret and is never printed. KeyID is the KMS key of a SecureString.
type ParameterVersion struct {
	Version int64
	Type    string
	KeyID   string
	Value   Secret
}

// maxHistoryPages bounds GetParameterHistory: Parameter Store keeps 100
// versions, 50 a page.
const maxHistoryPages = 10

// ParameterHistory reads every version of the parameter name, oldest
// first, decrypted (GetParameterHistory: the KMS key of each version comes
// with it, which GetParameter does not tell); found is false when there is
// no such parameter.
func (c *Client) ParameterHistory(ctx context.Context, name string) (vs []ParameterVersion, found bool, err error) {
	in := getParameterHistoryInput{Name: name, WithDecryption: true, MaxResults: 50}
	for range maxHistoryPages {
		var out getParameterHistoryOutput
		if err := c.parameters().Call(ctx, "GetParameterHistory", in, &out); err != nil {
			if err = classify(err); errors.Is(err, ErrNotFound) {
				return nil, false, nil
			}
			return nil, false, err
		}
		for _, p := range out.Parameters {
			vs = append(vs, ParameterVersion{Version: p.Version, Type: p.Type, KeyID: p.KeyID, Value: NewSecret(p.Value)})
		}
		if out.NextToken == "" {
			return vs, true, nil
		}
		in.NextToken = out.NextToken
	}
	return nil, false, fmt.Errorf("parameter %s: more than %d pages of history", name, maxHistoryPages)
}

// PutParameter writes value as a SecureString (encrypted with kmsKeyID,
// "" for alias/aws/ssm), a new version of an existing parameter when
// overwrite is set; it returns the version written.
func (c *Client) PutParameter(ctx context.Context, name string, value Secret, kmsKeyID string, overwrite bool) (int64, error) {
	var out putParameterOutput
	err := c.parameters().Call(ctx, "PutParameter", putParameterInput{Name: name, Value: value.Reveal(),
		Type: "SecureString", KeyID: kmsKeyID, Overwrite: overwrite}, &out)
	if err != nil {
		return 0, classify(err)
	}
	return out.Version, nil
}

// DeleteParameter deletes the parameter name; one already gone is not an
// error.
func (c *Client) DeleteParameter(ctx context.Context, name string) error {
	err := c.parameters().Call(ctx, "DeleteParameter", deleteParameterInput{Name: name}, nil)
	if err = classify(err); errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}
