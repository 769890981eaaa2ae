package cmd

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/keyrot/keyrot/iamx"
	"github.com/keyrot/keyrot/rotate/fleet"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// orgOptions make a command work in every selected account of an AWS
// Organization: `--org` on list --all-users, audit, enforce and rotate
// --all-users.
type orgOptions struct {
	Org                bool
	Accounts           []string
	ExcludeAccounts    []string
	OUs                []string
	RoleName           string
	ExternalID         string
	AccountConcurrency int
}

// orgOnly are the flags that go with --org.
var orgOnly = []string{"accounts", "exclude-account", "ou", "role-name", "external-id", "account-concurrency"}

func addOrgFlags(fl *pflag.FlagSet, o *orgOptions) {
	fl.BoolVar(&o.Org, "org", false, "work in every ACTIVE account of the AWS Organization (run from the management account or a delegated administrator)")
	fl.StringSliceVar(&o.Accounts, "accounts", nil, "with --org: only these account IDs (comma-separated or repeated)")
	fl.StringSliceVar(&o.ExcludeAccounts, "exclude-account", nil, "with --org: leave this account ID out (repeatable)")
	fl.StringSliceVar(&o.OUs, "ou", nil, "with --org: only the accounts of this organizational unit and the OUs under it (repeatable)")
	fl.StringVar(&o.RoleName, "role-name", iamx.DefaultOrgRole, "with --org: the role keyrot assumes in each member account")
	fl.StringVar(&o.ExternalID, "external-id", "", "with --org: the ExternalId the member accounts' role requires")
	fl.IntVar(&o.AccountConcurrency, "account-concurrency", fleet.DefaultAccountConcurrency, "with --org: accounts worked in at once (each with its own rate limit)")
}

func (o *orgOptions) validate(c *cobra.Command) error {
	if !o.Org {
		for _, name := range orgOnly {
			if fl := c.Flags().Lookup(name); fl != nil && fl.Changed {
				return usageErrorf("--%s goes with --org", name)
			}
		}
		return nil
	}
	for _, id := range o.Accounts {
		if err := iamx.ValidateAccountID("--accounts", id); err != nil {
			return err
		}
	}
	for _, id := range o.ExcludeAccounts {
		if err := iamx.ValidateAccountID("--exclude-account", id); err != nil {
			return err
		}
	}
	for _, id := range o.OUs {
		if err := iamx.ValidateOUID("--ou", id); err != nil {
			return err
		}
	}
	if err := iamx.ValidateRoleName("--role-name", o.RoleName); err != nil {
		return err
	}
	if o.ExternalID != "" {
		if err := iamx.ValidateExternalID("--external-id", o.ExternalID); err != nil {
			return err
		}
	}
	if o.AccountConcurrency < 1 || o.AccountConcurrency > 32 {
		return usageErrorf("invalid --account-concurrency %d: use 1 to 32", o.AccountConcurrency)
	}
	return nil
}

// orgTarget is one account an organization run works in.
type orgTarget struct {
	acct   iamx.Account
	client *iamx.Client
	// own: the caller's own account, worked on with the caller's own
	// credentials rather than a role (see orgPlan).
	own bool
}

// orgPlan is what an organization run works on.
type orgPlan struct {
	caller  iamx.Identity
	targets []orgTarget
	skipped []iamx.Account
}

// plan lists the organization's accounts and picks the ones to work in:
// one STS GetCallerIdentity, the ListAccounts pages, and for --ou the
// OUs' listings. Each member account's client assumes --role-name on first
// use. The caller's own account is worked on with the caller's own
// credentials: the management account has no OrganizationAccountAccessRole
// (Organizations creates it only in the accounts it creates), and a
// delegated administrator's own role would only add a hop.
func (o *orgOptions) plan(ctx context.Context, c *iamx.Client) (*orgPlan, error) {
	id, err := c.CallerIdentity(ctx)
	if err != nil {
		return nil, fmt.Errorf("identify the caller (STS GetCallerIdentity): %w", err)
	}
	all, err := c.OrgAccounts(ctx)
	switch {
	case errors.Is(err, iamx.ErrAccessDenied):
		return nil, withHint(fmt.Errorf("list the organization's accounts (Organizations ListAccounts) as %s: %w", id.ARN, err),
			"--org runs from the organization's management account or a delegated administrator account (account %s is neither, or the caller lacks organizations:ListAccounts); sign in there, or register this account as a delegated administrator", id.Account)
	case errors.Is(err, iamx.ErrNotFound):
		return nil, withHint(fmt.Errorf("list the organization's accounts (Organizations ListAccounts): %w", err),
			"account %s is not in an AWS Organization: run without --org", id.Account)
	case err != nil:
		return nil, fmt.Errorf("list the organization's accounts (Organizations ListAccounts): %w", err)
	}
	sel := fleet.AccountSelection{Only: o.Accounts, Exclude: o.ExcludeAccounts}
	if len(o.OUs) > 0 {
		sel.InOU = map[string]bool{}
		for _, ou := range o.OUs {
			ids, err := c.OUAccountIDs(ctx, ou)
			if errors.Is(err, iamx.ErrNotFound) {
				return nil, &iamx.InputError{Field: "--ou", Value: ou, Rule: "no such organizational unit or root in the organization"}
			}
			if err != nil {
				return nil, err
			}
			for _, a := range ids {
				sel.InOU[a] = true
			}
		}
	}
	work, skipped, err := fleet.SelectAccounts(all, sel)
	if err != nil {
		return nil, err
	}
	p := &orgPlan{caller: id, skipped: skipped}
	session := fleet.SessionName(callerName(id))
	for _, a := range work {
		t := orgTarget{acct: a, client: c, own: a.ID == id.Account}
		if !t.own {
			t.client = c.InAccount(a.ID, iamx.AssumeOptions{RoleName: o.RoleName, ExternalID: o.ExternalID, SessionName: session})
		}
		p.targets = append(p.targets, t)
	}
	return p, nil
}

