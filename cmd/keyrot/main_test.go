package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/keyrot/keyrot/cmd"
	"github.com/keyrot/keyrot/iamx"
	"github.com/keyrot/keyrot/iamx/iamsim"
	"github.com/keyrot/keyrot/rotate/credfile"
	"github.com/rogpeppe/go-internal/testscript"
)

// TestMain lets the scripts run the real keyrot: testscript re-executes
// this test binary as "keyrot", a separate process with its own exit code.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"keyrot": func() { os.Exit(cmd.Main()) },
	})
}

// TestScripts runs testdata/script/*.txtar, each against its own simulator
// seeded with the same users:
//
//	admin  one Active key, the caller ($ADMIN_KEY)
//	alice  one Active key ($ALICE_KEY), used an hour ago
//	bob    an older Active key ($BOB_KEY1) and a newer Inactive one ($BOB_KEY2)
//	carol  one Inactive key ($CAROL_KEY)
//	dave   two Inactive keys ($DAVE_KEY1, $DAVE_KEY2)
//	erin   no keys
//	frank  one Active key ($FRANK_KEY); key management requires MFA (code 123456)
//	roles  ops (its trust requires MFA) and reader, which any user may assume
func TestScripts(t *testing.T) {
	t.Parallel()
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		Setup:               setupSimulator,
		Cmds: map[string]func(*testscript.TestScript, bool, []string){
			"sim":      cmdSim,
			"fails":    cmdFails,
			"waitfile": cmdWaitFile,
			"gen-ca":   cmdGenCA,
		},
	})
}

// cmdGenCA writes a self-signed CA certificate in PEM: gen-ca FILE
func cmdGenCA(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: gen-ca FILE")
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ts.Check(err)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "keyrot test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	ts.Check(err)
	ts.Check(os.WriteFile(ts.MkAbs(args[0]), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644))
}

const (
	simKey    = "sim"
	holdsKey  = "holds"
	offsetKey = "offset"
)

// holds keeps the release functions of `sim hold`.
type holds struct {
	mu      sync.Mutex
	release map[string]func()
}

// cmdWaitFile waits up to 20 s for a file to exist: waitfile PATH
func cmdWaitFile(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: waitfile PATH")
	}
	path := ts.MkAbs(args[0])
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if _, err := os.Stat(path); err == nil {
			return
		}
	}
	ts.Fatalf("%s did not appear within 20s", args[0])
}

// cmdFails runs a program and asserts its exact exit code:
//
//	fails CODE keyrot args...
func cmdFails(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: fails CODE program args...")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	err = ts.Exec(args[1], args[2:]...)
	got := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		got = ee.ExitCode()
	case err != nil:
		ts.Fatalf("run %s: %v", args[1], err)
	}
	if got != want {
		ts.Fatalf("%s exited with %d, want %d", args[1], got, want)
	}
}

