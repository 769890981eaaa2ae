package rotate

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/keyrot/keyrot/iamx"
	"github.com/keyrot/keyrot/iamx/iamsim"
	"github.com/keyrot/keyrot/rotate/credfile"
)

var _ Keys = (*iamx.Client)(nil)

// clock is a fake clock shared by the simulator and the workflow: Sleep
// advances it instead of waiting.
type clock struct {
	mu sync.Mutex
	t  time.Time
	// onSleep, when set, runs on every Sleep (after the advance).
	onSleep func(n int) error
	sleeps  int
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func (c *clock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.Advance(d)
	c.mu.Lock()
	c.sleeps++
	n, f := c.sleeps, c.onSleep
	c.mu.Unlock()
	if f != nil {
		return f(n)
	}
	return nil
}

// env is a simulator with an admin user and alice, and a state directory.
type env struct {
	t        *testing.T
	srv      *iamsim.Server
	clk      *clock
	dir      string
	admin    *iamx.Client
	adminID  string
	aliceOld string
	// known maps key IDs to secrets somebody holds.
	known map[string]string
}

func newEnv(t *testing.T, opts ...iamsim.Option) *env {
	t.Helper()
	clk := newClock()
	all := append([]iamsim.Option{iamsim.Now(clk.Now), iamsim.User("admin", iamsim.KeySeed{}), iamsim.User("alice", iamsim.KeySeed{})}, opts...)
	srv := iamsim.NewServer(all...)
	t.Cleanup(srv.Close)
	clk.Advance(time.Hour)
	e := &env{t: t, srv: srv, clk: clk, dir: t.TempDir(), known: map[string]string{}}
	for _, u := range []string{"admin", "alice"} {
		for _, k := range srv.Keys(u) {
			e.known[k.ID] = k.Secret
		}
	}
	e.adminID = srv.Keys("admin")[0].ID
	e.aliceOld = srv.Keys("alice")[0].ID
	e.admin = e.client(e.adminID, 1)
	return e
}

// client signs with the given key; attempts bounds SDK retries.
func (e *env) client(id string, attempts int) *iamx.Client {
	c := iamx.New(aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(e.srv.URL()), RetryMaxAttempts: attempts,
		Credentials: credentials.NewStaticCredentialsProvider(id, e.known[id], "")})
	c.Sleep = e.clk.Sleep
	return c
}

func (e *env) clientFor(base *iamx.Client) func(id string, secret iamx.Secret) Keys {
	return func(id string, secret iamx.Secret) Keys {
		return base.WithCredentials(credentials.NewStaticCredentialsProvider(id, secret.Reveal(), ""))
	}
}

// opts are the admin's options to rotate alice.
func (e *env) opts(d Destination) Options {
	return Options{
		User: "alice", Caller: iamx.Identity{Account: iamsim.DefaultAccountID, User: "admin"},
		Signer:      iamx.Signer{AccessKeyID: e.adminID},
		Destination: d, Verify: true, Now: e.clk.Now, Sleep: e.clk.Sleep, StateDir: e.dir,
		PollInterval: time.Second, Wait: 30 * time.Second, LockWait: time.Second,
	}
}

// credFile writes a credentials file holding alice's old key and another profile.
func (e *env) credFile() (path, original string) {
	path = filepath.Join(e.t.TempDir(), "credentials")
	original = "# keep me\n[other]\naws_access_key_id = OTHERKEYEXAMPLE1234\naws_secret_access_key = other\n\n[alice]\naws_access_key_id = " +
		e.aliceOld + "\naws_secret_access_key = " + e.known[e.aliceOld] + "\n"
	if err := os.WriteFile(path, []byte(original), 0o600); err != nil {
		e.t.Fatal(err)
	}
	return path, original
}

// learnFile records the key pair a credentials file profile holds.
func (e *env) learnFile(path, profile string) {
	if p, err := credfile.ReadProfile(path, profile); err == nil {
		e.known[p.AccessKeyID] = p.SecretAccessKey.Reveal()
	}
}

// status returns alice's keys as id → status.
func (e *env) status(user string) map[string]string {
	m := map[string]string{}
	for _, k := range e.srv.Keys(user) {
		m[k.ID] = k.Status
	}
	return m
}

// invariant: user has at least one Active key whose secret somebody
// knows, and no Active key whose secret nobody has.
func (e *env) invariant(user string) {
	e.t.Helper()
	good := 0
	for _, k := range e.srv.Keys(user) {
		if k.Status != iamsim.StatusActive {
			continue
		}
		if s, ok := e.known[k.ID]; !ok || s != k.Secret {
			e.t.Errorf("invariant: Active key %s of %s has a secret nobody holds", k.ID, user)
			continue
		}
		good++
	}
	if good == 0 {
		e.t.Errorf("invariant: %s has no Active key with a known secret: %v", user, e.status(user))
	}
}

func (e *env) calls() string {
	var s []string
	for _, c := range e.srv.Calls() {
		s = append(s, c.Action)
	}
	return strings.Join(s, ",")
}
