package cmd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/keyrot/keyrot/iamx"
	"github.com/keyrot/keyrot/rotate"
	"github.com/keyrot/keyrot/rotate/credfile"
	"github.com/spf13/cobra"
)

type rotateOptions struct {
	f *Factory

	User           string
	OldKeyID       string
	OldKey         string
	DeleteInactive bool
	Force          bool
	DryRun         bool

	CredentialsFile string
	ProfileName     string
	SecretID        string
	Parameter       string
	KMSKeyID        string
	Stdout          bool
	Exec            string

	GitHubRepo        string
	GitHubEnvironment string
	GitHubOrg         string
	GitHubVisibility  string
	GitHubNames       string

	NoVerify     bool
	Wait         time.Duration
	PollInterval time.Duration
	Successes    int

	MFASerial string
	MFAToken  string
	StateDir  string

	// Fleet holds the --all-users selection; see rotate_all.go.
	Fleet fleetOptions

	// stopWait clears the spinner of the step in flight.
	stopWait func()
}

func newCmdRotate(f *Factory, runF func(context.Context, *rotateOptions) error) *cobra.Command {
	opts := &rotateOptions{f: f, OldKey: string(rotate.Deactivate), Wait: rotate.DefaultWait, PollInterval: rotate.DefaultPollInterval, Successes: rotate.DefaultSuccesses}
	c := &cobra.Command{
		Use:   "rotate [--user NAME] [--access-key-id OLD] [destination]",
		Short: "Replace an access key with a new one, without locking anyone out",
		Long: `Rotate an access key: create a new key, hand its secret over, verify that
it works, then deactivate (or keep, or delete) the old key.

A user with no Active key (after keyrot deactivate or keyrot contain) gets a
replacement: a new key, created, delivered and verified the same way, while
the Inactive keys stay Inactive (--old-key delete deletes the one replaced).
With two Inactive keys, name the one to replace with --access-key-id; with
--delete-inactive it is deleted first to make room. Nothing ever reactivates
a key that was Inactive before the rotation, not a rollback either.

Steps: inspect the keys; make room (IAM allows two keys: --delete-inactive
deletes an Inactive second key, otherwise keyrot stops before any change);
create the new key; hand the secret to its destination; verify it with STS
GetCallerIdentity signed by the new key until it answers 3 times in a row
(IAM is eventually consistent; up to --wait); then apply --old-key.

Destinations for the new secret (one or several; revertible ones first,
GitHub last):
  --profile-name NAME   write it into that profile of the shared credentials
                        file (--credentials-file; atomic, mode 0600, every other
                        line kept, a timestamped backup kept)
  --secret-id NAME|ARN  AWS Secrets Manager, as JSON {AccessKeyId,
                        SecretAccessKey}; other fields kept, created if missing
  --ssm-parameter NAME  SSM Parameter Store SecureString, the same JSON
  --github-secret OWNER/REPO, --github-org ORG
                        GitHub Actions secrets AWS_ACCESS_KEY_ID and
                        AWS_SECRET_ACCESS_KEY (--github-secret-names), sealed
                        for the repository, --github-environment or
                        organization; token from GH_TOKEN or GITHUB_TOKEN
  --stdout              print it once as a JSON object
  --exec CMD            run CMD through sh -c with AWS_ACCESS_KEY_ID,
                        AWS_SECRET_ACCESS_KEY, KEYROT_USER and
                        KEYROT_OLD_ACCESS_KEY_ID in its environment (never on
                        its command line); continue only if it exits 0
When you rotate your own key with credentials from the shared credentials
file, the default is the profile in use.

Any failure after the new key exists rolls back: the old key is active again,
the new key is deleted, every destination put back (exit 8). If the
rollback fails too, keyrot prints the commands that finish it (exit 9).
GitHub secrets cannot be undone: once they may hold the new key, no key is
deleted; both stay Active and keyrot prints how to finish or go back (exit 9). A
journal in the state directory lets a later run finish or undo a rotation
that a crash interrupted. One rotation per user runs at a time.

--all-users rotates every selected user's key (fleet mode: --older-than,
--path, --users-from, --exclude, --concurrency, --rate); with --org, in every
ACTIVE account of the AWS Organization, as keyrot enforce --org does.` + exitHelp(rotateCodes...),
		Example: `  # Rotate your own key in ~/.aws/credentials (the profile in use)
  keyrot rotate

  # Rotate a service user's key and hand it to a deploy script
  keyrot rotate --user ci-bot --exec './update-ci-secret.sh'

  # Rotate into a named profile, deleting an old Inactive key to make room
  keyrot rotate --user Bob --profile-name bob --delete-inactive

  # Every service user's key older than 90 days, in every account of the organization
  keyrot rotate --all-users --org --older-than 90d --secret-id 'ci/{user}/aws'

  # See the plan first
  keyrot rotate --user Bob --stdout --dry-run`,
		Args: noArgs,
		RunE: func(c *cobra.Command, args []string) error {
			if err := opts.validate(c); err != nil {
				return err
			}
			if runF != nil {
				return runF(c.Context(), opts)
			}
			if opts.Fleet.AllUsers {
				return runRotateAll(opts.f.interruptible(c.Context()), opts)
			}
			return runRotate(opts.f.interruptible(c.Context()), opts)
		},
	}
	fl := c.Flags()
	addUserFlag(c, &opts.User, "user whose key to rotate")
	addKeyFlag(c, &opts.OldKeyID, "the key to replace (default: the user's only key, or the key signing the request)")
	fl.StringVar(&opts.OldKey, "old-key", opts.OldKey, "what to do with the old key once the new one works: deactivate, keep or delete")
	fl.BoolVar(&opts.DeleteInactive, "delete-inactive", false, "when the user already has two keys, delete the Inactive one to make room")
	fl.BoolVar(&opts.Force, "force", false, "allow deactivating the signing key without verifying the new one")
	fl.BoolVar(&opts.DryRun, "dry-run", false, "print the plan and change nothing")
	addDestinationFlags(c, opts)
	fl.StringVar(&opts.MFASerial, "mfa-serial", "", "MFA device ARN, for policies that require MFA to manage keys")
	fl.StringVar(&opts.MFAToken, "mfa-token", "", "current MFA code (with --mfa-serial)")
	fl.StringVar(&opts.StateDir, "state-dir", "", "where journals, locks and (with --all-users) the Inactive-key ledger live (default $XDG_STATE_HOME/keyrot or ~/.local/state/keyrot)")
	addFleetFlags(c, &opts.Fleet)
	return c
}

