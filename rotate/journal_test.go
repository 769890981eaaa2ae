package rotate

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func FuzzDecodeJournal(f *testing.F) {
	j := journal{Version: journalVersion, User: "alice", OldKeyID: "AKIAOLDKEYEXAMPLE000", NewKeyID: "AKIANEWKEYEXAMPLE000",
		Policy: Deactivate, Step: jDelivered, Destination: destRecord{Kind: KindCredentialsFile, Path: "/tmp/c", Profile: "p", Delivered: true},
		Started: time.Unix(0, 0).UTC()}
	b, _ := json.Marshal(j)
	f.Add(b)
	f.Add([]byte(`{"version":1,"user":"<root_account>","step":"creating"}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		j, err := decodeJournal(data)
		if err != nil {
			return
		}
		// Whatever decodes re-encodes and decodes the same way.
		b, err := json.Marshal(j)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := decodeJournal(b); err != nil {
			t.Fatalf("re-decode: %v", err)
		}
	})
}

func TestJournalFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	if err := ensureStateDir(dir); err != nil {
		t.Fatal(err)
	}
	s := store{path: stateFile(dir, "alice", ".json"), now: time.Now}
	if err := s.save(&journal{User: "alice", Step: jStarted}); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(s.path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("journal mode %v %v", fi.Mode(), err)
	}
	di, _ := os.Stat(dir)
	if di.Mode().Perm() != 0o700 {
		t.Errorf("state dir mode %v", di.Mode())
	}
	j, err := s.load()
	if err != nil || j.Step != jStarted || j.finished() {
		t.Fatalf("%+v %v", j, err)
	}
	if stateFile(dir, "..", ".json") == filepath.Join(dir, "..", ".json") || filepath.Dir(stateFile(dir, "..", ".json")) != dir {
		t.Error("user .. escapes the state directory")
	}
	if err := os.WriteFile(s.path, []byte("{garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := s.load(); err == nil {
		t.Error("corrupt journal accepted")
	}
}

func TestDefaultStateDir(t *testing.T) {
	t.Setenv("XDG_STATE_HOME", "/x/state")
	if d, err := DefaultStateDir(); err != nil || d != "/x/state/keyrot" {
		t.Error(d, err)
	}
	t.Setenv("XDG_STATE_HOME", "")
	t.Setenv("HOME", "/home/u")
	if d, err := DefaultStateDir(); err != nil || d != "/home/u/.local/state/keyrot" {
		t.Error(d, err)
	}
}
