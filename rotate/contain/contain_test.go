package contain

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/keyrot/keyrot/iamx"
	"github.com/keyrot/keyrot/iamx/iamsim"
	"github.com/keyrot/keyrot/internal/fakeclock"
	"github.com/keyrot/keyrot/rotate"
)

type env struct {
	t     *testing.T
	srv   *iamsim.Server
	clk   *fakeclock.Clock
	admin *iamx.Client
	// leaked is bob's only key.
	leaked iamsim.Key
	adminK iamsim.Key
}

func newEnv(t *testing.T, opts ...iamsim.Option) *env {
	t.Helper()
	clk := fakeclock.New(time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC))
	all := append([]iamsim.Option{iamsim.Now(clk.Now), iamsim.User("admin", iamsim.KeySeed{}),
		iamsim.User("alice", iamsim.KeySeed{}), iamsim.User("bob", iamsim.KeySeed{}), iamsim.User("carol", iamsim.KeySeed{})}, opts...)
	srv := iamsim.NewServer(all...)
	t.Cleanup(srv.Close)
	clk.Advance(time.Hour)
	e := &env{t: t, srv: srv, clk: clk, leaked: srv.Keys("bob")[0], adminK: srv.Keys("admin")[0]}
	e.admin = e.client(e.adminK.ID, e.adminK.Secret, "")
	return e
}

func (e *env) client(id, secret, token string) *iamx.Client {
	return iamx.New(aws.Config{BaseEndpoint: aws.String(e.srv.URL()), Region: "us-east-1", RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(id, secret, token)})
}

func (e *env) opts() Options {
	return Options{AccessKeyID: e.leaked.ID, Signer: iamx.Signer{AccessKeyID: e.adminK.ID}, Now: e.clk.Now}
}

func (e *env) status() string {
	for _, k := range e.srv.Keys("bob") {
		if k.ID == e.leaked.ID {
			return k.Status
		}
	}
	return ""
}

func (e *env) mutations() []string {
	var out []string
	for _, c := range e.srv.Calls() {
		switch c.Action {
		case "UpdateAccessKey", "PutUserPolicy", "DeleteUserPolicy", "CreateAccessKey", "DeleteAccessKey":
			out = append(out, c.Action)
		}
	}
	return out
}

