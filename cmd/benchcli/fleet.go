package main

import (
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/keyrot/keyrot/iamx/iamsim"
)

const (
	fleetBegin = "<!-- bench-fleet:begin -->"
	fleetEnd   = "<!-- bench-fleet:end -->"
)

// fleetOptions is the account the fleet benchmark runs against and the
// rotation runs it times.
type fleetOptions struct {
	users       int           // seeded users in the account
	latency     time.Duration // added to every simulator response
	rotateUsers int           // users rotated per run
	rates       []float64     // --rate of each rotation run
	concurrency int
	auditRuns   int
}

// fleetRun is one timed keyrot run against the large account.
type fleetRun struct {
	name     string
	args     []string
	sample   sample
	calls    map[string]int // requests the simulator received, by action
	total    int
	users    int     // users the run worked on (rotations)
	rate     float64 // --rate, for rotations
	iamCalls int     // IAM requests (rate-limited), for rotations
}

// runFleet seeds a simulator with o.users users and o.latency on every
// call, then times `keyrot audit` (o.auditRuns times) and one
// `keyrot rotate --all-users` of o.rotateUsers users per rate in o.rates,
// each run on users no earlier run touched. It writes the bench-fleet
// section of out.
func runFleet(keyrot tool, o fleetOptions, out string, stdout, stderr io.Writer) error {
	fmt.Fprintf(stderr, "benchcli: seeding %d users, %s latency per call\n", o.users, o.latency)
	srv, err := iamsim.Start("127.0.0.1:0",
		iamsim.User("admin", iamsim.KeySeed{}),
		iamsim.Seed(o.users, 1),
		iamsim.Latency(o.latency),
	)
	if err != nil {
		return err
	}
	defer srv.Close()

	admin := srv.Keys("admin")[0]
	env, cleanup, err := cleanEnv(admin.ID, admin.Secret)
	if err != nil {
		return err
	}
	defer cleanup()
	var home string
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "HOME="); ok {
			home = v
		}
	}

	// Users with a single key, Active: a rotation has a free slot for the
	// new key and one old key to deactivate.
	var rotatable []string
	for _, u := range srv.Users() {
		active, total := 0, 0
		for _, k := range srv.Keys(u) {
			total++
			if k.Status == iamsim.StatusActive {
				active++
			}
		}
		if u != "admin" && active == 1 && total == 1 {
			rotatable = append(rotatable, u)
		}
	}
	if need := o.rotateUsers * len(o.rates); len(rotatable) < need {
		return fmt.Errorf("the seeded account has %d users with a single Active key; %d needed (raise -fleet-users)", len(rotatable), need)
	}

	endpoint := []string{"--endpoint-url", srv.URL()}
	var runs []*fleetRun
	measure := func(r *fleetRun) error {
		srv.ResetCalls()
		s, err := runOnce(keyrot, append(r.args, endpoint...), env)
		if err != nil {
			return err
		}
		r.sample = s
		r.calls = map[string]int{}
		for _, c := range srv.Calls() {
			r.calls[c.Action]++
			r.total++
		}
		fmt.Fprintf(stderr, "  %-44s %9s  %6d requests  peak RSS %6.1f MiB\n", r.name, secs(s.wall), r.total, mib(s.maxRSS))
		runs = append(runs, r)
		return nil
	}

	for i := range o.auditRuns {
		r := &fleetRun{name: fmt.Sprintf("audit, run %d", i+1), args: []string{"audit", "--output", "json"}}
		if err := measure(r); err != nil {
			return err
		}
	}
	for i, rate := range o.rates {
		users := rotatable[i*o.rotateUsers : (i+1)*o.rotateUsers]
		list := filepath.Join(home, fmt.Sprintf("users-%d.txt", i))
		if err := os.WriteFile(list, []byte(strings.Join(users, "\n")+"\n"), 0o600); err != nil {
			return err
		}
		r := &fleetRun{
			name: fmt.Sprintf("rotate --all-users, %d users, --rate %g", len(users), rate),
			args: []string{"rotate", "--all-users", "--users-from", list, "--exec", "true",
				"--verify-interval", "100ms", "--concurrency", fmt.Sprint(o.concurrency),
				"--rate", fmt.Sprint(rate), "--output", "json", "--quiet"},
			users: len(users),
			rate:  rate,
		}
		if err := measure(r); err != nil {
			return err
		}
		for action, n := range r.calls {
			if action != "GetCallerIdentity" {
				r.iamCalls += n
			}
		}
		// The run must really have rotated every user: one new Active key,
		// the old one Inactive.
		for _, u := range users {
			ks := srv.Keys(u)
			if len(ks) != 2 || ks[0].Status == ks[1].Status {
				return fmt.Errorf("after %s, %s has keys %v: want one Active and one Inactive", r.name, u, ks)
			}
		}
	}

	m := describeMachine([]tool{keyrot}, env)
	section := renderFleet(runs, m, o)
	if out == "-" {
		_, err := io.WriteString(stdout, section)
		return err
	}
	if err := replaceSection(out, fleetBegin, fleetEnd, section); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "benchcli: wrote %s\n", out)
	return nil
}

