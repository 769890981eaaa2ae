package contain

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/keyrot/keyrot/iamx"
	"github.com/keyrot/keyrot/iamx/iamsim"
)

// seedLeak records what an attacker did with bob's key: 60 reads from one
// address in us-east-1 (two pages), a GetSessionToken whose session then
// created a user in eu-west-1, and an AccessDenied.
func seedLeak(e *env) (session string) {
	now := e.clk.Now()
	session = iamsim.KeyIDForAccount(iamsim.DefaultAccountID, 42)
	for i := range 60 {
		e.srv.RecordEvent(iamsim.Event{Time: now.Add(-time.Duration(60-i) * time.Minute), Name: "ListBuckets", Source: "s3.amazonaws.com",
			Region: "us-east-1", AccessKeyID: e.leaked.ID, User: "bob", SourceIP: "203.0.113.7", UserAgent: "aws-cli/2.15.0", ReadOnly: true})
	}
	e.srv.RecordEvent(iamsim.Event{Time: now.Add(-30 * time.Minute), Name: "GetSessionToken", Source: "sts.amazonaws.com",
		Region: "eu-west-1", AccessKeyID: e.leaked.ID, User: "bob", SourceIP: "198.51.100.23", UserAgent: "Boto3/1.34.0", IssuedKeyID: session})
	e.srv.RecordEvent(iamsim.Event{Time: now.Add(-29 * time.Minute), Name: "CreateUser", Source: "iam.amazonaws.com",
		Region: "eu-west-1", AccessKeyID: session, User: "bob", SourceIP: "198.51.100.23", UserAgent: "Boto3/1.34.0"})
	e.srv.RecordEvent(iamsim.Event{Time: now.Add(-28 * time.Minute), Name: "RunInstances", Source: "ec2.amazonaws.com",
		Region: "eu-west-1", AccessKeyID: session, User: "bob", SourceIP: "198.51.100.23", UserAgent: "Boto3/1.34.0", ErrorCode: "Client.UnauthorizedOperation"})
	// Someone else's key, and bob's key in a region not asked about.
	e.srv.RecordEvent(iamsim.Event{Time: now.Add(-time.Minute), Name: "ListUsers", Region: "us-east-1", AccessKeyID: e.adminK.ID, User: "admin"})
	e.srv.RecordEvent(iamsim.Event{Time: now.Add(-time.Minute), Name: "ListUsers", Region: "ap-northeast-1", AccessKeyID: e.leaked.ID, User: "bob"})
	return session
}

func TestUsageFollowsPagesRegionsAndSessions(t *testing.T) {
	e := newEnv(t)
	session := seedLeak(e)
	s, err := Usage(context.Background(), e.admin, UsageOptions{AccessKeyID: e.leaked.ID, Regions: []string{"us-east-1", "eu-west-1"}, Now: e.clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Events) != 63 {
		t.Fatalf("%d events, want 63", len(s.Events))
	}
	// us-east-1: 2 pages; eu-west-1: 1; then the session in both: 1 each.
	if got := e.srv.CallCount("LookupEvents"); got != 5 || s.Calls != 5 {
		t.Errorf("%d LookupEvents calls (Summary says %d), want 5", got, s.Calls)
	}
	if len(s.Sessions) != 1 || s.Sessions[0].AccessKeyID != session || s.Sessions[0].Events != 2 || s.Sessions[0].MintedBy != "GetSessionToken" {
		t.Errorf("sessions %+v", s.Sessions)
	}
	ips := fmt.Sprint(s.BySourceIP)
	if len(s.BySourceIP) != 2 || s.BySourceIP[0].Value != "203.0.113.7" || s.BySourceIP[0].Events != 60 || s.BySourceIP[1].Events != 3 {
		t.Errorf("by source IP %s", ips)
	}
	if g := s.BySourceIP[0]; !g.FirstSeen.Before(g.LastSeen) {
		t.Errorf("first/last seen %s %s", g.FirstSeen, g.LastSeen)
	}
	if len(s.ByRegion) != 2 || len(s.ByUserAgent) != 2 || len(s.Errors) != 1 || s.Errors[0].Value != "Client.UnauthorizedOperation" {
		t.Errorf("regions %v, agents %v, errors %v", s.ByRegion, s.ByUserAgent, s.Errors)
	}
	var flagged []string
	for _, f := range s.Flagged {
		flagged = append(flagged, f.EventName)
		if f.AccessKeyID != session || !strings.HasPrefix(f.MintedBy, "GetSessionToken ") {
			t.Errorf("flagged event not traced to the session: %+v", f)
		}
	}
	if strings.Join(flagged, ",") != "RunInstances,CreateUser" {
		t.Errorf("flagged %v", flagged)
	}
	if !s.Events[0].EventTime.After(s.Events[len(s.Events)-1].EventTime) {
		t.Error("events are not newest first")
	}
}

func TestUsageEnabledRegionsAndDays(t *testing.T) {
	e := newEnv(t, iamsim.Regions(iamsim.Region{Name: "us-east-1", Status: iamsim.RegionEnabledByDefault},
		iamsim.Region{Name: "eu-west-1", Status: iamsim.RegionEnabled}, iamsim.Region{Name: "ap-east-1", Status: iamsim.RegionDisabled}))
	seedLeak(e)
	s, err := Usage(context.Background(), e.admin, UsageOptions{AccessKeyID: e.leaked.ID, Days: 1, Now: e.clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(s.Regions, ",") != "eu-west-1,us-east-1" || !strings.Contains(s.RegionsFrom, "ListRegions") {
		t.Errorf("regions %v from %q", s.Regions, s.RegionsFrom)
	}
	if s.End.Sub(s.Start) != 24*time.Hour {
		t.Errorf("window %s to %s", s.Start, s.End)
	}
}

func TestUsageRegionFailureIsIncomplete(t *testing.T) {
	e := newEnv(t)
	seedLeak(e)
	e.srv.FailNext("LookupEvents", "AccessDeniedException")
	s, err := Usage(context.Background(), e.admin, UsageOptions{AccessKeyID: e.leaked.ID, Regions: []string{"us-east-1"}, Now: e.clk.Now})
	if err == nil || !errors.Is(err, iamx.ErrAccessDenied) {
		t.Fatalf("every lookup failed: err = %v", err)
	}
	e.srv.FailNext("LookupEvents", "AccessDeniedException")
	s, err = Usage(context.Background(), e.admin, UsageOptions{AccessKeyID: e.leaked.ID, Regions: []string{"eu-west-1", "us-east-1"}, Now: e.clk.Now})
	if err != nil || len(s.Incomplete) != 1 || len(s.Events) == 0 {
		t.Fatalf("one region failed: %v, incomplete %q, %d events", err, s.Incomplete, len(s.Events))
	}
}
