package iamx_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/keyrot/keyrot/iamx"
	"github.com/keyrot/keyrot/iamx/iamsim"
	"github.com/keyrot/keyrot/internal/fakeclock"
)

// reportClient is a client of a simulator whose credential report takes
// delay to generate on a clock that moves only when the client sleeps.
func reportClient(t *testing.T, delay time.Duration) (*iamx.Client, *[]time.Duration) {
	t.Helper()
	// The simulator's clock, moved only by the client's Sleep.
	clk := fakeclock.New(time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC))
	srv := iamsim.NewServer(iamsim.Now(clk.Now), iamsim.ReportDelay(delay),
		iamsim.User("admin", iamsim.KeySeed{}), iamsim.User("bob", iamsim.KeySeed{}, iamsim.KeySeed{Status: iamsim.StatusInactive}))
	t.Cleanup(srv.Close)
	admin := srv.Keys("admin")[0]
	c := iamx.New(aws.Config{
		BaseEndpoint: aws.String(srv.URL()),
		Credentials:  credentials.NewStaticCredentialsProvider(admin.ID, admin.Secret, ""),
	})
	var waits []time.Duration
	c.Sleep = func(ctx context.Context, d time.Duration) error {
		waits = append(waits, d)
		clk.Advance(d)
		return ctx.Err()
	}
	return c, &waits
}

func TestCredentialReportPolls(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		delay    time.Duration
		waits    []time.Duration
		requests int64
	}{
		// The simulator, like IAM, answers the first Generate with
		// STARTED, so even an instant report costs one short wait.
		{0, []time.Duration{500 * time.Millisecond}, 2},
		{time.Second, []time.Duration{500 * time.Millisecond, time.Second}, 3},
		// 0.5 + 1 + 2 + 4 = 7.5 s: checks double, capped at 4 s.
		{5 * time.Second, []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second}, 5},
		{12 * time.Second, []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second, 4 * time.Second, 4 * time.Second}, 7},
	} {
		t.Run(tc.delay.String(), func(t *testing.T) {
			t.Parallel()
			c, waits := reportClient(t, tc.delay)
			r, err := c.CredentialReport(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(*waits, tc.waits) {
				t.Errorf("waits = %v, want %v", *waits, tc.waits)
			}
			if got := c.Requests(); got != tc.requests {
				t.Errorf("%d requests, want %d", got, tc.requests)
			}
			var bob *iamx.ReportUser
			for i := range r.Users {
				if r.Users[i].User == "bob" {
					bob = &r.Users[i]
				}
			}
			if bob == nil || !bob.Keys[0].Present || !bob.Keys[1].Present || bob.Keys[0].Active == bob.Keys[1].Active {
				t.Errorf("bob in the report = %+v, want an Active and an Inactive key", bob)
			}
		})
	}
}

func TestCredentialReportCancelledWhilePolling(t *testing.T) {
	t.Parallel()
	c, _ := reportClient(t, time.Hour)
	ctx, cancel := context.WithCancel(context.Background())
	inner := c.Sleep
	c.Sleep = func(ctx context.Context, d time.Duration) error {
		if c.Requests() >= 3 {
			cancel()
		}
		return inner(ctx, d)
	}
	_, err := c.CredentialReport(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

// An organization run starts a report, does other work, then fetches it:
// the fetch checks at once (no second GenerateCredentialReport), waits as
// CredentialReport does while IAM is still generating, and starts the
// report again, once, if IAM has none by then.
func TestFetchCredentialReport(t *testing.T) {
	t.Parallel()
	c, waits := reportClient(t, 2*time.Second)
	if ready, err := c.StartCredentialReport(context.Background()); err != nil || ready {
		t.Fatalf("start: ready %v, %v", ready, err)
	}
	r, err := c.FetchCredentialReport(context.Background())
	if err != nil || len(r.Users) == 0 {
		t.Fatalf("fetch: %d users, %v", len(r.Users), err)
	}
	// Checked at once, after 0.5 s and 1.5 s (not ready), then at 3.5 s.
	if !slices.Equal(*waits, []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second}) || c.Requests() != 5 {
		t.Errorf("waits %v, %d requests; want [500ms 1s 2s], 5", *waits, c.Requests())
	}
	// Ready: one request.
	before := c.Requests()
	if _, err := c.FetchCredentialReport(context.Background()); err != nil || c.Requests()-before != 1 {
		t.Errorf("a ready report cost %d requests (%v)", c.Requests()-before, err)
	}

	// No report at all: started again, then fetched.
	fresh, _ := reportClient(t, 0)
	if _, err := fresh.FetchCredentialReport(context.Background()); err != nil {
		t.Fatalf("fetch without a report: %v", err)
	}
}
