package iamx

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"

	"github.com/keyrot/keyrot/iamx/internal/awsjson"
)

// Account is a member account of an AWS Organization.
type Account struct {
	ID     string
	Name   string
	Email  string
	Status string // ACTIVE, SUSPENDED, PENDING_CLOSURE
}

// AccountActive is the status of an account keyrot works in.
const AccountActive = "ACTIVE"

// The Organizations operations' members keyrot sends and reads
// (AWSOrganizationsV20161128, AWS JSON 1.1).
type (
	orgPageInput struct {
		ParentID  string `json:"ParentId,omitempty"`
		ChildType string `json:",omitempty"`
		NextToken string `json:",omitempty"`
	}
	orgAccountsOutput struct {
		Accounts []struct {
			ID     string `json:"Id"`
			Name   string
			Email  string
			Status string
			State  string
		}
		NextToken string
	}
	orgChildrenOutput struct {
		Children []struct {
			ID string `json:"Id"`
		}
		NextToken string
	}
	orgDescribeOutput struct {
		Organization struct {
			ID              string `json:"Id"`
			MasterAccountID string `json:"MasterAccountId"`
		}
	}
)

// orgClient is the Organizations client, made on first use.
type orgClient struct {
	once sync.Once
	api  *awsjson.Client
}

func (c *Client) organizations() *awsjson.Client {
	c.org.once.Do(func() { c.org.api = c.jsonClient(awsjson.Organizations, "") })
	return c.org.api
}

// maxOrgPages bounds every Organizations listing: 20 accounts a page, so
// 100 000 accounts, far above Organizations' quotas.
const maxOrgPages = 5000

// Organization is the caller's organization: its ID and management account.
type Organization struct {
	ID                string
	ManagementAccount string
}

// DescribeOrganization reads the caller's organization (one request,
// allowed to every member account).
func (c *Client) DescribeOrganization(ctx context.Context) (Organization, error) {
	var out orgDescribeOutput
	if err := c.organizations().Call(ctx, "DescribeOrganization", struct{}{}, &out); err != nil {
		return Organization{}, classify(err)
	}
	return Organization{ID: out.Organization.ID, ManagementAccount: out.Organization.MasterAccountID}, nil
}

// OrgAccounts lists every account of the organization, whatever its
// status (Organizations ListAccounts, 20 a page). Only the management
// account and delegated administrators may call it.
func (c *Client) OrgAccounts(ctx context.Context) ([]Account, error) {
	return c.listAccounts(ctx, "ListAccounts", "")
}

func (c *Client) listAccounts(ctx context.Context, op, parent string) ([]Account, error) {
	var accounts []Account
	in := orgPageInput{ParentID: parent}
	for range maxOrgPages {
		var out orgAccountsOutput
		if err := c.organizations().Call(ctx, op, in, &out); err != nil {
			return nil, classify(err)
		}
		for _, a := range out.Accounts {
			st := a.Status
			if st == "" {
				st = a.State
			}
			accounts = append(accounts, Account{ID: a.ID, Name: a.Name, Email: a.Email, Status: st})
		}
		if out.NextToken == "" {
			return accounts, nil
		}
		in.NextToken = out.NextToken
	}
	return nil, fmt.Errorf("organizations %s: more than %d pages", op, maxOrgPages)
}

// OUAccountIDs lists the IDs of the accounts in organizational unit (or
// root) parent and in every OU under it: ListAccountsForParent and
// ListChildren of each OU, paginated.
func (c *Client) OUAccountIDs(ctx context.Context, parent string) ([]string, error) {
	var ids []string
	queue, seen := []string{parent}, map[string]bool{parent: true}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		accounts, err := c.listAccounts(ctx, "ListAccountsForParent", p)
		if err != nil {
			return nil, fmt.Errorf("list the accounts of %s: %w", p, err)
		}
		for _, a := range accounts {
			ids = append(ids, a.ID)
		}
		in := orgPageInput{ParentID: p, ChildType: "ORGANIZATIONAL_UNIT"}
		for page := 0; ; page++ {
			if page == maxOrgPages {
				return nil, fmt.Errorf("organizations ListChildren of %s: more than %d pages", p, maxOrgPages)
			}
			var out orgChildrenOutput
			if err := c.organizations().Call(ctx, "ListChildren", in, &out); err != nil {
				return nil, fmt.Errorf("list the organizational units under %s: %w", p, classify(err))
			}
			for _, ch := range out.Children {
				if !seen[ch.ID] {
					seen[ch.ID] = true
					queue = append(queue, ch.ID)
				}
			}
			if out.NextToken == "" {
				break
			}
			in.NextToken = out.NextToken
		}
	}
	sort.Strings(ids)
	return ids, nil
}

// AssumeOptions say how to sign in a member account.
type AssumeOptions struct {
	RoleName    string // OrganizationAccountAccessRole unless set
	ExternalID  string
	SessionName string // up to 64 of [\w+=,.@-]
	// Duration asked of STS; the SDK's default (15 minutes) when 0.
	Duration time.Duration
}

// DefaultOrgRole is the role Organizations creates in the accounts it makes.
const DefaultOrgRole = "OrganizationAccountAccessRole"

// InAccount returns a Client that works in account id through STS
// AssumeRole of its role, signed by c's credentials. The session is
// requested on first use and again before it expires, so a run longer than
// a session goes on; the new Client shares c's request counter and --debug
// lines.
func (c *Client) InAccount(id string, o AssumeOptions) *Client {
	role := o.RoleName
	if role == "" {
		role = DefaultOrgRole
	}
	arn := "arn:" + PartitionOf(c.cfg.Region) + ":iam::" + id + ":role/" + role
	p := stscreds.NewAssumeRoleProvider(c.sts, arn, func(ro *stscreds.AssumeRoleOptions) {
		ro.RoleSessionName = o.SessionName
		if o.ExternalID != "" {
			ro.ExternalID = aws.String(o.ExternalID)
		}
		if o.Duration > 0 {
			ro.Duration = o.Duration
		}
	})
	n := c.WithCredentials(earlyRefresh{p})
	n.account = id
	return n
}

// Account is the account InAccount made c for, "" for the caller's own.
func (c *Client) Account() string { return c.account }

// earlyRefresh makes a session's credentials count as expired when four
// fifths of their lifetime have passed (at most 5 minutes before the end),
// so that no request is signed with credentials about to expire and a
// short session is not refreshed on every request either.
type earlyRefresh struct{ inner aws.CredentialsProvider }

func (e earlyRefresh) Retrieve(ctx context.Context) (aws.Credentials, error) {
	cr, err := e.inner.Retrieve(ctx)
	if err != nil {
		return cr, err
	}
	if cr.CanExpire {
		life := time.Until(cr.Expires)
		cr.Expires = cr.Expires.Add(-min(life/5, 5*time.Minute))
	}
	return cr, nil
}

// PartitionOf is the ARN partition of region, by the SDK's partition
// table (awsjson's copy of it).
func PartitionOf(region string) string { return awsjson.PartitionID(region) }
