package fleet

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keyrot/keyrot/iamx"
)

// fakeIAM is an in-memory Client for the decisions and bookkeeping of a
// run; rotations themselves are tested against the simulator
// (sim_test.go). Creating or verifying a key fails the test.
type fakeIAM struct {
	t  *testing.T
	mu sync.Mutex
	// keys by user; lastUsed by key ID (missing: never used).
	keys     map[string][]iamx.Key
	lastUsed map[string]time.Time
	// errs fails the named call ("ListKeys bob", "SetStatus AKIA…",
	// "LastUsed AKIA…", "DeleteKey AKIA…").
	errs  map[string]error
	calls []string
	// block, when set, runs at the start of every ListKeys.
	block func(ctx context.Context, user string)
}

func newFake(t *testing.T) *fakeIAM {
	return &fakeIAM{t: t, keys: map[string][]iamx.Key{}, lastUsed: map[string]time.Time{}, errs: map[string]error{}}
}

// add gives user a key created ago, last used used ago (never: never).
func (f *fakeIAM) add(user, id string, status iamx.Status, created, used time.Duration) {
	f.keys[user] = append(f.keys[user], iamx.Key{ID: id, User: user, Status: status, Created: now.Add(-created)})
	if used != never {
		f.lastUsed[id] = now.Add(-used)
	}
}

func (f *fakeIAM) call(c string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, c)
	return f.errs[c]
}

// mutations lists the calls that change IAM, sorted.
func (f *fakeIAM) mutations() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := []string{}
	for _, c := range f.calls {
		if strings.HasPrefix(c, "SetStatus") || strings.HasPrefix(c, "DeleteKey") || strings.HasPrefix(c, "CreateKey") {
			out = append(out, c)
		}
	}
	sort.Strings(out)
	return out
}

func (f *fakeIAM) count(prefix string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.calls {
		if strings.HasPrefix(c, prefix) {
			n++
		}
	}
	return n
}

func (f *fakeIAM) ListKeys(ctx context.Context, user string) ([]iamx.Key, error) {
	if f.block != nil {
		f.block(ctx, user)
	}
	if err := f.call("ListKeys " + user); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]iamx.Key(nil), f.keys[user]...), nil
}

func (f *fakeIAM) SetStatus(ctx context.Context, user, id string, s iamx.Status) error {
	if err := f.call("SetStatus " + id + " " + string(s)); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, k := range f.keys[user] {
		if k.ID == id {
			f.keys[user][i].Status = s
			return nil
		}
	}
	return &iamx.Error{Kind: iamx.ErrNotFound, Code: "NoSuchEntity"}
}

func (f *fakeIAM) DeleteKey(ctx context.Context, user, id string) error {
	if err := f.call("DeleteKey " + id); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	ks := f.keys[user]
	for i, k := range ks {
		if k.ID == id {
			f.keys[user] = append(ks[:i:i], ks[i+1:]...)
			return nil
		}
	}
	return &iamx.Error{Kind: iamx.ErrNotFound, Code: "NoSuchEntity"}
}

