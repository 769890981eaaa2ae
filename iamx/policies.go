package iamx

import (
	"context"
	"errors"
	"net/url"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// PutUserPolicy creates or replaces the inline policy name of user.
func (c *Client) PutUserPolicy(ctx context.Context, user, name, document string) error {
	_, err := c.iam.PutUserPolicy(ctx, &iam.PutUserPolicyInput{
		UserName: aws.String(user), PolicyName: aws.String(name), PolicyDocument: aws.String(document)})
	return classify(err)
}

// UserPolicy returns the document of user's inline policy name, decoded
// (IAM sends it URL-encoded). A missing policy is ErrNotFound.
func (c *Client) UserPolicy(ctx context.Context, user, name string) (string, error) {
	out, err := c.iam.GetUserPolicy(ctx, &iam.GetUserPolicyInput{UserName: aws.String(user), PolicyName: aws.String(name)})
	if err != nil {
		return "", classify(err)
	}
	doc := aws.ToString(out.PolicyDocument)
	if d, err := url.QueryUnescape(doc); err == nil {
		doc = d
	}
	return doc, nil
}

// DeleteUserPolicy deletes user's inline policy name; one already gone is
// reported as ErrNotFound.
func (c *Client) DeleteUserPolicy(ctx context.Context, user, name string) error {
	_, err := c.iam.DeleteUserPolicy(ctx, &iam.DeleteUserPolicyInput{UserName: aws.String(user), PolicyName: aws.String(name)})
	return classify(err)
}

// AccessKeyAccount asks STS GetAccessKeyInfo which account holds an access
// key. It works for any account's keys and needs no IAM permission.
func (c *Client) AccessKeyAccount(ctx context.Context, id string) (string, error) {
	out, err := c.sts.GetAccessKeyInfo(ctx, &sts.GetAccessKeyInfoInput{AccessKeyId: aws.String(id)})
	if err != nil {
		return "", classify(err)
	}
	if aws.ToString(out.Account) == "" {
		return "", errors.New("STS GetAccessKeyInfo named no account")
	}
	return aws.ToString(out.Account), nil
}