func setupSimulator(env *testscript.Env) error {
	now := time.Now().UTC()
	day := 24 * time.Hour
	// sim advance moves the simulator's clock ahead of the wall clock.
	offset := new(atomic.Int64)
	env.Values[offsetKey] = offset
	srv := iamsim.NewServer(
		iamsim.Now(func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }),
		iamsim.User("admin", iamsim.KeySeed{Created: now.Add(-30 * day)}),
		iamsim.User("alice", iamsim.KeySeed{Created: now.Add(-100 * day), LastUsed: now.Add(-time.Hour), LastUsedService: "s3", LastUsedRegion: "eu-west-1"}),
		iamsim.User("bob",
			iamsim.KeySeed{Created: now.Add(-200 * day)},
			iamsim.KeySeed{Created: now.Add(-10 * day), Status: "Inactive"}),
		iamsim.User("carol", iamsim.KeySeed{Created: now.Add(-5 * day), Status: "Inactive"}),
		iamsim.User("dave",
			iamsim.KeySeed{Created: now.Add(-50 * day), Status: "Inactive"},
			iamsim.KeySeed{Created: now.Add(-40 * day), Status: "Inactive"}),
		iamsim.User("erin"),
		iamsim.User("frank", iamsim.KeySeed{Created: now.Add(-95 * day)}),
		iamsim.RequireMFA("frank", "arn:aws:iam::123456789012:mfa/frank", "123456"),
		iamsim.Role("ops", true),
		iamsim.Role("reader", false),
	)
	env.Defer(srv.Close)
	silent := iamsim.NewSilent()
	env.Defer(silent.Close)
	env.Setenv("SILENT_URL", silent.URL())
	// An endpoint that answers 404 to everything: as an instance metadata
	// service it makes the SDK warn that it falls back to IMDSv1.
	notFound := httptest.NewServer(http.NotFoundHandler())
	env.Defer(notFound.Close)
	env.Setenv("NOTFOUND_URL", notFound.URL)
	env.Values[simKey] = srv
	env.Values[holdsKey] = &holds{release: map[string]func(){}}
	set := func(name, user string, i int) {
		keys := srv.Keys(user)
		env.Setenv(name, keys[i].ID)
		env.Setenv(name+"_SECRET", keys[i].Secret)
	}
	set("ADMIN_KEY", "admin", 0)
	set("ALICE_KEY", "alice", 0)
	set("BOB_KEY1", "bob", 0)
	set("BOB_KEY2", "bob", 1)
	set("CAROL_KEY", "carol", 0)
	set("DAVE_KEY1", "dave", 0)
	set("DAVE_KEY2", "dave", 1)
	set("FRANK_KEY", "frank", 0)
	env.Setenv("FOREIGN_KEY", iamsim.KeyIDForAccount("999988887777", 1))
	env.Setenv("UNKNOWN_KEY", iamsim.KeyIDForAccount(iamsim.DefaultAccountID, 9))
	seedElsewhere(srv, srv.Keys("alice")[0].ID, now)
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL":            srv.URL(),
		"GITHUB_API_URL":              srv.URL() + iamsim.GitHubAPIPrefix,
		"AWS_ACCESS_KEY_ID":           srv.Keys("admin")[0].ID,
		"AWS_SECRET_ACCESS_KEY":       srv.Keys("admin")[0].Secret,
		"AWS_REGION":                  "us-east-1",
		"AWS_MAX_ATTEMPTS":            "2",
		"AWS_CONFIG_FILE":             filepath.Join(env.WorkDir, ".aws", "config"),
		"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(env.WorkDir, ".aws", "credentials"),
		"AWS_EC2_METADATA_DISABLED":   "true",
		"XDG_STATE_HOME":              filepath.Join(env.WorkDir, ".state"),
	} {
		env.Setenv(k, v)
	}
	return nil
}

// seedElsewhere records what alice's key did before the scripts begin, from
// addresses other than the tests': 55 reads in us-east-1 (two pages of
// LookupEvents), and in eu-west-1 a session minted from it, which created a
// user (IAM: recorded in us-east-1) and listed instances in eu-west-1.
func seedElsewhere(srv *iamsim.Server, key string, now time.Time) {
	session := "ASIA" + iamsim.KeyIDForAccount(iamsim.DefaultAccountID, 77)[4:]
	for i := range 55 {
		srv.RecordEvent(iamsim.Event{Time: now.Add(-time.Duration(3*24*60-i*30) * time.Minute), Name: "ListBuckets", Source: "s3.amazonaws.com",
			Region: "us-east-1", AccessKeyID: key, User: "alice", SourceIP: "192.0.2.10", UserAgent: "aws-cli/2.15.30 Python/3.11.8", ReadOnly: true})
	}
	srv.RecordEvent(iamsim.Event{Time: now.Add(-2 * time.Hour), Name: "GetSessionToken", Source: "sts.amazonaws.com", Region: "eu-west-1",
		AccessKeyID: key, User: "alice", SourceIP: "203.0.113.66", UserAgent: "Boto3/1.34.2", IssuedKeyID: session})
	srv.RecordEvent(iamsim.Event{Time: now.Add(-2*time.Hour + time.Minute), Name: "CreateUser", Source: "iam.amazonaws.com", Region: "us-east-1",
		AccessKeyID: session, User: "alice", SourceIP: "203.0.113.66", UserAgent: "Boto3/1.34.2"})
	srv.RecordEvent(iamsim.Event{Time: now.Add(-2*time.Hour + 2*time.Minute), Name: "DescribeInstances", Source: "ec2.amazonaws.com", Region: "eu-west-1",
		AccessKeyID: session, User: "alice", SourceIP: "203.0.113.66", UserAgent: "Boto3/1.34.2", ReadOnly: true})
}

