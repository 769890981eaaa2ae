package fleet

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/keyrot/keyrot/iamx"
)

const day = 24 * time.Hour

// now is the fixed moment every pure test judges keys at.
var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// cis is the CIS AWS Foundations policy, with deletion after 30 days.
var cis = Policy{MaxAge: 90 * day, MaxUnused: 45 * day, DeleteInactiveAfter: 30 * day}

const never = time.Duration(-1)

// active is an Active report slot rotated rotated ago and last used used
// ago (never: not used).
func active(rotated, used time.Duration) iamx.ReportKey {
	k := iamx.ReportKey{Present: true, Active: true, LastRotated: now.Add(-rotated)}
	if used != never {
		k.LastUsed.Date = now.Add(-used)
	}
	return k
}

func inactive(rotated time.Duration) iamx.ReportKey {
	k := active(rotated, never)
	k.Active = false
	return k
}

func row(user string, keys ...iamx.ReportKey) iamx.ReportUser {
	u := iamx.ReportUser{User: user, ARN: "arn:aws:iam::123456789012:user/" + user}
	if user == iamx.RootUser {
		u.ARN = "arn:aws:iam::123456789012:root"
	}
	copy(u.Keys[:], keys)
	return u
}

// kinds lists findings as "Kind/slot".
func kinds(fs []Finding) []string {
	out := []string{}
	for _, f := range fs {
		out = append(out, fmt.Sprintf("%s/%d", f.Kind, f.Slot))
	}
	return out
}

