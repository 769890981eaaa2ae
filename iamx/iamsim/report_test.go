package iamsim_test

import (
	"encoding/csv"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/keyrot/keyrot/iamx/iamsim"
)

func TestCredentialReport(t *testing.T) {
	t.Parallel()
	clk := newClock()
	created := clk.Now().Add(-30 * 24 * time.Hour)
	used := clk.Now().Add(-time.Hour)
	srv, c := admin(t, iamsim.Now(clk.Now), iamsim.ReportDelay(5*time.Second),
		iamsim.User("bob",
			iamsim.KeySeed{Created: created, LastUsed: used, LastUsedService: "s3", LastUsedRegion: "eu-west-1"},
			iamsim.KeySeed{Status: "Inactive", Created: created.Add(time.Hour)}),
		iamsim.User("carol"),
		iamsim.RequireMFA("carol", "arn:aws:iam::123456789012:mfa/carol", "123456"))
	cx := ctx(t)

	_, err := c.GetCredentialReport(cx, &iam.GetCredentialReportInput{})
	var notPresent *types.CredentialReportNotPresentException
	if !errors.As(err, &notPresent) {
		t.Fatalf("before generation: %v", err)
	}
	apiErr(t, err, "ReportNotPresent", 410)

	gen, err := c.GenerateCredentialReport(cx, &iam.GenerateCredentialReportInput{})
	if err != nil || gen.State != types.ReportStateTypeStarted {
		t.Fatalf("Generate = %+v, %v", gen, err)
	}
	_, err = c.GetCredentialReport(cx, &iam.GetCredentialReportInput{})
	var notReady *types.CredentialReportNotReadyException
	if !errors.As(err, &notReady) {
		t.Fatalf("in progress: %v", err)
	}
	apiErr(t, err, "ReportInProgress", 404)
	if gen, _ := c.GenerateCredentialReport(cx, &iam.GenerateCredentialReportInput{}); gen.State != types.ReportStateTypeInprogress {
		t.Errorf("second Generate = %s", gen.State)
	}

	generated := clk.Now()
	clk.Advance(5 * time.Second)
	if gen, _ := c.GenerateCredentialReport(cx, &iam.GenerateCredentialReportInput{}); gen.State != types.ReportStateTypeComplete {
		t.Errorf("Generate after delay = %s", gen.State)
	}
	rep, err := c.GetCredentialReport(cx, &iam.GetCredentialReportInput{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.ReportFormat != types.ReportFormatTypeTextCsv || !aws.ToTime(rep.GeneratedTime).Equal(generated) {
		t.Errorf("report = %s at %v", rep.ReportFormat, rep.GeneratedTime)
	}
	rows, err := csv.NewReader(strings.NewReader(string(rep.Content))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	const header = "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated"
	if got := strings.Join(rows[0], ","); got != header {
		t.Errorf("header = %s", got)
	}
	byUser := map[string][]string{}
	var order []string
	for _, r := range rows[1:] {
		byUser[r[0]] = r
		order = append(order, r[0])
	}
	if want := []string{"<root_account>", "admin", "bob", "carol"}; !slices.Equal(order, want) {
		t.Errorf("rows = %v, want %v", order, want)
	}
	if r := byUser["<root_account>"]; r[1] != "arn:aws:iam::123456789012:root" || r[3] != "not_supported" || r[8] != "false" {
		t.Errorf("root row = %v", r)
	}
	iso := func(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05+00:00") }
	wantBob := []string{"bob", "arn:aws:iam::123456789012:user/bob", iso(created), "false", "N/A", "N/A", "N/A", "false",
		"true", iso(created), iso(used), "eu-west-1", "s3",
		"false", iso(created.Add(time.Hour)), "N/A", "N/A", "N/A",
		"false", "N/A", "false", "N/A"}
	if !slices.Equal(byUser["bob"], wantBob) {
		t.Errorf("bob row\n got %v\nwant %v", byUser["bob"], wantBob)
	}
	if r := byUser["carol"]; r[7] != "true" || r[8] != "false" || r[9] != "N/A" {
		t.Errorf("carol row = %v", r)
	}

	// Cached for 4 hours, then expired and regenerated.
	clk.Advance(3 * time.Hour)
	if gen, _ := c.GenerateCredentialReport(cx, &iam.GenerateCredentialReportInput{}); gen.State != types.ReportStateTypeComplete {
		t.Errorf("Generate within 4h = %s", gen.State)
	}
	clk.Advance(time.Hour)
	_, err = c.GetCredentialReport(cx, &iam.GetCredentialReportInput{})
	var expired *types.CredentialReportExpiredException
	if !errors.As(err, &expired) {
		t.Errorf("after 4h: %v", err)
	}
	srv.SetReportDelay(0)
	if gen, _ := c.GenerateCredentialReport(cx, &iam.GenerateCredentialReportInput{}); gen.State != types.ReportStateTypeStarted {
		t.Errorf("Generate after 4h = %s", gen.State)
	}
	if _, err := c.GetCredentialReport(cx, &iam.GetCredentialReportInput{}); err != nil {
		t.Errorf("regenerated report: %v", err)
	}
}
