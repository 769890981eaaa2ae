package cmd

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/keyrot/keyrot/iamx"
	"github.com/keyrot/keyrot/rotate"
	"github.com/keyrot/keyrot/rotate/fleet"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// fleetOptions select the users of `keyrot rotate --all-users` and
// `keyrot enforce`, and say how hard to drive IAM.
type fleetOptions struct {
	AllUsers  bool
	OlderThan time.Duration

	UsersFrom string
	Path      string
	Exclude   []string

	Concurrency int
	Rate        float64
	AuditLog    string

	// users is the parsed --users-from list; nil without the flag.
	users []string
	// command labels audit records: "rotate" or "enforce".
	command string
}

// fleetRetryAttempts is the SDK's attempt budget in fleet runs, unless
// AWS_MAX_ATTEMPTS says otherwise: throttling should slow a run down, not
// fail users.
const fleetRetryAttempts = 10

func addFleetFlags(c *cobra.Command, o *fleetOptions) {
	fl := c.Flags()
	fl.BoolVar(&o.AllUsers, "all-users", false, "rotate the key of every selected user (fleet mode; see --older-than, --path, --users-from, --exclude)")
	fl.Var(ageValue{&o.OlderThan}, "older-than", "with --all-users: rotate only Active keys older than this (90d, 2w, 36h; default: every Active key)")
	addFleetRunFlags(fl, o)
	o.command = "rotate"
}

// addFleetRunFlags are the flags rotate --all-users and enforce share.
func addFleetRunFlags(fl *pflag.FlagSet, o *fleetOptions) {
	fl.StringVar(&o.UsersFrom, "users-from", "", "only these users: a file with one user name per line, # starts a comment (- for stdin)")
	fl.StringVar(&o.Path, "path", "", "only users under this IAM path prefix, like /team-a/")
	fl.StringArrayVar(&o.Exclude, "exclude", nil, "never touch this user (repeatable)")
	fl.IntVar(&o.Concurrency, "concurrency", fleet.DefaultConcurrency, "users worked on at once")
	fl.Float64Var(&o.Rate, "rate", fleet.DefaultRate, "IAM requests per second, at most (client-side limit; the SDK's adaptive retry slows down further when IAM throttles)")
	fl.StringVar(&o.AuditLog, "audit-log", "", "append one JSON line per user and action to this file (created mode 0600; never holds a secret)")
}

// fleetOnly are the flags that make sense only in fleet mode.
var fleetOnly = []string{"older-than", "users-from", "path", "exclude", "concurrency", "rate", "audit-log"}

func (o *fleetOptions) validate(c *cobra.Command, r *rotateOptions) error {
	if !o.AllUsers && o.command == "rotate" {
		for _, name := range fleetOnly {
			if fl := c.Flags().Lookup(name); fl != nil && fl.Changed {
				return usageErrorf("--%s goes with --all-users", name)
			}
		}
		return nil
	}
	if o.command == "rotate" {
		if r.User != "" {
			return usageErrorf("--user and --all-users exclude each other: --all-users picks the users (narrow it with --path, --users-from or --exclude)")
		}
		if r.OldKeyID != "" {
			return usageErrorf("--access-key-id names one key; with --all-users each user's old key is picked by --older-than")
		}
		if !r.DryRun && !r.Stdout && r.Exec == "" && r.ProfileName == "" && r.CredentialsFile == "" && r.SecretID == "" && r.Parameter == "" && r.GitHubRepo == "" && r.GitHubOrg == "" {
			return usageErrorf("rotate --all-users needs somewhere to put each user's new secret: --secret-id 'NAME/{user}' (Secrets Manager), --ssm-parameter '/NAME/{user}', --exec CMD (it gets the key and KEYROT_USER in its environment) or --stdout")
		}
	}
	if r.ProfileName != "" || r.CredentialsFile != "" {
		return usageErrorf("a shared credentials file holds one key per profile, not one per user: in fleet mode hand the new keys to --exec CMD (KEYROT_USER names the user) or --stdout")
	}
	if o.Concurrency < 1 || o.Concurrency > 64 {
		return usageErrorf("invalid --concurrency %d: use 1 to 64", o.Concurrency)
	}
	if !(o.Rate > 0 && o.Rate <= 1000) { // NaN fails both comparisons
		return usageErrorf("invalid --rate %g: use more than 0 and at most 1000 requests per second", o.Rate)
	}
	if err := fleet.ValidatePath(o.Path); err != nil {
		return err
	}
	for _, u := range o.Exclude {
		if err := iamx.ValidateUserName("--exclude", u); err != nil {
			return err
		}
	}
	if o.UsersFrom != "" {
		users, err := readUserList(r.f.IO.In, o.UsersFrom)
		if err != nil {
			return err
		}
		o.users = users
	}
	return nil
}