func TestAudit(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		u    iamx.ReportUser
		p    Policy
		want []string
		// wantAge is the Age of the first finding, checked when set.
		wantAge    time.Duration
		wantDetail string // a substring of the first finding's Detail
	}{
		{name: "within policy", u: row("alice", active(10*day, day)), p: cis, want: []string{}},
		{name: "no keys", u: row("alice"), p: cis, want: []string{}},
		{name: "too old", u: row("alice", active(91*day, day)), p: cis,
			want: []string{"KeyTooOld/1"}, wantAge: 91 * day, wantDetail: "last rotated 91d ago, more than 90d"},
		{name: "exactly max age", u: row("alice", active(90*day, day)), p: cis, want: []string{}},
		{name: "one second past max age", u: row("alice", active(90*day+time.Second, day)), p: cis,
			want: []string{"KeyTooOld/1"}, wantAge: 90*day + time.Second},
		{name: "unused", u: row("alice", active(60*day, 46*day)), p: cis,
			want: []string{"KeyUnused/1"}, wantAge: 46 * day, wantDetail: "not used for 46d, more than 45d"},
		{name: "exactly max unused", u: row("alice", active(60*day, 45*day)), p: cis, want: []string{}},
		{name: "one second past max unused", u: row("alice", active(60*day, 45*day+time.Second)), p: cis,
			want: []string{"KeyUnused/1"}},
		{name: "never used and older than max unused", u: row("alice", active(46*day, never)), p: cis,
			want: []string{"KeyUnused/1"}, wantAge: 46 * day, wantDetail: "never used, created 46d ago, more than 45d"},
		{name: "never used exactly max unused old", u: row("alice", active(45*day, never)), p: cis, want: []string{}},
		{name: "never used and young", u: row("alice", active(3*day, never)), p: cis, want: []string{}},
		{name: "old and unused", u: row("alice", active(100*day, 50*day)), p: cis,
			want: []string{"KeyTooOld/1", "KeyUnused/1"}},
		{name: "two Active keys", u: row("alice", active(10*day, day), active(5*day, day)), p: cis,
			want: []string{"TwoActiveKeys/0"}},
		{name: "two Active keys, one old", u: row("alice", active(10*day, day), active(95*day, day)), p: cis,
			want: []string{"KeyTooOld/2", "TwoActiveKeys/0"}},
		{name: "Active and Inactive", u: row("alice", active(10*day, day), inactive(5*day)), p: cis,
			want: []string{"InactiveKey/2"}},
		{name: "Inactive key is not judged by age or use", u: row("alice", inactive(400*day)), p: cis,
			want: []string{"InactiveKey/1"}, wantAge: 0, wantDetail: "Inactive key"},
		{name: "two Inactive keys", u: row("alice", inactive(400*day), inactive(1*day)), p: cis,
			want: []string{"InactiveKey/1", "InactiveKey/2"}},
		{name: "second slot only", u: row("alice", iamx.ReportKey{}, active(91*day, day)), p: cis,
			want: []string{"KeyTooOld/2"}},
		{name: "absent slot with stale data is ignored",
			u: row("alice", iamx.ReportKey{Present: false, Active: true, LastRotated: now.Add(-500 * day)}), p: cis, want: []string{}},
		{name: "no rotation date", u: row("alice", iamx.ReportKey{Present: true, Active: true}), p: cis, want: []string{}},
		{name: "root Active key", u: row(iamx.RootUser, active(1*day, day)), p: cis,
			want: []string{"RootAccessKey/1"}, wantAge: day, wantDetail: "(Active)"},
		{name: "root Inactive key", u: row(iamx.RootUser, inactive(1*day)), p: cis,
			want: []string{"RootAccessKey/1"}, wantDetail: "(Inactive)"},
		{name: "root with two Active old keys", u: row(iamx.RootUser, active(200*day, never), active(300*day, 100*day)), p: cis,
			want: []string{"RootAccessKey/1", "RootAccessKey/2"}},
		{name: "root without keys", u: row(iamx.RootUser), p: cis, want: []string{}},
		{name: "root key under a zero policy", u: row(iamx.RootUser, active(1*day, day)), p: Policy{},
			want: []string{"RootAccessKey/1"}},
		{name: "zero policy turns off age and use", u: row("alice", active(1000*day, never)), p: Policy{}, want: []string{}},
		{name: "zero policy keeps two Active keys", u: row("alice", active(1000*day, never), active(1*day, never)), p: Policy{},
			want: []string{"TwoActiveKeys/0"}},
		{name: "zero policy keeps Inactive keys", u: row("alice", inactive(1*day)), p: Policy{},
			want: []string{"InactiveKey/1"}},
		{name: "max unused off", u: row("alice", active(100*day, 99*day)), p: Policy{MaxAge: 90 * day},
			want: []string{"KeyTooOld/1"}},
		{name: "max age off", u: row("alice", active(100*day, 99*day)), p: Policy{MaxUnused: 45 * day},
			want: []string{"KeyUnused/1"}},
		{name: "negative durations are off", u: row("alice", active(100*day, 99*day)), p: Policy{MaxAge: -1, MaxUnused: -1},
			want: []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := Audit(iamx.Report{Users: []iamx.ReportUser{tt.u}}, tt.p, now)
			if k := kinds(got); !reflect.DeepEqual(k, tt.want) {
				t.Fatalf("findings = %v, want %v\n%+v", k, tt.want, got)
			}
			for _, f := range got {
				if f.User != tt.u.User || f.ARN != tt.u.ARN {
					t.Errorf("finding names %q %q, want %q %q", f.User, f.ARN, tt.u.User, tt.u.ARN)
				}
				if f.Slot > 0 {
					k := tt.u.Keys[f.Slot-1]
					if f.Active != k.Active || !f.LastRotated.Equal(k.LastRotated) || !f.LastUsed.Equal(k.LastUsed.Date) {
						t.Errorf("finding %s/%d does not carry its slot: %+v, slot %+v", f.Kind, f.Slot, f, k)
					}
				}
				if f.Detail == "" {
					t.Errorf("finding %s/%d has no detail", f.Kind, f.Slot)
				}
			}
			if len(got) == 0 {
				return
			}
			if tt.wantAge != 0 && got[0].Age != tt.wantAge {
				t.Errorf("Age = %v, want %v", got[0].Age, tt.wantAge)
			}
			if !strings.Contains(got[0].Detail, tt.wantDetail) {
				t.Errorf("Detail = %q, want it to contain %q", got[0].Detail, tt.wantDetail)
			}
		})
	}
}

