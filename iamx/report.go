package iamx

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
)

// Report is IAM's credential report: one row per user, root included. It
// names at most two keys per user by slot and carries no key IDs.
type Report struct {
	Generated time.Time
	Users     []ReportUser
}

// ReportUser is one row of the credential report.
type ReportUser struct {
	User    string // RootUser for the account's root user
	ARN     string
	Created time.Time
	Keys    [2]ReportKey
}

// ReportKey is one access-key slot of a report row.
type ReportKey struct {
	// Present is false when the slot holds no key (IAM writes active=false
	// and last_rotated=N/A).
	Present     bool
	Active      bool
	LastRotated time.Time // when the key was created or last rotated
	LastUsed    LastUsed
}

// While IAM generates the report, CredentialReport checks after
// ReportFirstPoll, then waits twice as long each time, up to
// ReportMaxPoll: a small account's report (ready in about a second) costs
// one or two checks and little waiting, a large one's a check every few
// seconds, never a burst of requests.
const (
	ReportFirstPoll = 500 * time.Millisecond
	ReportMaxPoll   = 4 * time.Second
)

// CredentialReport generates (or reuses: IAM keeps a report for 4 hours)
// the credential report and downloads it: two requests when a report is
// fresh, one more per check while IAM is still generating it.
func (c *Client) CredentialReport(ctx context.Context) (Report, error) {
	ready, err := c.StartCredentialReport(ctx)
	if err != nil {
		return Report{}, err
	}
	return c.fetchReport(ctx, ready, false)
}

// StartCredentialReport asks IAM to generate the credential report, or to
// reuse a fresh one (GenerateCredentialReport, one request), and reports
// whether it is ready. An organization run starts every account's report
// first, so that they are generated side by side while keyrot works
// through the accounts.
func (c *Client) StartCredentialReport(ctx context.Context) (ready bool, err error) {
	out, err := c.iam.GenerateCredentialReport(ctx, &iam.GenerateCredentialReportInput{})
	if err != nil {
		return false, classify(err)
	}
	return out.State == types.ReportStateTypeComplete, nil
}

// FetchCredentialReport downloads the report StartCredentialReport asked
// for a while ago: it checks at once, then as CredentialReport does.
func (c *Client) FetchCredentialReport(ctx context.Context) (Report, error) {
	return c.fetchReport(ctx, true, true)
}

// fetchReport downloads the report, checking at once when ready, else
// after ReportFirstPoll and twice as long each time. With regenerate, a
// report IAM says is missing or expired is started again once.
func (c *Client) fetchReport(ctx context.Context, ready, regenerate bool) (Report, error) {
	wait := ReportFirstPoll
	for {
		if !ready {
			if err := c.Sleep(ctx, wait); err != nil {
				return Report{}, err
			}
			wait = min(2*wait, ReportMaxPoll)
		}
		got, err := c.iam.GetCredentialReport(ctx, &iam.GetCredentialReportInput{})
		var notReady *types.CredentialReportNotReadyException
		if errors.As(err, &notReady) {
			ready = false
			continue
		}
		var missing *types.CredentialReportNotPresentException
		var expired *types.CredentialReportExpiredException
		if regenerate && (errors.As(err, &missing) || errors.As(err, &expired)) {
			regenerate = false
			if ready, err = c.StartCredentialReport(ctx); err != nil {
				return Report{}, err
			}
			continue
		}
		if err != nil {
			return Report{}, classify(err)
		}
		r, err := ParseReport(got.Content)
		if err != nil {
			return Report{}, err
		}
		r.Generated = aws.ToTime(got.GeneratedTime)
		return r, nil
	}
}

// ParseReport reads the CSV body of a credential report. Columns are found
// by name, so a report with columns added or reordered still parses.
func ParseReport(data []byte) (Report, error) {
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if err != nil {
		return Report{}, fmt.Errorf("credential report: read header: %w", err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[h] = i
	}
	for _, need := range []string{"user", "arn"} {
		if _, ok := col[need]; !ok {
			return Report{}, fmt.Errorf("credential report: no %q column", need)
		}
	}
	var rep Report
	for line := 2; ; line++ {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return Report{}, fmt.Errorf("credential report: %w", err)
		}
		get := func(name string) string {
			if i, ok := col[name]; ok && i < len(rec) {
				return rec[i]
			}
			return ""
		}
		u := ReportUser{User: get("user"), ARN: get("arn"), Created: reportTime(get("user_creation_time"))}
		for slot := range u.Keys {
			p := fmt.Sprintf("access_key_%d_", slot+1)
			k := ReportKey{
				Active:      get(p+"active") == "true",
				LastRotated: reportTime(get(p + "last_rotated")),
				LastUsed: LastUsed{
					Date:    reportTime(get(p + "last_used_date")),
					Service: notApplicable(get(p + "last_used_service")),
					Region:  notApplicable(get(p + "last_used_region")),
				},
			}
			k.Present = k.Active || !k.LastRotated.IsZero()
			u.Keys[slot] = k
		}
		rep.Users = append(rep.Users, u)
	}
	return rep, nil
}

// reportTime parses the report's ISO 8601 times; "N/A", "no_information"
// and "not_supported" are zero.
func reportTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}
	}
	return t
}
