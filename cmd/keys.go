package cmd

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/keyrot/keyrot/iamx"
	"github.com/spf13/cobra"
)

// keyChange is one key's status change in JSON output.
type keyChange struct {
	UserName       string
	AccessKeyID    string `json:"AccessKeyId"`
	Status         iamx.Status
	PreviousStatus iamx.Status `json:",omitempty"`
}

// changeOutput is the JSON document of activate, deactivate and update.
type changeOutput struct {
	AccessKeys []keyChange
	DryRun     bool
}

// statusOptions drive activate, deactivate and update: they differ only in
// how they choose keys.
type statusOptions struct {
	f         *Factory
	User      string
	KeyID     string
	Status    iamx.Status
	Force     bool
	DryRun    bool
	UnusedFor time.Duration
}

// addUserFlag binds --user (alias --user-name, as in the AWS CLI).
func addUserFlag(c *cobra.Command, p *string, what string) {
	c.Flags().StringVar(p, "user", "", what+" (alias --user-name; default: the user whose credentials sign the request)")
}

func addKeyFlag(c *cobra.Command, p *string, what string) {
	c.Flags().StringVar(p, "access-key-id", "", what)
}

// validateTarget checks --user and --access-key-id before anything is sent.
func validateTarget(user, keyID string) error {
	if user != "" {
		if err := iamx.ValidateUserName("--user", user); err != nil {
			return err
		}
	}
	if keyID != "" {
		if err := iamx.ValidateAccessKeyID("--access-key-id", keyID); err != nil {
			return err
		}
	}
	return nil
}

// session is what a command knows about who signs its requests.
type session struct {
	client *iamx.Client
	signer iamx.Signer
}

// openSession loads the client and the signing credentials, and refuses
// temporary credentials without --user: IAM cannot infer a user from them.
func openSession(ctx context.Context, f *Factory, user string) (*session, error) {
	c, err := f.Client(ctx)
	if err != nil {
		return nil, err
	}
	s, err := c.Signer(ctx)
	if err != nil {
		return nil, err
	}
	if user == "" && s.Temporary {
		return nil, usageErrorf("the credentials in use are temporary (a session token or an ASIA key), so IAM cannot tell whose keys to change: pass --user NAME")
	}
	return &session{client: c, signer: s}, nil
}

// displayUser names a user in messages.
func displayUser(name string) string {
	if name == "" {
		return iamx.RootUser
	}
	return name
}

// whoAmI names the signing user for messages when --user was omitted.
func (s *session) whoAmI(ctx context.Context, user string) (string, error) {
	if user != "" {
		return user, nil
	}
	id, err := s.client.CallerIdentity(ctx)
	if err != nil {
		return "", fmt.Errorf("identify the caller (STS GetCallerIdentity): %w", err)
	}
	if id.AssumedRole {
		return "", usageErrorf("the caller %s is a role session, which has no access keys of its own: pass --user NAME", id.ARN)
	}
	return id.Name(), nil
}

// lockoutGuard refuses to disable the key that signs the request: the
// caller would lose the means to undo it.
func (o *statusOptions) lockoutGuard(s *session, user string, ids ...string) error {
	if o.Status != iamx.StatusInactive || o.Force {
		return nil
	}
	for _, id := range ids {
		if id == s.signer.AccessKeyID {
			return &guardError{fmt.Sprintf("refusing to deactivate %s of %s: it is the key signing this request, and without it you could not undo the change; pass --force if you mean it, or sign with another key (--profile)", id, user)}
		}
	}
	return nil
}

// inUseGuard refuses to deactivate a key used within --unused-for.
func (o *statusOptions) inUseGuard(ctx context.Context, s *session, user string, ids ...string) error {
	if o.Status != iamx.StatusInactive || o.UnusedFor <= 0 {
		return nil
	}
	now := o.f.Now()
	for _, id := range ids {
		lu, err := s.client.LastUsed(ctx, id)
		if err != nil {
			hint := kindHint(err)
			if errors.Is(err, iamx.ErrNotFound) {
				hint = fmt.Sprintf("run `keyrot list --user %s` to see the keys", user)
			}
			return withHint(fmt.Errorf("look up last use of %s (--unused-for): %w", id, err), "%s", hint)
		}
		if !lu.Date.IsZero() && now.Sub(lu.Date) < o.UnusedFor {
			return &guardError{fmt.Sprintf("refusing to deactivate %s of %s: it was used %s (%s in %s), within --unused-for %s; pass --force to override",
				id, user, relative(lu.Date, now, "never"), dash(lu.Service), dash(lu.Region), formatAge(o.UnusedFor))}
		}
	}
	return nil
}

