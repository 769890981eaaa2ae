package iamx_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/keyrot/keyrot/iamx"
	"github.com/keyrot/keyrot/iamx/iamsim"
	"github.com/keyrot/keyrot/internal/motoserver"
	"github.com/keyrot/keyrot/rotate/contain"
)

// TestContainmentAgainstMoto runs the same containment against the
// simulator and against moto, an independent AWS emulator, and expects the
// same outcome from both: the simulator answers the operations moto serves
// (inline user policies, GetAccessKeyInfo, GetAccessKeyLastUsed's
// UserName, the error codes) the way moto does. moto has no CloudTrail
// LookupEvents by access key and no Account ListRegions, and checks no
// signatures, so usage and the session deny are the simulator's alone.
func TestContainmentAgainstMoto(t *testing.T) {
	for _, target := range againstMoto(t) {
		t.Run(target.name, func(t *testing.T) {
			cfg := target.cfg
			ctx := context.Background()
			raw := iam.NewFromConfig(cfg)
			c := iamx.New(cfg)
			var leaked string
			for _, u := range []string{"bob", "carol"} {
				if _, err := raw.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(u)}); err != nil {
					t.Fatal(err)
				}
				k, err := raw.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(u)})
				if err != nil {
					t.Fatal(err)
				}
				leaked = aws.ToString(k.AccessKey.AccessKeyId) // carol's
			}
			o := contain.Options{AccessKeyID: leaked, Signer: iamx.Signer{AccessKeyID: target.id}}

			res, err := contain.Run(ctx, c, o)
			if err != nil {
				t.Fatal(err)
			}
			if res.UserName != "carol" || res.OwnerFoundBy != "IAM GetAccessKeyLastUsed" || res.StatusAfter != iamx.StatusInactive || res.Policy.Action != "created" {
				t.Errorf("contain: %+v", res)
			}
			doc, err := c.UserPolicy(ctx, "carol", contain.PolicyName(leaked))
			if err != nil || doc == "" {
				t.Errorf("the policy as read back: %q, %v", doc, err)
			}
			again, err := contain.Run(ctx, c, o)
			if err != nil || again.Policy.Action != "unchanged" || !again.Policy.RevokesBefore.Equal(res.Policy.RevokesBefore) {
				t.Errorf("second contain: %+v, %v (the cut-off must read back from the stored document)", again.Policy, err)
			}
			keys, err := c.ListKeys(ctx, "carol")
			if err != nil || len(keys) != 1 || keys[0].Status != iamx.StatusInactive {
				t.Errorf("carol's keys %+v, %v", keys, err)
			}

			o.Release, o.Force = true, true
			if rel, err := contain.Run(ctx, c, o); err != nil || rel.Policy.Action != "deleted" {
				t.Errorf("release: %+v, %v", rel.Policy, err)
			}
			if _, err := c.UserPolicy(ctx, "carol", contain.PolicyName(leaked)); !errors.Is(err, iamx.ErrNotFound) {
				t.Errorf("after release: %v, want not found", err)
			}
			if err := c.DeleteUserPolicy(ctx, "carol", contain.PolicyName(leaked)); !errors.Is(err, iamx.ErrNotFound) {
				t.Errorf("deleting it again: %v, want not found", err)
			}
			if err := c.PutUserPolicy(ctx, "carol", "broken", `{"Statement":`); !errors.Is(err, iamx.ErrInvalidInput) {
				t.Errorf("a malformed document: %v, want invalid input", err)
			}
		})
	}
}

// TestUsageWithoutCloudTrail: where LookupEvents fails (moto does not
// serve it), contain still contains and says why the activity is missing.
func TestUsageWithoutCloudTrail(t *testing.T) {
	motoURL := motoserver.Start(t)
	cfg := aws.Config{BaseEndpoint: aws.String(motoURL), Region: "us-east-1", RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider("AKIAIOSFODNN7EXAMPLE", "x", "")}
	ctx := context.Background()
	raw := iam.NewFromConfig(cfg)
	if _, err := raw.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("dave")}); err != nil {
		t.Fatal(err)
	}
	k, err := raw.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("dave")})
	if err != nil {
		t.Fatal(err)
	}
	c := iamx.New(cfg)
	res, err := contain.Run(ctx, c, contain.Options{AccessKeyID: aws.ToString(k.AccessKey.AccessKeyId), Signer: iamx.Signer{AccessKeyID: "AKIAIOSFODNN7EXAMPLE"},
		Trail: c, Usage: contain.UsageOptions{Regions: []string{"us-east-1"}}, UsageWait: 20 * time.Second})
	if err != nil || res.StatusAfter != iamx.StatusInactive || res.Usage != nil || len(res.Warnings) != 1 {
		t.Fatalf("%+v, %v", res, err)
	}
}

// target is an AWS endpoint a moto comparison runs on: the simulator
// with its admin key, or moto_server (which checks no signatures).
type target struct {
	name, id string
	cfg      aws.Config
}

// againstMoto starts moto_server (the test skips without it) and a
// simulator, and returns both as targets, the simulator first.
func againstMoto(t *testing.T) []target {
	t.Helper()
	motoURL := motoserver.Start(t)
	srv := iamsim.NewServer(iamsim.User("admin", iamsim.KeySeed{}))
	t.Cleanup(srv.Close)
	admin := srv.Keys("admin")[0]
	cfg := func(url, id, secret string) aws.Config {
		return aws.Config{BaseEndpoint: aws.String(url), Region: "us-east-1", RetryMaxAttempts: 1,
			Credentials: credentials.NewStaticCredentialsProvider(id, secret, "")}
	}
	return []target{
		{"iamsim", admin.ID, cfg(srv.URL(), admin.ID, admin.Secret)},
		{"moto", "AKIAIOSFODNN7EXAMPLE", cfg(motoURL, "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")},
	}
}

// sameSteps compares what the two targets went through, step by step.
func sameSteps(t *testing.T, results map[string][]string) {
	t.Helper()
	sim, moto := results["iamsim"], results["moto"]
	if len(moto) == 0 {
		return // moto's run failed or was skipped: reported there
	}
	for i := range max(len(sim), len(moto)) {
		if at(sim, i) != at(moto, i) {
			t.Errorf("step %d: simulator %q, moto %q", i+1, at(sim, i), at(moto, i))
		}
	}
}

func at(s []string, i int) string {
	if i < len(s) {
		return s[i]
	}
	return "(none)"
}
