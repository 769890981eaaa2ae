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

	// Org: --org and its flags.
	Org orgOptions

	// out is stdout for --stdout, one JSON line per write however many
	// rotations run at once.
	out *lockedWriter
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
	addOrgFlags(fl, &o.Org)
}

// fleetOnly are the flags that make sense only in fleet mode.
var fleetOnly = append([]string{"older-than", "users-from", "path", "exclude", "concurrency", "rate", "audit-log", "org"}, orgOnly...)

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
	if err := o.Org.validate(c); err != nil {
		return err
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

// fleetWork is one account's part of a fleet run: the account (zero in a
// one-account run), the session that works in it, and its state directory.
type fleetWork struct {
	acct     iamx.Account
	rs       *rotationSession
	stateDir string
	// reportStarted: the credential report was started already
	// (orgRun.startReports); only fetch it.
	reportStarted bool
}

// fleetResult is what a fleet run did in one account.
type fleetResult struct {
	ran       bool // the job ran: there is a summary to report
	report    iamx.Report
	sum       fleet.Summary
	throttled int64
}

// runFleet is rotate --all-users and enforce: open the session, the
// ledger and the audit log, read the credential report, let run do the
// work, report. With --org it does so in every selected account.
func runFleet(ctx context.Context, opts *rotateOptions, run func(context.Context, *fleet.Job, iamx.Report, fleet.Selector) (fleet.Summary, error)) error {
	f := opts.f
	fo := &opts.Fleet
	start := time.Now()
	fo.out = &lockedWriter{w: f.IO.Out}
	if opts.SecretID != "" && !strings.Contains(opts.SecretID, "{user}") {
		return usageErrorf("invalid --secret-id %q: in fleet mode each user needs a secret of their own: put {user} in the name, such as 'ci/{user}/aws'", opts.SecretID)
	}
	github := opts.GitHubRepo + opts.GitHubEnvironment + opts.GitHubOrg + opts.GitHubNames
	if (opts.GitHubRepo != "" || opts.GitHubOrg != "") && !strings.Contains(github, "{user}") {
		return usageErrorf("in fleet mode each user needs GitHub secrets of their own: put {user} in --github-secret, --github-environment or --github-secret-names, such as --github-secret-names 'AWS_ACCESS_KEY_ID_{user},AWS_SECRET_ACCESS_KEY_{user}'")
	}
	if fo.Org.Org && (opts.GitHubRepo != "" || opts.GitHubOrg != "") && !strings.Contains(github, "{account}") {
		return usageErrorf("with --org the same user name may exist in several accounts, and GitHub is one place for all of them: put {account} in --github-secret, --github-environment or --github-secret-names too, such as --github-secret-names 'AWS_ACCESS_KEY_ID_{account}_{user},AWS_SECRET_ACCESS_KEY_{account}_{user}'")
	}
	if opts.Parameter != "" && !strings.Contains(opts.Parameter, "{user}") {
		return usageErrorf("invalid --ssm-parameter %q: in fleet mode each user needs a parameter of their own: put {user} in the name, such as '/ci/{user}/aws'", opts.Parameter)
	}
	var log *fleet.AuditLog
	if fo.AuditLog != "" {
		l, err := fleet.OpenAuditLog(fo.AuditLog)
		if err != nil {
			return usageErrorf("invalid --audit-log %q: %v", fo.AuditLog, err)
		}
		log = l
	}
	err := func() error {
		dir := opts.StateDir
		if dir == "" {
			var err error
			if dir, err = rotate.DefaultStateDir(); err != nil {
				return err
			}
		}
		runID := runID(f.Now())
		if fo.Org.Org {
			return opts.runFleetOrg(ctx, dir, runID, log, start, run)
		}
		rs, err := opts.fleetSession(ctx)
		if err != nil {
			return err
		}
		bar := newProgress(f, fo.command)
		res, err := opts.fleetAccount(ctx, fleetWork{rs: rs, stateDir: dir}, runID, log, bar, run)
		if !res.ran {
			return err
		}
		if rerr := reportFleet(ctx, opts, []fleetPart{{report: res.report, sum: res.sum}}, nil, rs.client.Requests(), res.throttled, time.Since(start)); rerr != nil && err == nil {
			err = rerr
		}
		return err
	}()
	if cerr := log.Close(); cerr != nil && err == nil {
		err = cerr
	}
	return err
}

// fleetAccount runs the fleet job in one account: its destinations (the
// secret stores of that account), its ledger and journals, its rate
// limit, its credential report. A non-nil error is the run's own failure
// (the report unreadable, the ledger unsaved); users' failures are in the
// summary.
func (opts *rotateOptions) fleetAccount(ctx context.Context, w fleetWork, runID string, log *fleet.AuditLog, bar *progress,
	run func(context.Context, *fleet.Job, iamx.Report, fleet.Selector) (fleet.Summary, error)) (fleetResult, error) {
	f := opts.f
	fo := &opts.Fleet
	rs := w.rs
	var ds rotate.Destinations
	if opts.SecretID != "" {
		ds = append(ds, rotate.SecretsManager{Store: rs.client, SecretID: opts.SecretID, KMSKeyID: opts.KMSKeyID})
	}
	if opts.Parameter != "" {
		ds = append(ds, rotate.SSMParameter{Store: rs.client, Name: opts.Parameter, KMSKeyID: opts.KMSKeyID})
	}
	// --exec or --stdout: after the stores.
	if opts.Exec != "" {
		ds = append(ds, rotate.Exec{Command: opts.Exec, Stdout: f.IO.ErrOut, Stderr: f.IO.ErrOut, Env: accountEnv(w.acct)})
	}
	if opts.Stdout {
		ds = append(ds, rotate.Stdout{W: fo.out, Account: w.acct.ID})
	}
	ds = append(ds, opts.githubDestinations(opts.githubAPI(), "", "")...)
	var dest rotate.Destination
	switch len(ds) {
	case 1:
		dest = ds[0]
	case 0:
	default:
		dest = ds
	}
	ledger, err := fleet.OpenLedger(w.stateDir)
	if err != nil {
		return fleetResult{}, err
	}
	limited := fleet.NewLimited(rs.client, fo.Rate)
	ro := opts.options(rs, dest)
	ro.OnStep = nil
	ro.StateDir = w.stateDir
	ro.ClientFor = func(id string, secret iamx.Secret) rotate.Keys {
		// Signed by the caller's new key, but within the run's one rate limit.
		c := fleet.NewLimited(rs.client.WithCredentials(credentials.NewStaticCredentialsProvider(id, secret.Reveal(), "")), 0)
		c.Limiter = limited.Limiter
		return c
	}
	job := &fleet.Job{
		Client: limited, Concurrency: fo.Concurrency, Rotation: ro,
		DeleteInactive: opts.DeleteInactive, DryRun: opts.DryRun,
		Now: f.Now, Log: log, Ledger: ledger, Run: runID, Command: fo.command, Account: w.acct,
	}
	job.OnStart = bar.start
	job.OnUser = func(u fleet.UserResult) { bar.add(u.Failed()) }

	var report iamx.Report
	if w.acct.ID == "" {
		f.message("Reading the credential report (IAM regenerates it at most every 4 hours)...")
		stop := f.waiting("generating the IAM credential report")
		report, err = limited.CredentialReport(ctx)
		stop()
	} else if w.reportStarted {
		report, err = limited.FetchCredentialReport(ctx)
	} else {
		report, err = limited.CredentialReport(ctx)
	}
	if err != nil {
		return fleetResult{}, fmt.Errorf("read the credential report: %w", err)
	}
	sel := fleet.NewSelector(fo.Path, fo.users, fo.Exclude)
	sum, err := run(ctx, job, report, sel)
	bar.finish()
	return fleetResult{ran: true, report: report, sum: sum, throttled: limited.Throttled()}, err
}

// accountEnv is what an --exec hook learns of the account of an
// organization run.
func accountEnv(a iamx.Account) []string {
	if a.ID == "" {
		return nil
	}
	return append(os.Environ(), "KEYROT_ACCOUNT_ID="+a.ID, "KEYROT_ACCOUNT_NAME="+a.Name)
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
	AccountID      string `json:"AccountId,omitempty"`
	AccountName    string `json:",omitempty"`
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
	Command         string
	DryRun          bool
	ReportGenerated *string
	SelectedUsers   int
	ExaminedUsers   int
	ChangedUsers    int
	// FailedUsers names users, as ACCOUNT/USER in an organization run.
	FailedUsers      []string
	Interrupted      bool
	Actions          []fleetActionJSON
	Counts           map[string]int
	APICalls         int64
	ThrottledRetries int64
	DurationMs       int64
	// Accounts is set in an organization run (--org): each account's
	// result, ReportGenerated above being the oldest of their reports.
	Accounts []orgAccountJSON `json:",omitempty"`
}

// fleetPart is one account's share of a run's report.
type fleetPart struct {
	acct   iamx.Account // zero in a one-account run
	report iamx.Report
	sum    fleet.Summary
}

// reportFleet prints the run: the actions (not the users found within
// policy) on stdout, a summary and every failure on stderr. It returns
// the run's exit error: 10 when users (or accounts, orun) failed, 130
// when interrupted.
func reportFleet(ctx context.Context, opts *rotateOptions, parts []fleetPart, orun *orgRun, calls, throttled int64, took time.Duration) error {
	f := opts.f
	doc := fleetJSON{Command: opts.Fleet.command, DryRun: opts.DryRun, FailedUsers: []string{},
		Actions: []fleetActionJSON{}, Counts: map[string]int{}, APICalls: calls, ThrottledRetries: throttled, DurationMs: took.Milliseconds()}
	var rows [][]string
	var failures []string
	var oldest time.Time
	examined := 0
	for _, part := range parts {
		s := part.sum
		if g := part.report.Generated; oldest.IsZero() || g.Before(oldest) {
			oldest = g
		}
		doc.SelectedUsers += s.Selected
		doc.ExaminedUsers += s.Examined
		doc.Interrupted = doc.Interrupted || s.Interrupted
		examined += s.Examined
		for k, v := range s.Counts {
			doc.Counts[k] += v
		}
		name := func(user string) string {
			if part.acct.ID == "" {
				return user
			}
			return part.acct.ID + "/" + user
		}
		for _, u := range s.Users {
			if u.Changed() {
				doc.ChangedUsers++
			}
			if u.Failed() {
				doc.FailedUsers = append(doc.FailedUsers, name(u.User))
				failures = append(failures, fmt.Sprintf("keyrot: %s: %v", name(u.User), u.Err))
			}
			for _, o := range u.Outcomes {
				if o.Result == fleet.ResultOK {
					continue
				}
				a := fleetActionJSON{AccountID: part.acct.ID, AccountName: part.acct.Name, UserName: u.User, Action: string(o.Action.Kind), AccessKeyID: o.Action.KeyID,
					NewAccessKeyID: o.NewKeyID, Result: o.Result, Reason: o.Action.Reason, Plan: o.Plan}
				detail := o.Action.Reason
				if o.Err != nil {
					a.Error = o.Err.Error()
					detail = firstLine(a.Error)
				}
				doc.Actions = append(doc.Actions, a)
				row := []string{u.User, a.Action, a.AccessKeyID, a.NewAccessKeyID, a.Result, detail}
				if orun != nil {
					row = accountColumns(part.acct, row)
				}
				rows = append(rows, row)
			}
		}
	}
	doc.ReportGenerated = jsonTime(oldest)

	verb, failed := "changed", "failed"
	if opts.DryRun {
		verb, failed = "would change", "would fail"
	}
	var parts2 []string
	keys := make([]string, 0, len(doc.Counts))
	for k := range doc.Counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		parts2 = append(parts2, fmt.Sprintf("%s %d", k, doc.Counts[k]))
	}
	counts := "no actions"
	if len(parts2) > 0 {
		counts = strings.Join(parts2, ", ")
	}
	where := ""
	if orun != nil {
		where = " in " + orun.summary()
		doc.Accounts = orun.accounts
	}
	f.message("%s: %d users selected%s, %d looked at, %d %s, %d %s (%s); %d API calls in %s, %d throttled calls retried.",
		opts.Fleet.command, doc.SelectedUsers, where, doc.ExaminedUsers, doc.ChangedUsers, verb, len(doc.FailedUsers), failed, counts, calls, took.Round(time.Millisecond), throttled)
	if opts.DryRun {
		f.message("dry run: nothing was changed.")
	}
	// Failures go to stderr even with --quiet: they are the errors.
	for _, line := range failures {
		fmt.Fprintln(f.IO.ErrOut, line)
	}

	if !opts.Stdout || opts.DryRun {
		header := []string{"USER", "ACTION", "KEY", "NEW KEY", "RESULT", "DETAIL"}
		if orun != nil {
			header = append(orgHeader[:len(orgHeader):len(orgHeader)], header...)
		}
		if err := f.render(view{JSON: doc, Header: header, Rows: rows}); err != nil {
			return err
		}
	}
	if orun != nil {
		done := "the other accounts are done"
		if opts.DryRun {
			done = "nothing was changed"
		}
		if err := orun.err(ctx, done); err != nil {
			return err
		}
	}
	switch {
	case doc.Interrupted:
		return fmt.Errorf("%w: %d of the users to look at were done, the rest not started; run the same command again to finish", errInterrupted, examined)
	case len(doc.FailedUsers) > 0:
		names := doc.FailedUsers
		if len(names) > 10 {
			names = append(names[:10:10], fmt.Sprintf("and %d more", len(doc.FailedUsers)-10))
		}
		if opts.DryRun {
			return withHint(&codedError{exitPartial, fmt.Errorf("%d of %d users would fail: %s", len(doc.FailedUsers), examined, strings.Join(names, ", "))},
				"the reasons are above; nothing was changed, and a real run would change the other users as planned")
		}
		return withHint(&codedError{exitPartial, fmt.Errorf("%d of %d users failed: %s", len(doc.FailedUsers), examined, strings.Join(names, ", "))},
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
