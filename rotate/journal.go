package rotate

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/keyrot/keyrot/iamx"
	"github.com/keyrot/keyrot/rotate/credfile"
)

// Journal steps. A journal whose step is jDone, jRolledBack or jAborted is
// finished; any other step marks a rotation that was cut short.
const (
	jStarted        = "started"
	jDeleteInactive = "deleting-inactive"
	jCreating       = "creating"
	jCreated        = "created"
	jDelivering     = "delivering"
	jDelivered      = "delivered"
	jVerified       = "verified"
	jOldKey         = "old-key"
	jRollingBack    = "rolling-back"
	jDone           = "done"
	jRolledBack     = "rolled-back"
	jAborted        = "aborted" // failed before the new key existed
	// jHeld: the rotation stopped with both keys Active because a
	// destination that can be neither read back nor undone may hold the
	// new key (HeldError). The next run finishes or keeps holding.
	jHeld = "held"
)

var journalSteps = map[string]bool{
	jStarted: true, jDeleteInactive: true, jCreating: true, jCreated: true, jDelivering: true,
	jDelivered: true, jVerified: true, jOldKey: true, jRollingBack: true, jDone: true,
	jRolledBack: true, jAborted: true, jHeld: true,
}

const journalVersion = 1

// journal is the write-ahead record of one rotation of one user. It is
// written atomically before and after every mutating step. It never holds
// a secret.
type journal struct {
	Version    int         `json:"version"`
	User       string      `json:"user"`
	APIUser    string      `json:"apiUser,omitempty"`
	Account    string      `json:"account,omitempty"`
	OldKeyID   string      `json:"oldKeyId,omitempty"`
	OldStatus  iamx.Status `json:"oldStatus,omitempty"` // before the rotation
	NewKeyID   string      `json:"newKeyId,omitempty"`
	KeysBefore []string    `json:"keysBefore,omitempty"` // U's key IDs before the create
	// CreateStarted is when CreateAccessKey was sent: a key IAM created
	// earlier is not this run's (see orphan).
	CreateStarted time.Time    `json:"createStarted,omitempty"`
	Policy        OldKeyPolicy `json:"policy,omitempty"`
	SelfSigned    bool         `json:"selfSigned,omitempty"`
	// OldTouched is set before the old key's status is changed.
	OldTouched  bool       `json:"oldTouched,omitempty"`
	Destination destRecord `json:"destination"`
	// Destinations are the records of a rotation to several destinations
	// (Destination is then unused), in delivery order.
	Destinations []destRecord `json:"destinations,omitempty"`
	Step         string       `json:"step"`
	Started      time.Time    `json:"started"`
	Updated      time.Time    `json:"updated"`
	// RolledBackByHand is set once Rollback undid this rotation.
	RolledBackByHand bool `json:"rolledBackByHand,omitempty"`
}

// replacement reports a rotation that issued a key to a user with no
// Active key: its old key was Inactive before it began and nothing may
// reactivate it.
func (j *journal) replacement() bool { return j.OldStatus == iamx.StatusInactive }

func (j *journal) finished() bool {
	return j.Step == jDone || j.Step == jRolledBack || j.Step == jAborted
}

// decodeJournal parses and checks a journal. It never panics.
func decodeJournal(data []byte) (*journal, error) {
	var j journal
	if err := json.Unmarshal(data, &j); err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	if j.Version != journalVersion {
		return nil, fmt.Errorf("journal: unsupported version %d", j.Version)
	}
	if j.User == "" {
		return nil, errors.New("journal: no user")
	}
	if j.User != iamx.RootUser {
		if err := iamx.ValidateUserName("user", j.User); err != nil {
			return nil, fmt.Errorf("journal: %w", err)
		}
	}
	if !journalSteps[j.Step] {
		return nil, fmt.Errorf("journal: unknown step %q", j.Step)
	}
	for _, id := range append([]string{j.OldKeyID, j.NewKeyID}, j.KeysBefore...) {
		if id == "" {
			continue
		}
		if err := iamx.ValidateAccessKeyID("key", id); err != nil {
			return nil, fmt.Errorf("journal: %w", err)
		}
	}
	switch j.Policy {
	case "", Deactivate, Keep, Delete:
	default:
		return nil, fmt.Errorf("journal: unknown policy %q", j.Policy)
	}
	for _, rec := range j.records() {
		if err := rec.valid(); err != nil {
			return nil, err
		}
	}
	return &j, nil
}