func (f *fakeIAM) LastUsed(ctx context.Context, id string) (iamx.LastUsed, error) {
	if err := f.call("LastUsed " + id); err != nil {
		return iamx.LastUsed{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return iamx.LastUsed{Date: f.lastUsed[id]}, nil
}

func (f *fakeIAM) CreateKey(ctx context.Context, user string) (iamx.NewKey, error) {
	f.call("CreateKey " + user)
	f.t.Errorf("unexpected CreateKey for %s", user)
	return iamx.NewKey{}, errors.New("fake: no rotations")
}

func (f *fakeIAM) VerifyKey(ctx context.Context, id string, secret iamx.Secret) (iamx.Identity, error) {
	f.t.Errorf("unexpected VerifyKey %s", id)
	return iamx.Identity{}, errors.New("fake: no rotations")
}

func (f *fakeIAM) FetchCredentialReport(ctx context.Context) (iamx.Report, error) {
	return f.CredentialReport(ctx)
}

func (f *fakeIAM) CredentialReport(ctx context.Context) (iamx.Report, error) {
	return iamx.Report{}, errors.New("fake: the tests pass reports in")
}

// fakeJob is a Job on f with a ledger and an audit log in a temporary
// directory, at the fixed now.
func fakeJob(t *testing.T, f *fakeIAM) (*Job, string) {
	t.Helper()
	dir := t.TempDir()
	l, err := OpenLedger(dir)
	if err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(dir, "audit.jsonl")
	a, err := OpenAuditLog(logPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return &Job{Client: f, Concurrency: 2, Now: func() time.Time { return now }, Ledger: l, Log: a, Run: "r1", Command: "enforce"}, logPath
}

func userNames(us []UserResult) []string {
	out := []string{}
	for _, u := range us {
		out = append(out, u.User)
	}
	return out
}

// results lists a summary's outcomes as "user action result".
func results(s Summary) []string {
	out := []string{}
	for _, u := range s.Users {
		for _, o := range u.Outcomes {
			out = append(out, u.User+" "+string(o.Action.Kind)+" "+o.Result)
		}
	}
	return out
}

// TestEnforceLooksOnlyAtCandidates: the report chooses whom to look at;
// the live keys decide. Here the report is stale and every live key is
// within policy, so nothing changes.
func TestEnforceLooksOnlyAtCandidates(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	for _, u := range []string{"bob", "carol", "dave", "erin", "frank"} {
		f.add(u, "AKIA"+strings.Repeat(strings.ToUpper(u[:1]), 16), iamx.StatusActive, day, 0)
	}
	r := iamx.Report{Users: []iamx.ReportUser{
		row(iamx.RootUser, active(400*day, never)),
		row("alice", active(10*day, day)),   // within policy: not looked at
		row("bob", active(100*day, day)),    // old
		row("carol", inactive(10*day)),      // Inactive
		row("dave", active(60*day, 50*day)), // unused
		arnRow("erin", "/team-b/"),          // excluded, named in lower case
		row("frank", active(100*day, day)),  // excluded, named in upper case
	}}
	r.Users[5].Keys[0] = active(300*day, day)
	j, _ := fakeJob(t, f)
	var started []int
	j.OnStart = func(n int) { started = append(started, n) }
	var finished []string
	j.OnUser = func(u UserResult) { finished = append(finished, u.User) }
	s, err := j.Enforce(context.Background(), r, NewSelector("/", nil, []string{"FRANK", "erin"}), cis)
	if err != nil {
		t.Fatal(err)
	}
	if s.Selected != 4 || s.Examined != 3 || s.Interrupted || len(s.Failed) != 0 {
		t.Fatalf("summary %+v; want 4 selected, 3 examined", s)
	}
	if got := userNames(s.Users); !reflect.DeepEqual(got, []string{"bob", "carol", "dave"}) {
		t.Fatalf("examined %v", got)
	}
	if !reflect.DeepEqual(started, []int{3}) {
		t.Fatalf("OnStart got %v, want [3]", started)
	}
	sort.Strings(finished)
	if !reflect.DeepEqual(finished, []string{"bob", "carol", "dave"}) {
		t.Fatalf("OnUser got %v", finished)
	}
	if n := f.count("ListKeys"); n != 3 {
		t.Fatalf("%d ListKeys calls, want 3 (one per candidate)", n)
	}
	if m := f.mutations(); len(m) != 0 {
		t.Fatalf("a stale report caused changes: %v", m)
	}
	want := []string{"bob none ok", "carol none ok", "dave none ok"}
	if got := results(s); !reflect.DeepEqual(got, want) {
		t.Fatalf("outcomes %v, want %v", got, want)
	}
	if !reflect.DeepEqual(s.Counts, map[string]int{"none ok": 3}) {
		t.Fatalf("Counts = %v", s.Counts)
	}
}

// TestRotateOlderThan is --older-than: the users with an Active key older
// than it (or of unknown age) are looked at; 0 means every Active key.
func TestRotateOlderThan(t *testing.T) {
	t.Parallel()
	r := iamx.Report{Users: []iamx.ReportUser{
		row(iamx.RootUser, active(400*day, day)),
		row("alice", active(10*day, day)),
		row("bob", active(91*day, day)),
		row("carol", inactive(400*day)),
		row("dave", active(10*day, day), active(90*day, day)), // exactly 90d: not older
		row("erin", inactive(400*day), active(95*day, 60*day)),
		row("frank", iamx.ReportKey{Present: true, Active: true}), // no date
		row("gina"),
	}}
	tests := []struct {
		olderThan time.Duration
		sel       Selector
		want      []string
		selected  int
	}{
		{90 * day, Selector{}, []string{"bob", "erin", "frank"}, 7},
		{90*day - time.Second, Selector{}, []string{"bob", "dave", "erin", "frank"}, 7},
		{0, Selector{}, []string{"alice", "bob", "dave", "erin", "frank"}, 7},
		{0, NewSelector("", []string{"Alice", "carol"}, nil), []string{"alice"}, 2},
		{1000 * day, Selector{}, []string{"frank"}, 7},
	}
	for _, tt := range tests {
		f := newFake(t)
		j, _ := fakeJob(t, f)
		j.Command = "rotate"
		s, err := j.Rotate(context.Background(), r, tt.sel, tt.olderThan)
		if err != nil {
			t.Fatal(err)
		}
		if got := userNames(s.Users); !reflect.DeepEqual(got, tt.want) || s.Selected != tt.selected {
			t.Errorf("--older-than %v: %d selected, examined %v; want %d, %v", tt.olderThan, s.Selected, got, tt.selected, tt.want)
		}
	}
}

// TestRotateAllUsersOnlyRotates: rotate --all-users applies the age rule
// only. Unused keys are not looked up, Inactive keys never deleted.
func TestRotateAllUsersOnlyRotates(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	f.add("alice", idA, iamx.StatusActive, 100*day, 99*day) // old, unused
	f.add("alice", idB, iamx.StatusActive, 100*day, 99*day)
	f.add("bob", "AKIACCCCCCCCCEXAMPLE", iamx.StatusInactive, 400*day, never)
	f.add("bob", "AKIADDDDDDDDDEXAMPLE", iamx.StatusActive, 5*day, 0)
	r := iamx.Report{Users: []iamx.ReportUser{
		row("alice", active(100*day, 99*day), active(100*day, 99*day)),
		row("bob", inactive(400*day), active(5*day, 0)),
	}}
	j, _ := fakeJob(t, f)
	j.Ledger.Observe("bob", "AKIACCCCCCCCCEXAMPLE", now.Add(-300*day))
	s, err := j.Rotate(context.Background(), r, Selector{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"alice blocked blocked", "bob blocked blocked"}
	if got := results(s); !reflect.DeepEqual(got, want) {
		t.Fatalf("outcomes %v, want %v", got, want)
	}
	for _, u := range s.Users {
		for _, o := range u.Outcomes {
			// rotate --all-users has no --delete-inactive-after to suggest.
			if strings.Contains(o.Action.Reason, "--delete-inactive-after") {
				t.Errorf("%s: reason %q suggests a flag rotate --all-users lacks", u.User, o.Action.Reason)
			}
		}
	}
	if f.count("LastUsed") != 0 || len(f.mutations()) != 0 {
		t.Fatalf("calls %v: rotate --all-users must not look up use or change keys itself", f.calls)
	}
	if len(s.Failed) != 2 {
		t.Fatalf("blocked users must count as failed: %+v", s.Failed)
	}
}

func TestEnforceActs(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	const (
		aliceUnused = "AKIAALICEUNUSEXAMPLE"
		aliceUsed   = "AKIAALICEUSEDEXAMPLE"
		bobOld      = "AKIABOBINACTIEXAMPLE"
		carolNew    = "AKIACAROLINACEXAMPLE"
		daveGone    = "AKIADAVEGONE0EXAMPLE"
		daveBack    = "AKIADAVEBACK0EXAMPLE"
		admin       = "AKIAADMIN0000EXAMPLE"
	)
	f.add("alice", aliceUnused, iamx.StatusActive, 60*day, 50*day)
	f.add("alice", aliceUsed, iamx.StatusActive, 10*day, 0)
	f.add("bob", bobOld, iamx.StatusInactive, 400*day, never)
	f.add("carol", carolNew, iamx.StatusInactive, 400*day, never)
	f.add("dave", daveBack, iamx.StatusActive, 10*day, 0)
	f.add("admin", admin, iamx.StatusActive, 60*day, 50*day) // signs the run
	r := iamx.Report{Users: []iamx.ReportUser{
		row("admin", active(60*day, 50*day)),
		row("alice", active(60*day, 50*day), active(10*day, 0)),
		row("bob", inactive(400*day)),
		row("carol", inactive(400*day)),
		row("dave", inactive(10*day), inactive(100*day)),
	}}
	j, logPath := fakeJob(t, f)
	j.Rotation.Signer.AccessKeyID = admin
	// The ledger knows bob's key for 40 days; dave's deleted key and his
	// key since reactivated are stale entries.
	j.Ledger.Observe("bob", bobOld, now.Add(-40*day))
	j.Ledger.Observe("dave", daveGone, now.Add(-40*day))
	j.Ledger.Deactivated("dave", daveBack, now.Add(-5*day))

	s, err := j.Enforce(context.Background(), r, Selector{}, cis)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"admin none ok", "alice deactivate done", "bob delete done", "carol none ok", "dave none ok"}
	if got := results(s); !reflect.DeepEqual(got, want) {
		t.Fatalf("outcomes %v, want %v", got, want)
	}
	wantCalls := []string{"DeleteKey " + bobOld, "SetStatus " + aliceUnused + " Inactive"}
	if got := f.mutations(); !reflect.DeepEqual(got, wantCalls) {
		t.Fatalf("changes %v, want %v", got, wantCalls)
	}
	// The signer's last use is never looked up: it is never deactivated.
	if f.count("LastUsed "+admin) != 0 || f.count("LastUsed "+aliceUsed) != 0 {
		t.Fatalf("calls %v: looked up a key that cannot be unused", f.calls)
	}
	if !s.Users[1].Changed() || s.Users[0].Changed() {
		t.Fatal("Changed is wrong")
	}

	// The ledger, as the next run reads it.
	l, err := OpenLedger(filepath.Dir(j.Ledger.Path()))
	if err != nil {
		t.Fatal(err)
	}
	if e, ok := l.Get(aliceUnused); !ok || !e.ByKeyrot || !e.Since.Equal(now) || e.User != "alice" {
		t.Errorf("alice's deactivated key: %+v, %v; want recorded by keyrot at now", e, ok)
	}
	if e, ok := l.Get(carolNew); !ok || e.ByKeyrot || !e.Since.Equal(now) {
		t.Errorf("carol's key first seen Inactive: %+v, %v; want seen at now", e, ok)
	}
	for _, id := range []string{bobOld, daveGone, daveBack} {
		if e, ok := l.Get(id); ok {
			t.Errorf("ledger still holds %s: %+v", id, e)
		}
	}
	if l.Len() != 2 {
		t.Errorf("ledger Len = %d, want 2", l.Len())
	}

	// The audit log: one line per user and action, then the summary.
	if err := j.Log.Close(); err != nil {
		t.Fatal(err)
	}
	lines := readLog(t, logPath)
	if len(lines) != 6 {
		t.Fatalf("%d audit lines, want 6: %v", len(lines), lines)
	}
	var got []string
	for _, m := range lines[:5] {
		if m["Run"] != "r1" || m["Command"] != "enforce" || m["Time"] != "2026-03-01T12:00:00Z" {
			t.Errorf("line %v lacks the run's labels", m)
		}
		got = append(got, fmt.Sprint(m["User"], " ", m["Action"], " ", m["Result"], " ", m["AccessKeyId"]))
	}
	sort.Strings(got)
	wantLog := []string{
		"admin none ok <nil>", "alice deactivate done " + aliceUnused, "bob delete done " + bobOld,
		"carol none ok <nil>", "dave none ok <nil>",
	}
	if !reflect.DeepEqual(got, wantLog) {
		t.Errorf("audit lines %v, want %v", got, wantLog)
	}
	sum := lines[5]
	counts, _ := sum["Counts"].(map[string]any)
	if sum["Action"] != "summary" || sum["Result"] != "done" || counts["Selected"] != 5.0 || counts["Examined"] != 5.0 ||
		counts["Failed"] != 0.0 || counts["delete done"] != 1.0 || counts["deactivate done"] != 1.0 {
		t.Errorf("summary line %v", sum)
	}
}

func TestEnforceDryRunChangesNothing(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	f.add("alice", idA, iamx.StatusActive, 60*day, 50*day)
	f.add("bob", idB, iamx.StatusInactive, 400*day, never)
	f.add("carol", "AKIACCCCCCCCCEXAMPLE", iamx.StatusInactive, 400*day, never)
	r := iamx.Report{Users: []iamx.ReportUser{
		row("alice", active(60*day, 50*day)), row("bob", inactive(400*day)), row("carol", inactive(400*day)),
	}}
	j, _ := fakeJob(t, f)
	j.DryRun = true
	j.Ledger.Observe("bob", idB, now.Add(-40*day))
	// A key of alice's deleted since: only a real run forgets it.
	j.Ledger.Observe("alice", "AKIAALICEDELEEXAMPLE", now.Add(-40*day))
	if err := j.Ledger.Save(); err != nil {
		t.Fatal(err)
	}
	s, err := j.Enforce(context.Background(), r, Selector{}, cis)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"alice deactivate planned", "bob delete planned", "carol none ok"}
	if got := results(s); !reflect.DeepEqual(got, want) {
		t.Fatalf("outcomes %v, want %v", got, want)
	}
	if m := f.mutations(); len(m) != 0 {
		t.Fatalf("a dry run changed keys: %v", m)
	}
	if !s.Users[0].Changed() {
		t.Fatal("a planned change must count as Changed")
	}
	// carol's key was seen Inactive, but a dry run records nothing.
	if _, ok := j.Ledger.Get("AKIACCCCCCCCCEXAMPLE"); ok || j.Ledger.dirty {
		t.Fatal("a dry run wrote to the ledger")
	}
	if _, ok := j.Ledger.Get("AKIAALICEDELEEXAMPLE"); !ok {
		t.Fatal("a dry run forgot a ledger entry")
	}
}

func TestEnforceFailures(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	f.add("alice", idA, iamx.StatusActive, 60*day, 50*day)
	f.add("bob", idB, iamx.StatusActive, 60*day, 50*day)
	f.add("carol", "AKIACCCCCCCCCEXAMPLE", iamx.StatusActive, 60*day, 50*day)
	f.add("dave", "AKIADDDDDDDDDEXAMPLE", iamx.StatusInactive, 60*day, never)
	f.add("dave", "AKIAEEEEEEEEEEXAMPLE", iamx.StatusActive, 60*day, 50*day)
	fail := &iamx.Error{Kind: iamx.ErrServiceFailure, Code: "ServiceFailure"}
	f.errs["ListKeys bob"] = fail
	f.errs["LastUsed AKIACCCCCCCCCEXAMPLE"] = fail
	f.errs["DeleteKey AKIADDDDDDDDDEXAMPLE"] = fail
	f.errs["ListKeys erin"] = fmt.Errorf("list: %w", &iamx.Error{Kind: iamx.ErrNotFound, Code: "NoSuchEntity"})
	var r iamx.Report
	for _, u := range []string{"alice", "bob", "carol", "erin"} {
		r.Users = append(r.Users, row(u, active(60*day, 50*day)))
	}
	r.Users = append(r.Users, row("dave", inactive(60*day), active(60*day, 50*day)))
	j, _ := fakeJob(t, f)
	j.Ledger.Observe("dave", "AKIADDDDDDDDDEXAMPLE", now.Add(-40*day))
	s, err := j.Enforce(context.Background(), r, Selector{}, cis)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"alice deactivate done",
		"bob none failed",
		"carol none failed",
		"dave delete failed", // and the deactivation after it is not tried
		"erin none gone",     // deleted since the report: not a failure
	}
	if got := results(s); !reflect.DeepEqual(got, want) {
		t.Fatalf("outcomes %v, want %v", got, want)
	}
	if got := userNames(s.Failed); !reflect.DeepEqual(got, []string{"bob", "carol", "dave"}) {
		t.Fatalf("failed users %v", got)
	}
	for _, u := range s.Failed {
		if !errors.Is(u.Err, iamx.ErrServiceFailure) || !strings.Contains(u.Err.Error(), u.User) {
			t.Errorf("%s: Err = %v, want the service failure naming the user", u.User, u.Err)
		}
	}
	if f.count("SetStatus AKIAEEEEEEEEEEXAMPLE") != 0 || f.count("SetStatus AKIACCCCCCCCCEXAMPLE") != 0 {
		t.Fatalf("changes after a failure: %v", f.mutations())
	}
	// The failed delete keeps the ledger entry, so the next run retries.
	if _, ok := j.Ledger.Get("AKIADDDDDDDDDEXAMPLE"); !ok {
		t.Fatal("the ledger forgot a key whose deletion failed")
	}
	if s.Counts["none failed"] != 2 || s.Counts["delete failed"] != 1 || s.Counts["none gone"] != 1 {
		t.Fatalf("Counts = %v", s.Counts)
	}
	if summaryResult(s) != ResultFailed {
		t.Fatalf("summary result %q", summaryResult(s))
	}
}

func TestEnforceDeleteOfVanishedKeySucceeds(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	f.add("alice", idA, iamx.StatusInactive, 100*day, never)
	f.errs["DeleteKey "+idA] = &iamx.Error{Kind: iamx.ErrNotFound, Code: "NoSuchEntity"}
	j, _ := fakeJob(t, f)
	j.Ledger.Observe("alice", idA, now.Add(-40*day))
	s, err := j.Enforce(context.Background(), iamx.Report{Users: []iamx.ReportUser{row("alice", inactive(100*day))}}, Selector{}, cis)
	if err != nil {
		t.Fatal(err)
	}
	if got := results(s); !reflect.DeepEqual(got, []string{"alice delete done"}) || len(s.Failed) != 0 {
		t.Fatalf("outcomes %v, failed %v", got, s.Failed)
	}
	if _, ok := j.Ledger.Get(idA); ok {
		t.Fatal("ledger kept the deleted key")
	}
}

func TestEnforceLedgerSaveFailureFailsTheRun(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	f.add("alice", idA, iamx.StatusActive, 60*day, 50*day)
	j, _ := fakeJob(t, f)
	// Make the ledger unsavable: a directory where its file goes.
	if err := os.MkdirAll(filepath.Join(j.Ledger.Path(), "x"), 0o700); err != nil {
		t.Fatal(err)
	}
	s, err := j.Enforce(context.Background(), iamx.Report{Users: []iamx.ReportUser{row("alice", active(60*day, 50*day))}}, Selector{}, cis)
	if err == nil || !strings.Contains(err.Error(), LedgerFile) {
		t.Fatalf("Enforce = %v, want the ledger's save error", err)
	}
	if got := results(s); !reflect.DeepEqual(got, []string{"alice deactivate done"}) {
		t.Fatalf("the summary must still describe the run: %v", got)
	}
}

// TestEnforceInterrupted: once the context is done, no further user
// starts; the one in flight finishes.
func TestEnforceInterrupted(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	var r iamx.Report
	for _, u := range []string{"alice", "bob", "carol", "dave"} {
		f.add(u, "AKIA"+strings.Repeat(strings.ToUpper(u[:1]), 16), iamx.StatusActive, 60*day, 50*day)
		r.Users = append(r.Users, row(u, active(60*day, 50*day)))
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	entered := make(chan string, 4)
	f.block = func(ctx context.Context, user string) {
		entered <- user
		<-ctx.Done() // the interrupt arrives while alice is examined
	}
	j, logPath := fakeJob(t, f)
	j.Concurrency = 1
	go func() {
		<-entered
		cancel()
	}()
	s, err := j.Enforce(ctx, r, Selector{}, cis)
	if err != nil {
		t.Fatal(err)
	}
	if !s.Interrupted || s.Examined != 1 || s.Selected != 4 {
		t.Fatalf("summary %+v; want interrupted after 1 of 4", s)
	}
	if got := userNames(s.Users); !reflect.DeepEqual(got, []string{"alice"}) {
		t.Fatalf("examined %v", got)
	}
	if n := f.count("ListKeys"); n != 1 {
		t.Fatalf("%d users looked at after the interrupt began, want 1", n)
	}
	j.Log.Close()
	lines := readLog(t, logPath)
	if last := lines[len(lines)-1]; last["Result"] != "interrupted" {
		t.Fatalf("summary line %v, want result interrupted", last)
	}
}

// TestEnforceAlreadyInterrupted: a run whose context is done before it
// starts examines nobody; its users are skipped, not failed.
func TestEnforceAlreadyInterrupted(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	var r iamx.Report
	for i := range 8 {
		u := fmt.Sprintf("user-%d", i)
		f.add(u, fmt.Sprintf("AKIA%016d", i), iamx.StatusActive, 60*day, 50*day)
		r.Users = append(r.Users, row(u, active(60*day, 50*day)))
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	j, _ := fakeJob(t, f)
	j.Concurrency = 4
	// Whether an idle worker is ready when the run starts is up to the
	// scheduler; many runs give it many chances to hand out a user.
	for range 300 {
		s, err := j.Enforce(ctx, r, Selector{}, cis)
		if err != nil {
			t.Fatal(err)
		}
		if !s.Interrupted || s.Examined != 0 || len(s.Failed) != 0 || s.Selected != 8 {
			t.Fatalf("summary: interrupted %v, examined %d, failed %v; want interrupted, 0, none", s.Interrupted, s.Examined, userNames(s.Failed))
		}
		if n := f.count("ListKeys"); n != 0 {
			t.Fatalf("%d users looked at after the interrupt", n)
		}
	}
}

// TestEachBoundsConcurrency: never more users at once than Concurrency,
// all of them used, OnUser never concurrent, results in name order.
func TestEachBoundsConcurrency(t *testing.T) {
	t.Parallel()
	const workers = 3
	var (
		mu       sync.Mutex
		inFlight int
		peak     int
		arrived  = make(chan struct{})
		once     sync.Once
	)
	f := newFake(t)
	var r iamx.Report
	var names []string
	for i := range 12 {
		u := fmt.Sprintf("user-%02d", 11-i) // reverse order in the report
		names = append([]string{u}, names...)
		r.Users = append(r.Users, row(u, inactive(day)))
	}
	f.block = func(ctx context.Context, user string) {
		mu.Lock()
		inFlight++
		peak = max(peak, inFlight)
		if inFlight == workers {
			once.Do(func() { close(arrived) })
		}
		mu.Unlock()
		// The first users wait for each other: the run must have
		// started workers of them at once.
		select {
		case <-arrived:
		case <-time.After(time.Minute): // only ever reached when broken
			mu.Lock()
			t.Errorf("only %d users at once, want %d", inFlight, workers)
			mu.Unlock()
		}
		mu.Lock()
		inFlight--
		mu.Unlock()
	}
	j, _ := fakeJob(t, f)
	j.Concurrency = workers
	calls := 0 // not atomic: the race detector catches concurrent OnUser
	j.OnUser = func(UserResult) { calls++ }
	s, err := j.Enforce(context.Background(), r, Selector{}, cis)
	if err != nil {
		t.Fatal(err)
	}
	if peak != workers {
		t.Fatalf("peak %d users at once, want %d", peak, workers)
	}
	if calls != 12 || s.Examined != 12 {
		t.Fatalf("OnUser %d times, %d examined; want 12", calls, s.Examined)
	}
	if got := userNames(s.Users); !reflect.DeepEqual(got, names) {
		t.Fatalf("results %v, want name order %v", got, names)
	}
}

func TestEachWithNoUsers(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	j, logPath := fakeJob(t, f)
	j.Concurrency = 0 // the default
	s, err := j.Enforce(context.Background(), iamx.Report{Users: []iamx.ReportUser{row("alice")}}, Selector{}, cis)
	if err != nil {
		t.Fatal(err)
	}
	if s.Selected != 1 || s.Examined != 0 || s.Interrupted || len(s.Users) != 0 {
		t.Fatalf("summary %+v", s)
	}
	j.Log.Close()
	if lines := readLog(t, logPath); len(lines) != 1 || lines[0]["Result"] != "done" {
		t.Fatalf("audit %v, want one summary line", lines)
	}
}

func TestJobWithoutLogOrLedger(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	f.add("alice", idA, iamx.StatusActive, 60*day, 50*day)
	f.add("bob", idB, iamx.StatusInactive, 60*day, never)
	j := &Job{Client: f, Now: func() time.Time { return now }}
	s, err := j.Enforce(context.Background(), iamx.Report{Users: []iamx.ReportUser{
		row("alice", active(60*day, 50*day)), row("bob", inactive(60*day)),
	}}, Selector{}, cis)
	if err != nil {
		t.Fatal(err)
	}
	// Without a ledger nothing is known Inactive: bob's key is kept.
	if got := results(s); !reflect.DeepEqual(got, []string{"alice deactivate done", "bob none ok"}) {
		t.Fatalf("outcomes %v", got)
	}
}
