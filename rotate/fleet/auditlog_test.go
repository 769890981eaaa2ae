package fleet

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keyrot/keyrot/iamx"
)

// readLog parses every line of an audit log.
func readLog(t *testing.T, path string) []map[string]any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) > 0 && data[len(data)-1] != '\n' {
		t.Fatalf("audit log does not end with a newline: %q", data)
	}
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("audit log line %q is not JSON: %v", sc.Text(), err)
		}
		out = append(out, m)
	}
	return out
}

func TestAuditLogRecords(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	a, err := OpenAuditLog(path)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 1, 13, 0, 0, 0, time.FixedZone("CET", 3600))
	a.Write(Record{Time: at, Run: "r1", Command: "enforce", User: "alice", Action: "rotate",
		AccessKeyID: idA, NewAccessKeyID: idB, Result: ResultDone, Reason: "created 91d ago"})
	a.Write(Record{Time: at, Run: "r1", Command: "enforce", User: "bob", Action: "none", Result: ResultOK})
	a.Write(Record{Time: at, Run: "r1", Command: "enforce", Action: "summary", Result: ResultDone, DryRun: true,
		Counts: map[string]int{"Selected": 2}})
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("audit log mode %v, %v; want 0600", fi.Mode(), err)
	}
	got := readLog(t, path)
	if len(got) != 3 {
		t.Fatalf("%d lines, want 3", len(got))
	}
	first := got[0]
	want := map[string]any{
		"Time": "2026-03-01T12:00:00Z", "Run": "r1", "Command": "enforce", "User": "alice", "Action": "rotate",
		"AccessKeyId": idA, "NewAccessKeyId": idB, "Result": "done", "Reason": "created 91d ago",
	}
	for k, v := range want {
		if first[k] != v {
			t.Errorf("line 1 %s = %v, want %v", k, first[k], v)
		}
	}
	if len(first) != len(want) {
		t.Errorf("line 1 has fields %v, want exactly %v", first, want)
	}
	// Empty optional fields are left out.
	for _, k := range []string{"AccessKeyId", "NewAccessKeyId", "Reason", "Error", "DryRun", "Counts"} {
		if _, ok := got[1][k]; ok {
			t.Errorf("line 2 has empty field %s: %v", k, got[1])
		}
	}
	if got[2]["DryRun"] != true || got[2]["Counts"].(map[string]any)["Selected"] != 2.0 {
		t.Errorf("summary line = %v", got[2])
	}
}

func TestAuditLogAppends(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	if err := os.WriteFile(path, []byte(`{"Run":"earlier"}`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, run := range []string{"r1", "r2"} {
		a, err := OpenAuditLog(path)
		if err != nil {
			t.Fatal(err)
		}
		a.Write(Record{Run: run, User: "alice", Action: "none", Result: ResultOK})
		if err := a.Close(); err != nil {
			t.Fatal(err)
		}
	}
	got := readLog(t, path)
	var runs []string
	for _, m := range got {
		runs = append(runs, fmt.Sprint(m["Run"]))
	}
	if strings.Join(runs, ",") != "earlier,r1,r2" {
		t.Fatalf("runs in the log: %v, want earlier,r1,r2", runs)
	}
}

func TestAuditLogTimeDefaultsToNowUTC(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	a, err := OpenAuditLog(path)
	if err != nil {
		t.Fatal(err)
	}
	before := time.Now().Add(-time.Second)
	a.Write(Record{User: "alice"})
	after := time.Now().Add(time.Second)
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	s, _ := readLog(t, path)[0]["Time"].(string)
	ts, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || !strings.HasSuffix(s, "Z") {
		t.Fatalf("Time %q: want an RFC 3339 UTC time (%v)", s, err)
	}
	if ts.Before(before) || ts.After(after) {
		t.Fatalf("Time %v not about now", ts)
	}
}

func TestAuditLogConcurrentWritesStayWhole(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	a, err := OpenAuditLog(path)
	if err != nil {
		t.Fatal(err)
	}
	// A second writer on the same file, as a second cron job would be.
	b, err := OpenAuditLog(path)
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("x", 4000)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			log := a
			if w%2 == 1 {
				log = b
			}
			for i := range 50 {
				log.Write(Record{Run: fmt.Sprint(w), User: fmt.Sprintf("user-%d", i), Reason: long})
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(a.Close(), b.Close()); err != nil {
		t.Fatal(err)
	}
	got := readLog(t, path)
	if len(got) != 400 {
		t.Fatalf("%d lines, want 400", len(got))
	}
	seen := map[string]bool{}
	for _, m := range got {
		seen[fmt.Sprint(m["Run"], "/", m["User"])] = true
	}
	if len(seen) != 400 {
		t.Fatalf("%d distinct records, want 400", len(seen))
	}
}

// TestAuditLogNeverHoldsASecret writes records built the way a run builds
// them, from errors that wrap a new key, and checks the file.
func TestAuditLogNeverHoldsASecret(t *testing.T) {
	t.Parallel()
	const secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	k := iamx.NewKey{Key: iamx.Key{ID: idB, User: "alice"}, Secret: iamx.NewSecret(secret)}
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	a, err := OpenAuditLog(path)
	if err != nil {
		t.Fatal(err)
	}
	j := &Job{Log: a, Run: "r1", Command: "rotate", Now: func() time.Time { return now }}
	j.record("alice", Outcome{
		Action:   Action{Kind: Rotate, User: "alice", KeyID: idA, Reason: fmt.Sprintf("new key %v", k)},
		Result:   ResultRolledBack,
		NewKeyID: k.ID,
		Err:      fmt.Errorf("deliver %+v: %w", k, errors.New("exec failed")),
	})
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	if bytes.Contains(data, []byte(secret)) || bytes.Contains(data, []byte("K7MDENG")) {
		t.Fatalf("the audit log holds the secret: %s", data)
	}
	got := readLog(t, path)
	if len(got) != 1 || got[0]["NewAccessKeyId"] != idB || got[0]["Result"] != ResultRolledBack || got[0]["Error"] == nil {
		t.Fatalf("record = %v", got)
	}
}

func TestAuditLogErrors(t *testing.T) {
	t.Parallel()
	if _, err := OpenAuditLog(filepath.Join(t.TempDir(), "missing", "audit.jsonl")); err == nil {
		t.Fatal("OpenAuditLog in a missing directory succeeded")
	}
	// A write that fails is kept for Close; later writes do not hide it.
	a, err := OpenAuditLog(filepath.Join(t.TempDir(), "audit.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	a.f.Close()
	a.Write(Record{User: "alice"})
	a.Write(Record{User: "bob"})
	err = a.Close()
	if err == nil || !strings.Contains(err.Error(), "write audit log") {
		t.Fatalf("Close = %v, want the first write error", err)
	}

	var nilLog *AuditLog
	nilLog.Write(Record{User: "alice"})
	if err := nilLog.Close(); err != nil {
		t.Fatalf("nil Close = %v", err)
	}
}