func TestAuditKeepsReportOrder(t *testing.T) {
	t.Parallel()
	r := iamx.Report{Users: []iamx.ReportUser{
		row(iamx.RootUser, active(1*day, day)),
		row("zed", active(100*day, day)),
		row("alice", inactive(1*day)),
		row("bob", active(1*day, day)),
		row("carol", active(1*day, day), active(1*day, day)),
	}}
	got := Audit(r, cis, now)
	var users []string
	for _, f := range got {
		users = append(users, f.User+":"+f.Kind)
	}
	want := []string{"<root_account>:RootAccessKey", "zed:KeyTooOld", "alice:InactiveKey", "carol:TwoActiveKeys"}
	if !reflect.DeepEqual(users, want) {
		t.Fatalf("Audit = %v, want %v", users, want)
	}

	byKind, n := Summarize(got)
	if n != 4 {
		t.Errorf("Summarize users = %d, want 4", n)
	}
	wantKinds := map[string]int{FindingRootKey: 1, FindingOld: 1, FindingInactive: 1, FindingTwoActive: 1}
	if !reflect.DeepEqual(byKind, wantKinds) {
		t.Errorf("Summarize kinds = %v, want %v", byKind, wantKinds)
	}
	for k := range byKind {
		found := false
		for _, fk := range FindingKinds {
			found = found || fk == k
		}
		if !found {
			t.Errorf("kind %q is missing from FindingKinds", k)
		}
	}
}

func TestSummarizeCountsUsersOnce(t *testing.T) {
	t.Parallel()
	fs := Audit(iamx.Report{Users: []iamx.ReportUser{
		row("alice", active(100*day, 50*day), active(100*day, 50*day)),
	}}, cis, now)
	byKind, n := Summarize(fs)
	if n != 1 || byKind[FindingOld] != 2 || byKind[FindingUnused] != 2 || byKind[FindingTwoActive] != 1 {
		t.Fatalf("Summarize = %v, %d users; want 2 old, 2 unused, 1 two-active, 1 user", byKind, n)
	}
	if byKind, n := Summarize(nil); len(byKind) != 0 || n != 0 {
		t.Fatalf("Summarize(nil) = %v, %d", byKind, n)
	}
}

func TestDays(t *testing.T) {
	t.Parallel()
	for d, want := range map[time.Duration]string{
		day:                   "1d",
		90 * day:              "90d",
		90*day + 23*time.Hour: "90d",
		23 * time.Hour:        "23h0m0s",
		90 * time.Second:      "2m0s",
		0:                     "0s",
	} {
		if got := days(d); got != want {
			t.Errorf("days(%v) = %q, want %q", d, got, want)
		}
	}
}

// lk is a live key created created ago; used is its last use ago (never:
// not used; LastUsed then has a zero Date) unless lookedUp is false.
type lkOpt func(*LiveKey)

func lk(id string, status iamx.Status, created time.Duration, opts ...lkOpt) LiveKey {
	k := LiveKey{Key: iamx.Key{ID: id, User: "alice", Status: status, Created: now.Add(-created)}}
	for _, o := range opts {
		o(&k)
	}
	return k
}

func used(ago time.Duration) lkOpt {
	return func(k *LiveKey) {
		lu := iamx.LastUsed{}
		if ago != never {
			lu.Date = now.Add(-ago)
		}
		k.LastUsed = &lu
	}
}

func inactiveSince(ago time.Duration, byKeyrot bool) lkOpt {
	return func(k *LiveKey) { k.InactiveSince, k.ByKeyrot = now.Add(-ago), byKeyrot }
}

const (
	idA = "AKIAAAAAAAAAAEXAMPLE"
	idB = "AKIABBBBBBBBBEXAMPLE"
)

// acts lists actions as "kind KEY" with the key's letter (idA: A).
func acts(as []Action) []string {
	out := []string{}
	for _, a := range as {
		out = append(out, string(a.Kind)+" "+a.KeyID[4:5])
	}
	return out
}

