package fleet

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/keyrot/keyrot/iamx"
	"golang.org/x/time/rate"
)

// scripted is a Client whose every IAM call pops the next error of its
// script (nil when the script is empty) and is counted by operation.
type scripted struct {
	mu     sync.Mutex
	script []error
	calls  map[string]int
}

func (s *scripted) next(op string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.calls == nil {
		s.calls = map[string]int{}
	}
	s.calls[op]++
	if len(s.script) == 0 {
		return nil
	}
	err := s.script[0]
	s.script = s.script[1:]
	return err
}

func (s *scripted) count(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[op]
}

func (s *scripted) ListKeys(ctx context.Context, user string) ([]iamx.Key, error) {
	if err := s.next("ListKeys"); err != nil {
		return nil, err
	}
	return []iamx.Key{{ID: idA, User: user, Status: iamx.StatusActive}}, nil
}

func (s *scripted) CreateKey(ctx context.Context, user string) (iamx.NewKey, error) {
	if err := s.next("CreateKey"); err != nil {
		return iamx.NewKey{}, err
	}
	return iamx.NewKey{Key: iamx.Key{ID: idB, User: user}, Secret: iamx.NewSecret("s3cr3t")}, nil
}

func (s *scripted) SetStatus(ctx context.Context, user, id string, st iamx.Status) error {
	return s.next("SetStatus")
}

func (s *scripted) DeleteKey(ctx context.Context, user, id string) error {
	return s.next("DeleteKey")
}

func (s *scripted) VerifyKey(ctx context.Context, id string, secret iamx.Secret) (iamx.Identity, error) {
	return iamx.Identity{User: "alice"}, s.next("VerifyKey")
}

func (s *scripted) LastUsed(ctx context.Context, id string) (iamx.LastUsed, error) {
	return iamx.LastUsed{Service: "s3"}, s.next("LastUsed")
}

func (s *scripted) FetchCredentialReport(ctx context.Context) (iamx.Report, error) {
	return s.CredentialReport(ctx)
}

func (s *scripted) CredentialReport(ctx context.Context) (iamx.Report, error) {
	if err := s.next("CredentialReport"); err != nil {
		return iamx.Report{}, err
	}
	return iamx.Report{Users: []iamx.ReportUser{row("alice")}}, nil
}

func throttled(n int) []error {
	errs := make([]error, n)
	for i := range errs {
		errs[i] = fmt.Errorf("list: %w", &iamx.Error{Kind: iamx.ErrThrottled, Code: "Throttling"})
	}
	return errs
}

// sleeps records the backoffs Limited asks for, without waiting.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
	// failFrom, when set, makes the sleeps from this one (1-based) on
	// end as an interrupt would.
	failFrom int
}

func (s *sleeps) Sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.d = append(s.d, d)
	if s.failFrom > 0 && len(s.d) >= s.failFrom {
		return context.Canceled
	}
	return nil
}

func TestNewLimited(t *testing.T) {
	t.Parallel()
	tests := []struct {
		perSecond float64
		wantLimit rate.Limit
		wantBurst int
	}{
		{10, 10, 10},
		{2.5, 2.5, 2},
		{0.5, 0.5, 1},
		{1, 1, 1},
	}
	for _, tt := range tests {
		l := NewLimited(&scripted{}, tt.perSecond)
		if l.Limiter == nil || l.Limiter.Limit() != tt.wantLimit || l.Limiter.Burst() != tt.wantBurst {
			t.Errorf("NewLimited(%v): limiter %+v, want limit %v burst %d", tt.perSecond, l.Limiter, tt.wantLimit, tt.wantBurst)
		}
		if l.Retries != DefaultRetries {
			t.Errorf("NewLimited(%v): Retries = %d, want %d", tt.perSecond, l.Retries, DefaultRetries)
		}
	}
	for _, off := range []float64{0, -1} {
		if l := NewLimited(&scripted{}, off); l.Limiter != nil {
			t.Errorf("NewLimited(%v) has a limiter; want none", off)
		}
	}
}

