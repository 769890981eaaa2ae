package iamsim_test

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/keyrot/keyrot/iamx/iamsim"
)

func TestSessionCredentials(t *testing.T) {
	t.Parallel()
	clk := newClock()
	srv := iamsim.NewServer(iamsim.Now(clk.Now), iamsim.User("alice", iamsim.KeySeed{}))
	t.Cleanup(srv.Close)
	cx := ctx(t)
	k := srv.Keys("alice")[0]

	tok, err := stsClient(srv, k.ID, k.Secret).GetSessionToken(cx, &sts.GetSessionTokenInput{DurationSeconds: aws.Int32(900)})
	if err != nil {
		t.Fatal(err)
	}
	cr := tok.Credentials
	if !sessPattern.MatchString(aws.ToString(cr.AccessKeyId)) || aws.ToString(cr.SessionToken) == "" ||
		!aws.ToTime(cr.Expiration).Equal(clk.Now().Add(15*time.Minute)) {
		t.Errorf("credentials = %+v", cr)
	}
	cfg := config(srv, *cr.AccessKeyId, *cr.SecretAccessKey, clientOpts{token: *cr.SessionToken})
	s, c := sts.NewFromConfig(cfg), iam.NewFromConfig(cfg)

	id, err := s.GetCallerIdentity(cx, &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(id.Arn) != "arn:aws:iam::123456789012:user/alice" {
		t.Errorf("session identity = %+v, %v", id, err)
	}
	_, err = c.ListAccessKeys(cx, &iam.ListAccessKeysInput{})
	apiErr(t, err, "ValidationError", 400)
	_, err = c.UpdateAccessKey(cx, &iam.UpdateAccessKeyInput{AccessKeyId: aws.String(k.ID), Status: types.StatusTypeActive})
	apiErr(t, err, "ValidationError", 400)
	if _, err := c.ListAccessKeys(cx, &iam.ListAccessKeysInput{UserName: aws.String("alice")}); err != nil {
		t.Errorf("with UserName: %v", err)
	}
	_, err = s.GetSessionToken(cx, &sts.GetSessionTokenInput{})
	apiErr(t, err, "AccessDenied", 403)

	// The session key without its token, or with another, is invalid.
	_, err = stsClient(srv, *cr.AccessKeyId, *cr.SecretAccessKey).GetCallerIdentity(cx, &sts.GetCallerIdentityInput{})
	apiErr(t, err, "InvalidClientTokenId", 403)
	// A long-term key with a token is invalid too.
	_, err = sts.NewFromConfig(config(srv, k.ID, k.Secret, clientOpts{token: *cr.SessionToken})).GetCallerIdentity(cx, &sts.GetCallerIdentityInput{})
	apiErr(t, err, "InvalidClientTokenId", 403)

	clk.Advance(15 * time.Minute)
	_, err = s.GetCallerIdentity(cx, &sts.GetCallerIdentityInput{})
	apiErr(t, err, "ExpiredToken", 403)

	// SessionCredentials does the same without a call.
	sid, ssecret, stoken := srv.SessionCredentials("alice")
	if !sessPattern.MatchString(sid) {
		t.Errorf("SessionCredentials id = %s", sid)
	}
	id, err = sts.NewFromConfig(config(srv, sid, ssecret, clientOpts{token: stoken})).GetCallerIdentity(cx, &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(id.Arn) != "arn:aws:iam::123456789012:user/alice" {
		t.Errorf("SessionCredentials identity = %+v, %v", id, err)
	}
	if a, _, _ := srv.SessionCredentials("nobody"); a != "" {
		t.Errorf("SessionCredentials(nobody) = %s", a)
	}
}

func TestRequireMFA(t *testing.T) {
	t.Parallel()
	const serial = "arn:aws:iam::123456789012:mfa/alice"
	srv := iamsim.NewServer(iamsim.User("alice", iamsim.KeySeed{}), iamsim.RequireMFA("alice", serial, "123456"))
	t.Cleanup(srv.Close)
	cx := ctx(t)
	k := srv.Keys("alice")[0]
	c := iamClient(srv, k.ID, k.Secret)
	update := func(c *iam.Client) error {
		_, err := c.UpdateAccessKey(cx, &iam.UpdateAccessKeyInput{UserName: aws.String("alice"), AccessKeyId: aws.String(k.ID), Status: types.StatusTypeActive})
		return err
	}
	apiErr(t, update(c), "AccessDenied", 403)
	if _, err := c.ListAccessKeys(cx, &iam.ListAccessKeysInput{}); err != nil {
		t.Errorf("reads need no MFA: %v", err)
	}

	s := stsClient(srv, k.ID, k.Secret)
	_, err := s.GetSessionToken(cx, &sts.GetSessionTokenInput{SerialNumber: aws.String(serial), TokenCode: aws.String("000000")})
	apiErr(t, err, "AccessDenied", 403)
	_, err = s.GetSessionToken(cx, &sts.GetSessionTokenInput{SerialNumber: aws.String(serial), TokenCode: aws.String("12345")})
	apiErr(t, err, "ValidationError", 400)

	plain, err := s.GetSessionToken(cx, &sts.GetSessionTokenInput{})
	if err != nil {
		t.Fatal(err)
	}
	pc := iam.NewFromConfig(config(srv, *plain.Credentials.AccessKeyId, *plain.Credentials.SecretAccessKey, clientOpts{token: *plain.Credentials.SessionToken}))
	apiErr(t, update(pc), "AccessDenied", 403)

	mfa, err := s.GetSessionToken(cx, &sts.GetSessionTokenInput{SerialNumber: aws.String(serial), TokenCode: aws.String("123456")})
	if err != nil {
		t.Fatal(err)
	}
	mc := iam.NewFromConfig(config(srv, *mfa.Credentials.AccessKeyId, *mfa.Credentials.SecretAccessKey, clientOpts{token: *mfa.Credentials.SessionToken}))
	if err := update(mc); err != nil {
		t.Errorf("MFA session: %v", err)
	}
}