func TestContainFindsOwnerDeactivatesAndRevokesSessions(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	before, err := e.client(e.leaked.ID, e.leaked.Secret, "").SessionToken(ctx, "", "", 0)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(ctx, e.admin, e.opts())
	if err != nil {
		t.Fatal(err)
	}
	if res.UserName != "bob" || res.Account != iamsim.DefaultAccountID || res.OwnerFoundBy != "IAM GetAccessKeyLastUsed" ||
		res.StatusBefore != iamx.StatusActive || res.StatusAfter != iamx.StatusInactive || res.Policy.Action != "created" {
		t.Errorf("result %+v", res)
	}
	if e.status() != "Inactive" {
		t.Errorf("key is %s", e.status())
	}
	if want := res.Policy.RevokesBefore.Add(36 * time.Hour); !res.Policy.RemovableAfter.Equal(want) {
		t.Errorf("removable after %s, want %s", res.Policy.RemovableAfter, want)
	}
	old := e.client(before.AccessKeyID, before.SecretAccessKey, before.SessionToken)
	if _, err := old.ListKeys(ctx, "bob"); !errors.Is(err, iamx.ErrAccessDenied) {
		t.Errorf("session minted before contain: %v, want AccessDenied", err)
	}
	// bob's replacement key mints a session once the cut-off has passed.
	id, secret, err := e.srv.AddKey("bob", iamsim.KeySeed{})
	if err != nil {
		t.Fatal(err)
	}
	// A session minted in the margin after the deactivation is refused
	// too; one minted after the cut-off works.
	during, err := e.client(id, secret, "").SessionToken(ctx, "", "", 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.client(during.AccessKeyID, during.SecretAccessKey, during.SessionToken).ListKeys(ctx, "bob"); !errors.Is(err, iamx.ErrAccessDenied) {
		t.Errorf("session minted within the margin: %v, want AccessDenied", err)
	}
	e.clk.Advance(DeactivationMargin + 2*time.Second)
	after, err := e.client(id, secret, "").SessionToken(ctx, "", "", 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.client(after.AccessKeyID, after.SecretAccessKey, after.SessionToken).ListKeys(ctx, "bob"); err != nil {
		t.Errorf("session minted after contain: %v", err)
	}
	if len(res.NextSteps) == 0 || !strings.Contains(res.NextSteps[0], "keyrot rotate --user bob") {
		t.Errorf("next steps %q", res.NextSteps)
	}
}

func TestContainAgainIsHarmless(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	first, err := Run(ctx, e.admin, e.opts())
	if err != nil {
		t.Fatal(err)
	}
	e.clk.Advance(time.Hour)
	e.srv.ResetCalls()
	second, err := Run(ctx, e.admin, e.opts())
	if err != nil {
		t.Fatal(err)
	}
	if m := e.mutations(); len(m) != 0 {
		t.Errorf("second contain changed things: %v", m)
	}
	if second.Policy.Action != "unchanged" || !second.Policy.RevokesBefore.Equal(first.Policy.RevokesBefore) || second.StatusBefore != iamx.StatusInactive {
		t.Errorf("second %+v", second.Policy)
	}
	if len(e.srv.Policies("bob")) != 1 {
		t.Errorf("policies %v", e.srv.Policies("bob"))
	}
	// Reactivated, used and deactivated by hand since: the cut-off moves.
	if err := e.admin.SetStatus(ctx, "bob", e.leaked.ID, iamx.StatusActive); err != nil {
		t.Fatal(err)
	}
	e.clk.Advance(time.Hour)
	if _, err := e.client(e.leaked.ID, e.leaked.Secret, "").SessionToken(ctx, "", "", 0); err != nil {
		t.Fatal(err)
	}
	if err := e.admin.SetStatus(ctx, "bob", e.leaked.ID, iamx.StatusInactive); err != nil {
		t.Fatal(err)
	}
	byHand, err := Run(ctx, e.admin, e.opts())
	if err != nil || byHand.Policy.Action != "updated" || !byHand.Policy.RevokesBefore.After(first.Policy.RevokesBefore) {
		t.Errorf("after use since the cut-off: %+v %v", byHand.Policy, err)
	}
	// Reactivated since: contained again, with a new cut-off.
	if err := e.admin.SetStatus(ctx, "bob", e.leaked.ID, iamx.StatusActive); err != nil {
		t.Fatal(err)
	}
	e.clk.Advance(time.Hour)
	third, err := Run(ctx, e.admin, e.opts())
	if err != nil || third.Policy.Action != "updated" || !third.Policy.RevokesBefore.After(byHand.Policy.RevokesBefore) || e.status() != "Inactive" {
		t.Errorf("after reactivation: %+v %v", third.Policy, err)
	}
}

func TestContainDryRunChangesNothing(t *testing.T) {
	e := newEnv(t)
	res, err := Run(context.Background(), e.admin, func() Options { o := e.opts(); o.DryRun = true; return o }())
	if err != nil {
		t.Fatal(err)
	}
	if m := e.mutations(); len(m) != 0 || e.status() != "Active" {
		t.Errorf("dry run changed %v; key %s", m, e.status())
	}
	if len(res.Plan) != 2 || res.Policy.Action != "would create" {
		t.Errorf("plan %q, policy %+v", res.Plan, res.Policy)
	}
}

func TestContainFindsOwnerByScanning(t *testing.T) {
	e := newEnv(t)
	e.srv.Deny("admin", "GetAccessKeyLastUsed")
	res, err := Run(context.Background(), e.admin, e.opts())
	if err != nil {
		t.Fatal(err)
	}
	if res.UserName != "bob" || !strings.Contains(res.OwnerFoundBy, "ListUsers") || e.status() != "Inactive" {
		t.Errorf("result %+v", res)
	}
	if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "last use") {
		t.Errorf("warnings %q", res.Warnings)
	}
}

func TestContainRefusals(t *testing.T) {
	t.Run("another account", func(t *testing.T) {
		e := newEnv(t)
		o := e.opts()
		o.AccessKeyID = iamsim.KeyIDForAccount("999988887777", 1)
		_, err := Run(context.Background(), e.admin, o)
		var fe *ForeignKeyError
		if !errors.As(err, &fe) || fe.Account != "999988887777" || !errors.Is(err, iamx.ErrNotFound) {
			t.Fatalf("err = %v", err)
		}
		if len(e.mutations()) != 0 {
			t.Error("changed something")
		}
	})
	t.Run("unknown key", func(t *testing.T) {
		e := newEnv(t)
		o := e.opts()
		o.AccessKeyID = iamsim.KeyIDForAccount(iamsim.DefaultAccountID, 7)
		_, err := Run(context.Background(), e.admin, o)
		var ne *NoOwnerError
		if !errors.As(err, &ne) || !errors.Is(err, iamx.ErrNotFound) || ne.Users != 4 {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("wrong --user", func(t *testing.T) {
		e := newEnv(t)
		o := e.opts()
		o.User = "alice"
		if _, err := Run(context.Background(), e.admin, o); !errors.Is(err, iamx.ErrNotFound) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("the signing key", func(t *testing.T) {
		e := newEnv(t)
		o := e.opts()
		o.Signer.AccessKeyID = e.leaked.ID
		_, err := Run(context.Background(), e.client(e.leaked.ID, e.leaked.Secret, ""), o)
		if !errors.Is(err, rotate.ErrLockout) || len(e.mutations()) != 0 {
			t.Fatalf("err = %v, mutations %v", err, e.mutations())
		}
		o.Force = true
		if _, err := Run(context.Background(), e.client(e.leaked.ID, e.leaked.Secret, ""), o); err != nil || e.status() != "Inactive" {
			t.Fatalf("with --force: %v, key %s", err, e.status())
		}
		if m := e.mutations(); len(m) != 2 || m[0] != "PutUserPolicy" {
			t.Errorf("self-containment order %v: the policy must come first", m)
		}
	})
}

func TestRelease(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if _, err := Run(ctx, e.admin, e.opts()); err != nil {
		t.Fatal(err)
	}
	o := e.opts()
	o.Release = true
	if _, err := Run(ctx, e.admin, o); !errors.Is(err, ErrGuard) || len(e.srv.Policies("bob")) != 1 {
		t.Fatalf("early release: %v", err)
	}
	e.clk.Advance(MaxSessionLife + time.Minute)
	if _, err := Run(ctx, e.admin, o); !errors.Is(err, ErrGuard) || !strings.Contains(err.Error(), "still exists") {
		t.Fatalf("release while the key exists: %v", err)
	}
	if err := e.admin.DeleteKey(ctx, "bob", e.leaked.ID); err != nil {
		t.Fatal(err)
	}
	o.User = "bob" // the key is gone: nothing names its owner any more
	res, err := Run(ctx, e.admin, o)
	if err != nil || res.Policy.Action != "deleted" || len(e.srv.Policies("bob")) != 0 {
		t.Fatalf("release: %+v %v", res.Policy, err)
	}
	if res, err := Run(ctx, e.admin, o); err != nil || res.Policy.Action != "absent" {
		t.Fatalf("second release: %+v %v", res.Policy, err)
	}
}

// TestUsageFailureDoesNotStopContainment: CloudTrail failing everywhere is
// a warning; the key is contained all the same.
func TestUsageFailureDoesNotStopContainment(t *testing.T) {
	e := newEnv(t)
	e.srv.FailAlways("LookupEvents", "AccessDeniedException")
	o := e.opts()
	o.Trail, o.Usage.Regions = e.admin, []string{"us-east-1"}
	res, err := Run(context.Background(), e.admin, o)
	if err != nil {
		t.Fatal(err)
	}
	if e.status() != "Inactive" || res.Policy.Action != "created" || res.Usage != nil {
		t.Errorf("result %+v", res)
	}
	if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "activity could not be read") {
		t.Errorf("warnings %q", res.Warnings)
	}
}

// TestUsageHangDoesNotDelayContainment: a LookupEvents that never answers
// ends the wait after UsageWait, with the key contained.
func TestUsageHangDoesNotDelayContainment(t *testing.T) {
	e := newEnv(t)
	release := e.srv.Hold("LookupEvents")
	defer release()
	o := e.opts()
	o.Trail, o.Usage.Regions, o.UsageWait = e.admin, []string{"us-east-1"}, 50*time.Millisecond
	res, err := Run(context.Background(), e.admin, o)
	if err != nil {
		t.Fatal(err)
	}
	if e.status() != "Inactive" || len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "did not finish") {
		t.Errorf("key %s, warnings %q", e.status(), res.Warnings)
	}
}
