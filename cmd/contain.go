package cmd

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/keyrot/keyrot/iamx"
	"github.com/keyrot/keyrot/rotate"
	"github.com/keyrot/keyrot/rotate/contain"
	"github.com/spf13/cobra"
)

type containOptions struct {
	f       *Factory
	KeyID   string
	User    string
	Force   bool
	DryRun  bool
	Release bool
	NoUsage bool
	Days    int
	Regions []string
	// rot holds the replacement's flags: destination, verification,
	// --delete-inactive, --state-dir.
	rot *rotateOptions
}

type containPolicyJSON struct {
	PolicyName string
	Action     string
	// RevokesSessionsIssuedBefore: sessions issued earlier are refused.
	RevokesSessionsIssuedBefore *string
	RemovableAfter              *string
}

// containJSON is contain's document; it never holds a secret.
type containJSON struct {
	AccessKeyID  string `json:"AccessKeyId"`
	UserName     string
	Account      string
	OwnerFoundBy string
	StatusBefore iamx.Status
	StatusAfter  iamx.Status
	LastUsed     lastUsedJSON
	Policy       containPolicyJSON
	Usage        *usageJSON
	Replacement  *rotateJSON
	Warnings     []string
	NextSteps    []string
	DryRun       bool
	Plan         []string
}

func newCmdContain(f *Factory, runF func(context.Context, *containOptions) error) *cobra.Command {
	rot := &rotateOptions{f: f, OldKey: string(rotate.Deactivate), Wait: rotate.DefaultWait, PollInterval: rotate.DefaultPollInterval, Successes: rotate.DefaultSuccesses}
	opts := &containOptions{f: f, Days: contain.MaxDays, rot: rot}
	c := &cobra.Command{
		Use:   "contain --access-key-id ID [--user NAME] [destination]",
		Short: "Contain a leaked access key: deactivate it, revoke its sessions, show its use",
		Long: `Contain a leaked access key in one step.

1. Find the owner: STS GetAccessKeyInfo names the key's account (a key of
   another account stops here, exit 3); IAM GetAccessKeyLastUsed names its
   user, or, where that is denied, keyrot searches every user (ListUsers and
   ListAccessKeys, 10 calls a second, as fleet runs). --user skips the search.
2. Deactivate the key. The key signing the request is refused (exit 7)
   unless --force.
3. Revoke the sessions already minted from it (GetSessionToken and
   GetFederationToken sessions live up to 36 hours; deactivating the key
   does not end them): an inline policy keyrot-revoke-sessions-KEYID on the
   user denies every action to sessions issued before its cut-off
   (aws:TokenIssueTime, as the IAM console's "Revoke active sessions"),
   30 seconds after the deactivation, while IAM propagates it. It also ends
   the user's other sessions issued before then, whatever key minted them.
   Once the key is deleted and 36 hours have passed, it can go:
   keyrot contain --release.
4. Report: owner, account, status before and after, last use, the policy,
   the key's recent activity in CloudTrail (as keyrot usage; --no-usage
   skips it; its failure is only a warning and never delays 1-3), and the
   next steps.

With a destination (--exec, --profile-name, --stdout) contain then issues
the user a replacement key, as keyrot rotate does for a user with no Active
key; the contained key stays Inactive. Running contain again changes
nothing while the key stays Inactive.` + exitHelp(rotateCodes...),
		Example: `  # Bob's key was pasted into a public issue: contain it, find its owner
  keyrot contain --access-key-id AKIAIOSFODNN7EXAMPLE

  # See the plan first
  keyrot contain --access-key-id AKIAIOSFODNN7EXAMPLE --dry-run

  # Contain it and hand Bob's deploy system a replacement
  keyrot contain --access-key-id AKIAIOSFODNN7EXAMPLE --user bob --exec ./scripts/put-ci-secret.sh

  # 36 hours later, the key deleted: remove the session deny
  keyrot contain --release --access-key-id AKIAIOSFODNN7EXAMPLE --user bob`,
		Args: noArgs,
		RunE: func(c *cobra.Command, args []string) error {
			if err := opts.validate(); err != nil {
				return err
			}
			if runF != nil {
				return runF(c.Context(), opts)
			}
			return runContain(f.interruptible(c.Context()), opts)
		},
	}
	fl := c.Flags()
	addKeyFlag(c, &opts.KeyID, "the leaked access key (required)")
	fl.StringVar(&opts.User, "user", "", "the key's owner (alias --user-name; default: found from the key)")
	fl.BoolVar(&opts.Force, "force", false, "contain even the key signing this request; --release before 36 hours have passed")
	fl.BoolVar(&opts.DryRun, "dry-run", false, "find the owner, print the plan and change nothing")
	fl.BoolVar(&opts.Release, "release", false, "delete the session deny that contain put on the owner (36 hours after, once the key is deleted)")
	fl.BoolVar(&opts.NoUsage, "no-usage", false, "skip the CloudTrail activity lookup")
	addUsageFlags(c, &opts.Days, &opts.Regions)
	fl.BoolVar(&rot.DeleteInactive, "delete-inactive", false, "when the owner has two keys, delete the contained one to make room for the replacement")
	fl.StringVar(&rot.StateDir, "state-dir", "", "where the replacement's journal and lock live (default $XDG_STATE_HOME/keyrot or ~/.local/state/keyrot)")
	addDestinationFlags(c, rot)
	return c
}

