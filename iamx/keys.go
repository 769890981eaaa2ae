package iamx

import (
	"context"
	"sort"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
)

// optional turns "" into a nil pointer: IAM then acts on the signing user.
func optional(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}

// ListKeys returns every access key of user ("" = the signing user), all
// pages, oldest first.
func (c *Client) ListKeys(ctx context.Context, user string) ([]Key, error) {
	var keys []Key
	p := iam.NewListAccessKeysPaginator(c.iam, &iam.ListAccessKeysInput{UserName: optional(user)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return nil, classify(err)
		}
		for _, m := range out.AccessKeyMetadata {
			keys = append(keys, Key{
				ID:      aws.ToString(m.AccessKeyId),
				User:    aws.ToString(m.UserName),
				Status:  Status(m.Status),
				Created: aws.ToTime(m.CreateDate),
			})
		}
	}
	sort.SliceStable(keys, func(i, j int) bool { return keys[i].Created.Before(keys[j].Created) })
	return keys, nil
}

// ListKeysWithLastUsed is ListKeys plus GetAccessKeyLastUsed for every key,
// the look-ups running concurrently (a user has at most two keys).
func (c *Client) ListKeysWithLastUsed(ctx context.Context, user string) ([]Key, error) {
	keys, err := c.ListKeys(ctx, user)
	if err != nil {
		return nil, err
	}
	errs := make([]error, len(keys))
	var wg sync.WaitGroup
	for i := range keys {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lu, err := c.LastUsed(ctx, keys[i].ID)
			keys[i].LastUsed, errs[i] = &lu, err
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return keys, nil
}

// LastUsed reports when, where and for which service a key was last used.
func (c *Client) LastUsed(ctx context.Context, id string) (LastUsed, error) {
	out, err := c.iam.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String(id)})
	if err != nil {
		return LastUsed{}, classify(err)
	}
	lu := LastUsed{User: aws.ToString(out.UserName)}
	if l := out.AccessKeyLastUsed; l != nil {
		lu.Date = aws.ToTime(l.LastUsedDate)
		lu.Service = notApplicable(aws.ToString(l.ServiceName))
		lu.Region = notApplicable(aws.ToString(l.Region))
	}
	return lu, nil
}

// notApplicable maps IAM's "N/A" (never used) to "".
func notApplicable(s string) string {
	if s == "N/A" {
		return ""
	}
	return s
}

// CreateKey creates an access key for user ("" = the signing user). The
// returned secret is the only copy that will ever exist.
//
// It is sent once, without the SDK's retries: CreateAccessKey is not
// idempotent, and a retry after a lost response would create a second key
// while the first one's secret is gone. The caller lists the keys to find
// out what a failed call did.
func (c *Client) CreateKey(ctx context.Context, user string) (NewKey, error) {
	out, err := c.iam.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: optional(user)}, func(o *iam.Options) {
		o.RetryMaxAttempts = 1
	})
	if err != nil {
		return NewKey{}, classify(err)
	}
	k := out.AccessKey
	return NewKey{
		Key: Key{
			ID:      aws.ToString(k.AccessKeyId),
			User:    aws.ToString(k.UserName),
			Status:  Status(k.Status),
			Created: aws.ToTime(k.CreateDate),
		},
		Secret: NewSecret(aws.ToString(k.SecretAccessKey)),
	}, nil
}

// SetStatus is UpdateAccessKey: one request.
func (c *Client) SetStatus(ctx context.Context, user, id string, s Status) error {
	_, err := c.iam.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{
		UserName:    optional(user),
		AccessKeyId: aws.String(id),
		Status:      types.StatusType(s),
	})
	return classify(err)
}

// DeleteKey is DeleteAccessKey: one request.
func (c *Client) DeleteKey(ctx context.Context, user, id string) error {
	_, err := c.iam.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: optional(user), AccessKeyId: aws.String(id)})
	return classify(err)
}

// User is an IAM user as ListUsers describes it.
type User struct {
	Name    string
	Path    string
	ARN     string
	Created time.Time
}

// ListUsers returns the users under pathPrefix ("" = all), every page.
func (c *Client) ListUsers(ctx context.Context, pathPrefix string) ([]User, error) {
	var users []User
	p := iam.NewListUsersPaginator(c.iam, &iam.ListUsersInput{PathPrefix: optional(pathPrefix)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return nil, classify(err)
		}
		for _, u := range out.Users {
			users = append(users, User{
				Name:    aws.ToString(u.UserName),
				Path:    aws.ToString(u.Path),
				ARN:     aws.ToString(u.Arn),
				Created: aws.ToTime(u.CreateDate),
			})
		}
	}
	return users, nil
}
