package iamsim_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/keyrot/keyrot/iamx"
	"github.com/keyrot/keyrot/iamx/iamsim"
)

func orgConfig(o *iamsim.Org, creds aws.CredentialsProvider) aws.Config {
	return aws.Config{Region: "us-east-1", Credentials: creds, Retryer: func() aws.Retryer { return aws.NopRetryer{} },
		BaseEndpoint: aws.String(o.URL()), HTTPClient: iamx.NewHTTPClient(iamx.HTTPOptions{})}
}

// orgCall sends an Organizations request signed with creds.
func orgCall(t *testing.T, o *iamsim.Org, creds aws.Credentials, op, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("POST", o.URL()+"/", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "AWSOrganizationsV20161128."+op)
	sum := sha256.Sum256([]byte(body))
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), "organizations", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var doc map[string]any
	_ = json.Unmarshal(b, &doc)
	return resp.StatusCode, doc
}

// An organization: ListAccounts pages through every account with its
// status; the management account assumes a member's role and acts in that
// account only; a member's key is refused Organizations; a denied role,
// and a missing ExternalId, refuse AssumeRole.
func TestOrg(t *testing.T) {
	mgmt := iamsim.NewServer(iamsim.User("admin", iamsim.KeySeed{}), iamsim.Role("keyrot", false))
	t.Cleanup(mgmt.Close)
	org := iamsim.NewOrg(mgmt)
	t.Cleanup(org.Close)
	var ids []string
	for i := range 25 {
		id := "1000000000" + string(rune('0'+i/10)) + string(rune('0'+i%10))
		org.AddAccount(id, "acct", iamsim.User("ci", iamsim.KeySeed{}))
		ids = append(ids, id)
	}
	org.SetAccountStatus(ids[3], iamsim.AccountSuspended)
	ou := org.AddOU(org.RootID(), "prod")
	org.MoveAccount(ids[0], ou)
	adminKey := mgmt.Keys("admin")[0]
	creds := aws.Credentials{AccessKeyID: adminKey.ID, SecretAccessKey: adminKey.Secret}

	seen, token := 0, ""
	for range 5 {
		body := `{}`
		if token != "" {
			body = `{"NextToken":"` + token + `"}`
		}
		st, doc := orgCall(t, org, creds, "ListAccounts", body)
		if st != 200 {
			t.Fatalf("ListAccounts = %d %v", st, doc)
		}
		for _, a := range doc["Accounts"].([]any) {
			seen++
			if m := a.(map[string]any); m["Id"] == ids[3] && m["Status"] != "SUSPENDED" {
				t.Errorf("suspended account listed as %v", m["Status"])
			}
		}
		token, _ = doc["NextToken"].(string)
		if token == "" {
			break
		}
	}
	if seen != 26 {
		t.Fatalf("listed %d accounts, want 26", seen)
	}
	if st, doc := orgCall(t, org, creds, "ListAccountsForParent", `{"ParentId":"`+ou+`"}`); st != 200 || len(doc["Accounts"].([]any)) != 1 {
		t.Fatalf("ListAccountsForParent = %d %v", st, doc)
	}
	if st, doc := orgCall(t, org, creds, "ListChildren", `{"ParentId":"`+org.RootID()+`","ChildType":"ORGANIZATIONAL_UNIT"}`); st != 200 || len(doc["Children"].([]any)) != 1 {
		t.Fatalf("ListChildren = %d %v", st, doc)
	}

	// Into a member account, by its role.
	stsc := sts.NewFromConfig(orgConfig(org, credentials.StaticCredentialsProvider{Value: creds}))
	out, err := stsc.AssumeRole(context.Background(), &sts.AssumeRoleInput{
		RoleArn: aws.String("arn:aws:iam::" + ids[1] + ":role/" + iamsim.OrgAccessRole), RoleSessionName: aws.String("keyrot-test")})
	if err != nil {
		t.Fatal(err)
	}
	c := out.Credentials
	member := credentials.NewStaticCredentialsProvider(*c.AccessKeyId, *c.SecretAccessKey, *c.SessionToken)
	keys, err := iam.NewFromConfig(orgConfig(org, member)).ListAccessKeys(context.Background(), &iam.ListAccessKeysInput{UserName: aws.String("ci")})
	if err != nil || len(keys.AccessKeyMetadata) != 1 || *keys.AccessKeyMetadata[0].AccessKeyId != org.Account(ids[1]).Keys("ci")[0].ID {
		t.Fatalf("member ListAccessKeys: %v %v", keys, err)
	}
	if n := mgmt.CallCount("ListAccessKeys"); n != 0 {
		t.Fatalf("the member's call reached the management account")
	}
	// The member session is refused Organizations.
	if st, _ := orgCall(t, org, aws.Credentials{AccessKeyID: *c.AccessKeyId, SecretAccessKey: *c.SecretAccessKey, SessionToken: *c.SessionToken}, "ListAccounts", `{}`); st != 403 {
		t.Fatalf("member ListAccounts = %d, want 403", st)
	}
	org.DenyAssumeRole(ids[2])
	org.RequireExternalID(ids[4], "ext-1")
	for _, id := range []string{ids[2], ids[4]} {
		_, err := stsc.AssumeRole(context.Background(), &sts.AssumeRoleInput{
			RoleArn: aws.String("arn:aws:iam::" + id + ":role/" + iamsim.OrgAccessRole), RoleSessionName: aws.String("keyrot-test")})
		if err == nil || !strings.Contains(err.Error(), "AccessDenied") {
			t.Fatalf("AssumeRole into %s: %v", id, err)
		}
	}
	// Role chaining: a role session of the management account (a cron
	// job's role) assumes the member's role as well.
	rid, rsecret, rtoken := mgmt.RoleSession("keyrot")
	chained := sts.NewFromConfig(orgConfig(org, credentials.NewStaticCredentialsProvider(rid, rsecret, rtoken)))
	if _, err := chained.AssumeRole(context.Background(), &sts.AssumeRoleInput{
		RoleArn: aws.String("arn:aws:iam::" + ids[1] + ":role/" + iamsim.OrgAccessRole), RoleSessionName: aws.String("keyrot-cron")}); err != nil {
		t.Fatalf("a role session assuming the member role: %v", err)
	}
	if _, err := stsc.AssumeRole(context.Background(), &sts.AssumeRoleInput{ExternalId: aws.String("ext-1"),
		RoleArn: aws.String("arn:aws:iam::" + ids[4] + ":role/" + iamsim.OrgAccessRole), RoleSessionName: aws.String("keyrot-test")}); err != nil {
		t.Fatalf("with the ExternalId: %v", err)
	}
}
