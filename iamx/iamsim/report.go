package iamsim

import (
	"bytes"
	"encoding/base64"
	"encoding/csv"
	"strconv"
	"time"
)

// reportTTL is how long IAM keeps a credential report: GenerateCredentialReport
// returns the cached one for 4 hours, after which GetCredentialReport says
// ReportExpired.
const reportTTL = 4 * time.Hour

// CredentialReportHeader is the header row of IAM's credential report.
var CredentialReportHeader = []string{
	"user", "arn", "user_creation_time", "password_enabled", "password_last_used",
	"password_last_changed", "password_next_rotation", "mfa_active",
	"access_key_1_active", "access_key_1_last_rotated", "access_key_1_last_used_date",
	"access_key_1_last_used_region", "access_key_1_last_used_service",
	"access_key_2_active", "access_key_2_last_rotated", "access_key_2_last_used_date",
	"access_key_2_last_used_region", "access_key_2_last_used_service",
	"cert_1_active", "cert_1_last_rotated", "cert_2_active", "cert_2_last_rotated",
}

type credReport struct {
	generated time.Time // the moment the snapshot was taken
	ready     time.Time // when generation completes, on the unrounded clock
	content   []byte
}

// reportTime formats times as the credential report does (ISO 8601 with
// an explicit offset).
func reportTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05+00:00") }

func (s *Server) generateCredentialReport(req *request) (*xw, *apiError) {
	now := s.clock()
	x := &xw{}
	switch r := s.report; {
	case r == nil || !now.Before(r.generated.Add(reportTTL)):
		s.report = &credReport{generated: now, ready: s.now().Add(s.reportDelay), content: s.buildReportLocked()}
		x.leaf("State", "STARTED")
		x.leaf("Description", "No report exists. Starting a new report generation task")
	case s.now().Before(r.ready):
		x.leaf("State", "INPROGRESS")
		x.leaf("Description", "Report generation in progress")
	default:
		x.leaf("State", "COMPLETE")
	}
	return x, nil
}

func (s *Server) getCredentialReport(req *request) (*xw, *apiError) {
	now := s.clock()
	r := s.report
	switch {
	case r == nil:
		return nil, errf("ReportNotPresent", "%s", defaultMessage["ReportNotPresent"])
	case s.now().Before(r.ready):
		return nil, errf("ReportInProgress", "%s", defaultMessage["ReportInProgress"])
	case !now.Before(r.generated.Add(reportTTL)):
		return nil, errf("ReportExpired", "%s", defaultMessage["ReportExpired"])
	}
	x := &xw{}
	x.leaf("Content", base64.StdEncoding.EncodeToString(r.content))
	x.leaf("ReportFormat", "text/csv")
	x.time("GeneratedTime", r.generated)
	return x, nil
}

// buildReportLocked writes the CSV: the root row first, then users in name
// order, with "N/A" and "not_supported" where IAM writes them.
func (s *Server) buildReportLocked() []byte {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	_ = w.Write(CredentialReportHeader)
	row := func(u *user) []string {
		rec := []string{u.name, s.arn(u), reportTime(u.created)}
		if u.root {
			rec = append(rec, "not_supported", "N/A", "not_supported", "not_supported")
		} else {
			rec = append(rec, "false", "N/A", "N/A", "N/A")
		}
		rec = append(rec, strconv.FormatBool(u.mfaSerial != ""))
		for i := range 2 {
			if i >= len(u.keys) {
				rec = append(rec, "false", "N/A", "N/A", "N/A", "N/A")
				continue
			}
			k := u.keys[i]
			rec = append(rec, strconv.FormatBool(k.status == StatusActive), reportTime(k.created))
			if k.lastUsed.IsZero() {
				rec = append(rec, "N/A", "N/A", "N/A")
			} else {
				rec = append(rec, reportTime(k.lastUsed), k.lastRegion, k.lastSvc)
			}
		}
		return append(rec, "false", "N/A", "false", "N/A")
	}
	_ = w.Write(row(s.root))
	for _, lc := range s.sortedNamesLocked() {
		_ = w.Write(row(s.users[lc]))
	}
	w.Flush()
	return buf.Bytes()
}
