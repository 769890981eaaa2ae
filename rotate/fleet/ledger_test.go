package fleet

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

func openLedger(t *testing.T, dir string) *Ledger {
	t.Helper()
	l, err := OpenLedger(dir)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestLedgerMissingFileIsEmpty(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	l := openLedger(t, dir)
	if l.Len() != 0 {
		t.Fatalf("Len = %d", l.Len())
	}
	if want := filepath.Join(dir, LedgerFile); l.Path() != want {
		t.Fatalf("Path = %q, want %q", l.Path(), want)
	}
	// Nothing changed: Save writes no file.
	if err := l.Save(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(l.Path()); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Save of an unchanged ledger wrote a file: %v", err)
	}
}

func TestLedgerObserveKeepsFirstSight(t *testing.T) {
	t.Parallel()
	l := openLedger(t, t.TempDir())
	t1 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.FixedZone("X", 3600))
	e := l.Observe("alice", idA, t1)
	if !e.Since.Equal(t1) || e.Since.Location() != time.UTC || e.ByKeyrot || e.User != "alice" {
		t.Fatalf("first Observe = %+v, want alice since %v in UTC, not by keyrot", e, t1)
	}
	// Later sights do not move the time forward: that would postpone
	// deletion forever.
	if e2 := l.Observe("alice", idA, t1.Add(10*day)); !e2.Since.Equal(t1) {
		t.Fatalf("second Observe = %+v, want since %v", e2, t1)
	}
	if got, ok := l.Get(idA); !ok || !got.Since.Equal(t1) {
		t.Fatalf("Get = %+v, %v", got, ok)
	}
}

func TestLedgerDeactivatedOverridesObserve(t *testing.T) {
	t.Parallel()
	l := openLedger(t, t.TempDir())
	t1 := now.Add(-10 * day)
	l.Observe("alice", idA, t1)
	l.Deactivated("alice", idA, now)
	e, ok := l.Get(idA)
	if !ok || !e.ByKeyrot || !e.Since.Equal(now) {
		t.Fatalf("Get = %+v, %v; want by keyrot since %v", e, ok, now)
	}
	// Observe does not turn a keyrot deactivation into a sighting.
	if e := l.Observe("alice", idA, now.Add(day)); !e.ByKeyrot || !e.Since.Equal(now) {
		t.Fatalf("Observe after Deactivated = %+v", e)
	}
}

func TestLedgerForget(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	l := openLedger(t, dir)
	l.Observe("alice", idA, now)
	l.Observe("alice", idB, now)
	l.Observe("bob", "AKIACCCCCCCCCEXAMPLE", now)
	if err := l.Save(); err != nil {
		t.Fatal(err)
	}
	l.Forget("AKIANOTTHERE0EXAMPLE") // unknown: no change, nothing to save
	if l.dirty {
		t.Fatal("forgetting an unknown key marked the ledger changed")
	}
	l.Forget(idA)
	if _, ok := l.Get(idA); ok {
		t.Fatal("Forget kept the key")
	}
	// ForgetMissing drops only alice's keys that are not present, never
	// another user's.
	l.ForgetMissing("alice", map[string]bool{idB: true})
	if l.Len() != 2 {
		t.Fatalf("ForgetMissing dropped a present key: Len = %d", l.Len())
	}
	l.ForgetMissing("alice", map[string]bool{})
	if _, ok := l.Get(idB); ok {
		t.Fatal("ForgetMissing kept a missing key")
	}
	if _, ok := l.Get("AKIACCCCCCCCCEXAMPLE"); !ok {
		t.Fatal("ForgetMissing for alice dropped bob's key")
	}
	if err := l.Save(); err != nil {
		t.Fatal(err)
	}
	l2 := openLedger(t, dir)
	if l2.Len() != 1 {
		t.Fatalf("after reload Len = %d, want 1", l2.Len())
	}
}

