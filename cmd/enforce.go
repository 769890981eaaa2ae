package cmd

import (
	"context"
	"time"

	"github.com/keyrot/keyrot/iamx"
	"github.com/keyrot/keyrot/rotate"
	"github.com/keyrot/keyrot/rotate/fleet"
	"github.com/spf13/cobra"
)

// enforceOptions are a fleet run with a policy; the rotations it makes
// take the same flags as `keyrot rotate`.
type enforceOptions struct {
	rotateOptions
	Policy fleet.Policy
}

// CIS AWS Foundations defaults: rotate within 90 days, disable credentials
// unused for 45 days.
const (
	defaultMaxAge    = 90 * 24 * time.Hour
	defaultMaxUnused = 45 * 24 * time.Hour
)

func newCmdEnforce(f *Factory, runF func(context.Context, *enforceOptions) error) *cobra.Command {
	opts := &enforceOptions{
		rotateOptions: rotateOptions{f: f, OldKey: string(rotate.Deactivate), Wait: rotate.DefaultWait, PollInterval: rotate.DefaultPollInterval, Successes: rotate.DefaultSuccesses},
		Policy:        fleet.Policy{MaxAge: defaultMaxAge, MaxUnused: defaultMaxUnused},
	}
	opts.Fleet.AllUsers, opts.Fleet.command = true, "enforce"
	c := &cobra.Command{
		Use:   "enforce [--max-age 90d] [--max-unused 45d] [--delete-inactive-after 30d] [--exec CMD | --stdout]",
		Short: "Bring every user's access keys within a key policy",
		Long: `Apply a key policy to every selected IAM user, for cron jobs:

  --max-age               rotate Active keys created longer ago (default 90d);
                          each rotation is a full keyrot rotate: new key
                          handed to --exec or --stdout, verified, old key
                          deactivated (--old-key), rolled back on failure
  --max-unused            deactivate Active keys unused for longer, or never
                          used and older than this (default 45d)
  --delete-inactive-after delete keys Inactive for longer (default off)

The credential report (2-3 API calls for the whole account) picks the users
that may be out of policy; keyrot then reads each such user's live keys and
decides again, so a rerun changes nothing for users already within policy
even while IAM still serves a report from before the first run. A key is
deactivated for non-use only after GetAccessKeyLastUsed confirms it.

IAM does not record when a key became Inactive. keyrot keeps that in a
ledger in the state directory: the time it deactivated a key itself, or the
time a run first saw the key Inactive. A key already Inactive before keyrot
first looked is therefore deleted --delete-inactive-after after that first
look, never earlier than the policy allows.

Guards: the key signing keyrot's requests is never deactivated, deleted or
rotated; a rotation that needs the second key slot deletes an Inactive key
there only with --delete-inactive, and never one keyrot deactivated less
than --delete-inactive-after ago; a user with two Active keys due for
rotation is reported, not guessed at. Such users count as failed.

Users run --concurrency at a time under a client-side limit of --rate IAM
requests per second, with the SDK's adaptive retry mode (10 attempts unless
AWS_RETRY_MODE or AWS_MAX_ATTEMPTS are set), so throttling slows the run
down rather than failing users. --audit-log appends one JSON line per user
and action. When some users fail the others are still done, and keyrot
exits 10 after listing the failures.

--org does all of this in every ACTIVE account of the AWS Organization
(from the management account or a delegated administrator), through
--role-name in each member account and --account-concurrency accounts at a
time, each with its own --rate limit, ledger and journals (under
accounts/ID in the state directory). --secret-id and --ssm-parameter name
secrets in each user's own account; --exec gets KEYROT_ACCOUNT_ID and
KEYROT_ACCOUNT_NAME. An account keyrot cannot work in (AssumeRole denied,
say) is reported and the others are done: exit 10.` + exitHelp(rotateCodes...),
		Example: `  # What would the CIS policy change? Nothing is changed.
  keyrot enforce --dry-run

  # Nightly: rotate keys older than 90 days into a secrets store, disable
  # keys unused for 45 days, delete keys Inactive for 30 days
  keyrot enforce --delete-inactive-after 30d --exec './store-secret.sh' \
    --audit-log /var/log/keyrot/audit.jsonl

  # Every account of the organization, nightly
  keyrot enforce --org --secret-id 'ci/{user}/aws' --audit-log /var/log/keyrot/audit.jsonl

  # Only deactivate and delete, never rotate
  keyrot enforce --max-age 0 --delete-inactive-after 30d --path /contractors/`,
		Args: noArgs,
		RunE: func(c *cobra.Command, args []string) error {
			if err := opts.validate(c); err != nil {
				return err
			}
			if runF != nil {
				return runF(c.Context(), opts)
			}
			return runEnforce(f.interruptible(c.Context()), opts)
		},
	}
	fl := c.Flags()
	fl.Var(ageValue{&opts.Policy.MaxAge}, "max-age", "rotate Active keys older than this (0: never)")
	fl.Var(ageValue{&opts.Policy.MaxUnused}, "max-unused", "deactivate Active keys unused for longer than this (0: never)")
	fl.Var(ageValue{&opts.Policy.DeleteInactiveAfter}, "delete-inactive-after", "delete keys Inactive for longer than this (0: never)")
	addRotationFlags(c, &opts.rotateOptions)
	addFleetRunFlags(fl, &opts.Fleet)
	return c
}