// readUserList reads --users-from, "-" meaning stdin.
func readUserList(stdin io.Reader, path string) ([]string, error) {
	in := stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, usageErrorf("invalid --users-from %q: %v", path, err)
		}
		defer f.Close()
		in = f
	}
	users, err := fleet.ParseUserList(in)
	if err != nil {
		return nil, fmt.Errorf("--users-from %s: %w", path, err)
	}
	return users, nil
}

func runRotateAll(ctx context.Context, opts *rotateOptions) error {
	older := opts.Fleet.OlderThan
	return runFleet(ctx, opts, func(ctx context.Context, j *fleet.Job, r iamx.Report, sel fleet.Selector) (fleet.Summary, error) {
		return j.Rotate(ctx, r, sel, older)
	})
}

// fleetClient loads a client for a fleet run: the SDK's adaptive retry
// mode with 10 attempts, unless AWS_RETRY_MODE or AWS_MAX_ATTEMPTS say
// otherwise.
func fleetClient(ctx context.Context, f *Factory) (*iamx.Client, error) {
	lo := f.Global.loadOptions(f.IO)
	if os.Getenv("AWS_RETRY_MODE") == "" {
		lo.RetryMode = aws.RetryModeAdaptive
	}
	if os.Getenv("AWS_MAX_ATTEMPTS") == "" {
		lo.MaxAttempts = fleetRetryAttempts
	}
	return iamx.Load(ctx, lo)
}

// fleetSession is the client and identity of a fleet run. Unlike a single
// rotation it works with any caller, a role session included (the usual
// case for a CronJob): every user is named explicitly.
func (o *rotateOptions) fleetSession(ctx context.Context) (*rotationSession, error) {
	c, err := fleetClient(ctx, o.f)
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
	id, err := c.CallerIdentity(ctx)
	if err != nil {
		return nil, fmt.Errorf("identify the caller (STS GetCallerIdentity): %w", err)
	}
	return &rotationSession{client: c, signer: s, caller: id}, nil
}