// addDestinationFlags are the flags that choose where a new secret goes
// and how it is verified: rotate's, and contain's for its replacement.
func addDestinationFlags(c *cobra.Command, opts *rotateOptions) {
	fl := c.Flags()
	fl.StringVar(&opts.CredentialsFile, "credentials-file", "", "shared credentials file to update (default: AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials)")
	fl.StringVar(&opts.ProfileName, "profile-name", "", "profile in the credentials file that receives the new key")
	fl.BoolVar(&opts.Stdout, "stdout", false, "print the new key once, as JSON, on stdout")
	fl.StringVar(&opts.Exec, "exec", "", "command (sh -c) that receives the new key in its environment")
	fl.StringVar(&opts.SecretID, "secret-id", "", "AWS Secrets Manager secret (name or ARN; {user} and {account} are filled in) that receives the new key as JSON {AccessKeyId, SecretAccessKey}; created if missing")
	fl.StringVar(&opts.Parameter, "ssm-parameter", "", "SSM Parameter Store SecureString ({user} and {account} are filled in) that receives the new key as the same JSON; created if missing")
	fl.StringVar(&opts.KMSKeyID, "kms-key-id", "", "with --secret-id or --ssm-parameter: KMS key that encrypts a secret or parameter keyrot creates (default aws/secretsmanager, alias/aws/ssm)")
	addGitHubFlags(c, opts)
	fl.BoolVar(&opts.NoVerify, "no-verify", false, "skip verifying the new key with STS")
	fl.DurationVar(&opts.Wait, "wait", opts.Wait, "how long to wait for the new key to work (IAM propagation)")
	fl.DurationVar(&opts.PollInterval, "verify-interval", opts.PollInterval, "time between verification calls")
	fl.IntVar(&opts.Successes, "verify-successes", opts.Successes, "consecutive successful STS calls that count as verified")
}

