package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/keyrot/keyrot/iamx/iamsim"
	"github.com/rogpeppe/go-internal/testscript"
)

// TestFleetScripts runs testdata/fleet/*.txtar against a simulator seeded
// with the admin caller and fleetUsers users in iamsim.Seed's mix of
// states. The expected numbers are worked out here from the simulator's
// keys, independently of keyrot's policy code, and exported:
//
//	FINDINGS_OLD, FINDINGS_UNUSED, FINDINGS_TWO, FINDINGS_INACTIVE,
//	FINDINGS_TOTAL, FINDINGS_USERS   audit with --max-age 90d --max-unused 45d
//	ENF_ROTATE, ENF_UPDATE, ENF_DELETE  calls enforce makes (see below)
//	ENF_LEFT_OLD                     users still with an old Active key after it
//	ENF_FAILED, ENF_EXIT             users enforce reports failed, and its exit code
//	ROT_OK, ROT_FAIL1, ROT_FAIL2     rotate --all-users: users it rotates, and two of them
//	ROT_LEFT_OLD                     users with an old Active key after it, when ROT_FAIL1/2 fail
//
// $WORK/rotatable.txt lists up to 40 users that rotate --all-users rotates.
//
// The ledger in $XDG_STATE_HOME/keyrot records every key of the users whose
// keys are all Inactive as Inactive for 60 days: enforce deletes them.
func TestFleetScripts(t *testing.T) {
	t.Parallel()
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/fleet",
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		Setup:               setupFleet,
		Cmds: map[string]func(*testscript.TestScript, bool, []string){
			"sim":      cmdSim,
			"fails":    cmdFails,
			"fleetsim": cmdFleetSim,
		},
	})
}

const fleetUsers = 300

