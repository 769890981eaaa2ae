package rotate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/keyrot/keyrot/iamx"
	"github.com/keyrot/keyrot/rotate/credfile"
)

// Destination receives a new key's secret. Deliver hands the key over and
// returns a function that undoes the hand-over (nil when it cannot be
// undone, as for stdout); it must not retain the secret. Describe says
// where the secret goes, for plans, results and recovery messages; it
// never contains the secret.
type Destination interface {
	Deliver(ctx context.Context, k iamx.NewKey) (undo func() error, err error)
	Describe() string
}

// Destination kinds as the journal records them.
const (
	KindCredentialsFile = "credentials-file"
	KindStdout          = "stdout"
	KindExec            = "exec"
	KindOther           = "other"
)

// destRecord is what the journal keeps about a destination: enough to find
// and restore it after a crash, never the secret.
type destRecord struct {
	Kind    string `json:"kind"`
	Where   string `json:"where"`
	Path    string `json:"path,omitempty"`
	Profile string `json:"profile,omitempty"`
	// Backup is the credentials file backup Update wrote; "" with
	// Delivered set means the file did not exist before.
	Backup    string `json:"backup,omitempty"`
	Delivered bool   `json:"delivered,omitempty"`
	// A Secrets Manager secret: its name or ARN as given, and, recorded
	// before the write, the secret's ARN and the version that was
	// AWSCURRENT, or that keyrot creates the secret.
	SecretID  string `json:"secret_id,omitempty"`
	KMSKeyID  string `json:"kms_key_id,omitempty"`
	SecretARN string `json:"secret_arn,omitempty"`
	PrevVer   string `json:"previous_version,omitempty"`
	// An SSM parameter: its name; PrevVer is then the version before
	// ("" when keyrot creates it) and KMSKeyID that version's key.
	Parameter string `json:"parameter,omitempty"`
	// PrevPrevVer held AWSPREVIOUS before the rotation.
	PrevPrevVer string `json:"before_previous_version,omitempty"`
	CreatedNew  bool   `json:"created,omitempty"`
	// GitHub names GitHub Actions secrets. MayHold is set before their
	// first write and cleared only when GitHub refused it: while set, the
	// secrets may hold the new key, which then is never deleted.
	GitHub  *githubRecord `json:"github,omitempty"`
	MayHold bool          `json:"may_hold,omitempty"`
}

func recordOf(d Destination) destRecord {
	switch d := d.(type) {
	case CredentialsFile:
		return destRecord{Kind: KindCredentialsFile, Where: d.Describe(), Path: d.Path, Profile: d.profile()}
	case *CredentialsFile:
		return recordOf(*d)
	case Stdout, *Stdout:
		return destRecord{Kind: KindStdout, Where: d.Describe()}
	case Exec, *Exec:
		return destRecord{Kind: KindExec, Where: d.Describe()}
	case SecretsManager:
		return destRecord{Kind: KindSecretsManager, Where: d.Describe(), SecretID: d.SecretID, KMSKeyID: d.KMSKeyID}
	case *SecretsManager:
		return recordOf(*d)
	case SSMParameter:
		return destRecord{Kind: KindSSMParameter, Where: d.Describe(), Parameter: d.Name, KMSKeyID: d.KMSKeyID}
	case *SSMParameter:
		return recordOf(*d)
	case GitHubSecrets:
		return destRecord{Kind: KindGitHub, Where: d.Describe(), GitHub: d.record()}
	case *GitHubSecrets:
		return recordOf(*d)
	case nil:
		return destRecord{}
	}
	return destRecord{Kind: KindOther, Where: d.Describe()}
}

// CredentialsFile writes the key into a profile of a shared credentials
// file (credfile.Update: atomic, mode 0600, other profiles and comments
// kept, a backup next to the file). Undo restores the backup.
type CredentialsFile struct {
	Path    string
	Profile string // "" means "default"
	// Now stamps the backup name; nil means time.Now.
	Now func() time.Time
}

func (c CredentialsFile) profile() string {
	if c.Profile == "" {
		return "default"
	}
	return c.Profile
}

// Describe names the file and profile.
func (c CredentialsFile) Describe() string {
	return fmt.Sprintf("profile %s in %s", c.profile(), c.Path)
}

// Deliver updates the profile and returns the restore function.
func (c CredentialsFile) Deliver(ctx context.Context, k iamx.NewKey) (func() error, error) {
	undo, _, err := c.deliver(ctx, k)
	return undo, err
}

