package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/keyrot/keyrot/iamx/iamsim"
)

const (
	orgBegin = "<!-- bench-org:begin -->"
	orgEnd   = "<!-- bench-org:end -->"
)

// orgOptions is the organization the benchmark runs against.
type orgOptions struct {
	accounts    int           // member accounts
	users       int           // seeded users in each
	latency     time.Duration // added to every response, in every account
	reportDelay time.Duration // how long each credential report takes to generate
	concurrency []int         // --account-concurrency of each audit run
}

// orgRun is one timed organization run.
type orgRun struct {
	name        string
	args        []string
	concurrency int
	// partialOK: exit 10 is expected (a dry run of the seeded mix reports
	// users it would block).
	partialOK   bool
	sample      sample
	mgmtCalls   map[string]int // requests the management account received
	memberCalls int            // requests all member accounts received
	maxMember   int            // the most any one member account received
	// bound is what a run that is not slowed by keyrot cannot beat, and
	// boundBy says what sets it.
	bound   time.Duration
	boundBy string
}

// runOrg builds an organization of o.accounts member accounts of o.users
// users each, every response delayed by o.latency and every credential
// report taking o.reportDelay to generate, then times `keyrot audit --org`
// at each account concurrency and one `keyrot enforce --org --dry-run`.
// It writes the bench-org section of out.
func runOrg(keyrot tool, o orgOptions, out string, stdout, stderr io.Writer) error {
	fmt.Fprintf(stderr, "benchcli: seeding an organization of %d accounts of %d users, %s latency per call, %s per credential report\n",
		o.accounts, o.users, o.latency, o.reportDelay)
	mgmt := iamsim.NewServer(iamsim.User("admin", iamsim.KeySeed{}), iamsim.Latency(o.latency), iamsim.ReportDelay(o.reportDelay))
	defer mgmt.Close()
	org := iamsim.NewOrg(mgmt)
	defer org.Close()
	var members []*iamsim.Server
	for i := range o.accounts {
		members = append(members, org.AddAccount(fmt.Sprintf("2%011d", i+1), fmt.Sprintf("member-%03d", i+1),
			iamsim.Seed(o.users, int64(i+1)), iamsim.Latency(o.latency), iamsim.ReportDelay(o.reportDelay)))
	}
	admin := mgmt.Keys("admin")[0]
	env, cleanup, err := cleanEnv(admin.ID, admin.Secret)
	if err != nil {
		return err
	}
	defer cleanup()
	env = append(env, "XDG_STATE_HOME="+envValue(env, "HOME")+"/state")

	endpoint := []string{"--endpoint-url", org.URL()}
	var runs []*orgRun
	measure := func(r *orgRun) error {
		mgmt.ResetCalls()
		mgmt.DiscardReport()
		for _, m := range members {
			m.ResetCalls()
			m.DiscardReport()
		}
		s, err := runOnce(keyrot, append(r.args, endpoint...), env)
		if err != nil && !(r.partialOK && strings.Contains(err.Error(), "exit status 10")) {
			return err
		}
		r.sample = s
		r.mgmtCalls = map[string]int{}
		for _, c := range mgmt.Calls() {
			r.mgmtCalls[c.Action]++
		}
		for _, m := range members {
			n := m.CallCount("")
			r.memberCalls += n
			r.maxMember = max(r.maxMember, n)
		}
		// Each member account's AssumeRole reaches the management account's
		// STS, but is that account's cost.
		r.memberCalls += r.mgmtCalls["AssumeRole"]
		if r.partialOK {
			// enforce: each account's IAM requests under its own --rate
			// (10 a second), --account-concurrency accounts side by side.
			iam := r.memberCalls - r.mgmtCalls["AssumeRole"]
			r.bound = time.Duration(float64(iam) / float64(10*r.concurrency) * float64(time.Second))
			r.boundBy = fmt.Sprintf("IAM requests ÷ (--rate 10 × %d accounts)", r.concurrency)
		} else {
			// audit, had it generated the reports --account-concurrency at
			// a time (the management account's own report too).
			waves := (o.accounts + 1 + r.concurrency - 1) / r.concurrency
			r.bound = time.Duration(waves) * o.reportDelay
			r.boundBy = fmt.Sprintf("report generation × ⌈%d accounts ÷ %d⌉", o.accounts+1, r.concurrency)
		}
		fmt.Fprintf(stderr, "  %-52s %9s  %5.1f requests per member account  peak RSS %6.1f MiB\n",
			r.name, secs(s.wall), float64(r.memberCalls)/float64(o.accounts), mib(s.maxRSS))
		runs = append(runs, r)
		return nil
	}
	for _, n := range o.concurrency {
		r := &orgRun{name: fmt.Sprintf("audit --org --account-concurrency %d", n), concurrency: n,
			args: []string{"audit", "--org", "--account-concurrency", fmt.Sprint(n), "--output", "json"}}
		if err := measure(r); err != nil {
			return err
		}
	}
	last := o.concurrency[len(o.concurrency)-1]
	r := &orgRun{name: fmt.Sprintf("enforce --org --dry-run --account-concurrency %d", last), concurrency: last, partialOK: true,
		args: []string{"enforce", "--org", "--dry-run", "--account-concurrency", fmt.Sprint(last), "--output", "json", "--quiet"}}
	if err := measure(r); err != nil {
		return err
	}

	m := describeMachine([]tool{keyrot}, env)
	section := renderOrg(runs, m, o)
	if out == "-" {
		_, err := io.WriteString(stdout, section)
		return err
	}
	if err := replaceSection(out, orgBegin, orgEnd, section); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "benchcli: wrote %s\n", out)
	return nil
}

func envValue(env []string, name string) string {
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, name+"="); ok {
			return v
		}
	}
	return ""
}

func renderOrg(runs []*orgRun, m machine, o orgOptions) string {
	var b strings.Builder
	m.header(&b, orgBegin, "`make bench` (cmd/benchcli -org)")
	fmt.Fprintf(&b, "| organization | the management account and %d member accounts of %d seeded users each (`iamsim.Seed`) |\n", o.accounts, o.users)
	fmt.Fprintf(&b, "| simulator | %s added to every response; each credential report takes %s to generate |\n\n", o.latency, o.reportDelay)
	fmt.Fprintf(&b, "| run | wall | bound | wall ÷ bound | requests per member account, AssumeRole included (most in one account, without it) | management account requests | peak RSS |\n")
	fmt.Fprintf(&b, "| --- | ---: | ---: | ---: | ---: | --- | ---: |\n")
	for _, r := range runs {
		fmt.Fprintf(&b, "| `keyrot %s` | %s | %s: %s | %.2f | %.1f (%d) | %s | %.1f MiB |\n",
			strings.Join(r.args, " "), secs(r.sample.wall), r.boundBy, secs(r.bound), float64(r.sample.wall)/float64(r.bound),
			float64(r.memberCalls)/float64(o.accounts), r.maxMember, byAction(r.mgmtCalls), mib(r.sample.maxRSS))
	}
	fmt.Fprintf(&b, "%s\n", orgEnd)
	return b.String()
}
