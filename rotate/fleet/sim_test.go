package fleet

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/keyrot/keyrot/iamx"
	"github.com/keyrot/keyrot/iamx/iamsim"
	"github.com/keyrot/keyrot/rotate"
)

// simClock is the fake clock shared by the simulator and the run: Sleep
// advances it instead of waiting.
type simClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *simClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *simClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
	return nil
}

// vault is a Destination that keeps every delivered secret, so tests can
// check that none leaks elsewhere.
type vault struct {
	mu      sync.Mutex
	secrets map[string]string
}

func (v *vault) Deliver(ctx context.Context, k iamx.NewKey) (func() error, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.secrets[k.ID] = k.Secret.Reveal()
	return func() error {
		v.mu.Lock()
		defer v.mu.Unlock()
		delete(v.secrets, k.ID)
		return nil
	}, nil
}

func (v *vault) Describe() string { return "the test vault" }

// simEnv is a simulator with an admin user whose key signs the run.
type simEnv struct {
	t       *testing.T
	srv     *iamsim.Server
	clk     *simClock
	client  *Limited
	adminID string
	dir     string
	logPath string
	vault   *vault
}

func newSimEnv(t *testing.T, opts ...iamsim.Option) *simEnv {
	t.Helper()
	clk := &simClock{t: now}
	all := append([]iamsim.Option{iamsim.Now(clk.Now),
		iamsim.User("admin", iamsim.KeySeed{Created: now.Add(-10 * day), LastUsed: now})}, opts...)
	srv := iamsim.NewServer(all...)
	t.Cleanup(srv.Close)
	e := &simEnv{t: t, srv: srv, clk: clk, dir: t.TempDir(), vault: &vault{secrets: map[string]string{}}}
	e.logPath = filepath.Join(e.dir, "audit.jsonl")
	admin := srv.Keys("admin")[0]
	e.adminID = admin.ID
	// One attempt per request: throttling reaches Limited, which retries
	// on the fake clock.
	c := iamx.New(aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL()), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(admin.ID, admin.Secret, "")})
	c.Sleep = clk.Sleep
	e.client = NewLimited(c, 0)
	e.client.Sleep = clk.Sleep
	return e
}

// job is a fresh run, as a new keyrot process would start it: the ledger
// read from the state directory, the audit log opened for appending.
func (e *simEnv) job() *Job {
	e.t.Helper()
	l, err := OpenLedger(e.dir)
	if err != nil {
		e.t.Fatal(err)
	}
	a, err := OpenAuditLog(e.logPath)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { a.Close() })
	return &Job{
		Client: e.client, Concurrency: 4,
		Rotation: rotate.Options{
			Caller:      iamx.Identity{Account: iamsim.DefaultAccountID, User: "admin"},
			Signer:      iamx.Signer{AccessKeyID: e.adminID},
			Destination: e.vault, Verify: true, Now: e.clk.Now, Sleep: e.clk.Sleep, StateDir: e.dir,
			PollInterval: time.Second, Wait: 30 * time.Second, LockWait: time.Second,
		},
		Now: e.clk.Now, Ledger: l, Log: a, Run: "run", Command: "enforce",
	}
}