func TestEvaluate(t *testing.T) {
	t.Parallel()
	A, I := iamx.StatusActive, iamx.StatusInactive
	noDelete := cis
	noDelete.DeleteInactiveAfter = 0
	tests := []struct {
		name string
		keys []LiveKey
		p    Policy
		g    Guard
		want []string
		// wantReason is a substring of the last action's reason.
		wantReason string
		// wantDeleteInactive is the last action's DeleteInactive.
		wantDeleteInactive bool
	}{
		{name: "no keys", p: cis, want: []string{}},
		{name: "within policy", keys: []LiveKey{lk(idA, A, 10*day, used(day))}, p: cis, want: []string{}},
		{name: "old key rotates", keys: []LiveKey{lk(idA, A, 91*day, used(day))}, p: cis,
			want: []string{"rotate A"}, wantReason: "created 91d ago, more than 90d"},
		{name: "exactly max age", keys: []LiveKey{lk(idA, A, 90*day, used(day))}, p: cis, want: []string{}},
		{name: "old key, last use not looked up", keys: []LiveKey{lk(idA, A, 91*day)}, p: cis, want: []string{"rotate A"}},
		{name: "unused key deactivates, not rotates", keys: []LiveKey{lk(idA, A, 91*day, used(46*day))}, p: cis,
			want: []string{"deactivate A"}, wantReason: "not used for 46d, more than 45d"},
		{name: "exactly max unused", keys: []LiveKey{lk(idA, A, 50*day, used(45*day))}, p: cis, want: []string{}},
		{name: "unused but not looked up", keys: []LiveKey{lk(idA, A, 50*day)}, p: cis, want: []string{}},
		{name: "never used and older than max unused", keys: []LiveKey{lk(idA, A, 46*day, used(never))}, p: cis,
			want: []string{"deactivate A"}, wantReason: "never used, created 46d ago"},
		{name: "never used, exactly max unused old", keys: []LiveKey{lk(idA, A, 45*day, used(never))}, p: cis, want: []string{}},
		{name: "Inactive past delete-after", keys: []LiveKey{lk(idA, I, 100*day, inactiveSince(31*day, false))}, p: cis,
			want: []string{"delete A"}, wantReason: "Inactive for at least 31d, more than 30d"},
		{name: "Inactive exactly delete-after", keys: []LiveKey{lk(idA, I, 100*day, inactiveSince(30*day, false))}, p: cis,
			want: []string{}},
		{name: "Inactive since unknown", keys: []LiveKey{lk(idA, I, 100*day)}, p: cis, want: []string{}},
		{name: "deletion off", keys: []LiveKey{lk(idA, I, 100*day, inactiveSince(300*day, true))}, p: noDelete, want: []string{}},
		{name: "zero policy does nothing",
			keys: []LiveKey{lk(idA, A, 900*day, used(never)), lk(idB, I, 900*day, inactiveSince(900*day, true))}, p: Policy{}, want: []string{}},
		{name: "delete, then rotate into the freed slot",
			keys: []LiveKey{lk(idA, A, 100*day, used(day)), lk(idB, I, 200*day, inactiveSince(40*day, false))}, p: cis,
			want: []string{"delete B", "rotate A"}},
		{name: "deactivate and delete in one run",
			keys: []LiveKey{lk(idA, A, 50*day, used(50*day)), lk(idB, I, 200*day, inactiveSince(40*day, false))}, p: cis,
			want: []string{"delete B", "deactivate A"}},
		{name: "both Active keys old",
			keys: []LiveKey{lk(idA, A, 100*day, used(day)), lk(idB, A, 95*day, used(day))}, p: cis,
			want: []string{"blocked A", "blocked B"}, wantReason: "both Active keys are due"},
		{name: "old key beside a used Active key",
			keys: []LiveKey{lk(idA, A, 100*day, used(day)), lk(idB, A, 5*day, used(day))}, p: cis,
			want: []string{"blocked A"}, wantReason: "the other Active key " + idB + " holds the second slot"},
		{name: "old key beside an unused key, deletion later",
			keys: []LiveKey{lk(idA, A, 100*day, used(day)), lk(idB, A, 60*day, used(50*day))}, p: cis,
			want: []string{"deactivate B", "deferred A"}, wantReason: idB + " is deactivated now"},
		{name: "old key beside an unused key, no deletion",
			keys: []LiveKey{lk(idA, A, 100*day, used(day)), lk(idB, A, 60*day, used(50*day))}, p: noDelete,
			want: []string{"deactivate B", "blocked A"}, wantReason: "set --delete-inactive-after"},
		{name: "old key beside Inactive, delete-inactive allowed",
			keys: []LiveKey{lk(idA, A, 100*day, used(day)), lk(idB, I, 60*day, inactiveSince(5*day, false))}, p: cis,
			g: Guard{DeleteInactive: true}, want: []string{"rotate A"}, wantDeleteInactive: true},
		{name: "old key beside Inactive keyrot deactivated recently",
			keys: []LiveKey{lk(idA, A, 100*day, used(day)), lk(idB, I, 60*day, inactiveSince(5*day, true))}, p: cis,
			g: Guard{DeleteInactive: true}, want: []string{"deferred A"}, wantReason: "keyrot deactivated " + idB + " less than 30d ago"},
		{name: "old key beside Inactive keyrot deactivated exactly delete-after ago",
			keys: []LiveKey{lk(idA, A, 100*day, used(day)), lk(idB, I, 60*day, inactiveSince(30*day, true))}, p: cis,
			g: Guard{DeleteInactive: true}, want: []string{"deferred A"}},
		{name: "old key beside Inactive keyrot deactivated, no deletion rule",
			keys: []LiveKey{lk(idA, A, 100*day, used(day)), lk(idB, I, 60*day, inactiveSince(5*day, true))}, p: noDelete,
			g: Guard{DeleteInactive: true}, want: []string{"rotate A"}, wantDeleteInactive: true},
		{name: "old key beside Inactive, waits for deletion",
			keys: []LiveKey{lk(idA, A, 100*day, used(day)), lk(idB, I, 60*day, inactiveSince(5*day, false))}, p: cis,
			want: []string{"deferred A"}, wantReason: "or pass --delete-inactive"},
		{name: "old key beside Inactive, nothing frees the slot",
			keys: []LiveKey{lk(idA, A, 100*day, used(day)), lk(idB, I, 60*day, inactiveSince(5*day, false))}, p: noDelete,
			want: []string{"blocked A"}, wantReason: "pass --delete-inactive or --delete-inactive-after"},
		{name: "signer is never rotated",
			keys: []LiveKey{lk(idA, A, 100*day, used(day))}, p: cis, g: Guard{SignerKeyID: idA},
			want: []string{"blocked A"}, wantReason: "signs keyrot's requests"},
		{name: "signer is never deactivated",
			keys: []LiveKey{lk(idA, A, 60*day, used(50*day))}, p: cis, g: Guard{SignerKeyID: idA},
			want: []string{"blocked A"}, wantReason: "not used for 50d, more than 45d; refused: it signs keyrot's requests"},
		{name: "Inactive signer is not deleted",
			keys: []LiveKey{lk(idA, I, 100*day, inactiveSince(60*day, false))}, p: cis, g: Guard{SignerKeyID: idA},
			want: []string{}},
		{name: "another user's signer does not guard",
			keys: []LiveKey{lk(idA, A, 100*day, used(day))}, p: cis, g: Guard{SignerKeyID: idB},
			want: []string{"rotate A"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := Evaluate("alice", tt.keys, tt.p, tt.g, now)
			if a := acts(got); !reflect.DeepEqual(a, tt.want) {
				t.Fatalf("Evaluate = %v, want %v\n%+v", a, tt.want, got)
			}
			for _, a := range got {
				if a.User != "alice" || a.Reason == "" {
					t.Errorf("action %+v: want User alice and a reason", a)
				}
			}
			if len(got) == 0 {
				return
			}
			last := got[len(got)-1]
			if !strings.Contains(last.Reason, tt.wantReason) {
				t.Errorf("reason %q, want it to contain %q", last.Reason, tt.wantReason)
			}
			if last.DeleteInactive != tt.wantDeleteInactive {
				t.Errorf("DeleteInactive = %v, want %v", last.DeleteInactive, tt.wantDeleteInactive)
			}
		})
	}
}