// addGitHubFlags are the GitHub Actions secrets destination's flags.
func addGitHubFlags(c *cobra.Command, opts *rotateOptions) {
	fl := c.Flags()
	fl.StringVar(&opts.GitHubRepo, "github-secret", "", "GitHub repository OWNER/REPO whose Actions secrets receive the new key (token from GH_TOKEN or GITHUB_TOKEN; API from GITHUB_API_URL)")
	fl.StringVar(&opts.GitHubEnvironment, "github-environment", "", "with --github-secret: write the secrets of this deployment environment instead of the repository's")
	fl.StringVar(&opts.GitHubOrg, "github-org", "", "GitHub organization whose Actions secrets receive the new key")
	fl.StringVar(&opts.GitHubVisibility, "github-visibility", "", "with --github-org: which repositories see the secrets: all, private or selected (default: an existing secret's, with its selected repositories; private for a new one)")
	fl.StringVar(&opts.GitHubNames, "github-secret-names", "", "names of the two GitHub secrets, ID,SECRET (default AWS_ACCESS_KEY_ID,AWS_SECRET_ACCESS_KEY)")
}

// hasDestination reports whether a destination flag was given.
func (o *rotateOptions) hasDestination() bool {
	return o.ProfileName != "" || o.CredentialsFile != "" || o.hasOther()
}

// hasOther reports whether a destination other than a credentials file
// was given.
func (o *rotateOptions) hasOther() bool {
	return o.Stdout || o.Exec != "" || o.SecretID != "" || o.Parameter != "" || o.GitHubRepo != "" || o.GitHubOrg != ""
}

// githubDestinations are the GitHub destinations the flags name; with a
// user, {user} and {account} are filled in (rotate.GitHubSecrets.ForUser).
func (o *rotateOptions) githubDestinations(api rotate.GitHubAPI, user, account string) []rotate.Destination {
	idName, secretName, _ := strings.Cut(o.GitHubNames, ",")
	var ds []rotate.Destination
	if o.GitHubRepo != "" {
		ds = append(ds, rotate.GitHubSecrets{API: api, Repo: o.GitHubRepo, Environment: o.GitHubEnvironment, IDName: idName, SecretName: secretName})
	}
	if o.GitHubOrg != "" {
		ds = append(ds, rotate.GitHubSecrets{API: api, Org: o.GitHubOrg, Visibility: o.GitHubVisibility, IDName: idName, SecretName: secretName})
	}
	if user != "" {
		for i, d := range ds {
			ds[i] = d.(rotate.GitHubSecrets).ForUser(user, account)
		}
	}
	return ds
}

// validateGitHub checks the GitHub flags, templates filled in as one
// user's name would fill them.
func (o *rotateOptions) validateGitHub() error {
	switch {
	case o.GitHubEnvironment != "" && o.GitHubRepo == "":
		return usageErrorf("--github-environment goes with --github-secret OWNER/REPO, the repository the environment belongs to")
	case o.GitHubVisibility != "" && o.GitHubOrg == "":
		return usageErrorf("--github-visibility goes with --github-org ORG: repository and environment secrets have no visibility")
	case o.GitHubNames != "" && o.GitHubRepo == "" && o.GitHubOrg == "":
		return usageErrorf("--github-secret-names goes with --github-secret or --github-org")
	case o.GitHubNames != "" && strings.Count(o.GitHubNames, ",") != 1:
		return usageErrorf("invalid --github-secret-names %q: give two names, ID,SECRET, such as AWS_ACCESS_KEY_ID,AWS_SECRET_ACCESS_KEY", o.GitHubNames)
	}
	for _, d := range o.githubDestinations(nil, "user", "123456789012") {
		if err := d.(rotate.GitHubSecrets).Check(); err != nil {
			return usageErrorf("%v", err)
		}
	}
	return nil
}