func (e *simEnv) report() iamx.Report {
	e.t.Helper()
	r, err := e.client.CredentialReport(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	return r
}

// changes lists the successful calls that changed keys since the last
// ResetCalls.
func (e *simEnv) changes() []string {
	var out []string
	for _, c := range e.srv.Calls() {
		switch c.Action {
		case "CreateAccessKey", "UpdateAccessKey", "DeleteAccessKey":
			if c.ErrorCode == "" {
				out = append(out, c.Action+" "+c.User+" "+c.KeyID)
			}
		}
	}
	return out
}

// state is every user's keys as "ID Status".
func (e *simEnv) state() map[string][]string {
	out := map[string][]string{}
	for _, u := range e.srv.Users() {
		for _, k := range e.srv.Keys(u) {
			out[u] = append(out[u], k.ID+" "+k.Status)
		}
	}
	return out
}

// noSecretsLogged fails if a delivered secret is in the audit log.
func (e *simEnv) noSecretsLogged() {
	e.t.Helper()
	data, err := os.ReadFile(e.logPath)
	if err != nil {
		e.t.Fatal(err)
	}
	e.vault.mu.Lock()
	defer e.vault.mu.Unlock()
	if len(e.vault.secrets) == 0 {
		e.t.Fatal("no secret was delivered: the check would prove nothing")
	}
	for id, s := range e.vault.secrets {
		if strings.Contains(string(data), s) {
			e.t.Fatalf("the audit log holds the secret of %s", id)
		}
	}
}

func oldKey() iamsim.KeySeed {
	return iamsim.KeySeed{Created: now.Add(-100 * day), LastUsed: now.Add(-day)}
}

func TestSimEnforcePartialFailure(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t,
		iamsim.User("alice", oldKey()), iamsim.User("bob", oldKey()), iamsim.User("carol", oldKey()),
		iamsim.User("dave", oldKey()),
		// Both keys old: the run will not choose which to keep.
		iamsim.User("erin", oldKey(), oldKey()),
	)
	r := e.report()
	before := e.state()
	// One of the four rotations fails to create its key.
	e.srv.FailNth("CreateAccessKey", 2, "ServiceFailure")
	j := e.job()
	s, err := j.Enforce(context.Background(), r, Selector{}, cis)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Failed) != 2 {
		t.Fatalf("failed users %v, want the one whose creation failed and erin", userNames(s.Failed))
	}
	failed := map[string]UserResult{}
	for _, u := range s.Failed {
		failed[u.User] = u
	}
	if o := failed["erin"].Outcomes; len(o) != 1 || o[0].Result != ResultBlocked {
		t.Fatalf("erin: %+v, want blocked", failed["erin"])
	}
	after := e.state()
	rotated := 0
	for _, u := range []string{"alice", "bob", "carol", "dave"} {
		if f, ok := failed[u]; ok {
			if f.Outcomes[0].Result != ResultFailed || f.Err == nil {
				t.Errorf("%s: %+v, want failed with an error", u, f)
			}
			if !reflect.DeepEqual(after[u], before[u]) {
				t.Errorf("%s failed but its keys changed: %v -> %v", u, before[u], after[u])
			}
			continue
		}
		rotated++
		ks := e.srv.Keys(u)
		if len(ks) != 2 || ks[0].Status != iamsim.StatusInactive || ks[1].Status != iamsim.StatusActive || e.vault.secrets[ks[1].ID] != ks[1].Secret {
			t.Errorf("%s not rotated: %+v", u, ks)
		}
		if entry, ok := j.Ledger.Get(ks[0].ID); !ok || !entry.ByKeyrot {
			t.Errorf("%s: the ledger does not know keyrot deactivated %s", u, ks[0].ID)
		}
	}
	if rotated != 3 || len(failed) != 2 {
		t.Fatalf("%d rotated, failed %v; want 3 rotated and one of them failed", rotated, userNames(s.Failed))
	}
	if !reflect.DeepEqual(after["erin"], before["erin"]) {
		t.Errorf("erin's keys changed: %v", after["erin"])
	}
	if s.Counts["rotate done"] != 3 || s.Counts["rotate failed"] != 1 || s.Counts["blocked"] != 1 {
		t.Fatalf("Counts = %v", s.Counts)
	}
	if err := j.Log.Close(); err != nil {
		t.Fatal(err)
	}
	lines := readLog(t, e.logPath)
	if last := lines[len(lines)-1]; last["Result"] != ResultFailed || last["Action"] != "summary" {
		t.Fatalf("summary line %v", last)
	}
	errs := 0
	for _, m := range lines {
		if m["Result"] == ResultFailed && m["Action"] == "rotate" {
			if !strings.Contains(m["Error"].(string), "ServiceFailure") {
				t.Errorf("failed line %v does not say why", m)
			}
			errs++
		}
	}
	if errs != 1 {
		t.Fatalf("%d failed rotation lines, want 1", errs)
	}
	e.noSecretsLogged()
}

func TestSimThrottlingDoesNotFailUsers(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t,
		iamsim.User("alice", oldKey()), iamsim.User("bob", oldKey()), iamsim.User("carol", oldKey()),
		iamsim.User("dave", iamsim.KeySeed{Created: now.Add(-60 * day), LastUsed: now.Add(-50 * day)}),
	)
	e.srv.Throttle("GetCredentialReport", 1)
	r := e.report()
	e.srv.Throttle("ListAccessKeys", 3)
	e.srv.Throttle("GetAccessKeyLastUsed", 1)
	e.srv.Throttle("CreateAccessKey", 2)
	e.srv.Throttle("UpdateAccessKey", 2)
	s, err := e.job().Enforce(context.Background(), r, Selector{}, cis)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Failed) != 0 {
		t.Fatalf("throttling failed users: %+v", s.Failed)
	}
	want := []string{"alice rotate done", "bob rotate done", "carol rotate done", "dave deactivate done"}
	if got := results(s); !reflect.DeepEqual(got, want) {
		t.Fatalf("outcomes %v, want %v", got, want)
	}
	if got := e.client.Throttled(); got != 9 {
		t.Fatalf("Throttled = %d, want 9 (every injected throttle retried once)", got)
	}
	throttled := 0
	for _, c := range e.srv.Calls() {
		if c.ErrorCode == "Throttling" {
			throttled++
		}
	}
	if throttled != 9 {
		t.Fatalf("the simulator throttled %d calls, want 9", throttled)
	}
}