func (o *containOptions) validate() error {
	if err := validateUsageFlags(o.KeyID, o.Days, o.Regions); err != nil {
		return err
	}
	if err := validateTarget(o.User, ""); err != nil {
		return err
	}
	r := o.rot
	r.DryRun = o.DryRun
	if err := r.validateDestination(); err != nil {
		return err
	}
	switch {
	case o.Release && (r.hasDestination() || r.DeleteInactive):
		return usageErrorf("--release removes the session deny; it takes no destination or --delete-inactive")
	case o.Release && (o.NoUsage || len(o.Regions) > 0 || o.Days != contain.MaxDays):
		return usageErrorf("--release looks up no activity: leave out --no-usage, --days and --regions")
	case r.CredentialsFile != "" && r.ProfileName == "":
		return usageErrorf("--credentials-file needs --profile-name: the profile that receives the replacement")
	case r.DeleteInactive && !r.hasDestination():
		return usageErrorf("--delete-inactive makes room for a replacement: add a destination (--exec, --profile-name or --stdout)")
	}
	return nil
}

func runContain(ctx context.Context, o *containOptions) error {
	f := o.f
	c, err := f.Client(ctx)
	if err != nil {
		return err
	}
	signer, err := c.Signer(ctx)
	if err != nil {
		return err
	}
	rs := &rotationSession{client: c, signer: signer}
	var dest rotate.Destination
	if o.rot.hasDestination() {
		if dest, err = o.rot.destination(rs, o.User); err != nil {
			return err
		}
	}
	co := contain.Options{
		AccessKeyID: o.KeyID, User: o.User, Signer: signer, Force: o.Force, DryRun: o.DryRun, Release: o.Release,
		Usage: contain.UsageOptions{Days: o.Days, Regions: o.Regions, Now: f.Now}, Now: f.Now,
		OnStep: func(s contain.Step) {
			if s.Err != nil {
				f.message("  %-10s failed after %s: %v", s.Name, s.Elapsed.Round(time.Millisecond), s.Err)
				return
			}
			f.message("  %-10s %s (%s)", s.Name, s.Detail, s.Elapsed.Round(time.Millisecond))
		},
	}
	if !o.NoUsage {
		co.Trail = c
	}
	if dest != nil {
		co.Check = o.replacementCheck
	}
	switch {
	case o.Release && o.DryRun:
		f.message("dry run: finding the owner of %s and its session deny; nothing will change.", o.KeyID)
	case o.Release:
		f.message("Releasing the session deny of %s.", o.KeyID)
	case o.DryRun:
		f.message("dry run: finding the owner of %s; nothing will change.", o.KeyID)
	default:
		f.message("Containing access key %s.", o.KeyID)
	}
	res, err := contain.Run(ctx, c, co)
	if err != nil {
		if res.StatusAfter != res.StatusBefore {
			// The key was deactivated before the failure: say so.
			o.messages(res, nil)
			if rerr := o.render(o.doc(res), res); rerr != nil {
				return rerr
			}
		}
		return containError(err, o.KeyID, o.Release)
	}
	doc := o.doc(res)
	o.messages(res, dest)
	if dest != nil && !o.DryRun {
		r := o.rot
		r.User, r.OldKeyID = res.UserName, o.KeyID
		f.message("Issuing %s a replacement; the new secret goes to %s.", res.UserName, dest.Describe())
		rr, rerr := rotate.Run(ctx, c, r.options(rs, dest))
		if rerr != nil {
			if err := o.render(doc, res); err != nil {
				return err
			}
			return withHint(rotateError(rerr, res.UserName), "the key is contained; issue the replacement with keyrot rotate --user %s --access-key-id %s ...", res.UserName, o.KeyID)
		}
		rj := r.resultJSON(rr)
		doc.Replacement = &rj
	}
	if o.rot.Stdout && !o.DryRun {
		// stdout carried the new secret; the report stays on stderr.
		return nil
	}
	return o.render(doc, res)
}