func TestLedgerSurvivesReload(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "state", "keyrot") // not there yet
	l := openLedger(t, dir)
	seen := now.Add(-3 * day)
	l.Observe("alice", idA, seen)
	l.Deactivated("bob", idB, now)
	if err := l.Save(); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(l.Path())
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("ledger mode = %v, want 0600", fi.Mode().Perm())
	}
	if di, err := os.Stat(dir); err != nil || di.Mode().Perm() != 0o700 {
		t.Fatalf("state directory: %v, %v; want mode 0700", di.Mode(), err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || entries[0].Name() != LedgerFile {
		t.Fatalf("state directory holds %v, want only %s (no temporary files)", names(entries), LedgerFile)
	}

	l2 := openLedger(t, dir)
	want := map[string]LedgerEntry{
		idA: {User: "alice", Since: seen},
		idB: {User: "bob", Since: now, ByKeyrot: true},
	}
	for id, w := range want {
		got, ok := l2.Get(id)
		if !ok || got.User != w.User || !got.Since.Equal(w.Since) || got.ByKeyrot != w.ByKeyrot {
			t.Errorf("reloaded %s = %+v, %v; want %+v", id, got, ok, w)
		}
	}
	if l2.Len() != 2 {
		t.Errorf("reloaded Len = %d, want 2", l2.Len())
	}

	// The file is the documented JSON document.
	data, err := os.ReadFile(l.Path())
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Version int
		Keys    map[string]map[string]any
	}
	if err := json.Unmarshal(data, &doc); err != nil || doc.Version != 1 || len(doc.Keys) != 2 {
		t.Fatalf("ledger file %s: %+v, %v", data, doc, err)
	}
	if doc.Keys[idB]["ByKeyrot"] != true || doc.Keys[idA]["User"] != "alice" {
		t.Fatalf("ledger file %s", data)
	}
}