// cmdSim drives and inspects the script's simulator:
//
//	sim keys USER                 print USER's keys, "ID Status" per line
//	sim status USER ID STATUS     assert a key's status
//	sim nkeys USER N              assert USER has N keys
//	sim calls ACTION N            assert N calls of ACTION ("all" for any) since the last reset
//	sim reset-calls
//	sim fail ACTION CODE [N]      fail the next (or the Nth) call of ACTION with CODE
//	sim fail-always ACTION CODE
//	sim throttle ACTION N
//	sim deny USER ACTION
//	sim no-secrets                no secret the simulator issued is in the last stdout/stderr
//	sim drop-response ACTION      run the next call of ACTION, then drop the connection
//	sim clear                     remove every injected fault
//	sim session USER              sign as USER with temporary credentials
//	sim sign-as USER IDX          sign with USER's IDX'th key (0-based)
//	sim mint USER IDX NAME        GetSessionToken (eu-west-1) with that key; keep it as NAME
//	sim sign-with NAME            sign with the session kept as NAME
//	sim advance DURATION          move the simulator's clock ahead
//	sim latency DURATION          added to every call
//	sim propagation DURATION
//	sim report-delay DURATION     credential reports take DURATION to generate
//	sim discard-report            the next GenerateCredentialReport starts a new one
//	sim hold ACTION               hold calls of ACTION until released
//	sim wait-held ACTION          wait until a call of ACTION is being held
//	sim release ACTION
//	sim invariant USER FILE PROFILE       the rotation invariant, strict
//	sim invariant-weak USER FILE PROFILE  ... allowing orphans a killed process left
func cmdSim(ts *testscript.TestScript, neg bool, args []string) {
	srv := ts.Value(simKey).(*iamsim.Server)
	if len(args) == 0 {
		ts.Fatalf("usage: sim command args...")
	}
	need := func(n int) {
		if len(args) != n+1 {
			ts.Fatalf("sim %s: want %d arguments, got %d", args[0], n, len(args)-1)
		}
	}
	atoi := func(s string) int {
		n, err := strconv.Atoi(s)
		ts.Check(err)
		return n
	}
	if neg && args[0] != "status" && args[0] != "calls" && args[0] != "nkeys" && args[0] != "secret" && args[0] != "param" && args[0] != "gh-secret" {
		ts.Fatalf("sim %s does not support !", args[0])
	}
	switch args[0] {
	case "keys":
		need(1)
		for _, k := range srv.Keys(args[1]) {
			fmt.Fprintf(ts.Stdout(), "%s %s\n", k.ID, k.Status)
		}
	case "status":
		need(3)
		got := ""
		for _, k := range srv.Keys(args[1]) {
			if k.ID == args[2] {
				got = k.Status
			}
		}
		if (got == args[3]) == neg {
			ts.Fatalf("key %s of %s is %q; want %s%q", args[2], args[1], got, map[bool]string{true: "not ", false: ""}[neg], args[3])
		}
	case "nkeys":
		need(2)
		if got := len(srv.Keys(args[1])); (got == atoi(args[2])) == neg {
			ts.Fatalf("%s has %d keys", args[1], got)
		}
	case "calls":
		need(2)
		action := args[1]
		if action == "all" {
			action = ""
		}
		if got := srv.CallCount(action); (got == atoi(args[2])) == neg {
			var names []string
			for _, c := range srv.Calls() {
				names = append(names, c.Action)
			}
			sort.Strings(names)
			ts.Fatalf("%d calls of %s, want %s; calls: %s", got, args[1], args[2], strings.Join(names, " "))
		}
	case "reset-calls":
		srv.ResetCalls()
	case "fail":
		if len(args) == 4 {
			srv.FailNth(args[1], atoi(args[3]), args[2])
			return
		}
		need(2)
		srv.FailNext(args[1], args[2])
	case "fail-always":
		need(2)
		srv.FailAlways(args[1], args[2])
	case "throttle":
		need(2)
		srv.Throttle(args[1], atoi(args[2]))
	case "deny":
		need(2)
		srv.Deny(args[1], args[2])
	case "no-secrets":
		// no-secrets: neither stdout nor stderr of the last command holds
		// any secret the simulator issued.
		need(0)
		out := ts.ReadFile("stdout") + ts.ReadFile("stderr")
		for _, u := range srv.Users() {
			for _, k := range srv.Keys(u) {
				if strings.Contains(out, k.Secret) {
					ts.Fatalf("the secret of %s (%s) was printed", k.ID, u)
				}
			}
		}
	case "secret":
		// secret NAME: print the Secrets Manager secret NAME (us-east-1):
		// its versions and the values staged AWSCURRENT and AWSPREVIOUS;
		// with !, assert there is no such secret.
		need(1)
		sec, ok := srv.SecretValue("", args[1])
		if neg {
			if ok {
				ts.Fatalf("secret %s exists", args[1])
			}
			break
		}
		if !ok {
			ts.Fatalf("no secret %s", args[1])
		}
		fmt.Fprintf(ts.Stdout(), "versions=%d\ndeleted=%v\nkms=%s\ncurrent=%s\nprevious=%s\n", sec.Versions, sec.Deleted, sec.KmsKeyID, sec.Current, sec.Previous)
	case "param":
		// param NAME: print the SSM parameter NAME (us-east-1): its type,
		// KMS key, latest version and value; with !, assert it is absent.
		need(1)
		p, ok := srv.ParameterValue("", args[1])
		if neg {
			if ok {
				ts.Fatalf("parameter %s exists", args[1])
			}
			break
		}
		if !ok {
			ts.Fatalf("no parameter %s", args[1])
		}
		fmt.Fprintf(ts.Stdout(), "type=%s\nkms=%s\nversion=%d\nvalue=%s\n", p.Type, p.KeyID, p.Version, p.Value)
	case "put-param":
		need(3)
		srv.PutParameter("", args[1], args[2], args[3])
	case "param-holds":
		// param-holds NAME USER: as secret-holds, for an SSM parameter.
		need(2)
		p, _ := srv.ParameterValue("", args[1])
		if id, ok := holdsKeyOf(srv, p.Value, args[2], false); !ok {
			ts.Fatalf("parameter %s holds %s, not a key of %s", args[1], id, args[2])
		}
	case "put-secret":
		need(2)
		srv.PutSecret("", args[1], args[2])
	case "secret-holds":
		// secret-holds NAME USER: the secret's current value holds one of
		// USER's keys, ID and secret, as IAM issued it.
		need(2)
		sec, _ := srv.SecretValue("", args[1])
		if id, ok := holdsKeyOf(srv, sec.Current, args[2], false); !ok {
			ts.Fatalf("secret %s holds %s, not a key of %s", args[1], id, args[2])
		}
	case "gh-repo":
		// gh-repo OWNER/REPO [ENVIRONMENT...]: a GitHub repository; prints its ID.
		fmt.Fprintln(ts.Stdout(), srv.GitHubRepo(args[1], args[2:]...))
	case "gh-org":
		need(1)
		srv.GitHubOrg(args[1])
	case "gh-token":
		// gh-token TOKEN [read-only]: a token GitHub accepts.
		srv.GitHubToken(args[1], len(args) > 2 && args[2] == "read-only")
	case "gh-set":
		// gh-set SCOPE NAME VALUE [VISIBILITY [REPO_ID...]]: a secret set by hand.
		vis := ""
		var ids []int64
		if len(args) > 4 {
			vis = args[4]
			for _, a := range args[5:] {
				ids = append(ids, int64(atoi(a)))
			}
		}
		ts.Check(srv.SetGitHubSecret(args[1], args[2], args[3], vis, ids...))
	case "gh-secret":
		// gh-secret SCOPE NAME: print the secret's visibility and
		// repositories (never its value); with !, assert it is absent.
		// SCOPE is OWNER/REPO, OWNER/REPO/ENVIRONMENT or ORG.
		need(2)
		sec, ok := srv.GitHubSecretOf(args[1], args[2])
		if neg {
			if ok {
				ts.Fatalf("GitHub secret %s of %s exists", args[2], args[1])
			}
			break
		}
		if !ok {
			ts.Fatalf("no GitHub secret %s of %s", args[2], args[1])
		}
		fmt.Fprintf(ts.Stdout(), "visibility=%s\nrepos=%v\n", sec.Visibility, sec.Repos)
	case "gh-holds":
		// gh-holds SCOPE ID_NAME SECRET_NAME USER: the two GitHub secrets
		// hold one of USER's Active keys, ID and secret as IAM issued it.
		need(4)
		id, _ := srv.GitHubSecretOf(args[1], args[2])
		secret, _ := srv.GitHubSecretOf(args[1], args[3])
		value, _ := json.Marshal(map[string]string{"AccessKeyId": id.Value, "SecretAccessKey": secret.Value})
		if got, ok := holdsKeyOf(srv, string(value), args[4], true); !ok {
			ts.Fatalf("GitHub secrets %s, %s of %s hold %q, not an Active key of %s", args[2], args[3], args[1], got, args[4])
		}
	case "gh-value":
		// gh-value SCOPE NAME: print the secret's value (the key ID's
		// secret only: a test never prints a secret access key).
		need(2)
		sec, _ := srv.GitHubSecretOf(args[1], args[2])
		if strings.Contains(strings.ToUpper(args[2]), "SECRET") {
			ts.Fatalf("gh-value prints key IDs only")
		}
		fmt.Fprintln(ts.Stdout(), sec.Value)
	case "drop-response":
		need(1)
		srv.DropNextResponse(args[1])
	case "clear":
		srv.ClearFaults()
	case "session":
		need(1)
		id, secret, token := srv.SessionCredentials(args[1])
		ts.Setenv("AWS_ACCESS_KEY_ID", id)
		ts.Setenv("AWS_SECRET_ACCESS_KEY", secret)
		ts.Setenv("AWS_SESSION_TOKEN", token)
	case "sign-as":
		need(2)
		k := srv.Keys(args[1])[atoi(args[2])]
		ts.Setenv("AWS_ACCESS_KEY_ID", k.ID)
		ts.Setenv("AWS_SECRET_ACCESS_KEY", k.Secret)
		ts.Setenv("AWS_SESSION_TOKEN", "")
	case "mint":
		need(3)
		k := srv.Keys(args[1])[atoi(args[2])]
		c := iamx.New(aws.Config{BaseEndpoint: aws.String(srv.URL()), Region: "eu-west-1", RetryMaxAttempts: 1,
			Credentials: credentials.NewStaticCredentialsProvider(k.ID, k.Secret, "")})
		cr, err := c.SessionToken(context.Background(), "", "", 0)
		ts.Check(err)
		ts.Setenv(args[3]+"_ID", cr.AccessKeyID)
		ts.Setenv(args[3]+"_SECRET", cr.SecretAccessKey)
		ts.Setenv(args[3]+"_TOKEN", cr.SessionToken)
	case "advance":
		need(1)
		d, err := time.ParseDuration(args[1])
		ts.Check(err)
		ts.Value(offsetKey).(*atomic.Int64).Add(int64(d))
	case "sign-with":
		need(1)
		ts.Setenv("AWS_ACCESS_KEY_ID", ts.Getenv(args[1]+"_ID"))
		ts.Setenv("AWS_SECRET_ACCESS_KEY", ts.Getenv(args[1]+"_SECRET"))
		ts.Setenv("AWS_SESSION_TOKEN", ts.Getenv(args[1]+"_TOKEN"))
	case "hold":
		need(1)
		h := ts.Value(holdsKey).(*holds)
		h.mu.Lock()
		h.release[args[1]] = srv.Hold(args[1])
		h.mu.Unlock()
	case "wait-held":
		need(1)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		ts.Check(srv.WaitHeld(ctx, args[1]))
	case "release":
		need(1)
		h := ts.Value(holdsKey).(*holds)
		h.mu.Lock()
		if r := h.release[args[1]]; r != nil {
			r()
			delete(h.release, args[1])
		}
		h.mu.Unlock()
	case "invariant":
		need(3)
		checkInvariant(ts, srv, args[1], ts.MkAbs(args[2]), args[3], true)
	case "invariant-weak":
		need(3)
		checkInvariant(ts, srv, args[1], ts.MkAbs(args[2]), args[3], false)
	case "latency":
		need(1)
		d, err := time.ParseDuration(args[1])
		ts.Check(err)
		srv.SetLatency(d)
	case "discard-report":
		need(0)
		srv.DiscardReport()
	case "report-delay":
		need(1)
		d, err := time.ParseDuration(args[1])
		ts.Check(err)
		srv.SetReportDelay(d)
	case "propagation":
		need(1)
		d, err := time.ParseDuration(args[1])
		ts.Check(err)
		srv.SetPropagationDelay(d)
	default:
		ts.Fatalf("unknown sim command %q", args[0])
	}
}