func setupFleet(env *testscript.Env) error {
	now := time.Now().UTC()
	day := 24 * time.Hour
	srv := iamsim.NewServer(
		iamsim.User("admin", iamsim.KeySeed{Created: now.Add(-30 * day), LastUsed: now}),
		iamsim.Seed(fleetUsers, 7),
	)
	env.Defer(srv.Close)
	env.Values[simKey] = srv

	maxAge, maxUnused := 90*day, 45*day
	old := func(k iamsim.Key) bool { return now.Sub(k.Created) > maxAge }
	unusedKey := func(k iamsim.Key) bool {
		if k.LastUsed.IsZero() {
			return now.Sub(k.Created) > maxUnused
		}
		return now.Sub(k.LastUsed) > maxUnused
	}
	n := map[string]int{}
	ledger := map[string]any{}
	var rotOK []string
	for _, u := range srv.Users() {
		if u == "admin" {
			continue
		}
		keys := srv.Keys(u)
		var active []iamsim.Key
		inactive := 0
		has := false
		for _, k := range keys {
			if k.Status != iamsim.StatusActive {
				inactive++
				n["FINDINGS_INACTIVE"]++
				has = true
				continue
			}
			active = append(active, k)
			if old(k) {
				n["FINDINGS_OLD"]++
				has = true
			}
			if unusedKey(k) {
				n["FINDINGS_UNUSED"]++
				n["ENF_UPDATE"]++ // deactivated for non-use
				has = true
			}
		}
		if len(active) == 2 {
			n["FINDINGS_TWO"]++
			has = true
		}
		if has {
			n["FINDINGS_USERS"]++
		}
		// enforce --delete-inactive --delete-inactive-after 30d
		if len(keys) > 0 && inactive == len(keys) {
			for _, k := range keys {
				ledger[k.ID] = map[string]any{"User": u, "Since": now.Add(-60 * day)}
				n["ENF_DELETE"]++
			}
		}
		oldUsed := 0
		for _, k := range active {
			if old(k) && !unusedKey(k) {
				oldUsed++
			}
		}
		switch {
		case len(active) == 2 && oldUsed > 0:
			// Blocked (both used) or deferred (the other one is deactivated now).
			n["ENF_LEFT_OLD"]++
			if oldUsed == 2 || (!unusedKey(active[0]) && !unusedKey(active[1])) {
				n["ENF_FAILED"]++
			}
		case len(active) == 1 && oldUsed == 1:
			n["ENF_ROTATE"]++
			n["ENF_UPDATE"]++ // the old key deactivated
			if len(keys) == 2 {
				n["ENF_DELETE"]++ // the Inactive key in the way (--delete-inactive)
			}
		}
		// rotate --all-users --older-than 90d --delete-inactive
		olds := 0
		for _, k := range active {
			if old(k) {
				olds++
			}
		}
		switch {
		case len(active) == 1 && olds == 1:
			rotOK = append(rotOK, u)
		case len(active) == 2 && olds > 0:
			n["ROT_LEFT_OLD"]++
		}
	}
	n["FINDINGS_TOTAL"] = n["FINDINGS_OLD"] + n["FINDINGS_UNUSED"] + n["FINDINGS_TWO"] + n["FINDINGS_INACTIVE"]
	n["ENF_EXIT"] = 0
	if n["ENF_FAILED"] > 0 {
		n["ENF_EXIT"] = 10
	}
	n["ROT_OK"] = len(rotOK)
	n["ROT_LEFT_OLD"] += 2
	n["ROT_FAILED"] = n["ROT_LEFT_OLD"]
	for k, v := range n {
		env.Setenv(k, strconv.Itoa(v))
	}
	if len(rotOK) < 10 || n["ENF_ROTATE"] == 0 || n["ENF_DELETE"] == 0 {
		return os.ErrInvalid // the seed no longer gives a useful mix
	}
	list := ""
	for _, u := range rotOK[:min(len(rotOK), 40)] {
		list += u + "\n"
	}
	if err := os.WriteFile(filepath.Join(env.WorkDir, "rotatable.txt"), []byte(list), 0o644); err != nil {
		return err
	}
	env.Setenv("ROT_FAIL1", rotOK[1])
	env.Setenv("ROT_FAIL2", rotOK[7])

	state := filepath.Join(env.WorkDir, ".state", "keyrot")
	if err := os.MkdirAll(state, 0o700); err != nil {
		return err
	}
	data, err := json.Marshal(map[string]any{"Version": 1, "Keys": ledger})
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(state, "fleet-inactive.json"), data, 0o600); err != nil {
		return err
	}
	admin := srv.Keys("admin")[0]
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL":            srv.URL(),
		"GITHUB_API_URL":              srv.URL() + iamsim.GitHubAPIPrefix,
		"AWS_ACCESS_KEY_ID":           admin.ID,
		"AWS_SECRET_ACCESS_KEY":       admin.Secret,
		"ADMIN_KEY":                   admin.ID,
		"AWS_REGION":                  "us-east-1",
		"AWS_CONFIG_FILE":             filepath.Join(env.WorkDir, ".aws", "config"),
		"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(env.WorkDir, ".aws", "credentials"),
		"AWS_EC2_METADATA_DISABLED":   "true",
		"XDG_STATE_HOME":              filepath.Join(env.WorkDir, ".state"),
	} {
		env.Setenv(k, v)
	}
	return nil
}