// validateDestination checks the destination and verification flags.
// Several destinations may be given at once: the key goes to each.
func (o *rotateOptions) validateDestination() error {
	if o.KMSKeyID != "" && o.SecretID == "" && o.Parameter == "" {
		return usageErrorf("--kms-key-id goes with --secret-id or --ssm-parameter")
	}
	if o.Parameter != "" {
		if err := iamx.ValidateParameterName("--ssm-parameter", rotate.ExpandName(o.Parameter, "user", "123456789012")); err != nil {
			return usageErrorf("%v", err)
		}
	}
	if o.SecretID != "" {
		// A template is checked as one user's name would fill it.
		if err := iamx.ValidateSecretID("--secret-id", rotate.ExpandName(o.SecretID, "user", "123456789012")); err != nil {
			return usageErrorf("%v", err)
		}
	}
	if err := o.validateGitHub(); err != nil {
		return err
	}
	if o.CredentialsFile != "" && o.ProfileName == "" && o.hasOther() {
		return usageErrorf("--credentials-file goes with --profile-name, which names the profile that receives the key")
	}
	if o.Stdout && o.f.Global.Output == "json" && !o.DryRun {
		return usageErrorf("--stdout prints the new key as JSON on stdout; the result goes to stderr, so leave out --output json")
	}
	if o.Wait <= 0 && !o.NoVerify {
		return usageErrorf("invalid --wait %s: must be positive (or use --no-verify)", o.Wait)
	}
	if o.PollInterval < 100*time.Millisecond || o.PollInterval > time.Minute {
		return usageErrorf("invalid --verify-interval %s: use 100ms to 1m", o.PollInterval)
	}
	if o.Successes < 1 || o.Successes > 20 {
		return usageErrorf("invalid --verify-successes %d: use 1 to 20", o.Successes)
	}
	if o.ProfileName != "" && strings.ContainsAny(o.ProfileName, "[]\r\n") {
		return usageErrorf("invalid --profile-name %q: no brackets or line breaks", o.ProfileName)
	}
	return nil
}

func (o *rotateOptions) validate(c *cobra.Command) error {
	if err := validateTarget(o.User, o.OldKeyID); err != nil {
		return err
	}
	p, err := rotate.ParseOldKeyPolicy(o.OldKey)
	if err != nil {
		return err
	}
	o.OldKey = string(p)
	if err := o.validateDestination(); err != nil {
		return err
	}
	if (o.MFASerial == "") != (o.MFAToken == "") {
		return usageErrorf("--mfa-serial and --mfa-token go together")
	}
	if o.MFAToken != "" && (len(o.MFAToken) != 6 || strings.Trim(o.MFAToken, "0123456789") != "") {
		return usageErrorf("invalid --mfa-token %q: an MFA code is 6 digits", o.MFAToken)
	}
	return o.Fleet.validate(c, o)
}

// rotationSession is a client ready to rotate: MFA session applied, the
// signer known and the caller resolved when --user was omitted.
type rotationSession struct {
	client *iamx.Client
	signer iamx.Signer
	caller iamx.Identity
	// profileSigner is set when the signing key came from the shared
	// credentials file: the profile a self-rotation updates by default.
	profileSigner bool
}

