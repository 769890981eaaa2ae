package cmd

import (
	"context"
	"encoding/csv"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/keyrot/keyrot/iamx"
	"github.com/keyrot/keyrot/rotate/fleet"
	"github.com/spf13/cobra"
)

// exitFindings: `keyrot audit --fail-on-findings` found something.
const exitFindings = 11

// csvAnnotation marks the commands that accept --output csv.
const csvAnnotation = "keyrot/output-csv"

// checkCSV refuses --output csv for commands without a CSV form.
func checkCSV(c *cobra.Command, g *globalOptions) error {
	if g.Output == "csv" && c.Annotations[csvAnnotation] != "true" {
		return usageErrorf("--output csv is available for `keyrot audit` only; %s takes table, json or text", c.CommandPath())
	}
	return nil
}

type auditOptions struct {
	f              *Factory
	Policy         fleet.Policy
	FailOnFindings bool
	orgOptions
}

func newCmdAudit(f *Factory, runF func(context.Context, *auditOptions) error) *cobra.Command {
	opts := &auditOptions{f: f, Policy: fleet.Policy{MaxAge: defaultMaxAge, MaxUnused: defaultMaxUnused}}
	c := &cobra.Command{
		Use:   "audit [--max-age 90d] [--max-unused 45d] [--fail-on-findings]",
		Short: "List access keys that break a key policy, account-wide",
		Long: `Read IAM's credential report once (2-3 API calls whatever the number of
users) and list every finding:

  KeyTooOld      an Active key last rotated longer ago than --max-age
  KeyUnused      an Active key not used for longer than --max-unused, or
                 never used and created longer ago than that
  TwoActiveKeys  a user with two Active keys (a rotation needs a free slot)
  RootAccessKey  an access key on the root user
  InactiveKey    an Inactive key, which could be deleted

The report names keys by slot (1 or 2), not by ID: run ` + "`keyrot list --user U`" + `
for the IDs. IAM regenerates the report at most every 4 hours; the output
says when it was generated. Findings go to stdout (table, json, text or
csv), a summary line to stderr. Nothing is changed: ` + "`keyrot enforce`" + ` applies
the same policy. Permissions: iam:GenerateCredentialReport and
iam:GetCredentialReport.

--org audits every ACTIVE account of the AWS Organization (run it from the
management account or a delegated administrator): each account's own
credential report, read through --role-name, AssumeRole and 2-3 calls an
account, --account-concurrency accounts at a time. Every finding carries
AccountId and AccountName; an account keyrot cannot work in is reported,
the others are audited, and keyrot exits 10.` + exitHelp(exitOK, exitError, exitUsage, exitService, exitDenied, exitPartial, exitFindings, exitInterrupted),
		Example: `  keyrot audit
  keyrot audit --max-age 30d --output csv > findings.csv
  # Every account of the organization, or one OU's
  keyrot audit --org
  keyrot audit --org --ou ou-ab12-cd34ef56 --exclude-account 111111111111
  # In CI: fail the job when anything is found (exit 11)
  keyrot audit --fail-on-findings --quiet`,
		Args:        noArgs,
		Annotations: map[string]string{csvAnnotation: "true"},
		RunE: func(c *cobra.Command, args []string) error {
			if f.Global.Output == "csv" && f.Global.Query != "" {
				return usageErrorf("--query works on the JSON form: use it with --output json, text or table, not csv")
			}
			if err := opts.orgOptions.validate(c); err != nil {
				return err
			}
			if runF != nil {
				return runF(c.Context(), opts)
			}
			return runAudit(f.interruptible(c.Context()), opts)
		},
	}
	fl := c.Flags()
	fl.Var(ageValue{&opts.Policy.MaxAge}, "max-age", "report Active keys last rotated longer ago than this (0: off)")
	fl.Var(ageValue{&opts.Policy.MaxUnused}, "max-unused", "report Active keys unused for longer than this (0: off)")
	fl.BoolVar(&opts.FailOnFindings, "fail-on-findings", false, fmt.Sprintf("exit %d when there is any finding", exitFindings))
	addOrgFlags(fl, &opts.orgOptions)
	return c
}

