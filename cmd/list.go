package cmd

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/keyrot/keyrot/iamx"
	"github.com/spf13/cobra"
)

type listOptions struct {
	f        *Factory
	User     string
	AllUsers bool
	orgOptions
}

// lastUsedJSON mirrors IAM's AccessKeyLastUsed.
type lastUsedJSON struct {
	LastUsedDate *string
	ServiceName  string
	Region       string
}

// keyJSON mirrors IAM's AccessKeyMetadata plus its last use and age.
type keyJSON struct {
	UserName          string
	AccessKeyID       string `json:"AccessKeyId"`
	Status            iamx.Status
	CreateDate        *string
	AgeDays           int
	AccessKeyLastUsed lastUsedJSON
}

type listJSON struct {
	AccessKeyMetadata []keyJSON
}

// reportKeyJSON is one key slot of a credential report row.
type reportKeyJSON struct {
	AccountID         string `json:"AccountId,omitempty"`
	AccountName       string `json:",omitempty"`
	UserName          string
	Arn               string
	Slot              int
	Status            iamx.Status
	LastRotated       *string
	AgeDays           int
	AccessKeyLastUsed lastUsedJSON
}

type reportListJSON struct {
	GeneratedTime *string
	// Source says where the rows come from and what they lack.
	Source     string
	AccessKeys []reportKeyJSON
	// Accounts is set with --org: each account's result, GeneratedTime
	// above being the oldest of their reports.
	Accounts []orgAccountJSON `json:",omitempty"`
}

func newCmdList(f *Factory, runF func(context.Context, *listOptions) error) *cobra.Command {
	opts := &listOptions{f: f}
	c := &cobra.Command{
		Use:   "list [--user NAME | --all-users]",
		Short: "List access keys with their status, age and last use",
		Long: `List access keys: ID, user, status, creation time, age, and when, where and
for which service each was last used.

--all-users reads IAM's credential report instead of asking about each user
(two or three requests for the whole account, however many users). IAM
regenerates that report at most every four hours, and it carries no access
key IDs: keys appear by slot (1 or 2). Use --user for a user's key IDs.

--all-users --org does so in every ACTIVE account of the AWS Organization,
through --role-name in each member account; rows carry the account.` + exitHelp(append(readCodes, exitPartial)...),
		Example: `  keyrot list --user Bob
  keyrot list --all-users --output json
  keyrot list --all-users --org --accounts 111111111111,222222222222
  keyrot list --user Bob --query 'AccessKeyMetadata[?Status==` + "`Active`" + `].AccessKeyId' --output text`,
		Args: noArgs,
		RunE: func(c *cobra.Command, args []string) error {
			if opts.AllUsers && opts.User != "" {
				return usageErrorf("--user and --all-users cannot be used together")
			}
			if err := validateTarget(opts.User, ""); err != nil {
				return err
			}
			if opts.Org && !opts.AllUsers {
				return usageErrorf("--org goes with --all-users: it lists every user of every account")
			}
			if err := opts.orgOptions.validate(c); err != nil {
				return err
			}
			if runF != nil {
				return runF(c.Context(), opts)
			}
			ctx := c.Context()
			if opts.AllUsers {
				ctx = f.interruptible(ctx)
			}
			return runList(ctx, opts)
		},
	}
	addUserFlag(c, &opts.User, "user whose keys to list")
	c.Flags().BoolVar(&opts.AllUsers, "all-users", false, "list every user's keys from the IAM credential report")
	addOrgFlags(c.Flags(), &opts.orgOptions)
	return c
}

func runList(ctx context.Context, opts *listOptions) error {
	if opts.AllUsers {
		return listAllUsers(ctx, opts)
	}
	s, err := openSession(ctx, opts.f, opts.User)
	if err != nil {
		return err
	}
	keys, err := s.client.ListKeysWithLastUsed(ctx, opts.User)
	if err != nil {
		who := opts.User
		if who == "" {
			who = "the caller"
		}
		return withHint(fmt.Errorf("list access keys of %s: %w", who, err), "%s", notFoundHint(err, opts.User))
	}
	now := opts.f.Now()
	doc := listJSON{AccessKeyMetadata: []keyJSON{}}
	var rows, table [][]string
	for _, k := range keys {
		lu := k.LastUsed
		if lu == nil {
			lu = &iamx.LastUsed{}
		}
		user := displayUser(k.User)
		doc.AccessKeyMetadata = append(doc.AccessKeyMetadata, keyJSON{
			UserName: user, AccessKeyID: k.ID, Status: k.Status,
			CreateDate: jsonTime(k.Created), AgeDays: ageDays(k.Created, now),
			AccessKeyLastUsed: lastUsedJSON{LastUsedDate: jsonTime(lu.Date), ServiceName: lu.Service, Region: lu.Region},
		})
		rows = append(rows, []string{k.ID, user, string(k.Status), textTime(k.Created), strconv.Itoa(ageDays(k.Created, now)), textTime(lu.Date), lu.Service, lu.Region})
		table = append(table, []string{k.ID, user, string(k.Status), k.Created.UTC().Format("2006-01-02"), relative(k.Created, now, "-"), relative(lu.Date, now, "never"), dash(lu.Service), dash(lu.Region)})
	}
	if len(keys) == 0 {
		who := opts.User
		if who == "" {
			who = "the caller"
		}
		opts.f.message("%s has no access keys", who)
	}
	return opts.f.render(view{
		JSON:      doc,
		Header:    []string{"ACCESS KEY ID", "USER", "STATUS", "CREATED", "AGE", "LAST USED", "SERVICE", "REGION"},
		Rows:      rows,
		TableRows: table,
	})
}