// replacementCheck refuses, before any change, a replacement that could
// not be made once the key is contained.
func (o *containOptions) replacementCheck(user string, keys []iamx.Key) error {
	for _, k := range keys {
		if k.ID != o.KeyID && k.Status == iamx.StatusActive {
			return usageErrorf("%s has another Active key, %s, so a replacement would be a third way in: contain without a destination, then rotate %s if it leaked too (keyrot rotate --user %s --access-key-id %s ...)",
				user, k.ID, k.ID, user, k.ID)
		}
	}
	if len(keys) == 2 && !o.rot.DeleteInactive {
		return &rotate.KeyLimitError{User: user, InTheWay: keys,
			Hint: "pass --delete-inactive to delete the contained key to make room for the replacement (its CloudTrail history stays), or delete the other key first"}
	}
	return nil
}

func containError(err error, id string, release bool) error {
	var fe *contain.ForeignKeyError
	var ne *contain.NoOwnerError
	var re *contain.RevokeError
	switch {
	case errors.As(err, &fe):
		return withHint(err, "sign with credentials of account %s (--profile), or pass the key to that account's security team", fe.Account)
	case errors.As(err, &ne) && release:
		return withHint(err, "a deleted key names no owner: pass --user NAME")
	case errors.As(err, &ne):
		return withHint(err, "check the key ID; keyrot usage --access-key-id %s shows where it was used", id)
	case errors.As(err, &re) && errors.Is(err, iamx.ErrKeyLimit):
		return withHint(err, "the user's inline policies reach IAM's quota of 2,048 characters: remove one, or deny the sessions with a managed policy (see docs/runbook.md)")
	case errors.Is(err, rotate.ErrLockout):
		return withHint(err, "sign with another key (--profile), or pass --force: the credentials in use then stop working")
	}
	return err
}

func (o *containOptions) doc(res contain.Result) containJSON {
	doc := containJSON{
		AccessKeyID: res.AccessKeyID, UserName: res.UserName, Account: res.Account, OwnerFoundBy: res.OwnerFoundBy,
		StatusBefore: res.StatusBefore, StatusAfter: res.StatusAfter,
		LastUsed: lastUsedJSON{LastUsedDate: jsonTime(res.LastUsed.Date), ServiceName: res.LastUsed.Service, Region: res.LastUsed.Region},
		Policy: containPolicyJSON{PolicyName: res.Policy.Name, Action: res.Policy.Action,
			RevokesSessionsIssuedBefore: jsonTime(res.Policy.RevokesBefore), RemovableAfter: jsonTime(res.Policy.RemovableAfter)},
		Warnings: res.Warnings, NextSteps: res.NextSteps, DryRun: res.DryRun, Plan: res.Plan,
	}
	if res.Usage != nil {
		u := usageDoc(*res.Usage)
		doc.Usage = &u
	}
	if o.Release {
		doc.NextSteps = []string{}
	}
	if doc.Plan == nil {
		doc.Plan = []string{}
	}
	return doc
}

