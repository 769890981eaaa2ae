package iamx

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

// ssmAPI is exactly the part of *ssm.Client keyrot calls.
type ssmAPI interface {
	PutParameter(context.Context, *ssm.PutParameterInput, ...func(*ssm.Options)) (*ssm.PutParameterOutput, error)
	GetParameterHistory(context.Context, *ssm.GetParameterHistoryInput, ...func(*ssm.Options)) (*ssm.GetParameterHistoryOutput, error)
	DeleteParameter(context.Context, *ssm.DeleteParameterInput, ...func(*ssm.Options)) (*ssm.DeleteParameterOutput, error)
}

var _ ssmAPI = (*ssm.Client)(nil)

type ssmClient struct {
	once sync.Once
	api  ssmAPI
}

func (c *Client) parameters() ssmAPI {
	c.ssm.once.Do(func() { c.ssm.api = ssm.NewFromConfig(c.cfg) })
	return c.ssm.api
}

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
	in := &ssm.GetParameterHistoryInput{Name: aws.String(name), WithDecryption: aws.Bool(true), MaxResults: aws.Int32(50)}
	for range maxHistoryPages {
		out, err := c.parameters().GetParameterHistory(ctx, in)
		if err != nil {
			if err = classify(err); errors.Is(err, ErrNotFound) {
				return nil, false, nil
			}
			return nil, false, err
		}
		for _, p := range out.Parameters {
			vs = append(vs, ParameterVersion{Version: p.Version, Type: string(p.Type), KeyID: aws.ToString(p.KeyId), Value: NewSecret(aws.ToString(p.Value))})
		}
		if aws.ToString(out.NextToken) == "" {
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
	out, err := c.parameters().PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String(name), Value: aws.String(value.Reveal()),
		Type: ssmtypes.ParameterTypeSecureString, KeyId: optional(kmsKeyID), Overwrite: aws.Bool(overwrite)})
	if err != nil {
		return 0, classify(err)
	}
	return out.Version, nil
}

// DeleteParameter deletes the parameter name; one already gone is not an
// error.
func (c *Client) DeleteParameter(ctx context.Context, name string) error {
	_, err := c.parameters().DeleteParameter(ctx, &ssm.DeleteParameterInput{Name: aws.String(name)})
	if err = classify(err); errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}
