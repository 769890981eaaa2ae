package main

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keyrot/keyrot/iamx/iamsim"
	"github.com/rogpeppe/go-internal/testscript"
)

// The organization of testdata/org: the management account (the caller,
// admin, signs there) and three members, one of them suspended. The user
// ci exists in every account, with a key older than 90 days.
//
//	MGMT    123456789012  management  admin; ci (old key); role keyrot
//	DEV     111111111111  dev         ci (old key); web (new key, used)
//	PROD    222222222222  prod        ci (old key); deploy (two Active keys, one old)
//	LEGACY  333333333333  legacy      SUSPENDED; ci (old key)
//
// OU_WORK holds dev and OU_PROD, which holds prod; legacy stays under
// the root.
const (
	orgDev    = "111111111111"
	orgProd   = "222222222222"
	orgLegacy = "333333333333"
)

const orgKey = "org"

// TestOrgScripts runs testdata/org/*.txtar against that organization.
func TestOrgScripts(t *testing.T) {
	t.Parallel()
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/org",
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		Setup:               setupOrg,
		Cmds: map[string]func(*testscript.TestScript, bool, []string){
			"org":   cmdOrg,
			"fails": cmdFails,
		},
	})
}

type orgState struct {
	org   *iamsim.Org
	mgmt  *iamsim.Server
	mu    sync.Mutex
	holds map[string]func()
}