// callerName is the caller's user or role session name, for the
// RoleSessionName.
func callerName(id iamx.Identity) string {
	if id.User != "" {
		return id.User
	}
	if i := strings.LastIndexByte(id.ARN, '/'); i >= 0 {
		return id.ARN[i+1:]
	}
	return ""
}

// signIn makes sure keyrot can work in t's account: for a member account
// it assumes the role now (the session is cached for what follows), so
// that a refusal is reported as such rather than as the first IAM call's
// failure.
func (o *orgOptions) signIn(ctx context.Context, t orgTarget) (iamx.Signer, error) {
	s, err := t.client.Signer(ctx)
	if err != nil && !t.own {
		return s, fmt.Errorf("assume role %s in account %s (STS AssumeRole): %w", o.RoleName, t.acct.ID, err)
	}
	return s, err
}

// orgAccountJSON is one account of an organization run in JSON output.
type orgAccountJSON struct {
	AccountID   string `json:"AccountId"`
	AccountName string
	// Status is Organizations' (ACTIVE, SUSPENDED, PENDING_CLOSURE).
	Status string
	// Result: done, failed (Error says why), skipped (not ACTIVE) or
	// interrupted (SIGINT or SIGTERM came first, or part way).
	Result string
	Error  string `json:",omitempty"`
	// ReportGenerated and Users describe the account's credential report
	// (audit, list --all-users).
	ReportGenerated *string `json:",omitempty"`
	Users           int     `json:",omitempty"`
}

// Results of an account in an organization run.
const (
	accountDone        = "done"
	accountFailed      = "failed"
	accountSkipped     = "skipped"
	accountInterrupted = "interrupted"
)

// orgRun is the bookkeeping every organization command shares: the
// accounts' results, in ID order, and the failures.
type orgRun struct {
	f        *Factory
	plan     *orgPlan
	accounts []orgAccountJSON // skipped first, then the targets
	failed   []orgAccountJSON
	started  int
	// startErr holds, by target, why startReports could not start the
	// account's credential report; nil when it did or was not asked to.
	startErr []error
}

// orgStartConcurrency is how many accounts startReports works in at once:
// each costs an AssumeRole and a GenerateCredentialReport, answered at
// once, while IAM's generation of the report is what takes time.
const orgStartConcurrency = 16

// startReports assumes the role in every target and starts its credential
// report (GenerateCredentialReport) before the work begins, so that IAM
// generates every account's report side by side instead of
// --account-concurrency at a time: the run then waits about one report's
// generation time, not one per --account-concurrency accounts. The work
// itself fetches the report (FetchCredentialReport, no second
// GenerateCredentialReport). An account that fails here is failed.
func (r *orgRun) startReports(ctx context.Context, o *orgOptions) {
	targets := r.plan.targets
	r.startErr = make([]error, len(targets))
	accts := make([]iamx.Account, len(targets))
	for i, t := range targets {
		accts[i] = t.acct
	}
	fleet.EachAccount(ctx, accts, max(orgStartConcurrency, o.AccountConcurrency), func(ctx context.Context, i int, _ iamx.Account) {
		if _, err := o.signIn(ctx, targets[i]); err != nil {
			r.startErr[i] = err
			return
		}
		if ctx.Err() != nil {
			r.startErr[i] = ctx.Err()
			return
		}
		if _, err := targets[i].client.StartCredentialReport(ctx); err != nil {
			r.startErr[i] = fmt.Errorf("start the credential report (IAM GenerateCredentialReport): %w", err)
		}
	})
}