// addRotationFlags are rotate's flags that shape each rotation of a fleet run.
func addRotationFlags(c *cobra.Command, o *rotateOptions) {
	fl := c.Flags()
	fl.StringVar(&o.OldKey, "old-key", o.OldKey, "what to do with a rotated key once the new one works: deactivate, keep or delete")
	fl.BoolVar(&o.DeleteInactive, "delete-inactive", false, "let a rotation delete the Inactive key that holds a user's second slot")
	fl.BoolVar(&o.DryRun, "dry-run", false, "print the plan and change nothing")
	fl.BoolVar(&o.Stdout, "stdout", false, "print each new key once, as one JSON line, on stdout")
	fl.StringVar(&o.Exec, "exec", "", "command (sh -c) that receives each new key in its environment, with KEYROT_USER")
	fl.StringVar(&o.SecretID, "secret-id", "", "AWS Secrets Manager secret of each user, a name with {user} (and {account}) such as 'ci/{user}/aws', that receives the new key as JSON; created if missing")
	fl.StringVar(&o.Parameter, "ssm-parameter", "", "SSM Parameter Store SecureString of each user, a name with {user} (and {account}) such as '/ci/{user}/aws', that receives the new key as JSON; created if missing")
	fl.StringVar(&o.KMSKeyID, "kms-key-id", "", "with --secret-id or --ssm-parameter: KMS key that encrypts what keyrot creates (default aws/secretsmanager, alias/aws/ssm)")
	addGitHubFlags(c, o)
	fl.BoolVar(&o.NoVerify, "no-verify", false, "skip verifying new keys with STS")
	fl.DurationVar(&o.Wait, "wait", o.Wait, "how long to wait for a new key to work (IAM propagation)")
	fl.DurationVar(&o.PollInterval, "verify-interval", o.PollInterval, "time between verification calls")
	fl.IntVar(&o.Successes, "verify-successes", o.Successes, "consecutive successful STS calls that count as verified")
	fl.StringVar(&o.MFASerial, "mfa-serial", "", "MFA device ARN, for policies that require MFA to manage keys")
	fl.StringVar(&o.MFAToken, "mfa-token", "", "current MFA code (with --mfa-serial)")
	fl.StringVar(&o.StateDir, "state-dir", "", "where journals, locks and the Inactive-key ledger live (default $XDG_STATE_HOME/keyrot or ~/.local/state/keyrot)")
}

func (o *enforceOptions) validate(c *cobra.Command) error {
	if o.Policy == (fleet.Policy{}) {
		return usageErrorf("every rule is off (--max-age 0, --max-unused 0, no --delete-inactive-after): nothing to enforce")
	}
	if err := o.rotateOptions.validate(c); err != nil {
		return err
	}
	if o.Policy.MaxAge > 0 && !o.DryRun && !o.Stdout && o.Exec == "" && o.SecretID == "" && o.Parameter == "" && o.GitHubRepo == "" && o.GitHubOrg == "" {
		return usageErrorf("enforce rotates keys older than --max-age %s: choose where the new secrets go with --secret-id 'NAME/{user}', --exec CMD or --stdout (or pass --max-age 0 to only deactivate and delete)", formatAge(o.Policy.MaxAge))
	}
	return nil
}

func runEnforce(ctx context.Context, opts *enforceOptions) error {
	p := opts.Policy
	return runFleet(ctx, &opts.rotateOptions, func(ctx context.Context, j *fleet.Job, r iamx.Report, sel fleet.Selector) (fleet.Summary, error) {
		return j.Enforce(ctx, r, sel, p)
	})
}
