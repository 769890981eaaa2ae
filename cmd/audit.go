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
iam:GetCredentialReport.` + exitHelp(exitOK, exitError, exitUsage, exitService, exitDenied, exitFindings, exitInterrupted),
		Example: `  keyrot audit
  keyrot audit --max-age 30d --output csv > findings.csv
  # In CI: fail the job when anything is found (exit 11)
  keyrot audit --fail-on-findings --quiet`,
		Args:        noArgs,
		Annotations: map[string]string{csvAnnotation: "true"},
		RunE: func(c *cobra.Command, args []string) error {
			if f.Global.Output == "csv" && f.Global.Query != "" {
				return usageErrorf("--query works on the JSON form: use it with --output json, text or table, not csv")
			}
			if runF != nil {
				return runF(c.Context(), opts)
			}
			return runAudit(c.Context(), opts)
		},
	}
	fl := c.Flags()
	fl.Var(ageValue{&opts.Policy.MaxAge}, "max-age", "report Active keys last rotated longer ago than this (0: off)")
	fl.Var(ageValue{&opts.Policy.MaxUnused}, "max-unused", "report Active keys unused for longer than this (0: off)")
	fl.BoolVar(&opts.FailOnFindings, "fail-on-findings", false, fmt.Sprintf("exit %d when there is any finding", exitFindings))
	return c
}

// findingJSON is one finding in JSON output.
type findingJSON struct {
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
}

func runAudit(ctx context.Context, opts *auditOptions) error {
	f := opts.f
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
	counts, users := fleet.Summarize(fs)
	doc := auditJSON{ReportGenerated: jsonTime(rep.Generated), MaxAgeDays: int(opts.Policy.MaxAge / (24 * time.Hour)),
		MaxUnusedDays: int(opts.Policy.MaxUnused / (24 * time.Hour)), Users: len(rep.Users), UsersWithFindings: users,
		Counts: map[string]int{}, Findings: make([]findingJSON, 0, len(fs))}
	for _, k := range fleet.FindingKinds {
		doc.Counts[k] = counts[k]
	}
	header := []string{"USER", "KEY", "FINDING", "STATUS", "LAST ROTATED", "LAST USED", "AGE (DAYS)", "DETAIL"}
	var rows, tableRows [][]string
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
		doc.Findings = append(doc.Findings, j)
		slot, age := "", ""
		if x.Slot > 0 {
			slot = strconv.Itoa(x.Slot)
		}
		if x.Age > 0 {
			age = strconv.Itoa(j.AgeDays)
		}
		rows = append(rows, []string{x.User, slot, x.Kind, status, textTime(x.LastRotated), textTime(x.LastUsed), age, x.Detail})
		tableRows = append(tableRows, []string{x.User, dash(slot), x.Kind, dash(status), relative(x.LastRotated, now, "-"), relative(x.LastUsed, now, "never"), dash(age), x.Detail})
	}

	if f.Global.Output == "csv" {
		w := csv.NewWriter(f.IO.Out)
		_ = w.Write(header)
		_ = w.WriteAll(rows)
		if err := w.Error(); err != nil {
			return err
		}
	} else if err := f.render(view{JSON: doc, Header: header, Rows: rows, TableRows: tableRows}); err != nil {
		return err
	}

	var parts []string
	for _, k := range fleet.FindingKinds {
		if counts[k] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", k, counts[k]))
		}
	}
	detail := "none"
	if len(parts) > 0 {
		detail = strings.Join(parts, ", ")
	}
	f.message("%d findings across %d of %d users: %s (credential report generated %s; max age %s, max unused %s).",
		len(fs), users, len(rep.Users), detail, textTime(rep.Generated), ruleAge(opts.Policy.MaxAge), ruleAge(opts.Policy.MaxUnused))
	if opts.FailOnFindings && len(fs) > 0 {
		err := &codedError{exitFindings, fmt.Errorf("%d findings (--fail-on-findings)", len(fs))}
		if f.Global.Quiet {
			return err // the exit code is the answer a quiet CI gate asked for
		}
		return withHint(err, "`keyrot enforce --dry-run` shows what enforcing the policy would change")
	}
	return nil
}

// ruleAge is a policy threshold as the summary shows it: 0 turns the rule off.
func ruleAge(d time.Duration) string {
	if d <= 0 {
		return "off"
	}
	return formatAge(d)
}