func renderFleet(runs []*fleetRun, m machine, o fleetOptions) string {
	var b strings.Builder
	m.header(&b, fleetBegin, "`make bench` (cmd/benchcli -fleet)")
	fmt.Fprintf(&b, "| account | %d seeded users (`iamsim.Seed`), %s added to every response |\n", o.users, o.latency)
	fmt.Fprintf(&b, "| rotations | `--exec true --verify-interval 100ms --concurrency %d`; each on users with one Active key no earlier run touched |\n\n", o.concurrency)

	fmt.Fprintf(&b, "| run | wall | requests | requests by action | peak RSS |\n")
	fmt.Fprintf(&b, "| --- | ---: | ---: | --- | ---: |\n")
	for _, r := range runs {
		fmt.Fprintf(&b, "| `keyrot %s` | %s | %d | %s | %.1f MiB |\n",
			shortArgs(r.args), secs(r.sample.wall), r.total, byAction(r.calls), mib(r.sample.maxRSS))
	}
	if rot := slices.DeleteFunc(slices.Clone(runs), func(r *fleetRun) bool { return r.users == 0 }); len(rot) > 0 {
		fmt.Fprintf(&b, "\n| rotation | users | requests per user | IAM requests | floor set by --rate: (IAM requests − burst) ÷ rate | wall | wall ÷ floor |\n")
		fmt.Fprintf(&b, "| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n")
		for _, r := range rot {
			floor := rateFloor(r.iamCalls, r.rate)
			fmt.Fprintf(&b, "| --rate %g | %d | %.2f | %d | %s | %s | %.2f |\n",
				r.rate, r.users, float64(r.total)/float64(r.users), r.iamCalls, secs(floor), secs(r.sample.wall),
				float64(r.sample.wall)/float64(floor))
		}
	}
	fmt.Fprintf(&b, "%s\n", fleetEnd)
	return b.String()
}

// rateFloor is the least time n requests take through keyrot's token
// bucket at rate per second: its burst (one second's worth, as
// fleet.NewLimited sets it) is free, every further request waits 1/rate.
func rateFloor(n int, rate float64) time.Duration {
	burst := max(int(rate), 1)
	return time.Duration(float64(max(n-burst, 0)) / rate * float64(time.Second))
}

// shortArgs drops the per-run temporary paths from a command line.
func shortArgs(args []string) string {
	out := make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		if args[i] == "--users-from" && i+1 < len(args) {
			out = append(out, args[i], "users.txt")
			i++
			continue
		}
		out = append(out, args[i])
	}
	return strings.Join(out, " ")
}

func byAction(calls map[string]int) string {
	var parts []string
	for _, a := range slices.Sorted(maps.Keys(calls)) {
		parts = append(parts, fmt.Sprintf("%s %d", a, calls[a]))
	}
	return strings.Join(parts, ", ")
}

func secs(d time.Duration) string {
	if d < time.Second {
		return ms(d)
	}
	return fmt.Sprintf("%.2f s", d.Seconds())
}