// checkInvariant asserts what every rotation must leave behind, whatever
// failed: USER has an Active key whose secret someone holds (the original,
// recorded at setup, or the one in the credentials file), and - strictly -
// no Active key whose secret nobody holds; the credentials file parses and
// is mode 0600.
func checkInvariant(ts *testscript.TestScript, srv *iamsim.Server, user, file, profile string, strict bool) {
	known := map[string]bool{}
	for _, env := range []string{"ALICE_KEY_SECRET", "ADMIN_KEY_SECRET", "BOB_KEY1_SECRET", "BOB_KEY2_SECRET"} {
		if v := ts.Getenv(env); v != "" {
			known[v] = true
		}
	}
	if data, err := os.ReadFile(file); err == nil {
		f, err := credfile.Parse(data)
		if err != nil {
			ts.Fatalf("credentials file %s does not parse: %v", file, err)
		}
		if p, ok := f.Profile(profile); ok {
			known[p.SecretAccessKey.Reveal()] = true
		}
		fi, err := os.Stat(file)
		ts.Check(err)
		if runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
			ts.Fatalf("credentials file %s has mode %v, want 0600", file, fi.Mode().Perm())
		}
	}
	working := 0
	for _, k := range srv.Keys(user) {
		if k.Status != iamsim.StatusActive {
			continue
		}
		if known[k.Secret] {
			working++
		} else if strict {
			ts.Fatalf("%s has an Active key %s whose secret nobody holds", user, k.ID)
		}
	}
	if working == 0 {
		ts.Fatalf("%s has no Active key whose secret is known: locked out", user)
	}
}

// holdsKeyOf reports whether value, a destination's JSON, holds one of
// user's keys (an Active one, with active), ID and secret as IAM issued
// them; id is the key ID it holds.
func holdsKeyOf(srv *iamsim.Server, value, user string, active bool) (id string, ok bool) {
	var v struct{ AccessKeyId, SecretAccessKey string }
	_ = json.Unmarshal([]byte(value), &v)
	for _, k := range srv.Keys(user) {
		if k.ID == v.AccessKeyId && k.Secret == v.SecretAccessKey && (!active || k.Status == iamsim.StatusActive) {
			return v.AccessKeyId, true
		}
	}
	return v.AccessKeyId, false
}