func newOrgRun(f *Factory, p *orgPlan) *orgRun {
	r := &orgRun{f: f, plan: p}
	for _, a := range p.skipped {
		r.accounts = append(r.accounts, orgAccountJSON{AccountID: a.ID, AccountName: a.Name, Status: a.Status, Result: accountSkipped})
		f.message("Skipping account %s (%s): its status is %s.", a.ID, a.Name, a.Status)
	}
	return r
}

// each works in every target, --account-concurrency at a time; fn's error
// marks the account failed without stopping the others. A bar counts the
// accounts on a terminal.
func (r *orgRun) each(ctx context.Context, n int, label string, fn func(context.Context, orgTarget) error) {
	targets := r.plan.targets
	res := make([]orgAccountJSON, len(targets))
	accts := make([]iamx.Account, len(targets))
	for i, t := range targets {
		accts[i] = t.acct
		res[i] = orgAccountJSON{AccountID: t.acct.ID, AccountName: t.acct.Name, Status: t.acct.Status, Result: accountInterrupted}
	}
	bar := newProgressOf(r.f, label, "accounts")
	bar.start(len(targets))
	r.started = fleet.EachAccount(ctx, accts, n, func(ctx context.Context, i int, _ iamx.Account) {
		var err error
		if i < len(r.startErr) && r.startErr[i] != nil {
			err = r.startErr[i]
		} else {
			err = fn(ctx, targets[i])
		}
		switch {
		case err != nil && interrupted(ctx, err):
			// Cut short by SIGINT: not a failure of the account.
		case err != nil:
			res[i].Result, res[i].Error = accountFailed, err.Error()
		default:
			res[i].Result = accountDone
		}
		bar.add(err != nil)
	})
	bar.finish()
	r.accounts = append(r.accounts, res...)
	for _, a := range res {
		if a.Result == accountFailed {
			r.failed = append(r.failed, a)
		}
	}
}

// orgReports is the credential report of each target of an organization
// run, by account ID (the accounts that failed have none), and the oldest
// report's time.
type orgReports struct {
	byAccount map[string]iamx.Report
	oldest    time.Time
}

// readReports starts every target's credential report, then reads them
// --account-concurrency at a time (audit --org, list --all-users --org),
// and fills in each account's report time and user count.
func (r *orgRun) readReports(ctx context.Context, o *orgOptions, label string) orgReports {
	reps := make([]*iamx.Report, len(r.plan.targets))
	index := make(map[string]int, len(r.plan.targets))
	for i, t := range r.plan.targets {
		index[t.acct.ID] = i
	}
	r.startReports(ctx, o)
	r.each(ctx, o.AccountConcurrency, label, func(ctx context.Context, t orgTarget) error {
		rep, err := t.client.FetchCredentialReport(ctx)
		if err != nil {
			return fmt.Errorf("read the IAM credential report: %w", err)
		}
		reps[index[t.acct.ID]] = &rep // each worker writes its own element
		return nil
	})
	out := orgReports{byAccount: map[string]iamx.Report{}}
	for i, t := range r.plan.targets {
		if rep := reps[i]; rep != nil {
			out.byAccount[t.acct.ID] = *rep
			if out.oldest.IsZero() || rep.Generated.Before(out.oldest) {
				out.oldest = rep.Generated
			}
		}
	}
	for i, a := range r.accounts {
		if rep, ok := out.byAccount[a.AccountID]; ok {
			r.accounts[i].ReportGenerated = jsonTime(rep.Generated)
			r.accounts[i].Users = len(rep.Users)
		}
	}
	return out
}

// summary is the accounts part of a run's summary line.
func (r *orgRun) summary() string {
	s := fmt.Sprintf("%d %s", len(r.plan.targets), plural(len(r.plan.targets), "account", "accounts"))
	var extra []string
	if n := len(r.failed); n > 0 {
		extra = append(extra, fmt.Sprintf("%d failed", n))
	}
	if n := len(r.plan.skipped); n > 0 {
		extra = append(extra, fmt.Sprintf("%d skipped", n))
	}
	if n := len(r.plan.targets) - r.started; n > 0 {
		extra = append(extra, fmt.Sprintf("%d not started", n))
	}
	if len(extra) > 0 {
		s += " (" + strings.Join(extra, ", ") + ")"
	}
	return s
}

