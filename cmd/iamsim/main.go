// Command iamsim runs the local IAM/STS simulator standalone, for `make
// demo`, benchmarks and trying keyrot by hand without an AWS account.
//
//	iamsim --demo --env-file /tmp/iamsim.env &
//	while [ ! -f /tmp/iamsim.env ]; do sleep 0.1; done
//	set -a; . /tmp/iamsim.env; set +a
//	keyrot list --all-users
//
// It prints the endpoint URL on the first line of stdout once it is
// listening, and serves until SIGINT or SIGTERM. An "admin" user with one
// access key always exists; its key ID and secret are the same on every run
// and are written to --env-file (and printed with --demo).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/keyrot/keyrot/iamx/iamsim"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

type options struct {
	addr        string
	seed        int
	seedValue   int64
	demo        bool
	latency     time.Duration
	propagation time.Duration
	reportDelay time.Duration
	envFile     string
	account     string
}

func run(args []string, stdout, stderr io.Writer) int {
	var o options
	fs := flag.NewFlagSet("iamsim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.addr, "addr", "127.0.0.1:0", "listen `address`")
	fs.IntVar(&o.seed, "seed", 0, "create `N` users user-0001… with a deterministic mix of keys")
	fs.Int64Var(&o.seedValue, "seed-value", 1, "random seed for --seed")
	fs.BoolVar(&o.demo, "demo", false, "create the demo users alice, bob, carol and ci-bot (with CloudTrail events), the GitHub repository acme/deploy and an organization of three member accounts, and print the admin credentials and a GitHub token")
	fs.DurationVar(&o.latency, "latency", 0, "latency added to every call, e.g. 20ms")
	fs.DurationVar(&o.propagation, "propagation-delay", 0, "how long a new access key is refused (IAM eventual consistency)")
	fs.DurationVar(&o.reportDelay, "report-delay", 0, "how long credential report generation takes")
	fs.StringVar(&o.envFile, "env-file", "", "write AWS_* variables for the admin key to `PATH` (mode 0600) once listening")
	fs.StringVar(&o.account, "account-id", iamsim.DefaultAccountID, "12-digit account ID")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: iamsim [flags]\n\nRun the local IAM/STS simulator until interrupted.\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "iamsim: unexpected argument %q\n", fs.Arg(0))
		return 2
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := serve(ctx, o, stdout, stderr); err != nil {
		fmt.Fprintf(stderr, "iamsim: %v\n", err)
		return 1
	}
	return 0
}

func serve(ctx context.Context, o options, stdout, stderr io.Writer) error {
	if o.envFile != "" {
		// A stale file from an earlier run must not be mistaken for this one.
		if err := os.Remove(o.envFile); err != nil && !os.IsNotExist(err) {
			return err
		}
	}
	opts := []iamsim.Option{
		iamsim.AccountID(o.account),
		iamsim.Latency(o.latency),
		iamsim.PropagationDelay(o.propagation),
		iamsim.ReportDelay(o.reportDelay),
		iamsim.User("admin", iamsim.KeySeed{}),
	}
	if o.demo {
		opts = append(opts, demoUsers(time.Now())...)
	}
	if o.seed > 0 {
		opts = append(opts, iamsim.Seed(o.seed, o.seedValue))
	}
	addr := o.addr
	if o.demo {
		// The organization's endpoint takes --addr; the management
		// account's own is internal.
		addr = "127.0.0.1:0"
	}
	srv, err := iamsim.Start(addr, opts...)
	if err != nil {
		return err
	}
	defer srv.Close()
	url := srv.URL()
	if o.demo {
		org, err := iamsim.StartOrg(o.addr, srv)
		if err != nil {
			return err
		}
		defer org.Close()
		demoOrg(org, time.Now(), o.latency)
		url = org.URL()
	}

	admin := srv.Keys("admin")[0]
	env := fmt.Sprintf("AWS_ENDPOINT_URL=%s\nAWS_ACCESS_KEY_ID=%s\nAWS_SECRET_ACCESS_KEY=%s\nAWS_REGION=us-east-1\n",
		url, admin.ID, admin.Secret)
	if o.demo {
		demoEvents(srv, time.Now())
		// GitHub's Actions secrets API, as GitHub Enterprise Server serves it.
		srv.GitHubRepo("acme/deploy", "production")
		srv.GitHubToken(demoGitHubToken, false)
		env += fmt.Sprintf("GITHUB_API_URL=%s%s\nGH_TOKEN=%s\n", url, iamsim.GitHubAPIPrefix, demoGitHubToken)
	}
	if o.envFile != "" {
		if err := writeFileAtomic(o.envFile, []byte(env)); err != nil {
			return err
		}
		defer os.Remove(o.envFile)
	}
	fmt.Fprintln(stdout, url)
	if o.demo {
		fmt.Fprint(stdout, env)
	}
	fmt.Fprintf(stderr, "iamsim: serving IAM and STS at %s (%d users); interrupt to stop\n", url, len(srv.Users()))

	<-ctx.Done()
	fmt.Fprintf(stderr, "iamsim: stopping after %d calls\n", srv.CallCount(""))
	return nil
}

// demoGitHubToken is the token the demo's simulated GitHub accepts.
const demoGitHubToken = "ghp_keyrotdemo0000000000000000000000000"