// setOne changes one named key: the plain UpdateAccessKey, one request
// when --user is given.
func (o *statusOptions) setOne(ctx context.Context) error {
	s, err := openSession(ctx, o.f, o.User)
	if err != nil {
		return err
	}
	user, err := s.whoAmI(ctx, o.User)
	if err != nil {
		return err
	}
	if err := o.lockoutGuard(s, user, o.KeyID); err != nil {
		return err
	}
	if !o.Force {
		if err := o.inUseGuard(ctx, s, user, o.KeyID); err != nil {
			return err
		}
	}
	change := keyChange{UserName: user, AccessKeyID: o.KeyID, Status: o.Status}
	if o.DryRun {
		// A dry run reads the key so that the plan is checked, not guessed.
		keys, err := s.client.ListKeys(ctx, o.User)
		if err != nil {
			return o.wrap(err, user, o.KeyID)
		}
		k, ok := findKey(keys, o.KeyID)
		if !ok {
			return withHint(fmt.Errorf("%s has no access key %s: %w", user, o.KeyID, iamx.ErrNotFound), "run `keyrot list --user %s` to see the keys", user)
		}
		change.PreviousStatus, change.UserName = k.Status, storedName(user, k)
		return o.report([]keyChange{change})
	}
	if err := s.client.SetStatus(ctx, o.User, o.KeyID, o.Status); err != nil {
		return o.wrap(err, user, o.KeyID)
	}
	return o.report([]keyChange{change})
}

// storedName is the user name as IAM stores it (names are unique without
// regard to case, so "bob" may find Bob), falling back on the name typed.
func storedName(typed string, k iamx.Key) string {
	if k.User != "" {
		return k.User
	}
	return typed
}

// setAll applies the status to the chosen keys of a user after the guards.
func (o *statusOptions) setAll(ctx context.Context, s *session, user string, keys []iamx.Key) error {
	ids := make([]string, len(keys))
	for i, k := range keys {
		ids[i] = k.ID
	}
	if err := o.lockoutGuard(s, user, ids...); err != nil {
		return err
	}
	if !o.Force {
		if err := o.inUseGuard(ctx, s, user, ids...); err != nil {
			return err
		}
	}
	changes := make([]keyChange, 0, len(keys))
	for _, k := range keys {
		c := keyChange{UserName: storedName(user, k), AccessKeyID: k.ID, Status: o.Status, PreviousStatus: k.Status}
		if !o.DryRun {
			if err := s.client.SetStatus(ctx, o.User, k.ID, o.Status); err != nil {
				err = o.wrap(err, user, k.ID)
				if len(changes) > 0 {
					o.report(changes)
					err = fmt.Errorf("%w (%d of %d keys were changed before this failure)", err, len(changes), len(keys))
				}
				return err
			}
		}
		changes = append(changes, c)
	}
	return o.report(changes)
}

// listTarget lists the user's keys and names the user for messages.
func (o *statusOptions) listTarget(ctx context.Context, s *session) (string, []iamx.Key, error) {
	keys, err := s.client.ListKeys(ctx, o.User)
	if err != nil {
		who := o.User
		if who == "" {
			who = "the caller"
		}
		return "", nil, withHint(fmt.Errorf("list access keys of %s: %w", who, err), "%s", notFoundHint(err, o.User))
	}
	user := o.User
	if user == "" && len(keys) > 0 {
		user = displayUser(keys[0].User)
	}
	if user == "" {
		if user, err = s.whoAmI(ctx, o.User); err != nil {
			return "", nil, err
		}
	}
	return user, keys, nil
}

func notFoundHint(err error, user string) string {
	if errors.Is(err, iamx.ErrNotFound) && user != "" {
		return "check the user name; `keyrot list --all-users` lists the account's users"
	}
	return kindHint(err)
}

func (o *statusOptions) wrap(err error, user, id string) error {
	verb := "activate"
	if o.Status == iamx.StatusInactive {
		verb = "deactivate"
	}
	err = fmt.Errorf("%s %s of %s: %w", verb, id, user, err)
	if errors.Is(err, iamx.ErrNotFound) {
		return withHint(err, "run `keyrot list --user %s` to see the user's keys", user)
	}
	return err
}

// report renders the changes and says what happened on stderr.
func (o *statusOptions) report(changes []keyChange) error {
	f := o.f
	verb := "Activated"
	if o.Status == iamx.StatusInactive {
		verb = "Deactivated"
	}
	for _, c := range changes {
		switch {
		case o.DryRun:
			f.message("dry run: would set %s of %s to %s (now %s); nothing was changed", c.AccessKeyID, c.UserName, c.Status, c.PreviousStatus)
		case c.PreviousStatus == c.Status:
			f.message("%s of %s was already %s", c.AccessKeyID, c.UserName, c.Status)
		default:
			f.message("%s %s of %s", verb, c.AccessKeyID, c.UserName)
		}
	}
	rows := make([][]string, len(changes))
	for i, c := range changes {
		// update sends one request and does not learn the previous status.
		rows[i] = []string{c.UserName, c.AccessKeyID, string(c.Status), dash(string(c.PreviousStatus))}
	}
	return f.render(view{
		JSON:   changeOutput{AccessKeys: changes, DryRun: o.DryRun},
		Header: []string{"USER", "ACCESS KEY ID", "STATUS", "PREVIOUS"},
		Rows:   rows,
	})
}

func findKey(keys []iamx.Key, id string) (iamx.Key, bool) {
	for _, k := range keys {
		if k.ID == id {
			return k, true
		}
	}
	return iamx.Key{}, false
}

func keysWithStatus(keys []iamx.Key, s iamx.Status) []iamx.Key {
	var out []iamx.Key
	for _, k := range keys {
		if k.Status == s {
			out = append(out, k)
		}
	}
	return out
}

// describeKeys lists keys for an error message, one per line.
func describeKeys(keys []iamx.Key, now time.Time) string {
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "\n  %s  %-8s  created %s", k.ID, k.Status, relative(k.Created, now, "-"))
	}
	return b.String()
}