func TestLedgerSaveReplacesAndTightensMode(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, LedgerFile)
	if err := os.WriteFile(path, []byte(`{"Version":1,"Keys":{}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	// A hard link shows whether Save rewrites the file in place (the link
	// would see the new content) or renames a new file over it.
	link := filepath.Join(t.TempDir(), "old")
	if err := os.Link(path, link); err != nil {
		t.Skipf("hard links unavailable: %v", err)
	}
	l := openLedger(t, dir)
	l.Observe("alice", idA, now)
	if err := l.Save(); err != nil {
		t.Fatal(err)
	}
	if old, _ := os.ReadFile(link); string(old) != `{"Version":1,"Keys":{}}` {
		t.Fatalf("Save wrote into the old file instead of replacing it: %s", old)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode after Save = %v, %v; want 0600", fi.Mode(), err)
	}
	if openLedger(t, dir).Len() != 1 {
		t.Fatal("the saved entry did not survive")
	}
}

func TestLedgerSaveFailureLeavesNoTemporaryFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	l := openLedger(t, dir)
	// A non-empty directory where the file should go: the rename fails.
	if err := os.MkdirAll(filepath.Join(l.Path(), "x"), 0o700); err != nil {
		t.Fatal(err)
	}
	l.Observe("alice", idA, now)
	err := l.Save()
	if err == nil || !strings.Contains(err.Error(), l.Path()) {
		t.Fatalf("Save = %v, want an error naming %s", err, l.Path())
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("state directory holds %v after a failed save", names(entries))
	}
	// The change is still pending: a later Save retries it.
	if err := os.RemoveAll(l.Path()); err != nil {
		t.Fatal(err)
	}
	if err := l.Save(); err != nil {
		t.Fatal(err)
	}
	if openLedger(t, dir).Len() != 1 {
		t.Fatal("retried Save lost the entry")
	}
}

func TestLedgerCorruptFile(t *testing.T) {
	t.Parallel()
	for _, content := range []string{"", "{", "not json", `[]`, `{"Version":1,"Keys":{"AKIA":"x"}}`, `{"Version":1,"Keys":{"AKIA":{"Since":"yesterday"}}}`,
		// Parses, but could never be written back.
		`{"Version":1,"Keys":{"AKIA":{"Since":"2026-01-01T00:00:00+24:00"}}}`,
	} {
		dir := t.TempDir()
		path := filepath.Join(dir, LedgerFile)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		l, err := OpenLedger(dir)
		if err == nil {
			t.Errorf("OpenLedger(%q) = %v entries, want an error", content, l.Len())
			continue
		}
		if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "delete it to start over") {
			t.Errorf("OpenLedger(%q) error %q should name the file and the way out", content, err)
		}
		// The file is left for the user to look at.
		if got, _ := os.ReadFile(path); string(got) != content {
			t.Errorf("corrupt ledger was changed to %q", got)
		}
	}
}

func TestLedgerAcceptsEmptyDocuments(t *testing.T) {
	t.Parallel()
	for _, content := range []string{`{}`, `null`, `{"Version":1,"Keys":null}`, `{"Version":1}`} {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, LedgerFile), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		l, err := OpenLedger(dir)
		if err != nil {
			t.Errorf("OpenLedger(%q): %v", content, err)
			continue
		}
		// An empty document must leave a usable ledger.
		l.Observe("alice", idA, now)
		if l.Len() != 1 {
			t.Errorf("OpenLedger(%q): Observe did not record", content)
		}
	}
}

func TestLedgerUnreadable(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	// A directory in the file's place cannot be read as a file.
	if err := os.Mkdir(filepath.Join(dir, LedgerFile), 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenLedger(dir); err == nil || !strings.Contains(err.Error(), LedgerFile) {
		t.Fatalf("OpenLedger = %v, want an error naming the file", err)
	}
}

func TestNilLedger(t *testing.T) {
	t.Parallel()
	var l *Ledger
	if e := l.Observe("alice", idA, now); e != (LedgerEntry{}) {
		t.Fatalf("nil Observe = %+v", e)
	}
	l.Deactivated("alice", idA, now)
	l.Forget(idA)
	l.ForgetMissing("alice", nil)
	if _, ok := l.Get(idA); ok {
		t.Fatal("nil Get found a key")
	}
	if err := l.Save(); err != nil {
		t.Fatal(err)
	}
	if n := l.Len(); n != 0 {
		t.Fatalf("nil Len = %d", n)
	}
}

func TestLedgerConcurrentUse(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	l := openLedger(t, dir)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			user := fmt.Sprintf("user-%d", w)
			for i := range 50 {
				id := fmt.Sprintf("AKIA%016d", w*1000+i)
				l.Observe(user, id, now)
				if i%2 == 0 {
					l.Deactivated(user, id, now)
				}
				if i%5 == 0 {
					l.Forget(id)
				}
				l.Get(id)
				if i%10 == 0 {
					if err := l.Save(); err != nil {
						t.Error(err)
					}
				}
			}
		}()
	}
	wg.Wait()
	if err := l.Save(); err != nil {
		t.Fatal(err)
	}
	want := 8 * 40 // every fifth key forgotten
	if l.Len() != want {
		t.Fatalf("Len = %d, want %d", l.Len(), want)
	}
	if got := openLedger(t, dir).Len(); got != want {
		t.Fatalf("reloaded Len = %d, want %d", got, want)
	}
}

func names(es []os.DirEntry) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	return out
}

// FuzzOpenLedger feeds OpenLedger any file. It must not panic; a file it
// accepts must be usable: a change to it saves, and the saved file reads
// back to the same entries.
func FuzzOpenLedger(f *testing.F) {
	for _, s := range []string{
		`{"Version":1,"Keys":{"AKIAAAAAAAAAAEXAMPLE":{"User":"alice","Since":"2026-03-01T12:00:00Z","ByKeyrot":true}}}`,
		`{"Version":1,"Keys":{"AKIAAAAAAAAAAEXAMPLE":{"User":"alice","Since":"2026-03-01T12:00:00+05:30"}}}`,
		`{"Version":1,"Keys":{"":{}}}`,
		`{}`, `null`, ``, `{`, `[]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, LedgerFile), data, 0o600); err != nil {
			t.Fatal(err)
		}
		l, err := OpenLedger(dir)
		if err != nil {
			return
		}
		before := snapshot(l)
		l.Observe("fuzz", "AKIAFUZZFUZZFEXAMPLE", now)
		if err := l.Save(); err != nil {
			t.Fatalf("a ledger OpenLedger accepted cannot be saved: %v", err)
		}
		l2, err := OpenLedger(dir)
		if err != nil {
			t.Fatalf("a saved ledger does not open: %v", err)
		}
		after := snapshot(l2)
		delete(after, "AKIAFUZZFUZZFEXAMPLE")
		if _, had := before["AKIAFUZZFUZZFEXAMPLE"]; !had && !reflect.DeepEqual(before, after) {
			t.Fatalf("entries changed across a save:\n%v\n%v", before, after)
		}
	})
}

// snapshot lists the entries with times as instants.
func snapshot(l *Ledger) map[string]string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[string]string{}
	for id, e := range l.entries {
		out[id] = fmt.Sprintf("%s|%d|%v", e.User, e.Since.UnixNano(), e.ByKeyrot)
	}
	return out
}
