package iamsim_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/keyrot/keyrot/iamx/iamsim"
)

// TestInjectedCodes checks that every error code reaches the SDK as the
// modelled type (where IAM models one), with AWS's HTTP status.
func TestInjectedCodes(t *testing.T) {
	t.Parallel()
	srv, c := admin(t, iamsim.User("alice", iamsim.KeySeed{}))
	cx := ctx(t)
	tests := []struct {
		code   string
		status int
		typed  func(error) bool
	}{
		{"NoSuchEntity", 404, func(err error) bool { var e *types.NoSuchEntityException; return errors.As(err, &e) }},
		{"LimitExceeded", 409, func(err error) bool { var e *types.LimitExceededException; return errors.As(err, &e) }},
		{"ServiceFailure", 500, func(err error) bool { var e *types.ServiceFailureException; return errors.As(err, &e) }},
		{"Throttling", 400, nil},
		{"InvalidClientTokenId", 403, nil},
		{"SignatureDoesNotMatch", 403, nil},
		{"AccessDenied", 403, nil},
		{"ValidationError", 400, nil},
		{"MissingAuthenticationToken", 403, nil},
		{"ExpiredToken", 403, nil},
		{"InvalidAction", 400, nil},
		{"ServiceUnavailable", 503, nil},
	}
	for _, tt := range tests {
		srv.FailNext("CreateAccessKey", tt.code)
		_, err := c.CreateAccessKey(cx, &iam.CreateAccessKeyInput{UserName: aws.String("alice")})
		apiErr(t, err, tt.code, tt.status)
		if tt.typed != nil && !tt.typed(err) {
			t.Errorf("%s: %T is not the modelled type", tt.code, err)
		}
	}
	for _, tt := range []struct {
		code   string
		status int
		typed  func(error) bool
	}{
		{"ReportInProgress", 404, func(err error) bool { var e *types.CredentialReportNotReadyException; return errors.As(err, &e) }},
		{"ReportNotPresent", 410, func(err error) bool { var e *types.CredentialReportNotPresentException; return errors.As(err, &e) }},
		{"ReportExpired", 410, func(err error) bool { var e *types.CredentialReportExpiredException; return errors.As(err, &e) }},
	} {
		srv.FailNext("GetCredentialReport", tt.code)
		_, err := c.GetCredentialReport(cx, &iam.GetCredentialReportInput{})
		apiErr(t, err, tt.code, tt.status)
		if !tt.typed(err) {
			t.Errorf("%s: %T is not the modelled type", tt.code, err)
		}
	}
	if n := len(srv.Keys("alice")); n != 1 {
		t.Errorf("failed calls created keys: %d", n)
	}
	if n := srv.CallCount("CreateAccessKey"); n != len(tests) {
		t.Errorf("CallCount = %d, want %d", n, len(tests))
	}
	calls := srv.Calls()
	if last := calls[len(calls)-1]; last.HTTPStatus != 410 || last.ErrorCode != "ReportExpired" {
		t.Errorf("last call = %+v", last)
	}
	srv.ResetCalls()
	if n := srv.CallCount(""); n != 0 {
		t.Errorf("CallCount after reset = %d", n)
	}
}

func TestFaultScheduling(t *testing.T) {
	t.Parallel()
	srv, c := admin(t)
	cx := ctx(t)
	list := func() string {
		_, err := c.ListUsers(cx, &iam.ListUsersInput{})
		var ae smithy.APIError
		if errors.As(err, &ae) {
			return ae.ErrorCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return "ok"
	}
	run := func(n int) []string {
		var got []string
		for range n {
			got = append(got, list())
		}
		return got
	}
	eq := func(got []string, want ...string) {
		t.Helper()
		if len(got) != len(want) {
			t.Fatalf("got %v, want %v", got, want)
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("got %v, want %v", got, want)
			}
		}
	}

	srv.FailNth("ListUsers", 3, "ServiceFailure")
	srv.FailNext("ListUsers", "Throttling")
	srv.FailNext("GetUser", "NoSuchEntity") // another action: untouched
	eq(run(4), "Throttling", "ok", "ServiceFailure", "ok")

	srv.Throttle("", 2)
	eq(run(3), "Throttling", "Throttling", "ok")

	srv.FailAlways("ListUsers", "AccessDenied")
	eq(run(3), "AccessDenied", "AccessDenied", "AccessDenied")
	srv.ClearFaults()
	eq(run(1), "ok")

	srv.Deny("admin", "ListUsers")
	eq(run(1), "AccessDenied")
	if _, err := c.GetUser(cx, &iam.GetUserInput{}); err != nil {
		t.Errorf("Deny(ListUsers) denied GetUser: %v", err)
	}
	srv.ClearFaults()
	eq(run(1), "ok")
}

