package iamx_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/keyrot/keyrot/iamx"
	"github.com/keyrot/keyrot/iamx/iamsim"
	"github.com/keyrot/keyrot/iamx/internal/awsjson"
	"github.com/keyrot/keyrot/internal/motoserver"
)

// orgFixture is an organization of 26 accounts (the management account
// and 25 members, two pages of ListAccounts), with an OU holding two
// members directly and one through a child OU.
type orgFixture struct {
	cfg     aws.Config
	mgmt    string
	members []string
	ou      string
	inOU    []string
}

// The same checks against the simulator and against moto, an independent
// emulator: ListAccounts paginates to every account; an OU's accounts
// include its child OUs'; a member account's client assumes the role and
// works in that account.
func TestOrganization(t *testing.T) {
	for name, setup := range map[string]func(*testing.T) orgFixture{"iamsim": simOrg, "moto": motoOrg} {
		t.Run(name, func(t *testing.T) {
			fx := setup(t)
			ctx := context.Background()
			c := iamx.New(fx.cfg)
			accounts, err := c.OrgAccounts(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(accounts) != 26 {
				t.Fatalf("ListAccounts: %d accounts, want 26", len(accounts))
			}
			found := map[string]iamx.Account{}
			for _, a := range accounts {
				found[a.ID] = a
			}
			if a := found[fx.members[0]]; a.Status != iamx.AccountActive || a.Name == "" {
				t.Errorf("member account as listed: %+v", a)
			}
			ids, err := c.OUAccountIDs(ctx, fx.ou)
			if err != nil {
				t.Fatal(err)
			}
			sort.Strings(fx.inOU)
			if fmt.Sprint(ids) != fmt.Sprint(fx.inOU) {
				t.Errorf("OU accounts %v, want %v", ids, fx.inOU)
			}
			if _, err := c.OUAccountIDs(ctx, "ou-zzzz-zzzzzzzz"); !errors.Is(err, iamx.ErrNotFound) {
				t.Errorf("an unknown OU: %v, want a not-found error", err)
			}
			member := c.InAccount(fx.members[1], iamx.AssumeOptions{SessionName: "keyrot-test"})
			id, err := member.CallerIdentity(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if id.Account != fx.members[1] || !id.AssumedRole {
				t.Errorf("in the member account the caller is %+v", id)
			}
			if member.Account() != fx.members[1] || c.Account() != "" {
				t.Errorf("Account() = %q / %q", member.Account(), c.Account())
			}
		})
	}
}

func simOrg(t *testing.T) orgFixture {
	mgmt := iamsim.NewServer(iamsim.User("admin", iamsim.KeySeed{}))
	t.Cleanup(mgmt.Close)
	org := iamsim.NewOrg(mgmt)
	t.Cleanup(org.Close)
	fx := orgFixture{mgmt: iamsim.DefaultAccountID}
	for i := range 25 {
		id := fmt.Sprintf("1000000000%02d", i)
		org.AddAccount(id, fmt.Sprintf("member-%d", i))
		fx.members = append(fx.members, id)
	}
	fx.ou = org.AddOU(org.RootID(), "workloads")
	child := org.AddOU(fx.ou, "prod")
	org.MoveAccount(fx.members[2], fx.ou)
	org.MoveAccount(fx.members[3], fx.ou)
	org.MoveAccount(fx.members[4], child)
	fx.inOU = []string{fx.members[2], fx.members[3], fx.members[4]}
	k := mgmt.Keys("admin")[0]
	fx.cfg = aws.Config{BaseEndpoint: aws.String(org.URL()), Region: "us-east-1", RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(k.ID, k.Secret, "")}
	return fx
}

// motoOrg builds the same organization in moto with Organizations' own
// calls (moto creates member accounts at once, with their
// OrganizationAccountAccessRole).
func motoOrg(t *testing.T) orgFixture {
	url := motoserver.Start(t)
	cfg := aws.Config{BaseEndpoint: aws.String(url), Region: "us-east-1", RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "")}
	org := awsjson.New(cfg, awsjson.Organizations, awsjson.Options{})
	ctx := context.Background()
	call := func(op string, in, out any) {
		t.Helper()
		if err := org.Call(ctx, op, in, out); err != nil {
			t.Fatalf("moto %s: %v", op, err)
		}
	}
	var created struct {
		Organization struct{ MasterAccountId string }
	}
	call("CreateOrganization", map[string]string{"FeatureSet": "ALL"}, &created)
	fx := orgFixture{cfg: cfg, mgmt: created.Organization.MasterAccountId}
	for i := range 25 {
		var out struct{ CreateAccountStatus struct{ AccountId string } }
		call("CreateAccount", map[string]string{"AccountName": fmt.Sprintf("member-%d", i), "Email": fmt.Sprintf("m%d@example.com", i)}, &out)
		fx.members = append(fx.members, out.CreateAccountStatus.AccountId)
	}
	var roots struct{ Roots []struct{ Id string } }
	call("ListRoots", struct{}{}, &roots)
	root := roots.Roots[0].Id
	var ou, child struct{ OrganizationalUnit struct{ Id string } }
	call("CreateOrganizationalUnit", map[string]string{"ParentId": root, "Name": "workloads"}, &ou)
	call("CreateOrganizationalUnit", map[string]string{"ParentId": ou.OrganizationalUnit.Id, "Name": "prod"}, &child)
	fx.ou = ou.OrganizationalUnit.Id
	for i, dest := range map[int]string{2: fx.ou, 3: fx.ou, 4: child.OrganizationalUnit.Id} {
		call("MoveAccount", map[string]string{"AccountId": fx.members[i], "SourceParentId": root, "DestinationParentId": dest}, &struct{}{})
		fx.inOU = append(fx.inOU, fx.members[i])
	}
	return fx
}