func setupOrg(env *testscript.Env) error {
	now := time.Now().UTC()
	day := 24 * time.Hour
	old := iamsim.KeySeed{Created: now.Add(-120 * day), LastUsed: now.Add(-time.Hour), LastUsedService: "s3", LastUsedRegion: "us-east-1"}
	fresh := iamsim.KeySeed{Created: now.Add(-10 * day), LastUsed: now.Add(-time.Hour), LastUsedService: "s3", LastUsedRegion: "us-east-1"}
	mgmt := iamsim.NewServer(
		iamsim.User("admin", iamsim.KeySeed{Created: now.Add(-30 * day), LastUsed: now}),
		iamsim.User("ci", old),
		iamsim.Role("keyrot", false),
	)
	env.Defer(mgmt.Close)
	org := iamsim.NewOrg(mgmt)
	env.Defer(org.Close)
	org.AddAccount(orgDev, "dev", iamsim.User("ci", old), iamsim.User("web", fresh))
	org.AddAccount(orgProd, "prod", iamsim.User("ci", old), iamsim.User("deploy", old, fresh))
	org.AddAccount(orgLegacy, "legacy", iamsim.User("ci", old))
	org.SetAccountStatus(orgLegacy, iamsim.AccountSuspended)
	work := org.AddOU(org.RootID(), "workloads")
	prodOU := org.AddOU(work, "production")
	org.MoveAccount(orgDev, work)
	org.MoveAccount(orgProd, prodOU)
	env.Values[orgKey] = &orgState{org: org, mgmt: mgmt, holds: map[string]func(){}}

	admin := mgmt.Keys("admin")[0]
	examples, err := filepath.Abs(filepath.Join("..", "..", "docs", "examples"))
	if err != nil {
		return err
	}
	for k, v := range map[string]string{
		"EXAMPLES":                    examples,
		"MGMT":                        iamsim.DefaultAccountID,
		"DEV":                         orgDev,
		"PROD":                        orgProd,
		"LEGACY":                      orgLegacy,
		"OU_WORK":                     work,
		"OU_PROD":                     prodOU,
		"ROOT":                        org.RootID(),
		"AWS_ENDPOINT_URL":            org.URL(),
		"GITHUB_API_URL":              org.URL() + iamsim.GitHubAPIPrefix,
		"AWS_ACCESS_KEY_ID":           admin.ID,
		"ADMIN_ID":                    admin.ID,
		"ADMIN_SECRET":                admin.Secret,
		"AWS_SECRET_ACCESS_KEY":       admin.Secret,
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

// cmdOrg drives and inspects the organization:
//
//	org keys ACCOUNT USER              print USER's keys, "ID Status" per line
//	org active ACCOUNT USER N          assert USER has N Active keys (and ! for not N)
//	org nkeys ACCOUNT USER N           assert USER has N keys
//	org calls ACCOUNT ACTION N         assert N calls of ACTION ("all": any) in ACCOUNT
//	org reset-calls
//	org deny ACCOUNT                   the account's role refuses AssumeRole
//	org external-id ACCOUNT ID         the account's role requires ExternalId ID
//	org status ACCOUNT STATUS          set the account's status (SUSPENDED...)
//	org lifetime DURATION              member sessions last DURATION
//	org latency DURATION               added to every call in every account
//	org propagation ACCOUNT DURATION   new keys in ACCOUNT are refused for DURATION
//	org fail ACCOUNT ACTION CODE       fail the next call of ACTION in ACCOUNT
//	org fail-always ACCOUNT ACTION CODE
//	org hold ACCOUNT ACTION            hold calls of ACTION in ACCOUNT until released
//	org wait-held ACCOUNT ACTION
//	org release ACCOUNT ACTION
//	org secret-holds ACCOUNT NAME USER the secret's current value holds one of USER's keys
//	org param-holds ACCOUNT NAME USER  the same for an SSM parameter
//	org no-secrets                     no secret of any account is in the last stdout/stderr
//	org sign-role ACCOUNT ROLE         sign with a session of ROLE in ACCOUNT
//	org sign-as ACCOUNT USER           sign with USER's first key in ACCOUNT
//
// ACCOUNT is an account ID; MGMT's is the management account.
func cmdOrg(ts *testscript.TestScript, neg bool, args []string) {
	st := ts.Value(orgKey).(*orgState)
	if len(args) == 0 {
		ts.Fatalf("usage: org command args...")
	}
	need := func(n int) {
		if len(args) != n+1 {
			ts.Fatalf("org %s: want %d arguments, got %d", args[0], n, len(args)-1)
		}
	}
	atoi := func(s string) int {
		n, err := strconv.Atoi(s)
		ts.Check(err)
		return n
	}
	account := func(id string) *iamsim.Server {
		s := st.org.Account(id)
		if s == nil {
			ts.Fatalf("no account %s in the organization", id)
		}
		return s
	}
	all := func() []*iamsim.Server {
		return []*iamsim.Server{st.mgmt, st.org.Account(orgDev), st.org.Account(orgProd), st.org.Account(orgLegacy)}
	}
	if neg && args[0] != "active" && args[0] != "calls" {
		ts.Fatalf("org %s does not support !", args[0])
	}
	switch args[0] {
	case "keys":
		need(2)
		for _, k := range account(args[1]).Keys(args[2]) {
			fmt.Fprintf(ts.Stdout(), "%s %s\n", k.ID, k.Status)
		}
	case "active":
		need(3)
		n := 0
		for _, k := range account(args[1]).Keys(args[2]) {
			if k.Status == iamsim.StatusActive {
				n++
			}
		}
		if (n == atoi(args[3])) == neg {
			ts.Fatalf("%s in %s has %d Active keys", args[2], args[1], n)
		}
	case "nkeys":
		need(3)
		if got := len(account(args[1]).Keys(args[2])); got != atoi(args[3]) {
			ts.Fatalf("%s in %s has %d keys", args[2], args[1], got)
		}
	case "calls":
		need(3)
		srv := account(args[1])
		action := args[2]
		if action == "all" {
			action = ""
		}
		if got := srv.CallCount(action); (got == atoi(args[3])) == neg {
			var names []string
			for _, c := range srv.Calls() {
				names = append(names, c.Action)
			}
			sort.Strings(names)
			ts.Fatalf("%d calls of %s in %s, want %s%s; calls: %s", got, args[2], args[1], map[bool]string{true: "not ", false: ""}[neg], args[3], strings.Join(names, " "))
		}
	case "reset-calls":
		for _, s := range all() {
			s.ResetCalls()
		}
	case "deny":
		need(1)
		st.org.DenyAssumeRole(args[1])
	case "external-id":
		need(2)
		st.org.RequireExternalID(args[1], args[2])
	case "status":
		need(2)
		st.org.SetAccountStatus(args[1], args[2])
	case "lifetime":
		need(1)
		d, err := time.ParseDuration(args[1])
		ts.Check(err)
		st.org.SessionLifetime(d)
	case "latency":
		need(1)
		d, err := time.ParseDuration(args[1])
		ts.Check(err)
		for _, s := range all() {
			s.SetLatency(d)
		}
	case "propagation":
		need(2)
		d, err := time.ParseDuration(args[2])
		ts.Check(err)
		account(args[1]).SetPropagationDelay(d)
	case "fail":
		need(3)
		account(args[1]).FailNext(args[2], args[3])
	case "fail-always":
		need(3)
		account(args[1]).FailAlways(args[2], args[3])
	case "hold":
		need(2)
		st.mu.Lock()
		st.holds[args[1]+"/"+args[2]] = account(args[1]).Hold(args[2])
		st.mu.Unlock()
	case "wait-held":
		need(2)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		ts.Check(account(args[1]).WaitHeld(ctx, args[2]))
	case "release":
		need(2)
		st.mu.Lock()
		if r := st.holds[args[1]+"/"+args[2]]; r != nil {
			r()
			delete(st.holds, args[1]+"/"+args[2])
		}
		st.mu.Unlock()
	case "secret-holds":
		need(3)
		srv := account(args[1])
		sec, ok := srv.SecretValue("", args[2])
		if !ok {
			ts.Fatalf("no secret %s in %s", args[2], args[1])
		}
		if id, ok := holdsKeyOf(srv, sec.Current, args[3], true); !ok {
			ts.Fatalf("secret %s of %s holds %s, not an Active key of %s", args[2], args[1], id, args[3])
		}
	case "param-holds":
		need(3)
		srv := account(args[1])
		p, ok := srv.ParameterValue("", args[2])
		if !ok {
			ts.Fatalf("no parameter %s in %s", args[2], args[1])
		}
		if id, ok := holdsKeyOf(srv, p.Value, args[3], true); !ok {
			ts.Fatalf("parameter %s of %s holds %s, not an Active key of %s", args[2], args[1], id, args[3])
		}
	case "no-secrets":
		need(0)
		out := ts.ReadFile("stdout") + ts.ReadFile("stderr")
		for _, s := range all() {
			for _, u := range s.Users() {
				for _, k := range s.Keys(u) {
					if strings.Contains(out, k.Secret) {
						ts.Fatalf("the secret of %s (%s) was printed", k.ID, u)
					}
				}
			}
		}
	case "sign-role":
		// sign-role ACCOUNT ROLE: sign with a session of the account's role.
		need(2)
		id, secret, token := account(args[1]).RoleSession(args[2])
		ts.Setenv("AWS_ACCESS_KEY_ID", id)
		ts.Setenv("AWS_SECRET_ACCESS_KEY", secret)
		ts.Setenv("AWS_SESSION_TOKEN", token)
	case "sign-as":
		need(2)
		k := account(args[1]).Keys(args[2])[0]
		ts.Setenv("AWS_ACCESS_KEY_ID", k.ID)
		ts.Setenv("AWS_SECRET_ACCESS_KEY", k.Secret)
		ts.Setenv("AWS_SESSION_TOKEN", "")
	default:
		ts.Fatalf("unknown org command %q", args[0])
	}
}