// lockedWriter serialises writes: with --stdout, concurrent rotations
// each print one JSON line.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// runFleet is rotate --all-users and enforce: open the session, the
// ledger and the audit log, read the credential report, let run do the
// work, report.
func runFleet(ctx context.Context, opts *rotateOptions, run func(context.Context, *fleet.Job, iamx.Report, fleet.Selector) (fleet.Summary, error)) error {
	f := opts.f
	fo := &opts.Fleet
	start := time.Now()
	var dest rotate.Destination
	switch {
	case opts.Stdout && opts.Exec != "":
		dest = rotate.Destinations{rotate.Exec{Command: opts.Exec, Stdout: f.IO.ErrOut, Stderr: f.IO.ErrOut}, rotate.Stdout{W: &lockedWriter{w: f.IO.Out}}}
	case opts.Stdout:
		dest = rotate.Stdout{W: &lockedWriter{w: f.IO.Out}}
	case opts.Exec != "":
		dest = rotate.Exec{Command: opts.Exec, Stdout: f.IO.ErrOut, Stderr: f.IO.ErrOut}
	}
	var log *fleet.AuditLog
	if opts.SecretID != "" && !strings.Contains(opts.SecretID, "{user}") {
		return usageErrorf("invalid --secret-id %q: in fleet mode each user needs a secret of their own: put {user} in the name, such as 'ci/{user}/aws'", opts.SecretID)
	}
	if (opts.GitHubRepo != "" || opts.GitHubOrg != "") && !strings.Contains(opts.GitHubRepo+opts.GitHubEnvironment+opts.GitHubOrg+opts.GitHubNames, "{user}") {
		return usageErrorf("in fleet mode each user needs GitHub secrets of their own: put {user} in --github-secret, --github-environment or --github-secret-names, such as --github-secret-names 'AWS_ACCESS_KEY_ID_{user},AWS_SECRET_ACCESS_KEY_{user}'")
	}
	if opts.Parameter != "" && !strings.Contains(opts.Parameter, "{user}") {
		return usageErrorf("invalid --ssm-parameter %q: in fleet mode each user needs a parameter of their own: put {user} in the name, such as '/ci/{user}/aws'", opts.Parameter)
	}
	if fo.AuditLog != "" {
		l, err := fleet.OpenAuditLog(fo.AuditLog)
		if err != nil {
			return usageErrorf("invalid --audit-log %q: %v", fo.AuditLog, err)
		}
		log = l
	}
	err := func() error {
		rs, err := opts.fleetSession(ctx)
		if err != nil {
			return err
		}
		var ds rotate.Destinations
		if opts.SecretID != "" {
			ds = append(ds, rotate.SecretsManager{Store: rs.client, SecretID: opts.SecretID, KMSKeyID: opts.KMSKeyID})
		}
		if opts.Parameter != "" {
			ds = append(ds, rotate.SSMParameter{Store: rs.client, Name: opts.Parameter, KMSKeyID: opts.KMSKeyID})
		}
		if dest != nil {
			ds = append(ds, dest) // --exec or --stdout: after the stores
		}
		ds = append(ds, opts.githubDestinations(opts.githubAPI(), "", "")...)
		switch len(ds) {
		case 1:
			dest = ds[0]
		case 0:
		default:
			dest = ds
		}
		dir := opts.StateDir
		if dir == "" {
			if dir, err = rotate.DefaultStateDir(); err != nil {
				return err
			}
		}
		ledger, err := fleet.OpenLedger(dir)
		if err != nil {
			return err
		}
		limited := fleet.NewLimited(rs.client, fo.Rate)
		ro := opts.options(rs, dest)
		ro.OnStep = nil
		ro.ClientFor = func(id string, secret iamx.Secret) rotate.Keys {
			// Signed by the caller's new key, but within the run's one rate limit.
			c := fleet.NewLimited(rs.client.WithCredentials(credentials.NewStaticCredentialsProvider(id, secret.Reveal(), "")), 0)
			c.Limiter = limited.Limiter
			return c
		}
		job := &fleet.Job{
			Client: limited, Concurrency: fo.Concurrency, Rotation: ro,
			DeleteInactive: opts.DeleteInactive, DryRun: opts.DryRun,
			Now: f.Now, Log: log, Ledger: ledger, Run: runID(f.Now()), Command: fo.command,
		}
		bar := newProgress(f, fo.command)
		job.OnStart = bar.start
		job.OnUser = func(u fleet.UserResult) { bar.add(u.Failed()) }

		f.message("Reading the credential report (IAM regenerates it at most every 4 hours)...")
		stop := f.waiting("generating the IAM credential report")
		report, err := limited.CredentialReport(ctx)
		stop()
		if err != nil {
			return fmt.Errorf("read the credential report: %w", err)
		}
		sel := fleet.NewSelector(fo.Path, fo.users, fo.Exclude)
		sum, err := run(ctx, job, report, sel)
		bar.finish()
		if rerr := reportFleet(opts, report, sum, rs.client.Requests(), limited.Throttled(), time.Since(start)); rerr != nil && err == nil {
			err = rerr
		}
		return err
	}()
	if cerr := log.Close(); cerr != nil && err == nil {
		err = cerr
	}
	return err
}

// runID labels one run's audit records.
func runID(now time.Time) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return now.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b)
}

// fleetActionJSON is one action of a fleet run in JSON output. It never
// holds a secret.
type fleetActionJSON struct {
	UserName       string
	Action         string
	AccessKeyID    string `json:"AccessKeyId"`
	NewAccessKeyID string `json:"NewAccessKeyId,omitempty"`
	Result         string
	Reason         string   `json:",omitempty"`
	Error          string   `json:",omitempty"`
	Plan           []string `json:",omitempty"`
}

