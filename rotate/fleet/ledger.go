package fleet

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// LedgerFile is the Ledger's name in the state directory.
const LedgerFile = "fleet-inactive.json"

// Ledger records since when keys are known to be Inactive, because IAM
// does not (see the package documentation). It is safe for concurrent use.
// Every time it holds is at or after the moment the key really became
// Inactive, so losing an entry (two runs saving at once, a deleted file)
// only ever delays a deletion.
type Ledger struct {
	path    string
	mu      sync.Mutex
	entries map[string]LedgerEntry
	dirty   bool
}

// LedgerEntry is one Inactive key.
type LedgerEntry struct {
	User  string
	Since time.Time
	// ByKeyrot: keyrot deactivated the key (the old key of a rotation, or
	// an unused key); otherwise a run first saw it Inactive at Since.
	ByKeyrot bool
}

type ledgerDoc struct {
	Version int
	Keys    map[string]LedgerEntry
}

// OpenLedger reads the ledger in dir; a missing file is an empty ledger.
func OpenLedger(dir string) (*Ledger, error) {
	l := &Ledger{path: filepath.Join(dir, LedgerFile), entries: map[string]LedgerEntry{}}
	data, err := os.ReadFile(l.path)
	if errors.Is(err, fs.ErrNotExist) {
		return l, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", l.path, err)
	}
	var doc ledgerDoc
	err = json.Unmarshal(data, &doc)
	if err == nil {
		// Some times parse but cannot be written back (an offset of
		// +24:00 in a hand-edited file): such a ledger could never be
		// saved again, and every run would fail at its end.
		_, err = json.Marshal(doc)
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w; delete it to start over (deletions of Inactive keys then wait --delete-inactive-after again)", l.path, err)
	}
	if doc.Keys != nil {
		l.entries = doc.Keys
	}
	return l, nil
}

// Path is the ledger's file.
func (l *Ledger) Path() string { return l.path }

// Get returns the entry for key id.
func (l *Ledger) Get(id string) (LedgerEntry, bool) {
	if l == nil {
		return LedgerEntry{}, false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	e, ok := l.entries[id]
	return e, ok
}

// Observe records that key id of user is Inactive at now, unless an
// earlier entry exists, and returns the entry in force.
func (l *Ledger) Observe(user, id string, now time.Time) LedgerEntry {
	if l == nil {
		return LedgerEntry{}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if e, ok := l.entries[id]; ok {
		return e
	}
	e := LedgerEntry{User: user, Since: now.UTC()}
	l.entries[id], l.dirty = e, true
	return e
}

// Deactivated records that keyrot set key id Inactive at now.
func (l *Ledger) Deactivated(user, id string, now time.Time) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.entries[id], l.dirty = LedgerEntry{User: user, Since: now.UTC(), ByKeyrot: true}, true
}

// Forget drops key id: it was deleted, or is Active again (its Inactive
// time starts over if it is deactivated later).
func (l *Ledger) Forget(id string) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.entries[id]; ok {
		delete(l.entries, id)
		l.dirty = true
	}
}

// Len is the number of keys recorded.
func (l *Ledger) Len() int {
	if l == nil {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.entries)
}

// Save writes the ledger atomically (a temporary file renamed over it),
// mode 0600, if anything changed.
func (l *Ledger) Save() error {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.dirty {
		return nil
	}
	data, err := json.MarshalIndent(ledgerDoc{Version: 1, Keys: l.entries}, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(l.path), 0o700); err != nil {
		return fmt.Errorf("save %s: %w", l.path, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(l.path), ".fleet-inactive-*")
	if err != nil {
		return fmt.Errorf("save %s: %w", l.path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("save %s: %w", l.path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("save %s: %w", l.path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("save %s: %w", l.path, err)
	}
	if err := os.Rename(tmp.Name(), l.path); err != nil {
		return fmt.Errorf("save %s: %w", l.path, err)
	}
	l.dirty = false
	return nil
}

// ForgetMissing drops the entries of user's keys that are not in present:
// keys deleted since, by keyrot or anyone else.
func (l *Ledger) ForgetMissing(user string, present map[string]bool) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for id, e := range l.entries {
		if e.User == user && !present[id] {
			delete(l.entries, id)
			l.dirty = true
		}
	}
}