// mfaSession swaps c's credentials for an MFA session (STS
// GetSessionToken) when --mfa-serial is given; otherwise it returns c.
func (o *rotateOptions) mfaSession(ctx context.Context, c *iamx.Client) (*iamx.Client, error) {
	if o.MFASerial == "" {
		return c, nil
	}
	creds, err := c.SessionToken(ctx, o.MFASerial, o.MFAToken, 0)
	if err != nil {
		return nil, fmt.Errorf("get an MFA session (STS GetSessionToken) for %s: %w", o.MFASerial, err)
	}
	return c.WithCredentials(credentials.StaticCredentialsProvider{Value: creds}), nil
}

func (o *rotateOptions) openSession(ctx context.Context) (*rotationSession, error) {
	c, err := o.f.Client(ctx)
	if err != nil {
		return nil, err
	}
	if c, err = o.mfaSession(ctx, c); err != nil {
		return nil, err
	}
	s, err := c.Signer(ctx)
	if err != nil {
		return nil, err
	}
	rs := &rotationSession{client: c, signer: s, profileSigner: strings.HasPrefix(s.Source, "SharedConfigCredentials")}
	// With --user, self-rotation is recognised by the signing key being
	// one of U's keys, so STS is only asked when the user is implicit.
	if o.User == "" {
		if s.Temporary && o.MFASerial == "" {
			return nil, usageErrorf("the credentials in use are temporary (a session token or an ASIA key), so IAM cannot tell whose key to rotate: pass --user NAME")
		}
		id, err := c.CallerIdentity(ctx)
		if err != nil {
			return nil, fmt.Errorf("identify the caller (STS GetCallerIdentity): %w", err)
		}
		if id.AssumedRole {
			return nil, usageErrorf("the caller %s is a role session, which has no access keys: pass --user NAME", id.ARN)
		}
		rs.caller = id
	} else if strings.Contains(o.SecretID+o.Parameter+o.GitHubRepo+o.GitHubEnvironment+o.GitHubOrg+o.GitHubNames, "{account}") {
		// The account fills the destination's name.
		id, err := c.CallerIdentity(ctx)
		if err != nil {
			return nil, fmt.Errorf("identify the account for {account} in --secret-id (STS GetCallerIdentity): %w", err)
		}
		rs.caller.Account = id.Account
	}
	return rs, nil
}

// destination picks where the secret goes.
func (o *rotateOptions) destination(rs *rotationSession, user string) (rotate.Destination, error) {
	f := o.f
	// Names take the user now when it is known; otherwise rotate.Run fills
	// in the user it finds (contain).
	name := func(tmpl string) string {
		if user == "" {
			return tmpl
		}
		return rotate.ExpandName(tmpl, user, rs.caller.Account)
	}
	var ds rotate.Destinations
	if o.ProfileName != "" || o.CredentialsFile != "" || !o.hasDestination() {
		cf, err := o.credentialsFile(rs, user)
		if err != nil {
			return nil, err
		}
		ds = append(ds, cf)
	}
	if o.SecretID != "" {
		ds = append(ds, rotate.SecretsManager{Store: rs.client, SecretID: name(o.SecretID), KMSKeyID: o.KMSKeyID})
	}
	if o.Parameter != "" {
		ds = append(ds, rotate.SSMParameter{Store: rs.client, Name: name(o.Parameter), KMSKeyID: o.KMSKeyID})
	}
	if o.Exec != "" {
		ds = append(ds, rotate.Exec{Command: o.Exec, Stdout: f.IO.ErrOut, Stderr: f.IO.ErrOut})
	}
	if o.Stdout {
		ds = append(ds, rotate.Stdout{W: f.IO.Out})
	}
	ds = append(ds, o.githubDestinations(o.githubAPI(), user, rs.caller.Account)...)
	if len(ds) == 1 {
		return ds[0], nil
	}
	return ds, nil
}