// err is the run's exit error for failed accounts (exit 10), after each
// failure is printed on stderr; nil when every account was done.
func (r *orgRun) err(ctx context.Context, done string) error {
	for _, a := range r.failed {
		fmt.Fprintf(r.f.IO.ErrOut, "keyrot: account %s (%s): %s\n", a.AccountID, a.AccountName, a.Error)
	}
	if ctx.Err() != nil {
		finished := 0
		for _, a := range r.accounts {
			if a.Result == accountDone || a.Result == accountFailed {
				finished++
			}
		}
		return fmt.Errorf("%w: %d of %d accounts were finished, the rest not started or stopped part way; run the same command again to finish", errInterrupted, finished, len(r.plan.targets))
	}
	if len(r.failed) == 0 {
		return nil
	}
	ids := make([]string, 0, len(r.failed))
	for _, a := range r.failed {
		ids = append(ids, a.AccountID)
	}
	if len(ids) > 10 {
		ids = append(ids[:10:10], fmt.Sprintf("and %d more", len(r.failed)-10))
	}
	return withHint(&codedError{exitPartial, fmt.Errorf("%d of %d accounts failed: %s", len(r.failed), len(r.plan.targets), strings.Join(ids, ", "))},
		"the reasons are above; %s, and running the same command again retries the failed accounts", done)
}

// interrupted reports an error that is the run being interrupted (SIGINT,
// SIGTERM) rather than a failure.
func interrupted(ctx context.Context, err error) bool {
	return ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, errInterrupted))
}

// accountColumns prefix a row with its account.
func accountColumns(a iamx.Account, row []string) []string {
	return append([]string{a.ID, a.Name}, row...)
}

// orgHeader is the account columns of an organization run's tables.
var orgHeader = []string{"ACCOUNT", "ACCOUNT NAME"}

// runFleetOrg is enforce and rotate --all-users with --org: the fleet job
// in every selected account, --account-concurrency at a time, each with
// its own rate limit, ledger and journals (in dir/accounts/ID).
func (opts *rotateOptions) runFleetOrg(ctx context.Context, dir, runID string, log *fleet.AuditLog, start time.Time,
	run func(context.Context, *fleet.Job, iamx.Report, fleet.Selector) (fleet.Summary, error)) error {
	f := opts.f
	fo := &opts.Fleet
	c, err := fleetClient(ctx, f)
	if err != nil {
		return err
	}
	if c, err = opts.mfaSession(ctx, c); err != nil {
		return err
	}
	p, err := fo.Org.plan(ctx, c)
	if err != nil {
		return err
	}
	orun := newOrgRun(f, p)
	record := func(a iamx.Account, result, reason string, err error) {
		r := fleet.Record{Time: f.Now(), Run: runID, Command: fo.command, AccountID: a.ID, AccountName: a.Name,
			Action: "account", Result: result, Reason: reason, DryRun: opts.DryRun}
		if err != nil {
			r.Error = err.Error()
		}
		log.Write(r)
	}
	for _, a := range p.skipped {
		record(a, accountSkipped, "the account's status is "+a.Status, nil)
	}
	results := make([]*fleetResult, len(p.targets))
	index := make(map[string]int, len(p.targets))
	for i, t := range p.targets {
		index[t.acct.ID] = i
	}
	var throttled atomic.Int64
	orun.startReports(ctx, &fo.Org)
	for i, err := range orun.startErr {
		if err != nil && !interrupted(ctx, err) {
			record(p.targets[i].acct, accountFailed, "", err)
		}
	}
	orun.each(ctx, fo.Org.AccountConcurrency, fo.command, func(ctx context.Context, t orgTarget) error {
		s, err := fo.Org.signIn(ctx, t)
		if err != nil {
			record(t.acct, accountFailed, "", err)
			return err
		}
		caller := p.caller
		if !t.own {
			caller = iamx.Identity{Account: t.acct.ID, AssumedRole: true,
				ARN: "arn:" + iamx.PartitionOf(c.Config().Region) + ":sts::" + t.acct.ID + ":assumed-role/" + fo.Org.RoleName + "/" + fleet.SessionName(callerName(p.caller))}
		}
		// The caller's own account keeps the state of runs without --org
		// (one lock per user whichever way it is run); members their own.
		stateDir := dir
		if !t.own {
			stateDir = fleet.AccountStateDir(dir, t.acct.ID)
		}
		w := fleetWork{acct: t.acct, rs: &rotationSession{client: t.client, signer: s, caller: caller}, stateDir: stateDir, reportStarted: orun.startErr[index[t.acct.ID]] == nil}
		res, err := opts.fleetAccount(ctx, w, runID, log, nil, run)
		if err == nil && res.sum.Interrupted {
			err = ctx.Err()
		}
		throttled.Add(res.throttled)
		if res.ran {
			results[index[t.acct.ID]] = &res // each worker writes its own element
		}
		if err != nil && !interrupted(ctx, err) {
			record(t.acct, accountFailed, "", err)
		}
		return err
	})
	var parts []fleetPart
	for i, t := range p.targets {
		if r := results[i]; r != nil {
			parts = append(parts, fleetPart{acct: t.acct, report: r.report, sum: r.sum})
		}
	}
	return reportFleet(ctx, opts, parts, orun, c.Requests(), throttled.Load(), time.Since(start))
}