// findingJSON is one finding in JSON output.
type findingJSON struct {
	AccountID     string `json:"AccountId,omitempty"`
	AccountName   string `json:",omitempty"`
	UserName      string
	Arn           string
	Finding       string
	AccessKeySlot int `json:",omitempty"`
	Status        string
	LastRotated   *string
	LastUsedDate  *string
	AgeDays       int
	Detail        string
}

type auditJSON struct {
	ReportGenerated   *string
	MaxAgeDays        int
	MaxUnusedDays     int
	Users             int
	UsersWithFindings int
	Counts            map[string]int
	Findings          []findingJSON
	// Accounts is set in an organization run (--org): each account's
	// result, ReportGenerated above being the oldest of their reports.
	Accounts []orgAccountJSON `json:",omitempty"`
}

func runAudit(ctx context.Context, opts *auditOptions) error {
	f := opts.f
	if opts.Org {
		// Many accounts' calls: the fleet runs' adaptive retries.
		client, err := fleetClient(ctx, f)
		if err != nil {
			return err
		}
		return runAuditOrg(ctx, opts, client)
	}
	client, err := f.Client(ctx)
	if err != nil {
		return err
	}
	stop := f.waiting("generating the IAM credential report")
	rep, err := client.CredentialReport(ctx)
	stop()
	if err != nil {
		return fmt.Errorf("read the credential report: %w", err)
	}
	now := f.Now()
	fs := fleet.Audit(rep, opts.Policy, now)
	doc := opts.newDoc(rep.Generated, len(rep.Users))
	var rows, tableRows [][]string
	auditRows(&doc, &rows, &tableRows, fs, now, nil)
	if err := opts.render(doc, rows, tableRows); err != nil {
		return err
	}
	opts.f.message("%d findings across %d of %d users: %s (credential report generated %s; max age %s, max unused %s).",
		len(doc.Findings), doc.UsersWithFindings, doc.Users, findingCounts(doc.Counts), textTime(rep.Generated), ruleAge(opts.Policy.MaxAge), ruleAge(opts.Policy.MaxUnused))
	return opts.failOnFindings(len(doc.Findings))
}

// runAuditOrg audits every selected account of the organization, each
// from its own credential report: AssumeRole and 2-3 IAM calls an account.
func runAuditOrg(ctx context.Context, opts *auditOptions, client *iamx.Client) error {
	f := opts.f
	p, err := opts.plan(ctx, client)
	if err != nil {
		return err
	}
	now := f.Now()
	run := newOrgRun(f, p)
	reports := run.readReports(ctx, &opts.orgOptions, "audit")
	oldest := reports.oldest
	users := 0
	for _, rep := range reports.byAccount {
		users += len(rep.Users)
	}
	doc := opts.newDoc(oldest, users)
	var rows, tableRows [][]string
	for _, t := range p.targets {
		if rep, ok := reports.byAccount[t.acct.ID]; ok {
			auditRows(&doc, &rows, &tableRows, fleet.Audit(rep, opts.Policy, now), now, &t.acct)
		}
	}
	doc.Accounts = run.accounts
	if err := opts.render(doc, rows, tableRows); err != nil {
		return err
	}
	generated := "no credential report read"
	if !oldest.IsZero() {
		generated = "oldest credential report generated " + textTime(oldest)
	}
	f.message("%d findings across %d of %d users in %s: %s (%s; max age %s, max unused %s).",
		len(doc.Findings), doc.UsersWithFindings, doc.Users, run.summary(), findingCounts(doc.Counts), generated, ruleAge(opts.Policy.MaxAge), ruleAge(opts.Policy.MaxUnused))
	if err := run.err(ctx, "the findings of the other accounts are above"); err != nil {
		return err
	}
	return opts.failOnFindings(len(doc.Findings))
}