// credentialsFile is the --profile-name destination, or the profile in use
// for a self-rotation that names no destination.
func (o *rotateOptions) credentialsFile(rs *rotationSession, user string) (rotate.Destination, error) {
	f := o.f
	path := o.CredentialsFile
	if path == "" {
		p, err := credfile.Path()
		if err != nil {
			return nil, err
		}
		path = p
	}
	profile := o.ProfileName
	if profile == "" {
		self := o.User == "" || user == rs.caller.User
		if !self || !rs.profileSigner {
			return nil, usageErrorf("choose where the new secret for %s goes: --profile-name NAME (the shared credentials file), --secret-id, --ssm-parameter, --stdout, or --exec CMD", user)
		}
		profile = profileInUse(f)
	}
	// A file keyrot cannot parse is found now, before a key is created.
	if _, err := credfile.ReadProfile(path, profile); errors.Is(err, credfile.ErrSyntax) {
		return nil, withHint(usageErrorf("cannot use the credentials file: %v", err), "fix that line, or send the new key elsewhere with --profile-name and --credentials-file, --secret-id, --ssm-parameter, --stdout or --exec")
	}
	return rotate.CredentialsFile{Path: path, Profile: profile, Now: f.Now}, nil
}

// profileInUse is the profile the SDK read: --profile, AWS_PROFILE, or default.
func profileInUse(f *Factory) string {
	if f.Global.Profile != "" {
		return f.Global.Profile
	}
	if p := os.Getenv("AWS_PROFILE"); p != "" {
		return p
	}
	return "default"
}

// rotateJSON is the result document; it never holds a secret.
type rotateJSON struct {
	UserName    string
	DryRun      bool
	NothingToDo bool   `json:",omitempty"`
	Reason      string `json:",omitempty"`
	// Replacement: the user had no Active key; OldKey stays Inactive.
	Replacement   bool `json:",omitempty"`
	Plan          []string
	NewKey        *keyJSONShort `json:",omitempty"`
	OldKey        *keyJSONShort `json:",omitempty"`
	OldKeyDeleted bool
	// OldKeyDeleteError: a replacement could not delete the key it
	// replaced (--old-key delete); that key stays Inactive.
	OldKeyDeleteError string `json:",omitempty"`
	Deleted           string `json:"DeletedInactiveKey,omitempty"`
	Destination       string
	Verified          bool
	VerifyCalls       int
	Recovered         *rotate.Recovery `json:",omitempty"`
	Steps             []stepJSON
	DurationMs        int64
}

type keyJSONShort struct {
	AccessKeyID string `json:"AccessKeyId"`
	Status      iamx.Status
	CreateDate  *string
}

type stepJSON struct {
	Step       string
	DurationMs int64
	Error      string `json:",omitempty"`
}

func (o *rotateOptions) options(rs *rotationSession, dest rotate.Destination) rotate.Options {
	f := o.f
	return rotate.Options{
		User:           o.User,
		Caller:         rs.caller,
		Signer:         rs.signer,
		OldKeyID:       o.OldKeyID,
		OldKey:         rotate.OldKeyPolicy(o.OldKey),
		DeleteInactive: o.DeleteInactive,
		Force:          o.Force,
		Destination:    dest,
		Secrets:        rs.client,
		Parameters:     rs.client,
		GitHub:         o.githubAPI(),
		Verify:         !o.NoVerify,
		Wait:           o.Wait,
		PollInterval:   o.PollInterval,
		Successes:      o.Successes,
		ClientFor: func(id string, secret iamx.Secret) rotate.Keys {
			return rs.client.WithCredentials(credentials.NewStaticCredentialsProvider(id, secret.Reveal(), ""))
		},
		Now:      f.Now,
		OnStep:   o.onStep,
		StateDir: o.StateDir,
		DryRun:   o.DryRun,
	}
}

// githubAPI is the GitHub client, nil when the factory has none (tests).
func (o *rotateOptions) githubAPI() rotate.GitHubAPI { return githubAPI(o.f) }

func githubAPI(f *Factory) rotate.GitHubAPI {
	if f.GitHub == nil {
		return nil
	}
	return f.GitHub()
}

