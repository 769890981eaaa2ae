package iamx_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/keyrot/keyrot/iamx"
	"github.com/keyrot/keyrot/iamx/iamsim"
)

// simClient signs with id/secret (and token) against srv in region.
func simClient(srv *iamsim.Server, region, id, secret, token string) *iamx.Client {
	return iamx.New(aws.Config{BaseEndpoint: aws.String(srv.URL()), Region: region, RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(id, secret, token)})
}

func TestInlinePolicyRoundTrip(t *testing.T) {
	srv := iamsim.NewServer(iamsim.User("admin", iamsim.KeySeed{}), iamsim.User("bob", iamsim.KeySeed{}))
	t.Cleanup(srv.Close)
	a := srv.Keys("admin")[0]
	c := simClient(srv, "us-east-1", a.ID, a.Secret, "")
	ctx := context.Background()
	doc := `{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"DateLessThan":{"aws:TokenIssueTime":"2026-01-01T00:00:00Z"}}}}`
	if err := c.PutUserPolicy(ctx, "bob", "p", doc); err != nil {
		t.Fatal(err)
	}
	got, err := c.UserPolicy(ctx, "bob", "p")
	if err != nil || got != doc {
		t.Fatalf("UserPolicy = %q, %v", got, err)
	}
	if err := c.PutUserPolicy(ctx, "bob", "bad", `{"Statement":`); !errors.Is(err, iamx.ErrInvalidInput) {
		t.Errorf("malformed document: %v", err)
	}
	if err := c.DeleteUserPolicy(ctx, "bob", "p"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UserPolicy(ctx, "bob", "p"); !errors.Is(err, iamx.ErrNotFound) {
		t.Errorf("after delete: %v", err)
	}
	if err := c.DeleteUserPolicy(ctx, "bob", "p"); !errors.Is(err, iamx.ErrNotFound) {
		t.Errorf("second delete: %v", err)
	}
}

// TestRevokeSessionsDeny: the deny on aws:TokenIssueTime refuses sessions
// issued before its time, and only those; the long-term key and
// GetCallerIdentity are unaffected, as on AWS.
func TestRevokeSessionsDeny(t *testing.T) {
	srv := iamsim.NewServer(iamsim.User("admin", iamsim.KeySeed{}), iamsim.User("bob", iamsim.KeySeed{}))
	t.Cleanup(srv.Close)
	ctx := context.Background()
	a, b := srv.Keys("admin")[0], srv.Keys("bob")[0]
	admin := simClient(srv, "us-east-1", a.ID, a.Secret, "")
	bob := simClient(srv, "us-east-1", b.ID, b.Secret, "")
	before, err := plainSession(ctx, srv, b)
	if err != nil {
		t.Fatal(err)
	}
	cut := time.Now().UTC().Truncate(time.Second).Add(time.Second)
	doc := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"DateLessThan":{"aws:TokenIssueTime":"%s"}}}]}`, cut.Format(time.RFC3339))
	if err := admin.PutUserPolicy(ctx, "bob", "keyrot-revoke-sessions", doc); err != nil {
		t.Fatal(err)
	}
	old := simClient(srv, "us-east-1", before.AccessKeyID, before.SecretAccessKey, before.SessionToken)
	if _, err := old.ListKeys(ctx, "bob"); !errors.Is(err, iamx.ErrAccessDenied) || !strings.Contains(err.Error(), "explicit deny") {
		t.Errorf("old session: %v, want an explicit deny", err)
	}
	if _, err := old.CallerIdentity(ctx); err != nil {
		t.Errorf("GetCallerIdentity is never denied: %v", err)
	}
	if _, err := bob.ListKeys(ctx, "bob"); err != nil {
		t.Errorf("long-term key: %v", err)
	}
	time.Sleep(time.Until(cut) + 10*time.Millisecond)
	after, err := plainSession(ctx, srv, b)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := simClient(srv, "us-east-1", after.AccessKeyID, after.SecretAccessKey, after.SessionToken).ListKeys(ctx, "bob"); err != nil {
		t.Errorf("session minted after the policy: %v", err)
	}
}

// plainSession calls GetSessionToken without MFA with key k.
func plainSession(ctx context.Context, srv *iamsim.Server, k iamsim.Key) (aws.Credentials, error) {
	return simClient(srv, "us-east-1", k.ID, k.Secret, "").SessionToken(ctx, "", "", 0)
}

func TestAccessKeyAccount(t *testing.T) {
	srv := iamsim.NewServer(iamsim.User("admin", iamsim.KeySeed{}))
	t.Cleanup(srv.Close)
	a := srv.Keys("admin")[0]
	c := simClient(srv, "us-east-1", a.ID, a.Secret, "")
	ctx := context.Background()
	for id, want := range map[string]string{a.ID: iamsim.DefaultAccountID, iamsim.KeyIDForAccount("999988887777", 1): "999988887777"} {
		if got, err := c.AccessKeyAccount(ctx, id); err != nil || got != want {
			t.Errorf("AccessKeyAccount(%s) = %q, %v; want %s", id, got, err, want)
		}
	}
}

func TestLookupEventsPagesAndRegions(t *testing.T) {
	srv := iamsim.NewServer(iamsim.User("admin", iamsim.KeySeed{}), iamsim.User("bob", iamsim.KeySeed{}))
	t.Cleanup(srv.Close)
	ctx := context.Background()
	a, b := srv.Keys("admin")[0], srv.Keys("bob")[0]
	admin := simClient(srv, "us-east-1", a.ID, a.Secret, "")
	for i := range 120 {
		region := "us-east-1"
		if i%3 == 0 {
			region = "eu-west-1"
		}
		// STS is regional: CloudTrail records the call in its region (IAM's
		// calls all go to us-east-1).
		if _, err := simClient(srv, region, b.ID, b.Secret, "").CallerIdentity(ctx); err != nil {
			t.Fatal(err)
		}
	}
	regions, err := admin.EnabledRegions(ctx)
	if err != nil || len(regions) != 8 {
		t.Fatalf("EnabledRegions = %v, %v", regions, err)
	}
	end := time.Now().Add(time.Minute)
	count := map[string]int{}
	for _, region := range []string{"us-east-1", "eu-west-1"} {
		next, pages := "", 0
		for {
			p, err := admin.LookupEvents(ctx, region, b.ID, end.Add(-time.Hour), end, next)
			if err != nil {
				t.Fatal(err)
			}
			pages++
			for _, e := range p.Events {
				if e.AccessKeyID != b.ID || e.Name != "GetCallerIdentity" || e.SourceIP != "127.0.0.1" || e.UserAgent == "" || e.Region != region {
					t.Fatalf("event %+v", e)
				}
				count[region]++
			}
			if next = p.Next; next == "" {
				break
			}
		}
		if want := map[string]int{"us-east-1": 2, "eu-west-1": 1}[region]; pages != want {
			t.Errorf("%s: %d pages, want %d", region, pages, want)
		}
	}
	if count["us-east-1"] != 80 || count["eu-west-1"] != 40 {
		t.Errorf("counts %v", count)
	}
}

// TestLookupEventsRateLimit: CloudTrail answers 2 LookupEvents per second
// per region; the third in a burst is throttled, another region is not.
func TestLookupEventsRateLimit(t *testing.T) {
	srv := iamsim.NewServer(iamsim.User("admin", iamsim.KeySeed{}))
	t.Cleanup(srv.Close)
	a := srv.Keys("admin")[0]
	c := simClient(srv, "us-east-1", a.ID, a.Secret, "")
	ctx := context.Background()
	now := time.Now()
	var errs []error
	for range 3 {
		_, err := c.LookupEvents(ctx, "us-west-2", a.ID, now.Add(-time.Hour), now, "")
		errs = append(errs, err)
	}
	if errs[0] != nil || errs[1] != nil || !errors.Is(errs[2], iamx.ErrThrottled) {
		t.Errorf("burst of 3: %v", errs)
	}
	if _, err := c.LookupEvents(ctx, "eu-west-1", a.ID, now.Add(-time.Hour), now, ""); err != nil {
		t.Errorf("another region: %v", err)
	}
}