func TestThrottleWithRetries(t *testing.T) {
	t.Parallel()
	srv := iamsim.NewServer(iamsim.User("admin", iamsim.KeySeed{}))
	t.Cleanup(srv.Close)
	k := srv.Keys("admin")[0]
	cfg := config(srv, k.ID, k.Secret, clientOpts{retryer: func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = 4
			o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return time.Millisecond, nil })
		})
	}})
	srv.Throttle("ListUsers", 2)
	if _, err := iam.NewFromConfig(cfg).ListUsers(ctx(t), &iam.ListUsersInput{}); err != nil {
		t.Fatalf("ListUsers after 2 throttles with 4 attempts: %v", err)
	}
	if n := srv.CallCount("ListUsers"); n != 3 {
		t.Errorf("calls = %d, want 3", n)
	}
}

func TestRawFailure(t *testing.T) {
	t.Parallel()
	srv, c := admin(t)
	srv.FailNextRaw("ListUsers", 502, "<html>Bad Gateway</html>")
	_, err := c.ListUsers(ctx(t), &iam.ListUsersInput{})
	var re *awshttp.ResponseError
	if !errors.As(err, &re) || re.HTTPStatusCode() != 502 {
		t.Fatalf("err = %v, want a 502 response error", err)
	}
}

func TestDrop(t *testing.T) {
	t.Parallel()
	srv, c := admin(t, iamsim.User("alice", iamsim.KeySeed{}))
	cx := ctx(t)
	id := srv.Keys("alice")[0].ID
	update := func(status types.StatusType) error {
		_, err := c.UpdateAccessKey(cx, &iam.UpdateAccessKeyInput{UserName: aws.String("alice"), AccessKeyId: aws.String(id), Status: status})
		return err
	}

	srv.DropNext("UpdateAccessKey")
	err := update(types.StatusTypeInactive)
	var ae smithy.APIError
	if err == nil || errors.As(err, &ae) {
		t.Fatalf("dropped call: err = %v, want a transport error", err)
	}
	if got := srv.Keys("alice")[0].Status; got != "Active" {
		t.Errorf("DropNext performed the action: %s", got)
	}
	if c := srv.Calls()[0]; !c.Dropped || c.HTTPStatus != 0 || c.KeyID != id || c.User != "alice" {
		t.Errorf("call = %+v", c)
	}

	srv.DropNextResponse("UpdateAccessKey")
	if err := update(types.StatusTypeInactive); err == nil {
		t.Fatal("DropNextResponse: no error")
	}
	if got := srv.Keys("alice")[0].Status; got != "Inactive" {
		t.Errorf("DropNextResponse did not perform the action: %s", got)
	}
	if err := update(types.StatusTypeActive); err != nil {
		t.Errorf("after drops: %v", err)
	}
}

func TestHold(t *testing.T) {
	t.Parallel()
	srv, c := admin(t, iamsim.User("alice", iamsim.KeySeed{}))
	cx := ctx(t)
	id := srv.Keys("alice")[0].ID

	release := srv.Hold("UpdateAccessKey")
	done := make(chan error, 1)
	go func() {
		_, err := c.UpdateAccessKey(cx, &iam.UpdateAccessKeyInput{UserName: aws.String("alice"), AccessKeyId: aws.String(id), Status: types.StatusTypeInactive})
		done <- err
	}()
	if err := srv.WaitHeld(cx, "UpdateAccessKey"); err != nil {
		t.Fatal(err)
	}
	if got := srv.Keys("alice")[0].Status; got != "Active" {
		t.Errorf("held call changed the key: %s", got)
	}
	if calls := srv.Calls(); len(calls) != 1 || calls[0].HTTPStatus != 0 {
		t.Errorf("calls while held = %+v", calls)
	}
	// Other actions are not held.
	if _, err := c.ListAccessKeys(cx, &iam.ListAccessKeysInput{UserName: aws.String("alice")}); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		t.Fatalf("held call returned early: %v", err)
	case <-time.After(20 * time.Millisecond):
	}
	release()
	release() // idempotent
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := srv.Keys("alice")[0].Status; got != "Inactive" {
		t.Errorf("released call did not proceed: %s", got)
	}
	if srv.Held("UpdateAccessKey") != nil {
		t.Error("Held after release is not nil")
	}
}

func TestHeldCallAbandoned(t *testing.T) {
	t.Parallel()
	srv, c := admin(t)
	srv.Hold("ListUsers")
	cx, cancel := context.WithCancel(ctx(t))
	done := make(chan error, 1)
	go func() { _, err := c.ListUsers(cx, &iam.ListUsersInput{}); done <- err }()
	if err := srv.WaitHeld(ctx(t), "ListUsers"); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	// Close releases holds and returns.
	srv.Close()
}