func (o *rotateOptions) onStep(s rotate.Step) {
	if !s.Done {
		o.stopWait = o.f.waiting(fmt.Sprintf("  %-9s %s", s.Name, s.Detail))
		return
	}
	if o.stopWait != nil {
		o.stopWait()
		o.stopWait = nil
	}
	switch {
	case s.Err != nil:
		o.f.message("  %-9s failed after %s: %v", s.Name, s.Elapsed.Round(time.Millisecond), s.Err)
	case s.Detail != "":
		o.f.message("  %-9s %s (%s)", s.Name, s.Detail, s.Elapsed.Round(time.Millisecond))
	default:
		o.f.message("  %-9s done (%s)", s.Name, s.Elapsed.Round(time.Millisecond))
	}
}

func runRotate(ctx context.Context, opts *rotateOptions) error {
	rs, err := opts.openSession(ctx)
	if err != nil {
		return err
	}
	user := opts.User
	if user == "" {
		user = rs.caller.Name()
	}
	var dest rotate.Destination
	d, destErr := opts.destination(rs, user)
	if destErr == nil {
		dest = d
	} else if !opts.DryRun {
		return destErr
	}
	ro := opts.options(rs, dest)
	if opts.DryRun {
		if dest == nil {
			ro.Destination = nil
		}
		plan, err := rotate.Plan(ctx, rs.client, ro)
		if err != nil {
			return rotateError(err, user)
		}
		if err := opts.reportPlan(plan, dest); err != nil {
			return err
		}
		if !plan.NothingToDo {
			// The plan is shown; the real run would stop here, so the dry
			// run exits as it would.
			return destErr
		}
		return nil
	}
	opts.f.message("Rotating the access key of %s; the new secret goes to %s.", user, dest.Describe())
	res, err := rotate.Run(ctx, rs.client, ro)
	if err != nil {
		return rotateError(err, user)
	}
	return opts.reportResult(res)
}

func (o *rotateOptions) reportPlan(p rotate.RotationPlan, dest rotate.Destination) error {
	f := o.f
	where := "(no destination chosen: add --profile-name, --stdout or --exec)"
	if dest != nil {
		where = dest.Describe()
	}
	if p.NothingToDo {
		f.message("dry run: nothing to rotate: %s", p.Reason)
	} else {
		f.message("dry run: the rotation of %s would:", p.User)
		for i, a := range p.Actions {
			f.message("  %d. %s", i+1, a)
		}
		f.message("The new secret would go to %s. Nothing was changed.", where)
	}
	doc := rotateJSON{UserName: p.User, DryRun: true, NothingToDo: p.NothingToDo, Reason: p.Reason, Replacement: p.Replacement, Plan: p.Actions, Destination: where, Steps: []stepJSON{}}
	if doc.Plan == nil {
		doc.Plan = []string{}
	}
	if p.OldKey.ID != "" {
		doc.OldKey = &keyJSONShort{AccessKeyID: p.OldKey.ID, Status: p.OldKey.Status, CreateDate: jsonTime(p.OldKey.Created)}
	}
	if o.f.outputFormat() != "json" && o.f.Global.Query == "" {
		return nil
	}
	return f.render(view{JSON: doc})
}

func (o *rotateOptions) reportResult(r rotate.Result) error {
	doc := o.resultJSON(r)
	if o.Stdout {
		// stdout carried the secret; the result stays on stderr.
		return nil
	}
	oldID, oldStatus := "", ""
	if doc.OldKey != nil {
		oldID, oldStatus = doc.OldKey.AccessKeyID, string(doc.OldKey.Status)
		if r.OldKeyDeleted {
			oldStatus = "Deleted"
		}
	}
	newID := ""
	if doc.NewKey != nil {
		newID = doc.NewKey.AccessKeyID
	}
	var rows [][]string
	if !r.NothingToDo {
		rows = [][]string{{r.User, newID, oldID, oldStatus, r.Destination}}
	}
	return o.f.render(view{JSON: doc, Header: []string{"USER", "NEW KEY", "OLD KEY", "OLD KEY STATUS", "DESTINATION"}, Rows: rows})
}