// TestSimSecondRunChangesNothing runs enforce twice on a seeded account.
// The second run, reading the same (cached) credential report, must look,
// find every user it changed within policy, and change nothing.
func TestSimSecondRunChangesNothing(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, iamsim.Seed(60, 7))
	r := e.report()
	first, err := e.job().Enforce(context.Background(), r, Selector{}, cis)
	if err != nil {
		t.Fatal(err)
	}
	if first.Counts["rotate done"] == 0 || first.Counts["deactivate done"] == 0 {
		t.Fatalf("the first run changed too little to test a rerun: %v", first.Counts)
	}
	for _, u := range first.Failed {
		if o := u.Outcomes[len(u.Outcomes)-1]; o.Result != ResultBlocked {
			t.Fatalf("%s failed for a reason other than a policy block: %v", u.User, u.Err)
		}
	}
	state := e.state()
	e.srv.ResetCalls()

	second, err := e.job().Enforce(context.Background(), e.report(), Selector{}, cis)
	if err != nil {
		t.Fatal(err)
	}
	if c := e.changes(); len(c) != 0 {
		t.Fatalf("the second run changed keys: %v", c)
	}
	if !reflect.DeepEqual(e.state(), state) {
		t.Fatal("the second run changed the account")
	}
	for _, u := range second.Users {
		if u.Changed() {
			t.Errorf("%s changed on the second run: %+v", u.User, u.Outcomes)
		}
	}
	if second.Examined == 0 {
		t.Fatal("the second run looked at nobody: it proves nothing")
	}
	// The users blocked the first time are blocked again, no one else.
	if a, b := userNames(first.Failed), userNames(second.Failed); !reflect.DeepEqual(a, b) {
		t.Fatalf("failed users changed between runs: %v then %v", a, b)
	}
	e.noSecretsLogged()
}

func TestSimDryRun(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t,
		iamsim.User("alice", oldKey()),
		iamsim.User("bob", oldKey(), iamsim.KeySeed{Status: iamsim.StatusInactive, Created: now.Add(-200 * day)}),
	)
	r := e.report()
	e.srv.ResetCalls()
	j := e.job()
	j.DryRun = true
	j.DeleteInactive = true
	s, err := j.Enforce(context.Background(), r, Selector{}, cis)
	if err != nil {
		t.Fatal(err)
	}
	if c := e.changes(); len(c) != 0 {
		t.Fatalf("a dry run changed keys: %v", c)
	}
	want := []string{"alice rotate planned", "bob rotate planned"}
	if got := results(s); !reflect.DeepEqual(got, want) {
		t.Fatalf("outcomes %v, want %v", got, want)
	}
	for _, u := range s.Users {
		if len(u.Outcomes[0].Plan) == 0 {
			t.Errorf("%s: a planned rotation without its steps", u.User)
		}
	}
	// The plan reuses the list the decision was made on: one ListAccessKeys
	// per user.
	if n := e.srv.CallCount("ListAccessKeys"); n != 2 {
		t.Fatalf("%d ListAccessKeys calls, want 2", n)
	}
	if _, err := os.Stat(filepath.Join(e.dir, LedgerFile)); !os.IsNotExist(err) {
		t.Fatalf("a dry run wrote the ledger: %v", err)
	}
}

// TestSimRotateAllUsers is rotate --all-users --older-than 90d: only the
// users with an older Active key rotate.
func TestSimRotateAllUsers(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t,
		iamsim.UserWithPath("alice", "/team-a/", oldKey()),
		iamsim.UserWithPath("bob", "/team-a/", iamsim.KeySeed{Created: now.Add(-30 * day), LastUsed: now.Add(-29 * day)}),
		iamsim.UserWithPath("carol", "/team-a/", iamsim.KeySeed{Created: now.Add(-100 * day), Status: iamsim.StatusInactive}),
		iamsim.UserWithPath("dave", "/team-b/", oldKey()),
	)
	r := e.report()
	before := e.state()
	e.srv.ResetCalls()
	j := e.job()
	j.Command = "rotate"
	s, err := j.Rotate(context.Background(), r, NewSelector("/team-a/", nil, nil), 90*day)
	if err != nil {
		t.Fatal(err)
	}
	if got := results(s); !reflect.DeepEqual(got, []string{"alice rotate done"}) || s.Selected != 3 {
		t.Fatalf("outcomes %v of %d selected, want alice rotated of 3", got, s.Selected)
	}
	// The rotation starts from the list the decision was made on.
	if n := e.srv.CallCount("ListAccessKeys"); n != 1 {
		t.Errorf("%d ListAccessKeys calls, want 1", n)
	}
	after := e.state()
	for _, u := range []string{"bob", "carol", "dave", "admin"} {
		if !reflect.DeepEqual(after[u], before[u]) {
			t.Errorf("%s changed: %v -> %v", u, before[u], after[u])
		}
	}
	var ids []string
	for _, k := range e.srv.Keys("alice") {
		ids = append(ids, k.Status)
	}
	sort.Strings(ids)
	if !reflect.DeepEqual(ids, []string{"Active", "Inactive"}) {
		t.Fatalf("alice's keys %v", ids)
	}
}