// demoUsers is a small account that shows every key state keyrot handles.
func demoUsers(now time.Time) []iamsim.Option {
	day := 24 * time.Hour
	ago := func(d int) time.Time { return now.Add(-time.Duration(d) * day) }
	return []iamsim.Option{
		iamsim.User("alice",
			iamsim.KeySeed{Created: ago(30), LastUsed: ago(1), LastUsedService: "s3", LastUsedRegion: "us-east-1"}),
		iamsim.User("bob",
			iamsim.KeySeed{Created: ago(200), LastUsed: ago(3), LastUsedService: "ec2", LastUsedRegion: "eu-west-1"},
			iamsim.KeySeed{Status: iamsim.StatusInactive, Created: ago(400), LastUsed: ago(210), LastUsedService: "iam", LastUsedRegion: "us-east-1"}),
		iamsim.User("carol",
			iamsim.KeySeed{Status: iamsim.StatusInactive, Created: ago(120)}),
		iamsim.User("ci-bot",
			iamsim.KeySeed{Created: ago(60), LastUsed: now.Add(-time.Hour), LastUsedService: "s3", LastUsedRegion: "us-east-1"}),
	}
}

// demoOrg makes the demo account the management account of a small
// organization: dev and prod, with service users due for rotation, and a
// suspended sandbox account that an organization run skips.
func demoOrg(org *iamsim.Org, now time.Time, latency time.Duration) {
	day := 24 * time.Hour
	ago := func(d int) time.Time { return now.Add(-time.Duration(d) * day) }
	used := func(created, lastUsed int) iamsim.KeySeed {
		return iamsim.KeySeed{Created: ago(created), LastUsed: ago(lastUsed), LastUsedService: "s3", LastUsedRegion: "us-east-1"}
	}
	work := org.AddOU(org.RootID(), "workloads")
	org.AddAccount("111111111111", "dev", iamsim.Latency(latency),
		iamsim.User("ci-bot", used(100, 1)), iamsim.User("web", used(12, 0)))
	org.AddAccount("222222222222", "prod", iamsim.Latency(latency),
		iamsim.User("ci-bot", used(95, 60)), iamsim.User("deploy-bot", used(200, 2), used(20, 0)))
	org.AddAccount("333333333333", "sandbox", iamsim.Latency(latency), iamsim.User("ci-bot", used(300, 200)))
	org.MoveAccount("111111111111", work)
	org.MoveAccount("222222222222", work)
	org.SetAccountStatus("333333333333", iamsim.AccountSuspended)
}

// demoEvents records what ci-bot's key did before it was found in a
// public issue: the deploy job's calls, then someone else's, from other
// addresses, who minted a session and made themselves a user.
func demoEvents(srv *iamsim.Server, now time.Time) {
	key := srv.Keys("ci-bot")[0].ID
	at := func(h float64) time.Time { return now.Add(-time.Duration(h * float64(time.Hour))) }
	for i := range 12 {
		srv.RecordEvent(iamsim.Event{Time: at(float64(48 - 4*i)), Name: "PutObject", Source: "s3.amazonaws.com", Region: "us-east-1",
			AccessKeyID: key, User: "ci-bot", SourceIP: "198.51.100.20", UserAgent: "aws-cli/2.15.30 Python/3.11.8 Linux/6.1", ReadOnly: false})
	}
	session := "ASIA" + iamsim.KeyIDForAccount(iamsim.DefaultAccountID, 5)[4:]
	for _, e := range []iamsim.Event{
		{Time: at(3), Name: "GetCallerIdentity", Source: "sts.amazonaws.com", Region: "us-east-1", SourceIP: "203.0.113.66", UserAgent: "python-requests/2.31", ReadOnly: true},
		{Time: at(2.9), Name: "ListUsers", Source: "iam.amazonaws.com", Region: "us-east-1", SourceIP: "203.0.113.66", UserAgent: "python-requests/2.31", ReadOnly: true},
		{Time: at(2.8), Name: "GetSessionToken", Source: "sts.amazonaws.com", Region: "eu-west-1", SourceIP: "203.0.113.66", UserAgent: "Boto3/1.34.2", IssuedKeyID: session},
		{Time: at(2.7), Name: "CreateUser", Source: "iam.amazonaws.com", Region: "us-east-1", SourceIP: "203.0.113.66", UserAgent: "Boto3/1.34.2", AccessKeyID: session},
		{Time: at(2.6), Name: "AttachUserPolicy", Source: "iam.amazonaws.com", Region: "us-east-1", SourceIP: "203.0.113.66", UserAgent: "Boto3/1.34.2", AccessKeyID: session, ErrorCode: "AccessDenied"},
		{Time: at(2.5), Name: "RunInstances", Source: "ec2.amazonaws.com", Region: "eu-west-1", SourceIP: "203.0.113.66", UserAgent: "Boto3/1.34.2", AccessKeyID: session},
	} {
		if e.AccessKeyID == "" {
			e.AccessKeyID = key
		}
		e.User = "ci-bot"
		srv.RecordEvent(e)
	}
}

// writeFileAtomic writes data to path with mode 0600 so that a reader never
// sees a partial file: scripts wait for the file to exist, then source it.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".iamsim-env-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