// resultJSON is the result document; it also prints the result's
// messages on stderr.
func (o *rotateOptions) resultJSON(r rotate.Result) rotateJSON {
	f := o.f
	doc := rotateJSON{
		UserName: r.User, NothingToDo: r.NothingToDo, Reason: r.Reason, Replacement: r.Replacement, Plan: []string{},
		OldKeyDeleted: r.OldKeyDeleted, OldKeyDeleteError: r.OldKeyError, Deleted: r.DeletedInactive, Destination: r.Destination,
		Verified: r.Verified, VerifyCalls: r.VerifyCalls, Recovered: r.Recovered, DurationMs: r.Duration.Milliseconds(),
		Steps: make([]stepJSON, 0, len(r.Steps)),
	}
	if r.Recovered != nil {
		f.message("Found an unfinished rotation of %s (new key %s, stopped at %s): %s. %s", r.User, r.Recovered.NewKeyID, r.Recovered.Step, r.Recovered.Action, r.Recovered.Detail)
	}
	for _, s := range r.Steps {
		doc.Steps = append(doc.Steps, stepJSON{Step: s.Step, DurationMs: s.Duration.Milliseconds(), Error: s.Err})
	}
	if r.NewKey.ID != "" {
		doc.NewKey = &keyJSONShort{AccessKeyID: r.NewKey.ID, Status: r.NewKey.Status, CreateDate: jsonTime(r.NewKey.Created)}
	}
	if r.OldKey.ID != "" {
		doc.OldKey = &keyJSONShort{AccessKeyID: r.OldKey.ID, Status: r.OldKey.Status, CreateDate: jsonTime(r.OldKey.Created)}
	}
	switch {
	case r.NothingToDo:
		f.message("Nothing to rotate: %s", r.Reason)
	case r.NewKey.ID != "":
		old := fmt.Sprintf("%s is now %s", r.OldKey.ID, r.OldKey.Status)
		if r.OldKeyDeleted {
			old = r.OldKey.ID + " was deleted"
		}
		verified := "not verified (--no-verify)"
		if r.Verified {
			verified = "verified with " + iamx.Count(r.VerifyCalls, "STS call")
		}
		verb := "Rotated"
		if r.Replacement {
			verb = "Issued a replacement for"
			if !r.OldKeyDeleted {
				old = r.OldKey.ID + " stays Inactive"
			}
		}
		f.message("%s %s: new key %s in %s, %s; %s. Took %s.", verb, r.User, r.NewKey.ID, r.Destination, verified, old, r.Duration.Round(time.Millisecond))
		if r.OldKeyError != "" {
			f.message("warning: the replaced key %s could not be deleted (%s); it stays Inactive: aws iam delete-access-key --user-name %s --access-key-id %s",
				r.OldKey.ID, r.OldKeyError, r.User, r.OldKey.ID)
		}
		if r.OldKey.Status == iamx.StatusInactive && !r.OldKeyDeleted && !r.Replacement {
			f.message("To undo: keyrot rollback --user %s", r.User)
		}
	}
	return doc
}

// rotateError adds the next step to a rotation failure.
func rotateError(err error, user string) error {
	var lim *rotate.KeyLimitError
	var locked *rotate.LockedError
	switch {
	case errors.As(err, &lim):
		return withHint(err, "run `keyrot list --user %s`; pass --delete-inactive to delete an Inactive key, or deactivate one of the Active keys first", user)
	case errors.As(err, &locked):
		return withHint(err, "wait for that rotation to finish; if its process is gone, run the command again once its lock is released")
	case errors.Is(err, rotate.ErrRollbackFailed):
		return err
	case errors.Is(err, rotate.ErrRolledBack):
		return withHint(err, "nothing changed for %s; fix the cause above and run the rotation again", user)
	case errors.Is(err, rotate.ErrLockout):
		return withHint(err, "drop --no-verify, or pass --force if you accept the risk")
	}
	return err
}
