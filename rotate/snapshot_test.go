package rotate

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/keyrot/keyrot/iamx"
)

// snapshot serves a list of keys read earlier, until invalidated.
type snapshot struct {
	Keys
	keys        []iamx.Key
	at          time.Time
	used        bool
	invalidated bool
}

func (s *snapshot) ReadAt() time.Time { return s.at }
func (s *snapshot) Invalidate()       { s.used, s.invalidated = true, true }
func (s *snapshot) ListKeys(ctx context.Context, user string) ([]iamx.Key, error) {
	if !s.used {
		s.used = true
		return s.keys, nil
	}
	return s.Keys.ListKeys(ctx, user)
}

// TestStaleSnapshot: two fleet runs read alice's keys and both choose her
// old key; the first rotates it while the second waits for the lock. The
// second must look again and find nothing to do, not rotate a second time
// from its stale list (which would leave two Active keys).
func TestStaleSnapshot(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	stale, err := e.admin.ListKeys(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	readAt := time.Now()

	first := e.opts(Stdout{W: &bytes.Buffer{}})
	first.OldKeyID, first.SkipIfNotActive = e.aliceOld, true
	if r, err := Run(ctx, e.admin, first); err != nil || r.NothingToDo {
		t.Fatalf("first run: %+v, %v", r, err)
	}

	snap := &snapshot{Keys: e.admin, keys: stale, at: readAt}
	second := e.opts(Stdout{W: &bytes.Buffer{}})
	second.OldKeyID, second.SkipIfNotActive = e.aliceOld, true
	r, err := Run(ctx, snap, second)
	if err != nil {
		t.Fatalf("second run: %v", err)
	}
	if !snap.invalidated || !r.NothingToDo {
		t.Fatalf("second run: invalidated %v, result %+v; want a fresh look and nothing to do", snap.invalidated, r)
	}
	active := 0
	for _, s := range e.status("alice") {
		if s == string(iamx.StatusActive) {
			active++
		}
	}
	if active != 1 || e.srv.CallCount("CreateAccessKey") != 1 {
		t.Errorf("alice has %d Active keys after %d CreateAccessKey calls, want 1 and 1", active, e.srv.CallCount("CreateAccessKey"))
	}
}

// TestFreshSnapshot: a list read after the last rotation of the user is
// used as is, saving a request.
func TestFreshSnapshot(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	list, err := e.admin.ListKeys(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	snap := &snapshot{Keys: e.admin, keys: list, at: time.Now()}
	before := e.srv.CallCount("ListAccessKeys")
	o := e.opts(Stdout{W: &bytes.Buffer{}})
	o.OldKeyID, o.SkipIfNotActive = e.aliceOld, true
	if _, err := Run(ctx, snap, o); err != nil {
		t.Fatal(err)
	}
	if snap.invalidated || e.srv.CallCount("ListAccessKeys") != before {
		t.Errorf("invalidated %v, %d more ListAccessKeys; want the snapshot used", snap.invalidated, e.srv.CallCount("ListAccessKeys")-before)
	}
}

// TestSkipIfNotActive: with SkipIfNotActive (fleet runs) a named key that
// is no longer Active is skipped; without it, as for `keyrot rotate
// --access-key-id`, the user gets a replacement and the key stays Inactive.
func TestSkipIfNotActive(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	if err := e.admin.SetStatus(ctx, "alice", e.aliceOld, iamx.StatusInactive); err != nil {
		t.Fatal(err)
	}
	o := e.opts(Stdout{W: &bytes.Buffer{}})
	o.OldKeyID, o.SkipIfNotActive = e.aliceOld, true
	r, err := Run(ctx, e.admin, o)
	if err != nil || !r.NothingToDo {
		t.Fatalf("with SkipIfNotActive: %+v, %v; want nothing to do", r, err)
	}
	if n := e.srv.CallCount("CreateAccessKey"); n != 0 {
		t.Errorf("%d CreateAccessKey calls, want 0", n)
	}
	o.SkipIfNotActive = false
	r, err = Run(ctx, e.admin, o)
	if err != nil || !r.Replacement || e.status("alice")[e.aliceOld] != "Inactive" {
		t.Fatalf("without SkipIfNotActive: %+v, %v; want a replacement", r, err)
	}
}