// cmdFleetSim checks the fleet's state in the script's simulator:
//
//	fleetsim old-active MAXAGE N   N users (admin aside) have an Active key older than MAXAGE
//	fleetsim unused-active MAXUNUSED N  N Active keys (admin's aside) unused for longer
//	fleetsim errors CODE MIN       at least MIN calls failed with the AWS error CODE
func cmdFleetSim(ts *testscript.TestScript, neg bool, args []string) {
	srv := ts.Value(simKey).(*iamsim.Server)
	if neg || len(args) == 0 {
		ts.Fatalf("usage: fleetsim command args...")
	}
	dur := func(s string) time.Duration {
		d, err := time.ParseDuration(s)
		ts.Check(err)
		return d
	}
	atoi := func(s string) int {
		n, err := strconv.Atoi(s)
		ts.Check(err)
		return n
	}
	now := time.Now()
	count := func(pred func(iamsim.Key) bool, perUser bool) int {
		got := 0
		for _, u := range srv.Users() {
			if u == "admin" {
				continue
			}
			hit := 0
			for _, k := range srv.Keys(u) {
				if k.Status == iamsim.StatusActive && pred(k) {
					hit++
				}
			}
			if perUser && hit > 0 {
				hit = 1
			}
			got += hit
		}
		return got
	}
	switch args[0] {
	case "secrets-hold":
		// secrets-hold TEMPLATE: every user with a Secrets Manager secret
		// named by TEMPLATE ({user}) finds in it an Active key of theirs,
		// ID and secret; there is one such secret per CreateAccessKey call.
		// With PARAM_TEMPLATE, the user's SSM parameter holds the same key.
		if len(args) != 2 && len(args) != 3 {
			ts.Fatalf("usage: fleetsim secrets-hold TEMPLATE [PARAM_TEMPLATE]")
		}
		n := 0
		for _, u := range srv.Users() {
			sec, ok := srv.SecretValue("", strings.ReplaceAll(args[1], "{user}", u))
			if !ok {
				continue
			}
			n++
			if len(args) == 3 {
				if p, _ := srv.ParameterValue("", strings.ReplaceAll(args[2], "{user}", u)); p.Value != sec.Current {
					ts.Fatalf("the parameter of %s holds %q, its secret %q", u, p.Value, sec.Current)
				}
			}
			if id, ok := holdsKeyOf(srv, sec.Current, u, true); !ok {
				ts.Fatalf("the secret of %s holds %s, not an Active key of %s", u, id, u)
			}
		}
		if c := srv.CallCount("CreateAccessKey"); n == 0 || n != c {
			ts.Fatalf("%d secrets for %d new keys", n, c)
		}
		fmt.Fprintf(ts.Stdout(), "%d secrets\n", n)
	case "gh-hold":
		// gh-hold SCOPE ID_NAME SECRET_NAME: every user whose GitHub
		// secret ID_NAME ({user} filled in) exists in SCOPE finds in it and
		// in SECRET_NAME an Active key of theirs; one pair per new key.
		if len(args) != 4 {
			ts.Fatalf("usage: fleetsim gh-hold SCOPE ID_NAME SECRET_NAME")
		}
		n := 0
		for _, u := range srv.Users() {
			// {user} in a secret name has '_' for what GitHub refuses.
			safe := strings.Map(func(r rune) rune {
				if r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
					return r
				}
				return '_'
			}, u)
			scope := strings.ReplaceAll(args[1], "{user}", u)
			id, ok := srv.GitHubSecretOf(scope, strings.ReplaceAll(args[2], "{user}", safe))
			if !ok {
				continue
			}
			n++
			secret, _ := srv.GitHubSecretOf(scope, strings.ReplaceAll(args[3], "{user}", safe))
			value, _ := json.Marshal(map[string]string{"AccessKeyId": id.Value, "SecretAccessKey": secret.Value})
			if got, ok := holdsKeyOf(srv, string(value), u, true); !ok {
				ts.Fatalf("the GitHub secrets of %s hold %s, not an Active key of %s", u, got, u)
			}
		}
		if c := srv.CallCount("CreateAccessKey"); n == 0 || n != c {
			ts.Fatalf("%d GitHub secret pairs for %d new keys", n, c)
		}
		fmt.Fprintf(ts.Stdout(), "%d GitHub secret pairs\n", n)
	case "old-active":
		if len(args) != 3 {
			ts.Fatalf("usage: fleetsim old-active MAXAGE N")
		}
		max := dur(args[1])
		if got := count(func(k iamsim.Key) bool { return now.Sub(k.Created) > max }, true); got != atoi(args[2]) {
			ts.Fatalf("%d users have an Active key older than %s, want %s", got, max, args[2])
		}
	case "unused-active":
		if len(args) != 3 {
			ts.Fatalf("usage: fleetsim unused-active MAXUNUSED N")
		}
		max := dur(args[1])
		got := count(func(k iamsim.Key) bool {
			if k.LastUsed.IsZero() {
				return now.Sub(k.Created) > max
			}
			return now.Sub(k.LastUsed) > max
		}, false)
		if got != atoi(args[2]) {
			ts.Fatalf("%d Active keys unused for more than %s, want %s", got, max, args[2])
		}
	case "errors":
		if len(args) != 3 {
			ts.Fatalf("usage: fleetsim errors CODE MIN")
		}
		got := 0
		for _, c := range srv.Calls() {
			if c.ErrorCode == args[1] {
				got++
			}
		}
		if got < atoi(args[2]) {
			ts.Fatalf("%d calls failed with %s, want at least %s", got, args[1], args[2])
		}
	default:
		ts.Fatalf("unknown fleetsim command %q", args[0])
	}
}