func TestLatency(t *testing.T) {
	t.Parallel()
	srv, c := admin(t, iamsim.Latency(30*time.Millisecond))
	start := time.Now()
	if _, err := c.ListUsers(ctx(t), &iam.ListUsersInput{}); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 30*time.Millisecond {
		t.Errorf("call took %v, want at least 30ms", d)
	}
	srv.SetLatency(0)
	start = time.Now()
	if _, err := c.ListUsers(ctx(t), &iam.ListUsersInput{}); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 25*time.Millisecond {
		t.Logf("call without latency took %v", d)
	}
}

func TestPropagationDelay(t *testing.T) {
	t.Parallel()
	clk := newClock()
	srv, c := admin(t, iamsim.Now(clk.Now), iamsim.User("alice"), iamsim.PropagationDelay(10*time.Second))
	cx := ctx(t)
	out, err := c.CreateAccessKey(cx, &iam.CreateAccessKeyInput{UserName: aws.String("alice")})
	if err != nil {
		t.Fatal(err)
	}
	s := stsClient(srv, *out.AccessKey.AccessKeyId, *out.AccessKey.SecretAccessKey)
	_, err = s.GetCallerIdentity(cx, &sts.GetCallerIdentityInput{})
	apiErr(t, err, "InvalidClientTokenId", 403)
	clk.Advance(9 * time.Second)
	_, err = s.GetCallerIdentity(cx, &sts.GetCallerIdentityInput{})
	apiErr(t, err, "InvalidClientTokenId", 403)
	clk.Advance(time.Second)
	if _, err := s.GetCallerIdentity(cx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatalf("after the delay: %v", err)
	}

	// Flaky: success, one more failure, then success for good.
	srv.SetFlakyPropagation(true)
	srv.SetPropagationDelay(0)
	if _, err := c.DeleteAccessKey(cx, &iam.DeleteAccessKeyInput{UserName: aws.String("alice"), AccessKeyId: out.AccessKey.AccessKeyId}); err != nil {
		t.Fatal(err)
	}
	out, err = c.CreateAccessKey(cx, &iam.CreateAccessKeyInput{UserName: aws.String("alice")})
	if err != nil {
		t.Fatal(err)
	}
	s = stsClient(srv, *out.AccessKey.AccessKeyId, *out.AccessKey.SecretAccessKey)
	var got []string
	for range 4 {
		_, err := s.GetCallerIdentity(cx, &sts.GetCallerIdentityInput{})
		var ae smithy.APIError
		switch {
		case err == nil:
			got = append(got, "ok")
		case errors.As(err, &ae):
			got = append(got, ae.ErrorCode())
		default:
			t.Fatal(err)
		}
	}
	if want := "ok InvalidClientTokenId ok ok"; join(got) != want {
		t.Errorf("flaky sequence = %s, want %s", join(got), want)
	}
}

func join(s []string) string {
	out := ""
	for i, v := range s {
		if i > 0 {
			out += " "
		}
		out += v
	}
	return out
}

// TestConcurrentCalls exercises the lock under -race.
func TestConcurrentCalls(t *testing.T) {
	t.Parallel()
	srv, c := admin(t, iamsim.Seed(50, 3))
	cx := ctx(t)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 10 {
				name := srv.Users()[(i*10+j)%50]
				if _, err := c.ListAccessKeys(cx, &iam.ListAccessKeysInput{UserName: aws.String(name)}); err != nil {
					t.Error(err)
					return
				}
				if j == 5 {
					srv.FailNext("GetUser", "ServiceFailure")
				}
				_, _ = c.GetUser(cx, &iam.GetUserInput{UserName: aws.String(name)})
			}
		}()
	}
	wg.Wait()
	if n := srv.CallCount(""); n != 160 {
		t.Errorf("calls = %d, want 160", n)
	}
}

func TestHoldNext(t *testing.T) {
	t.Parallel()
	srv, c := admin(t, iamsim.User("alice", iamsim.KeySeed{}))
	cx := ctx(t)
	release := srv.HoldNext("CreateAccessKey")
	done := make(chan error, 1)
	go func() {
		_, err := c.CreateAccessKey(cx, &iam.CreateAccessKeyInput{UserName: aws.String("alice")})
		done <- err
	}()
	if err := srv.WaitHeld(cx, "CreateAccessKey"); err != nil {
		t.Fatal(err)
	}
	// The next call of the same action passes: it takes the second key slot.
	if _, err := c.CreateAccessKey(cx, &iam.CreateAccessKeyInput{UserName: aws.String("alice")}); err != nil {
		t.Fatal(err)
	}
	release()
	// The held call ran after the other one: alice already has two keys.
	apiErr(t, <-done, "LimitExceeded", 409)
	if srv.Held("CreateAccessKey") != nil {
		t.Error("Held after release is not nil")
	}
}