// messages prints the outcome, warnings and next steps on stderr.
func (o *containOptions) messages(res contain.Result, dest rotate.Destination) {
	f := o.f
	for _, w := range res.Warnings {
		f.message("warning: %s", w)
	}
	p := res.Policy
	switch {
	case o.Release && p.Action == "absent":
		f.message("%s has no session deny for %s (%s): nothing to release.", res.UserName, res.AccessKeyID, p.Name)
		return
	case o.Release && o.DryRun:
		f.message("dry run: would delete %s from %s. Nothing was changed.", p.Name, res.UserName)
		return
	case o.Release:
		f.message("Deleted %s from %s: sessions issued before %s work again, if any is still alive.", p.Name, res.UserName, textTime(p.RevokesBefore))
		return
	case p.Action == "failed":
		f.message("%s of %s (account %s) is %s; revoking its sessions failed.", res.AccessKeyID, res.UserName, res.Account, res.StatusAfter)
		return
	case o.DryRun:
		f.message("dry run: containing %s of %s (account %s) would:", res.AccessKeyID, res.UserName, res.Account)
		for i, a := range res.Plan {
			f.message("  %d. %s", i+1, a)
		}
		if len(res.Plan) == 0 {
			f.message("  nothing: the key is Inactive and its session deny in place")
		}
		if dest != nil {
			f.message("  then issue %s a replacement, delivered to %s", res.UserName, dest.Describe())
		}
		f.message("Nothing was changed.")
	default:
		what := "deactivated"
		if res.StatusBefore == iamx.StatusInactive {
			what = "already Inactive"
		}
		f.message("Contained %s of %s (account %s): %s; sessions issued before %s are refused (policy %s %s), removable after %s.",
			res.AccessKeyID, res.UserName, res.Account, what, textTime(p.RevokesBefore), p.Name, p.Action, textTime(p.RemovableAfter))
	}
	if u := res.Usage; u != nil {
		f.message("Activity: %s", usageSentence(*u))
		for i, e := range u.Flagged {
			if i == 10 {
				f.message("  ... %d more: keyrot usage --access-key-id %s", len(u.Flagged)-10, res.AccessKeyID)
				break
			}
			f.message("  flagged: %s %s in %s from %s (%s)", textTime(e.EventTime), e.EventName, e.Region, e.SourceIP, e.Flag)
		}
	}
	if dest == nil || o.DryRun {
		f.message("Next steps:")
		for _, s := range res.NextSteps {
			f.message("  - %s", s)
		}
	}
}

func (o *containOptions) render(doc containJSON, res contain.Result) error {
	f := o.f
	lastUsed := "never"
	if !res.LastUsed.Date.IsZero() {
		lastUsed = fmt.Sprintf("%s (%s, %s)", textTime(res.LastUsed.Date), dash(res.LastUsed.Service), dash(res.LastUsed.Region))
	}
	activity := "not looked up"
	if res.Usage != nil {
		activity = fmt.Sprintf("%s, %d source %s, %s, %d flagged", iamx.Count(len(res.Usage.Events), "event"),
			len(res.Usage.BySourceIP), plural(len(res.Usage.BySourceIP), "address", "addresses"),
			iamx.Count(len(res.Usage.Sessions), "minted session"), len(res.Usage.Flagged))
	}
	status := string(res.StatusBefore) + " -> " + string(res.StatusAfter)
	if res.DryRun && res.StatusBefore == iamx.StatusActive {
		status = "Active (would be Inactive)"
	}
	rows := [][]string{
		{"ACCESS KEY", res.AccessKeyID},
		{"OWNER", res.UserName + " (" + res.OwnerFoundBy + ")"},
		{"ACCOUNT", res.Account},
		{"STATUS", status},
		{"LAST USED", lastUsed},
		{"SESSION DENY", res.Policy.Name + ": " + res.Policy.Action},
		{"REVOKES BEFORE", textTime(res.Policy.RevokesBefore)},
		{"REMOVABLE AFTER", textTime(res.Policy.RemovableAfter)},
		{"ACTIVITY", activity},
	}
	if doc.Replacement != nil && doc.Replacement.NewKey != nil {
		rows = append(rows, []string{"REPLACEMENT", doc.Replacement.NewKey.AccessKeyID + " in " + doc.Replacement.Destination})
	}
	return f.render(view{JSON: doc, Header: []string{"FIELD", "VALUE"}, Rows: rows})
}
