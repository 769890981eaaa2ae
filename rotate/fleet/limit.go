package fleet

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/keyrot/keyrot/iamx"
	"github.com/keyrot/keyrot/rotate"
	"golang.org/x/time/rate"
)

// Client is what a fleet run needs from IAM and STS. *iamx.Client
// satisfies it.
type Client interface {
	rotate.Keys
	LastUsed(ctx context.Context, id string) (iamx.LastUsed, error)
	CredentialReport(ctx context.Context) (iamx.Report, error)
	FetchCredentialReport(ctx context.Context) (iamx.Report, error)
}

var _ Client = (*iamx.Client)(nil)

// DefaultRate is the default client-side limit, in IAM requests per
// second. AWS does not publish IAM's rate limits; 10 per second leaves
// room for other tools working on the same account.
const DefaultRate = 10

// DefaultRetries is how often Limited retries a call that IAM throttled
// beyond the SDK's own retries.
const DefaultRetries = 8

// Limited is a Client whose IAM calls wait for a token bucket first, and
// whose calls throttled beyond the SDK's retries (the SDK's retry quota is
// shared by every goroutine of a run, and many throttles drain it) are
// retried after an exponential backoff with jitter. A throttled request
// was refused, not performed, so retrying even CreateAccessKey is safe.
// STS verification calls (VerifyKey) are not limited: they count against
// STS's quota, not IAM's, and rotate.Run paces them itself.
type Limited struct {
	C       Client
	Limiter *rate.Limiter // nil: no limit
	Retries int
	// Sleep waits between retries; nil means a timer.
	Sleep func(ctx context.Context, d time.Duration) error

	calls     atomic.Int64
	throttled atomic.Int64
}

// NewLimited limits c to perSecond IAM calls per second (0: unlimited)
// with a burst of one second's worth.
func NewLimited(c Client, perSecond float64) *Limited {
	l := &Limited{C: c, Retries: DefaultRetries}
	if perSecond > 0 {
		burst := int(perSecond)
		if burst < 1 {
			burst = 1
		}
		l.Limiter = rate.NewLimiter(rate.Limit(perSecond), burst)
	}
	return l
}

// Calls is the number of IAM operations started (retries of Limited
// included, the SDK's own retries not).
func (l *Limited) Calls() int64 { return l.calls.Load() }

// Throttled is the number of operations that came back throttled after
// the SDK's retries and were retried here.
func (l *Limited) Throttled() int64 { return l.throttled.Load() }

func (l *Limited) do(ctx context.Context, fn func() error) error {
	for attempt := 0; ; attempt++ {
		if l.Limiter != nil {
			if err := l.Limiter.Wait(ctx); err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				return err
			}
		}
		l.calls.Add(1)
		err := fn()
		if !errors.Is(err, iamx.ErrThrottled) || attempt >= l.Retries || ctx.Err() != nil {
			return err
		}
		l.throttled.Add(1)
		if serr := l.sleep(ctx, backoff(attempt)); serr != nil {
			return err
		}
	}
}

// backoff is 1s, 2s, 4s … capped at 20s, with full jitter in its upper half.
func backoff(attempt int) time.Duration {
	d := time.Second << min(attempt, 5)
	d = min(d, 20*time.Second)
	return d/2 + rand.N(d/2+1)
}

func (l *Limited) sleep(ctx context.Context, d time.Duration) error {
	if l.Sleep != nil {
		return l.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// ListKeys implements rotate.Keys.
func (l *Limited) ListKeys(ctx context.Context, user string) (ks []iamx.Key, err error) {
	err = l.do(ctx, func() error { ks, err = l.C.ListKeys(ctx, user); return err })
	return ks, err
}

// CreateKey implements rotate.Keys.
func (l *Limited) CreateKey(ctx context.Context, user string) (k iamx.NewKey, err error) {
	err = l.do(ctx, func() error { k, err = l.C.CreateKey(ctx, user); return err })
	return k, err
}

// SetStatus implements rotate.Keys.
func (l *Limited) SetStatus(ctx context.Context, user, id string, s iamx.Status) error {
	return l.do(ctx, func() error { return l.C.SetStatus(ctx, user, id, s) })
}

// DeleteKey implements rotate.Keys.
func (l *Limited) DeleteKey(ctx context.Context, user, id string) error {
	return l.do(ctx, func() error { return l.C.DeleteKey(ctx, user, id) })
}

// VerifyKey implements rotate.Keys; it is not limited (see Limited).
func (l *Limited) VerifyKey(ctx context.Context, id string, secret iamx.Secret) (iamx.Identity, error) {
	return l.C.VerifyKey(ctx, id, secret)
}

// LastUsed is GetAccessKeyLastUsed.
func (l *Limited) LastUsed(ctx context.Context, id string) (lu iamx.LastUsed, err error) {
	err = l.do(ctx, func() error { lu, err = l.C.LastUsed(ctx, id); return err })
	return lu, err
}

// CredentialReport generates and downloads the report: one token for its
// two or three requests.
func (l *Limited) CredentialReport(ctx context.Context) (r iamx.Report, err error) {
	err = l.do(ctx, func() error { r, err = l.C.CredentialReport(ctx); return err })
	return r, err
}

// FetchCredentialReport downloads a report started earlier: one token.
func (l *Limited) FetchCredentialReport(ctx context.Context) (r iamx.Report, err error) {
	err = l.do(ctx, func() error { r, err = l.C.FetchCredentialReport(ctx); return err })
	return r, err
}

// prefetched serves one ListKeys of user from a list fetched a moment
// ago, saving rotate.Run's first request; everything else goes through.
type prefetched struct {
	Client
	user string
	keys []iamx.Key
	at   time.Time // when keys were read
	used bool
}

var _ rotate.Snapshot = (*prefetched)(nil)

// ReadAt implements rotate.Snapshot.
func (p *prefetched) ReadAt() time.Time { return p.at }

// Invalidate implements rotate.Snapshot: the next ListKeys asks IAM.
func (p *prefetched) Invalidate() { p.used = true }

func (p *prefetched) ListKeys(ctx context.Context, user string) ([]iamx.Key, error) {
	if !p.used && user == p.user {
		p.used = true
		return append([]iamx.Key(nil), p.keys...), nil
	}
	return p.Client.ListKeys(ctx, user)
}