func (c CredentialsFile) deliver(ctx context.Context, k iamx.NewKey) (undo func() error, backup string, err error) {
	if err := ctx.Err(); err != nil {
		return nil, "", err
	}
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	backup, err = credfile.Update(c.Path, c.profile(), k.ID, k.Secret.Reveal(), now())
	if err != nil {
		return nil, backup, err
	}
	return func() error { return credfile.Restore(c.Path, backup) }, backup, nil
}

// readBack returns the secret the profile holds if it holds key id.
func (c CredentialsFile) readBack(id string) (iamx.Secret, bool) {
	p, err := credfile.ReadProfile(c.Path, c.profile())
	if err != nil || p.AccessKeyID != id || p.SecretAccessKey.IsZero() {
		return iamx.Secret{}, false
	}
	return iamx.NewSecret(p.SecretAccessKey.Reveal()), true
}

// Stdout prints the key once as one JSON object with the API's field
// names: {"AccessKeyId", "SecretAccessKey", "UserName", "CreateDate"}.
// In an organization run Account adds "AccountId". It cannot be undone.
type Stdout struct {
	W       io.Writer
	Account string
}

// Describe says "stdout".
func (Stdout) Describe() string { return "stdout" }

// Deliver writes the JSON object and a newline.
func (s Stdout) Deliver(ctx context.Context, k iamx.NewKey) (func() error, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	b, err := json.Marshal(struct {
		AccessKeyId     string
		SecretAccessKey string
		UserName        string
		CreateDate      time.Time
		AccountId       string `json:",omitempty"`
	}{k.ID, k.Secret.Reveal(), k.User, k.Created.UTC(), s.Account})
	if err != nil {
		return nil, err
	}
	if _, err := s.W.Write(append(b, '\n')); err != nil {
		return nil, fmt.Errorf("write new key to stdout: %w", err)
	}
	return nil, nil
}

// Exec runs Command through sh -c with the new key in its environment
// (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, KEYROT_USER,
// KEYROT_OLD_ACCESS_KEY_ID), never on its command line. Env is the base
// environment (nil: this process's), minus any session token and profile
// that would shadow the new key. The rotation continues only if the
// command exits 0. It cannot be undone.
type Exec struct {
	Command string
	Env     []string
	Stdout  io.Writer
	Stderr  io.Writer
	// OldKeyID fills KEYROT_OLD_ACCESS_KEY_ID; Run sets it.
	OldKeyID string
}

// Describe quotes the command.
func (e Exec) Describe() string { return fmt.Sprintf("command %q", e.Command) }

// ExecError is a hook that did not exit 0.
type ExecError struct {
	Command  string
	ExitCode int // -1 when it did not exit normally
	Err      error
}

func (e *ExecError) Error() string {
	if e.ExitCode >= 0 {
		return fmt.Sprintf("command %q exited with status %d", e.Command, e.ExitCode)
	}
	return fmt.Sprintf("command %q failed: %v", e.Command, e.Err)
}

// Unwrap returns the exec error.
func (e *ExecError) Unwrap() error { return e.Err }

// shadowing are variables that would make the SDK in the hook ignore or
// misuse the new key.
var shadowing = []string{"AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE",
	"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "KEYROT_USER", "KEYROT_OLD_ACCESS_KEY_ID"}

// Deliver runs the command and waits for it.
func (e Exec) Deliver(ctx context.Context, k iamx.NewKey) (func() error, error) {
	base := e.Env
	if base == nil {
		base = os.Environ()
	}
	env := make([]string, 0, len(base)+4)
	for _, kv := range base {
		name, _, _ := strings.Cut(kv, "=")
		drop := false
		for _, s := range shadowing {
			drop = drop || name == s
		}
		if !drop {
			env = append(env, kv)
		}
	}
	env = append(env,
		"AWS_ACCESS_KEY_ID="+k.ID,
		"AWS_SECRET_ACCESS_KEY="+k.Secret.Reveal(),
		"KEYROT_USER="+k.User,
		"KEYROT_OLD_ACCESS_KEY_ID="+e.OldKeyID)
	cmd := exec.CommandContext(ctx, "sh", "-c", e.Command)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = e.Stdout, e.Stderr
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		code := -1
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		}
		return nil, &ExecError{Command: e.Command, ExitCode: code, Err: err}
	}
	return nil, nil
}