func TestEvaluateOrderAndInput(t *testing.T) {
	t.Parallel()
	// Given newest first: the decision must not depend on the order
	// ListAccessKeys returns, and the caller's slice must stay as it was.
	keys := []LiveKey{
		lk(idB, iamx.StatusActive, 5*day, used(day)),
		lk(idA, iamx.StatusActive, 100*day, used(day)),
	}
	before := append([]LiveKey(nil), keys...)
	got := Evaluate("alice", keys, cis, Guard{}, now)
	if a := acts(got); !reflect.DeepEqual(a, []string{"blocked A"}) {
		t.Fatalf("Evaluate = %v", a)
	}
	if !reflect.DeepEqual(keys, before) {
		t.Fatal("Evaluate reordered its input")
	}
	rev := Evaluate("alice", []LiveKey{before[1], before[0]}, cis, Guard{}, now)
	if !reflect.DeepEqual(got, rev) {
		t.Fatalf("Evaluate depends on input order: %+v vs %+v", got, rev)
	}
}

func TestNeedsLook(t *testing.T) {
	t.Parallel()
	noDelete := cis
	noDelete.DeleteInactiveAfter = 0
	tests := []struct {
		name string
		u    iamx.ReportUser
		p    Policy
		want bool
	}{
		{"no keys", row("alice"), cis, false},
		{"within policy", row("alice", active(10*day, day)), cis, false},
		{"two Active keys within policy", row("alice", active(10*day, day), active(10*day, day)), cis, false},
		{"old", row("alice", active(91*day, day)), cis, true},
		{"exactly max age", row("alice", active(90*day, day)), cis, false},
		{"unused", row("alice", active(50*day, 46*day)), cis, true},
		{"exactly max unused", row("alice", active(50*day, 45*day)), cis, false},
		{"never used, old enough", row("alice", active(46*day, never)), cis, true},
		{"Inactive with deletion rule", row("alice", inactive(1*day)), cis, true},
		{"Inactive without deletion rule", row("alice", inactive(400*day)), noDelete, false},
		{"second slot", row("alice", active(1*day, day), active(91*day, day)), cis, true},
		{"absent slot", row("alice", iamx.ReportKey{LastRotated: now.Add(-400 * day)}), cis, false},
		{"root is never enforced", row(iamx.RootUser, active(400*day, never), inactive(400*day)), cis, false},
		{"zero policy", row("alice", active(400*day, never), inactive(400*day)), Policy{}, false},
	}
	for _, tt := range tests {
		if got := NeedsLook(tt.u, tt.p, now); got != tt.want {
			t.Errorf("%s: NeedsLook = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestNeedsLookCoversEvaluate checks on random users that enforce never
// skips a user (NeedsLook false) for whom Evaluate, given the same keys
// live, would act.
func TestNeedsLookCoversEvaluate(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	// Durations cluster around the thresholds so boundaries get hit.
	pick := func() time.Duration {
		marks := []time.Duration{0, 30 * day, 45 * day, 90 * day}
		d := marks[rng.IntN(len(marks))] + time.Duration(rng.IntN(3)-1)*time.Second
		if rng.IntN(3) == 0 {
			d = time.Duration(rng.Int64N(int64(200 * day)))
		}
		return max(d, 0)
	}
	policies := []Policy{cis, {}, {MaxAge: 90 * day}, {MaxUnused: 45 * day}, {DeleteInactiveAfter: 30 * day}, {MaxAge: time.Nanosecond}}
	acted := 0
	for i := range 20000 {
		p := policies[rng.IntN(len(policies))]
		u := row("alice")
		var live []LiveKey
		for slot := range rng.IntN(3) {
			created := pick()
			id := []string{idA, idB}[slot]
			k := iamx.ReportKey{Present: true, Active: rng.IntN(4) != 0, LastRotated: now.Add(-created)}
			l := lk(id, iamx.StatusActive, created)
			if !k.Active {
				l.Status = iamx.StatusInactive
				l.InactiveSince, l.ByKeyrot = now.Add(-pick()), rng.IntN(2) == 0
			}
			lu := iamx.LastUsed{}
			if rng.IntN(3) != 0 {
				lu.Date = now.Add(-min(pick(), created))
			}
			k.LastUsed = lu
			l.LastUsed = &lu
			u.Keys[slot] = k
			live = append(live, l)
		}
		as := Evaluate("alice", live, p, Guard{DeleteInactive: rng.IntN(2) == 0}, now)
		if len(as) > 0 {
			acted++
			if !NeedsLook(u, p, now) {
				t.Fatalf("case %d: Evaluate acts (%v) but NeedsLook is false\npolicy %+v\nrow %+v", i, acts(as), p, u)
			}
		}
	}
	if acted < 1000 {
		t.Fatalf("only %d of the random users needed an action: the generator is too tame", acted)
	}
}