// DefaultStateDir is where journals and locks live:
// $XDG_STATE_HOME/keyrot, else ~/.local/state/keyrot.
func DefaultStateDir() (string, error) {
	if d := os.Getenv("XDG_STATE_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "keyrot"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("locate state directory: %w; set XDG_STATE_HOME", err)
	}
	return filepath.Join(home, ".local", "state", "keyrot"), nil
}

// stateFile names U's file in dir with the given suffix. IAM user names
// are safe file names except "." and ".."; the prefix covers those. The
// root user, whose display name has angle brackets, gets its own name.
func stateFile(dir, user, suffix string) string {
	if user == iamx.RootUser {
		return filepath.Join(dir, "root"+suffix)
	}
	return filepath.Join(dir, "user-"+user+suffix)
}

// UnfinishedRotation is a rotation an earlier run left unfinished.
type UnfinishedRotation struct {
	OldKeyID string
	// Account is the account the rotation was in ("" in journals written
	// before keyrot recorded it).
	Account string
	// SelfSigned: the old key signed the rotation's own requests.
	SelfSigned bool
	// Err: the journal could not be read; the user's rotation must not go
	// on until it is moved aside.
	Err error
}

// Unfinished lists the rotations earlier runs left unfinished in state
// directory dir (a kill -9, a power cut, a held GitHub delivery), by user.
// It reads the directory once and only the users' journals. A fleet run
// finishes or rolls these back first (Options.RecoverOnly), then judges
// the users' keys: a user caught with two Active keys mid-rotation is not
// a user to block.
func Unfinished(dir string) (map[string]UnfinishedRotation, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read state directory: %w", err)
	}
	out := map[string]UnfinishedRotation{}
	for _, e := range entries {
		name := e.Name()
		user, ok := strings.CutPrefix(name, "user-")
		if ok {
			user, ok = strings.CutSuffix(user, ".json")
		} else if name == "root.json" {
			user, ok = iamx.RootUser, true
		}
		if !ok || e.IsDir() || user == "" {
			continue
		}
		j, err := store{path: filepath.Join(dir, name)}.load()
		switch {
		case err != nil:
			out[user] = UnfinishedRotation{Err: err}
		case j != nil && !j.finished():
			out[user] = UnfinishedRotation{OldKeyID: j.OldKeyID, Account: j.Account, SelfSigned: j.SelfSigned}
		}
	}
	return out, nil
}

// StateDir is the state directory opts use: StateDir, or the default.
func StateDir(opts Options) (string, error) { return stateDir(opts) }

func ensureStateDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create state directory: %w", err)
	}
	return nil
}

// store reads and writes U's journal.
type store struct {
	path string
	now  func() time.Time
}

// load returns U's journal, nil when there is none.
func (s store) load() (*journal, error) {
	data, err := os.ReadFile(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read journal: %w", err)
	}
	j, err := decodeJournal(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w (move it aside to continue)", s.path, err)
	}
	return j, nil
}

// save writes j atomically (temp file, fsync, rename, mode 0600).
func (s store) save(j *journal) error {
	j.Version = journalVersion
	j.Updated = s.now().UTC()
	data, err := json.MarshalIndent(j, "", "  ")
	if err != nil {
		return err
	}
	if err := credfile.WriteFileAtomic(s.path, append(data, '\n'), 0o600); err != nil {
		return fmt.Errorf("write journal: %w", err)
	}
	return nil
}

func (rec *destRecord) valid() error {
	switch rec.Kind {
	case "", KindCredentialsFile, KindStdout, KindExec, KindOther, KindSecretsManager, KindSSMParameter, KindGitHub:
	default:
		return fmt.Errorf("journal: unknown destination kind %q", rec.Kind)
	}
	switch {
	case rec.Kind == KindCredentialsFile && rec.Path == "":
		return errors.New("journal: credentials file without a path")
	case rec.Kind == KindSecretsManager && rec.SecretID == "":
		return errors.New("journal: Secrets Manager destination without a secret ID")
	case rec.Kind == KindSSMParameter && rec.Parameter == "":
		return errors.New("journal: SSM destination without a parameter name")
	case rec.Kind == KindGitHub && (rec.GitHub == nil || (rec.GitHub.Repo == "") == (rec.GitHub.Org == "")):
		return errors.New("journal: GitHub destination without one repository or organization")
	}
	return nil
}
