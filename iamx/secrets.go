package iamx

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/keyrot/keyrot/iamx/internal/awsjson"
)

// The Secrets Manager operations' members keyrot sends and reads
// (secretsmanager, AWS JSON 1.1). SecretString holds a secret: these are
// never printed.
type (
	createSecretInput struct {
		Name               string
		SecretString       string
		KmsKeyID           string `json:"KmsKeyId,omitempty"`
		ClientRequestToken string
		Description        string
	}
	putSecretValueInput struct {
		SecretID           string `json:"SecretId"`
		SecretString       string
		ClientRequestToken string
	}
	getSecretValueInput struct {
		SecretID     string `json:"SecretId"`
		VersionStage string
	}
	updateSecretVersionStageInput struct {
		SecretID            string `json:"SecretId"`
		VersionStage        string
		MoveToVersionID     string `json:"MoveToVersionId,omitempty"`
		RemoveFromVersionID string `json:"RemoveFromVersionId,omitempty"`
	}
	describeSecretInput struct {
		SecretID string `json:"SecretId"`
	}
	describeSecretOutput struct {
		VersionIdsToStages map[string][]string
	}
	deleteSecretInput struct {
		SecretID                   string `json:"SecretId"`
		ForceDeleteWithoutRecovery bool
	}
	// secretOutput is the members of CreateSecret, PutSecretValue and
	// GetSecretValue keyrot reads.
	secretOutput struct {
		ARN          string
		Name         string
		VersionID    string `json:"VersionId"`
		SecretString string
	}
)

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
type secretsClient = regional[*awsjson.Client]

func (c *Client) secrets(id string) *awsjson.Client {
	region := c.cfg.Region
	if parts := strings.SplitN(id, ":", 7); len(parts) == 7 && parts[0] == "arn" && parts[3] != "" {
		region = parts[3]
	}
	return c.sm.get(region, func() *awsjson.Client { return c.jsonClient(awsjson.SecretsManager, region) })
}

// CurrentSecret reads the AWSCURRENT version of the secret id (a name or
// an ARN); found is false when there is no such secret.
func (c *Client) CurrentSecret(ctx context.Context, id string) (v SecretVersion, found bool, err error) {
	var out secretOutput
	if err := c.secrets(id).Call(ctx, "GetSecretValue", getSecretValueInput{SecretID: id, VersionStage: StageCurrent}, &out); err != nil {
		err = classify(err)
		if errors.Is(err, ErrNotFound) {
			return SecretVersion{}, false, nil
		}
		return SecretVersion{}, false, err
	}
	return SecretVersion{ARN: out.ARN, Name: out.Name, VersionID: out.VersionID, Value: NewSecret(out.SecretString)}, true, nil
}

// PutSecret adds value to the secret id as a new version, which becomes
// AWSCURRENT (the version before it AWSPREVIOUS). token makes a retry
// idempotent: the same token and value never make two versions.
func (c *Client) PutSecret(ctx context.Context, id string, value Secret, token string) (SecretVersion, error) {
	token, err := requestToken(token)
	if err != nil {
		return SecretVersion{}, err
	}
	var out secretOutput
	if err := c.secrets(id).Call(ctx, "PutSecretValue", putSecretValueInput{SecretID: id, SecretString: value.Reveal(), ClientRequestToken: token}, &out); err != nil {
		return SecretVersion{}, classify(err)
	}
	return SecretVersion{ARN: out.ARN, Name: out.Name, VersionID: out.VersionID}, nil
}

// CreateSecret creates the secret name holding value, encrypted with
// kmsKeyID ("" for the account's aws/secretsmanager key).
func (c *Client) CreateSecret(ctx context.Context, name string, value Secret, kmsKeyID, token string) (SecretVersion, error) {
	token, err := requestToken(token)
	if err != nil {
		return SecretVersion{}, err
	}
	var out secretOutput
	if err := c.secrets(name).Call(ctx, "CreateSecret", createSecretInput{Name: name, SecretString: value.Reveal(), KmsKeyID: kmsKeyID,
		ClientRequestToken: token, Description: "AWS access key, rotated by keyrot"}, &out); err != nil {
		return SecretVersion{}, classify(err)
	}
	return SecretVersion{ARN: out.ARN, Name: out.Name, VersionID: out.VersionID}, nil
}

// MoveSecretStage moves the staging label stage of the secret id from
// version from ("" when no version holds it) to version to ("" removes it
// from from). Moving AWSCURRENT makes Secrets Manager move AWSPREVIOUS to
// the version it left.
func (c *Client) MoveSecretStage(ctx context.Context, id, stage, to, from string) error {
	return classify(c.secrets(id).Call(ctx, "UpdateSecretVersionStage", updateSecretVersionStageInput{
		SecretID: id, VersionStage: stage, MoveToVersionID: to, RemoveFromVersionID: from}, nil))
}

// SecretStageVersion is the version of the secret id that holds the
// staging label stage, "" when none does (DescribeSecret: no value read).
func (c *Client) SecretStageVersion(ctx context.Context, id, stage string) (string, error) {
	var out describeSecretOutput
	if err := c.secrets(id).Call(ctx, "DescribeSecret", describeSecretInput{SecretID: id}, &out); err != nil {
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
	err := c.secrets(id).Call(ctx, "DeleteSecret", deleteSecretInput{SecretID: id, ForceDeleteWithoutRecovery: true}, nil)
	if err = classify(err); errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}

// requestToken is token, or a new one when token is "": the SDK fills in
// CreateSecret's and PutSecretValue's ClientRequestToken the same way, so
// that the call's retries cannot make two versions.
func requestToken(token string) (string, error) {
	if token != "" {
		return token, nil
	}
	t, err := awsjson.NewToken()
	if err != nil {
		return "", fmt.Errorf("client request token: %w", err)
	}
	return t, nil
}
