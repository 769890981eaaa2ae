package iamsim_test

import (
	"encoding/csv"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/keyrot/keyrot/iamx/iamsim"
)

func snapshot(srv *iamsim.Server) map[string][]iamsim.Key {
	out := map[string][]iamsim.Key{}
	for _, u := range srv.Users() {
		out[u] = srv.Keys(u)
	}
	return out
}

func TestSeedDeterministic(t *testing.T) {
	t.Parallel()
	clk := newClock()
	a := iamsim.NewServer(iamsim.Now(clk.Now), iamsim.Seed(200, 42))
	b := iamsim.NewServer(iamsim.Now(clk.Now), iamsim.Seed(200, 42))
	c := iamsim.NewServer(iamsim.Now(clk.Now), iamsim.Seed(200, 43))
	for _, s := range []*iamsim.Server{a, b, c} {
		t.Cleanup(s.Close)
	}
	sa, sb, sc := snapshot(a), snapshot(b), snapshot(c)
	if !reflect.DeepEqual(sa, sb) {
		t.Error("same seed, different users or keys")
	}
	if reflect.DeepEqual(sa, sc) {
		t.Error("different seeds, same users and keys")
	}
	if len(sa) != 200 || sa["user-0001"] == nil && len(sa["user-0001"]) != 0 {
		t.Fatalf("users = %d", len(sa))
	}

	// The mix: every key count, both statuses, used and unused keys.
	counts := map[int]int{}
	statuses := map[string]int{}
	never := 0
	for _, keys := range sa {
		counts[len(keys)]++
		for _, k := range keys {
			statuses[k.Status]++
			if k.LastUsed.IsZero() {
				never++
			}
			if !keyIDPattern.MatchString(k.ID) || !secretPattern.MatchString(k.Secret) {
				t.Errorf("key %+v", k)
			}
			if age := clk.Now().Sub(k.Created); age < 24*time.Hour || age > 402*24*time.Hour {
				t.Errorf("key age %v", age)
			}
		}
	}
	if counts[0] == 0 || counts[1] == 0 || counts[2] == 0 || statuses["Active"] == 0 || statuses["Inactive"] == 0 || never == 0 {
		t.Errorf("mix: counts %v statuses %v never %d", counts, statuses, never)
	}
	ka := a.Keys("user-0007")
	if len(ka) > 0 {
		ci := iamClient(a, ka[0].ID, ka[0].Secret)
		if ka[0].Status == "Active" {
			if _, err := ci.ListUsers(ctx(t), &iam.ListUsersInput{PathPrefix: aws.String("/team-a/")}); err != nil {
				t.Errorf("seeded key: %v", err)
			}
		}
	}
}

// TestSeedTenThousand checks that the simulator stays fast at account scale:
// 10,000 users listed in pages of 1,000 and a credential report.
func TestSeedTenThousand(t *testing.T) {
	t.Parallel()
	start := time.Now()
	srv := iamsim.NewServer(iamsim.Seed(10000, 1), iamsim.User("admin", iamsim.KeySeed{}))
	t.Cleanup(srv.Close)
	seeded := time.Since(start)
	k := srv.Keys("admin")[0]
	c := iamClient(srv, k.ID, k.Secret)
	cx := ctx(t)

	start = time.Now()
	n, pages := 0, 0
	p := iam.NewListUsersPaginator(c, &iam.ListUsersInput{MaxItems: aws.Int32(1000)})
	for p.HasMorePages() {
		page, err := p.NextPage(cx)
		if err != nil {
			t.Fatal(err)
		}
		n += len(page.Users)
		pages++
	}
	listed := time.Since(start)
	if n != 10001 || pages != 11 {
		t.Errorf("listed %d users in %d pages, want 10001 in 11", n, pages)
	}

	start = time.Now()
	if _, err := c.GenerateCredentialReport(cx, &iam.GenerateCredentialReportInput{}); err != nil {
		t.Fatal(err)
	}
	rep, err := c.GetCredentialReport(cx, &iam.GetCredentialReportInput{})
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(strings.NewReader(string(rep.Content))).ReadAll()
	if err != nil || len(rows) != 10003 {
		t.Errorf("report rows = %d, %v", len(rows), err)
	}
	reported := time.Since(start)
	t.Logf("seed %v, list %v, report %v", seeded, listed, reported)
	// Generous bounds: -race on a loaded CI machine is ten times slower.
	if seeded > 5*time.Second || listed > 10*time.Second || reported > 10*time.Second {
		t.Errorf("too slow: seed %v, list %v, report %v", seeded, listed, reported)
	}
	if u := fmt.Sprint(srv.Users()[:2]); u != "[admin user-0001]" {
		t.Errorf("first users = %s", u)
	}
}