// TestLimitedWaitsForTokens shows the limiter is consulted before every
// IAM call without measuring time: at one call per million seconds, the
// burst of one goes through and the next call, whose wait would outlast
// the context's deadline, is refused before it reaches IAM.
func TestLimitedWaitsForTokens(t *testing.T) {
	t.Parallel()
	c := &scripted{}
	l := NewLimited(c, 1e-6)
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	if _, err := l.ListKeys(ctx, "alice"); err != nil {
		t.Fatalf("first call: %v", err)
	}
	ops := map[string]func() error{
		"ListKeys":         func() error { _, err := l.ListKeys(ctx, "alice"); return err },
		"CreateKey":        func() error { _, err := l.CreateKey(ctx, "alice"); return err },
		"SetStatus":        func() error { return l.SetStatus(ctx, "alice", idA, iamx.StatusInactive) },
		"DeleteKey":        func() error { return l.DeleteKey(ctx, "alice", idA) },
		"LastUsed":         func() error { _, err := l.LastUsed(ctx, idA); return err },
		"CredentialReport": func() error { _, err := l.CredentialReport(ctx); return err },
	}
	for op, call := range ops {
		if err := call(); err == nil {
			t.Errorf("%s went through without a token", op)
		}
		if want := map[bool]int{true: 1, false: 0}[op == "ListKeys"]; c.count(op) != want {
			t.Errorf("%s reached IAM %d times, want %d", op, c.count(op), want)
		}
	}
	if l.Calls() != 1 {
		t.Errorf("Calls = %d, want 1", l.Calls())
	}
	// STS verification is not IAM's quota: it is never held back.
	if _, err := l.VerifyKey(ctx, idB, iamx.NewSecret("x")); err != nil || c.count("VerifyKey") != 1 {
		t.Errorf("VerifyKey = %v after %d calls; want it to go through", err, c.count("VerifyKey"))
	}
	if l.Calls() != 1 {
		t.Errorf("VerifyKey counted as an IAM call: Calls = %d", l.Calls())
	}
}

func TestLimitedCanceledContext(t *testing.T) {
	t.Parallel()
	c := &scripted{}
	l := NewLimited(c, 1e-6)
	l.Limiter.AllowN(time.Now(), 1) // take the only token
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := l.ListKeys(ctx, "alice"); !errors.Is(err, context.Canceled) {
		t.Fatalf("ListKeys = %v, want context.Canceled", err)
	}
	if c.count("ListKeys") != 0 {
		t.Fatal("a canceled call reached IAM")
	}
}

func TestLimitedRetriesThrottling(t *testing.T) {
	t.Parallel()
	c := &scripted{script: throttled(3)}
	s := &sleeps{}
	l := NewLimited(c, 0) // no rate: only the retries are under test
	l.Sleep = s.Sleep
	keys, err := l.ListKeys(context.Background(), "alice")
	if err != nil || len(keys) != 1 {
		t.Fatalf("ListKeys = %v, %v; want the fourth attempt's answer", keys, err)
	}
	if c.count("ListKeys") != 4 || l.Calls() != 4 || l.Throttled() != 3 {
		t.Fatalf("IAM saw %d calls, Calls %d, Throttled %d; want 4, 4, 3", c.count("ListKeys"), l.Calls(), l.Throttled())
	}
	if len(s.d) != 3 {
		t.Fatalf("slept %d times, want 3", len(s.d))
	}
	// Exponential with jitter in the upper half: each wait lies in
	// [base/2, base] for base 1s, 2s, 4s.
	for i, d := range s.d {
		base := time.Second << i
		if d < base/2 || d > base {
			t.Errorf("backoff %d = %v, want between %v and %v", i, d, base/2, base)
		}
	}
}

func TestLimitedGivesUpAfterRetries(t *testing.T) {
	t.Parallel()
	c := &scripted{script: throttled(100)}
	s := &sleeps{}
	l := NewLimited(c, 0)
	l.Sleep = s.Sleep
	l.Retries = 2
	err := l.SetStatus(context.Background(), "alice", idA, iamx.StatusInactive)
	if !errors.Is(err, iamx.ErrThrottled) {
		t.Fatalf("SetStatus = %v, want the throttling error", err)
	}
	if c.count("SetStatus") != 3 || l.Throttled() != 2 || len(s.d) != 2 {
		t.Fatalf("%d attempts, %d counted throttled, %d sleeps; want 3, 2, 2", c.count("SetStatus"), l.Throttled(), len(s.d))
	}
}

