package iamx

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// secretsAPI is exactly the part of *secretsmanager.Client keyrot calls.
type secretsAPI interface {
	CreateSecret(context.Context, *secretsmanager.CreateSecretInput, ...func(*secretsmanager.Options)) (*secretsmanager.CreateSecretOutput, error)
	PutSecretValue(context.Context, *secretsmanager.PutSecretValueInput, ...func(*secretsmanager.Options)) (*secretsmanager.PutSecretValueOutput, error)
	GetSecretValue(context.Context, *secretsmanager.GetSecretValueInput, ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
	UpdateSecretVersionStage(context.Context, *secretsmanager.UpdateSecretVersionStageInput, ...func(*secretsmanager.Options)) (*secretsmanager.UpdateSecretVersionStageOutput, error)
	DeleteSecret(context.Context, *secretsmanager.DeleteSecretInput, ...func(*secretsmanager.Options)) (*secretsmanager.DeleteSecretOutput, error)
	DescribeSecret(context.Context, *secretsmanager.DescribeSecretInput, ...func(*secretsmanager.Options)) (*secretsmanager.DescribeSecretOutput, error)
}

var _ secretsAPI = (*secretsmanager.Client)(nil)

// Secrets Manager's labels of a secret's current and previous versions.
const (
	StageCurrent  = "AWSCURRENT"
	StagePrevious = "AWSPREVIOUS"
)

// SecretVersion is one version of a Secrets Manager secret. Value is the
// SecretString: it holds a secret, so it is never printed.
type SecretVersion struct {
	ARN, Name, VersionID string
	Value                Secret
}

// secretsClient holds the Secrets Manager clients, one per region: a
// secret named by its ARN is reached in the ARN's region, one named by
// name in the configured region.
type secretsClient = regional[secretsAPI]

func (c *Client) secrets(id string) secretsAPI {
	region := c.cfg.Region
	if parts := strings.SplitN(id, ":", 7); len(parts) == 7 && parts[0] == "arn" && parts[3] != "" {
		region = parts[3]
	}
	return c.sm.get(region, func() secretsAPI {
		return secretsmanager.NewFromConfig(c.cfg, func(o *secretsmanager.Options) { o.Region = region })
	})
}

// CurrentSecret reads the AWSCURRENT version of the secret id (a name or
// an ARN); found is false when there is no such secret.
func (c *Client) CurrentSecret(ctx context.Context, id string) (v SecretVersion, found bool, err error) {
	out, err := c.secrets(id).GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(id), VersionStage: aws.String(StageCurrent)})
	if err != nil {
		err = classify(err)
		if errors.Is(err, ErrNotFound) {
			return SecretVersion{}, false, nil
		}
		return SecretVersion{}, false, err
	}
	return SecretVersion{ARN: aws.ToString(out.ARN), Name: aws.ToString(out.Name), VersionID: aws.ToString(out.VersionId),
		Value: NewSecret(aws.ToString(out.SecretString))}, true, nil
}

// PutSecret adds value to the secret id as a new version, which becomes
// AWSCURRENT (the version before it AWSPREVIOUS). token makes a retry
// idempotent: the same token and value never make two versions.
func (c *Client) PutSecret(ctx context.Context, id string, value Secret, token string) (SecretVersion, error) {
	out, err := c.secrets(id).PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{
		SecretId: aws.String(id), SecretString: aws.String(value.Reveal()), ClientRequestToken: optional(token)})
	if err != nil {
		return SecretVersion{}, classify(err)
	}
	return SecretVersion{ARN: aws.ToString(out.ARN), Name: aws.ToString(out.Name), VersionID: aws.ToString(out.VersionId)}, nil
}

// CreateSecret creates the secret name holding value, encrypted with
// kmsKeyID ("" for the account's aws/secretsmanager key).
func (c *Client) CreateSecret(ctx context.Context, name string, value Secret, kmsKeyID, token string) (SecretVersion, error) {
	out, err := c.secrets(name).CreateSecret(ctx, &secretsmanager.CreateSecretInput{
		Name: aws.String(name), SecretString: aws.String(value.Reveal()), KmsKeyId: optional(kmsKeyID),
		ClientRequestToken: optional(token), Description: aws.String("AWS access key, rotated by keyrot")})
	if err != nil {
		return SecretVersion{}, classify(err)
	}
	return SecretVersion{ARN: aws.ToString(out.ARN), Name: aws.ToString(out.Name), VersionID: aws.ToString(out.VersionId)}, nil
}

// MoveSecretStage moves the staging label stage of the secret id from
// version from ("" when no version holds it) to version to ("" removes it
// from from). Moving AWSCURRENT makes Secrets Manager move AWSPREVIOUS to
// the version it left.
func (c *Client) MoveSecretStage(ctx context.Context, id, stage, to, from string) error {
	_, err := c.secrets(id).UpdateSecretVersionStage(ctx, &secretsmanager.UpdateSecretVersionStageInput{
		SecretId: aws.String(id), VersionStage: aws.String(stage), MoveToVersionId: optional(to), RemoveFromVersionId: optional(from)})
	return classify(err)
}

// SecretStageVersion is the version of the secret id that holds the
// staging label stage, "" when none does (DescribeSecret: no value read).
func (c *Client) SecretStageVersion(ctx context.Context, id, stage string) (string, error) {
	out, err := c.secrets(id).DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(id)})
	if err != nil {
		return "", classify(err)
	}
	for v, stages := range out.VersionIdsToStages {
		if slices.Contains(stages, stage) {
			return v, nil
		}
	}
	return "", nil
}

// DeleteSecretNow deletes the secret id without a recovery window: keyrot
// deletes only a secret it created, which held nothing but a key it is
// deleting.
func (c *Client) DeleteSecretNow(ctx context.Context, id string) error {
	_, err := c.secrets(id).DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{SecretId: aws.String(id), ForceDeleteWithoutRecovery: aws.Bool(true)})
	if err = classify(err); errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}
