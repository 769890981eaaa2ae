package rotate

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/keyrot/keyrot/iamx"
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

// Unfinished finds the journals of rotations cut short, and only those:
// not finished ones, not locks, not other files; none in a missing directory.
func TestUnfinished(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	if got, err := Unfinished(dir); err != nil || len(got) != 0 {
		t.Fatalf("missing directory: %v %v", got, err)
	}
	if err := ensureStateDir(dir); err != nil {
		t.Fatal(err)
	}
	for user, step := range map[string]string{"alice": jVerified, "bob": jDone, "carol": jRolledBack, "dave": jHeld, iamx.RootUser: jCreating} {
		s := store{path: stateFile(dir, user, ".json"), now: time.Now}
		if err := s.save(&journal{User: user, OldKeyID: "AKIA" + strings.ToUpper(strings.Trim(user, "<>")[:1]) + "OLDKEYEXAMPLE00", Step: step}); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"user-erin.lock", "fleet-inactive.json", "user-.json"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("{}"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	got, err := Unfinished(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"alice": "AKIAAOLDKEYEXAMPLE00", "dave": "AKIADOLDKEYEXAMPLE00", iamx.RootUser: "AKIAROLDKEYEXAMPLE00"}
	if len(got) != len(want) {
		t.Fatalf("Unfinished = %v, want %v", got, want)
	}
	for u, id := range want {
		if got[u].OldKeyID != id || got[u].Err != nil {
			t.Errorf("Unfinished[%s] = %+v, want %q", u, got[u], id)
		}
	}
	// A corrupt journal is an error, not a user silently left alone.
	if err := os.WriteFile(stateFile(dir, "frank", ".json"), []byte("{garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err = Unfinished(dir)
	if err != nil || got["frank"].Err == nil || got["alice"].OldKeyID == "" {
		t.Errorf("a corrupt journal: %+v, %v; want frank's error and the others as before", got["frank"], err)
	}
}
