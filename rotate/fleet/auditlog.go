package fleet

import (
	"encoding/json"
	"fmt"
	"os"
	"sync"
	"time"
)

// Record is one line of the audit log: one per user and action. It holds
// key IDs, never a secret.
type Record struct {
	Time time.Time
	// Run identifies the run, so the lines of one cron job group.
	Run     string
	Command string // "enforce" or "rotate"
	// AccountID and AccountName say which account of an organization run
	// (--org) the line is about; empty in a one-account run.
	AccountID   string `json:"AccountId,omitempty"`
	AccountName string `json:",omitempty"`
	User        string
	// Action: rotate, deactivate, delete, blocked, or none for a user
	// examined and found within policy; summary for the run's last line
	// (an account's last, in an organization run); account for an account
	// an organization run skipped or could not work in.
	Action         string
	AccessKeyID    string `json:"AccessKeyId,omitempty"`
	NewAccessKeyID string `json:"NewAccessKeyId,omitempty"`
	// Result: done, failed, rolled-back, rollback-failed, planned (dry
	// run), skipped, or ok (nothing to do).
	Result string
	Reason string `json:",omitempty"`
	Error  string `json:",omitempty"`
	DryRun bool   `json:",omitempty"`
	// Counts is set on the summary line.
	Counts map[string]int `json:",omitempty"`
}

// AuditLog appends Records as JSON lines to a file opened with O_APPEND,
// so several runs and logrotate's copytruncate can share it. It is safe
// for concurrent use; each record is one write.
type AuditLog struct {
	mu  sync.Mutex
	f   *os.File
	err error
}

// OpenAuditLog opens (creating, mode 0600) path for appending.
func OpenAuditLog(path string) (*AuditLog, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open audit log: %w", err)
	}
	return &AuditLog{f: f}, nil
}

// Write appends r. A nil AuditLog discards it. The first error is kept
// and returned by Close: a failing log does not stop the run half way.
func (a *AuditLog) Write(r Record) {
	if a == nil {
		return
	}
	if r.Time.IsZero() {
		r.Time = time.Now()
	}
	r.Time = r.Time.UTC()
	b, err := json.Marshal(r)
	a.mu.Lock()
	defer a.mu.Unlock()
	if err == nil {
		_, err = a.f.Write(append(b, '\n'))
	}
	if err != nil && a.err == nil {
		a.err = fmt.Errorf("write audit log: %w", err)
	}
}

// Close syncs and closes the file and reports the first error.
func (a *AuditLog) Close() error {
	if a == nil {
		return nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.f.Sync(); err != nil && a.err == nil {
		a.err = fmt.Errorf("sync audit log: %w", err)
	}
	if err := a.f.Close(); err != nil && a.err == nil {
		a.err = fmt.Errorf("close audit log: %w", err)
	}
	return a.err
}