// fleetJSON is the result document of rotate --all-users and enforce.
type fleetJSON struct {
	Command          string
	DryRun           bool
	ReportGenerated  *string
	SelectedUsers    int
	ExaminedUsers    int
	ChangedUsers     int
	FailedUsers      []string
	Interrupted      bool
	Actions          []fleetActionJSON
	Counts           map[string]int
	APICalls         int64
	ThrottledRetries int64
	DurationMs       int64
}

// reportFleet prints the run: the actions (not the users found within
// policy) on stdout, a summary and every failure on stderr. It returns
// the run's exit error: 10 when users failed, 130 when interrupted.
func reportFleet(opts *rotateOptions, rep iamx.Report, s fleet.Summary, calls, throttled int64, took time.Duration) error {
	f := opts.f
	doc := fleetJSON{Command: opts.Fleet.command, DryRun: opts.DryRun, ReportGenerated: jsonTime(rep.Generated),
		SelectedUsers: s.Selected, ExaminedUsers: s.Examined, FailedUsers: []string{}, Interrupted: s.Interrupted,
		Actions: []fleetActionJSON{}, Counts: s.Counts, APICalls: calls, ThrottledRetries: throttled, DurationMs: took.Milliseconds()}
	var rows [][]string
	for _, u := range s.Users {
		if u.Changed() {
			doc.ChangedUsers++
		}
		if u.Failed() {
			doc.FailedUsers = append(doc.FailedUsers, u.User)
		}
		for _, o := range u.Outcomes {
			if o.Result == fleet.ResultOK {
				continue
			}
			a := fleetActionJSON{UserName: u.User, Action: string(o.Action.Kind), AccessKeyID: o.Action.KeyID,
				NewAccessKeyID: o.NewKeyID, Result: o.Result, Reason: o.Action.Reason, Plan: o.Plan}
			detail := o.Action.Reason
			if o.Err != nil {
				a.Error = o.Err.Error()
				detail = firstLine(a.Error)
			}
			doc.Actions = append(doc.Actions, a)
			rows = append(rows, []string{u.User, a.Action, a.AccessKeyID, a.NewAccessKeyID, a.Result, detail})
		}
	}

	verb, failed := "changed", "failed"
	if opts.DryRun {
		verb, failed = "would change", "would fail"
	}
	var parts []string
	keys := make([]string, 0, len(s.Counts))
	for k := range s.Counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %d", k, s.Counts[k]))
	}
	counts := "no actions"
	if len(parts) > 0 {
		counts = strings.Join(parts, ", ")
	}
	f.message("%s: %d users selected, %d looked at, %d %s, %d %s (%s); %d API calls in %s, %d throttled calls retried.",
		opts.Fleet.command, s.Selected, s.Examined, doc.ChangedUsers, verb, len(doc.FailedUsers), failed, counts, calls, took.Round(time.Millisecond), throttled)
	if opts.DryRun {
		f.message("dry run: nothing was changed.")
	}
	// Failures go to stderr even with --quiet: they are the errors.
	for _, u := range s.Failed {
		fmt.Fprintf(f.IO.ErrOut, "keyrot: %s: %v\n", u.User, u.Err)
	}

	if !opts.Stdout || opts.DryRun {
		if err := f.render(view{JSON: doc, Header: []string{"USER", "ACTION", "KEY", "NEW KEY", "RESULT", "DETAIL"}, Rows: rows}); err != nil {
			return err
		}
	}
	switch {
	case s.Interrupted:
		return fmt.Errorf("%w: %d of the users to look at were done, the rest not started; run the same command again to finish", errInterrupted, s.Examined)
	case len(s.Failed) > 0:
		names := doc.FailedUsers
		if len(names) > 10 {
			names = append(names[:10:10], fmt.Sprintf("and %d more", len(doc.FailedUsers)-10))
		}
		if opts.DryRun {
			return withHint(&codedError{exitPartial, fmt.Errorf("%d of %d users would fail: %s", len(s.Failed), s.Examined, strings.Join(names, ", "))},
				"the reasons are above; nothing was changed, and a real run would change the other users as planned")
		}
		return withHint(&codedError{exitPartial, fmt.Errorf("%d of %d users failed: %s", len(s.Failed), s.Examined, strings.Join(names, ", "))},
			"the reasons are above; the other users are done, and running the same command again retries the failed ones and leaves the rest alone")
	}
	return nil
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