// newDoc is an audit's JSON document before its findings.
func (opts *auditOptions) newDoc(generated time.Time, users int) auditJSON {
	doc := auditJSON{ReportGenerated: jsonTime(generated), MaxAgeDays: int(opts.Policy.MaxAge / (24 * time.Hour)),
		MaxUnusedDays: int(opts.Policy.MaxUnused / (24 * time.Hour)), Users: users,
		Counts: map[string]int{}, Findings: []findingJSON{}}
	for _, k := range fleet.FindingKinds {
		doc.Counts[k] = 0
	}
	return doc
}

// auditRows adds findings fs (of account acct, nil in a one-account run)
// to doc and the text and table rows.
func auditRows(doc *auditJSON, rows, tableRows *[][]string, fs []fleet.Finding, now time.Time, acct *iamx.Account) {
	counts, users := fleet.Summarize(fs)
	doc.UsersWithFindings += users
	for _, k := range fleet.FindingKinds {
		doc.Counts[k] += counts[k]
	}
	for _, x := range fs {
		status := ""
		if x.Slot > 0 {
			status = string(iamx.StatusInactive)
			if x.Active {
				status = string(iamx.StatusActive)
			}
		}
		j := findingJSON{UserName: x.User, Arn: x.ARN, Finding: x.Kind, AccessKeySlot: x.Slot, Status: status,
			LastRotated: jsonTime(x.LastRotated), LastUsedDate: jsonTime(x.LastUsed), AgeDays: ageDays(now.Add(-x.Age), now), Detail: x.Detail}
		slot, age := "", ""
		if x.Slot > 0 {
			slot = strconv.Itoa(x.Slot)
		}
		if x.Age > 0 {
			age = strconv.Itoa(j.AgeDays)
		}
		row := []string{x.User, slot, x.Kind, status, textTime(x.LastRotated), textTime(x.LastUsed), age, x.Detail}
		trow := []string{x.User, dash(slot), x.Kind, dash(status), relative(x.LastRotated, now, "-"), relative(x.LastUsed, now, "never"), dash(age), x.Detail}
		if acct != nil {
			j.AccountID, j.AccountName = acct.ID, acct.Name
			row, trow = accountColumns(*acct, row), accountColumns(*acct, trow)
		}
		doc.Findings = append(doc.Findings, j)
		*rows = append(*rows, row)
		*tableRows = append(*tableRows, trow)
	}
}

// render prints the findings in the chosen format.
func (opts *auditOptions) render(doc auditJSON, rows, tableRows [][]string) error {
	f := opts.f
	header := []string{"USER", "KEY", "FINDING", "STATUS", "LAST ROTATED", "LAST USED", "AGE (DAYS)", "DETAIL"}
	if opts.Org {
		header = append(orgHeader[:len(orgHeader):len(orgHeader)], header...)
	}
	if f.Global.Output == "csv" {
		w := csv.NewWriter(f.IO.Out)
		_ = w.Write(header)
		_ = w.WriteAll(rows)
		return w.Error()
	}
	return f.render(view{JSON: doc, Header: header, Rows: rows, TableRows: tableRows})
}

// findingCounts is the summary's "KeyTooOld 3, KeyUnused 1", or "none".
func findingCounts(counts map[string]int) string {
	var parts []string
	for _, k := range fleet.FindingKinds {
		if counts[k] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", k, counts[k]))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// failOnFindings is --fail-on-findings' exit 11.
func (opts *auditOptions) failOnFindings(n int) error {
	if !opts.FailOnFindings || n == 0 {
		return nil
	}
	err := &codedError{exitFindings, fmt.Errorf("%d findings (--fail-on-findings)", n)}
	if opts.f.Global.Quiet {
		return err // the exit code is the answer a quiet CI gate asked for
	}
	return withHint(err, "`keyrot enforce --dry-run` shows what enforcing the policy would change")
}

// ruleAge is a policy threshold as the summary shows it: 0 turns the rule off.
func ruleAge(d time.Duration) string {
	if d <= 0 {
		return "off"
	}
	return formatAge(d)
}