func listAllUsers(ctx context.Context, opts *listOptions) error {
	if opts.Org {
		// Many accounts' calls: the fleet runs' adaptive retries.
		c, err := fleetClient(ctx, opts.f)
		if err != nil {
			return err
		}
		return listOrg(ctx, opts, c)
	}
	c, err := opts.f.Client(ctx)
	if err != nil {
		return err
	}
	stop := opts.f.waiting("generating the IAM credential report")
	rep, err := c.CredentialReport(ctx)
	stop()
	if err != nil {
		return fmt.Errorf("read the IAM credential report: %w", err)
	}
	now := opts.f.Now()
	doc := newReportListDoc(rep.Generated)
	var rows, table [][]string
	reportRows(&doc, &rows, &table, rep, now, nil)
	opts.f.message("From the IAM credential report generated %s (%s; IAM regenerates it at most every 4 hours).\nThe report has no access key IDs; run `keyrot list --user NAME` to see a user's key IDs.",
		textTime(rep.Generated), relative(rep.Generated, now, "unknown"))
	return opts.f.render(view{JSON: doc, Header: reportHeader(false), Rows: rows, TableRows: table})
}

// listOrg lists every user's keys in every selected account of the
// organization, from each account's credential report.
func listOrg(ctx context.Context, opts *listOptions, c *iamx.Client) error {
	f := opts.f
	p, err := opts.plan(ctx, c)
	if err != nil {
		return err
	}
	run := newOrgRun(f, p)
	reports := run.readReports(ctx, &opts.orgOptions, "list")
	oldest := reports.oldest
	now := f.Now()
	doc := newReportListDoc(oldest)
	var rows, table [][]string
	for _, t := range p.targets {
		if rep, ok := reports.byAccount[t.acct.ID]; ok {
			reportRows(&doc, &rows, &table, rep, now, &t.acct)
		}
	}
	doc.Accounts = run.accounts
	if err := f.render(view{JSON: doc, Header: reportHeader(true), Rows: rows, TableRows: table}); err != nil {
		return err
	}
	if !oldest.IsZero() {
		f.message("%d access keys in %s, from their IAM credential reports (the oldest generated %s). The reports have no access key IDs; run `keyrot list --user NAME` in an account for them.",
			len(doc.AccessKeys), run.summary(), textTime(oldest))
	}
	return run.err(ctx, "the keys of the other accounts are above")
}

func newReportListDoc(generated time.Time) reportListJSON {
	return reportListJSON{
		GeneratedTime: jsonTime(generated),
		Source:        "IAM credential report: no access key IDs; run keyrot list --user NAME for them",
		AccessKeys:    []reportKeyJSON{},
	}
}

func reportHeader(org bool) []string {
	h := []string{"ACCESS KEY ID", "USER", "STATUS", "CREATED", "AGE", "LAST USED", "SERVICE", "REGION"}
	if org {
		h = append(orgHeader[:len(orgHeader):len(orgHeader)], h...)
	}
	return h
}

// reportRows adds the keys of rep (of account acct; nil in a one-account
// run) to doc and the text and table rows.
func reportRows(doc *reportListJSON, rows, table *[][]string, rep iamx.Report, now time.Time, acct *iamx.Account) {
	for _, u := range rep.Users {
		for i, k := range u.Keys {
			if !k.Present {
				continue
			}
			st := iamx.StatusInactive
			if k.Active {
				st = iamx.StatusActive
			}
			j := reportKeyJSON{
				UserName: u.User, Arn: u.ARN, Slot: i + 1, Status: st,
				LastRotated: jsonTime(k.LastRotated), AgeDays: ageDays(k.LastRotated, now),
				AccessKeyLastUsed: lastUsedJSON{LastUsedDate: jsonTime(k.LastUsed.Date), ServiceName: k.LastUsed.Service, Region: k.LastUsed.Region},
			}
			slot := fmt.Sprintf("(slot %d)", i+1)
			row := []string{slot, u.User, string(st), textTime(k.LastRotated), strconv.Itoa(ageDays(k.LastRotated, now)), textTime(k.LastUsed.Date), k.LastUsed.Service, k.LastUsed.Region}
			trow := []string{slot, u.User, string(st), k.LastRotated.UTC().Format("2006-01-02"), relative(k.LastRotated, now, "-"), relative(k.LastUsed.Date, now, "never"), dash(k.LastUsed.Service), dash(k.LastUsed.Region)}
			if acct != nil {
				j.AccountID, j.AccountName = acct.ID, acct.Name
				row, trow = accountColumns(*acct, row), accountColumns(*acct, trow)
			}
			doc.AccessKeys = append(doc.AccessKeys, j)
			*rows = append(*rows, row)
			*table = append(*table, trow)
		}
	}
}