func TestLimitedDoesNotRetryOtherErrors(t *testing.T) {
	t.Parallel()
	for _, kind := range []error{iamx.ErrServiceFailure, iamx.ErrAccessDenied, iamx.ErrNotFound, iamx.ErrKeyLimit} {
		c := &scripted{script: []error{&iamx.Error{Kind: kind}}}
		s := &sleeps{}
		l := NewLimited(c, 0)
		l.Sleep = s.Sleep
		if _, err := l.CreateKey(context.Background(), "alice"); !errors.Is(err, kind) {
			t.Errorf("%v: CreateKey = %v", kind, err)
		}
		if c.count("CreateKey") != 1 || len(s.d) != 0 || l.Throttled() != 0 {
			t.Errorf("%v: retried (%d calls, %d sleeps)", kind, c.count("CreateKey"), len(s.d))
		}
	}
}

func TestLimitedStopsRetryingWhenInterrupted(t *testing.T) {
	t.Parallel()
	c := &scripted{script: throttled(100)}
	s := &sleeps{failFrom: 2}
	l := NewLimited(c, 0)
	l.Sleep = s.Sleep
	err := l.DeleteKey(context.Background(), "alice", idA)
	// The last IAM answer is what the caller learns, not the sleep's.
	if !errors.Is(err, iamx.ErrThrottled) {
		t.Fatalf("DeleteKey = %v, want the throttling error", err)
	}
	if c.count("DeleteKey") != 2 {
		t.Fatalf("%d attempts, want 2 (the sleep after the second failed)", c.count("DeleteKey"))
	}

}

// interrupted is a Client whose LastUsed is throttled while the run is
// interrupted, as when a signal arrives during the request.
type interrupted struct {
	scripted
	cancel func()
}

func (c *interrupted) LastUsed(ctx context.Context, id string) (iamx.LastUsed, error) {
	c.next("LastUsed")
	c.cancel()
	return iamx.LastUsed{}, throttled(1)[0]
}

func TestLimitedNoRetryOnceInterrupted(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := &interrupted{cancel: cancel}
	s := &sleeps{}
	l := NewLimited(c, 0)
	l.Sleep = s.Sleep
	if _, err := l.LastUsed(ctx, idA); !errors.Is(err, iamx.ErrThrottled) {
		t.Fatalf("LastUsed = %v, want the throttling error", err)
	}
	if c.count("LastUsed") != 1 || len(s.d) != 0 {
		t.Fatalf("%d attempts, %d sleeps after the interrupt; want 1, 0", c.count("LastUsed"), len(s.d))
	}
}

func TestLimitedTimerSleepHonoursContext(t *testing.T) {
	t.Parallel()
	l := NewLimited(&scripted{}, 0) // Sleep nil: the built-in timer
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := l.sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Fatalf("sleep = %v, want context.Canceled at once", err)
	}
	if err := l.sleep(context.Background(), time.Millisecond); err != nil {
		t.Fatalf("sleep = %v", err)
	}
}

func TestBackoff(t *testing.T) {
	t.Parallel()
	for attempt := range 12 {
		base := min(time.Second<<min(attempt, 5), 20*time.Second)
		lo, hi := time.Duration(math.MaxInt64), time.Duration(0)
		for range 2000 {
			d := backoff(attempt)
			lo, hi = min(lo, d), max(hi, d)
		}
		if lo < base/2 || hi > base {
			t.Errorf("backoff(%d) in [%v, %v], want within [%v, %v]", attempt, lo, hi, base/2, base)
		}
		// Jitter: 2000 draws are not all the same.
		if lo == hi {
			t.Errorf("backoff(%d) is always %v: no jitter", attempt, lo)
		}
	}
	if d := backoff(100); d > 20*time.Second {
		t.Errorf("backoff(100) = %v, want at most 20s", d)
	}
}

func TestLimitedConcurrentCounts(t *testing.T) {
	t.Parallel()
	// Fewer throttles than one call's retries: every call succeeds,
	// whichever goroutine meets them.
	c := &scripted{script: throttled(DefaultRetries - 1)}
	l := NewLimited(c, 0)
	l.Sleep = (&sleeps{}).Sleep
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := l.ListKeys(context.Background(), "alice"); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	want := int64(20 + DefaultRetries - 1)
	if l.Calls() != want || l.Throttled() != DefaultRetries-1 || int64(c.count("ListKeys")) != want {
		t.Fatalf("Calls %d, Throttled %d, IAM saw %d; want %d, %d, %d", l.Calls(), l.Throttled(), c.count("ListKeys"), want, DefaultRetries-1, want)
	}
}
