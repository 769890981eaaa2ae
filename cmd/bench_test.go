package cmd

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/keyrot/keyrot/iamx/iamsim"
)

// benchEnv points keyrot at a fresh simulator with an admin caller and a
// user alice with one key, the way a shell would through the environment.
func benchEnv(b testing.TB, more ...iamsim.Option) (*iamsim.Server, string) {
	srv := iamsim.NewServer(append([]iamsim.Option{iamsim.User("admin", iamsim.KeySeed{}), iamsim.User("alice", iamsim.KeySeed{})}, more...)...)
	b.Cleanup(srv.Close)
	admin := srv.Keys("admin")[0]
	dir := b.TempDir()
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL":            srv.URL(),
		"AWS_ACCESS_KEY_ID":           admin.ID,
		"AWS_SECRET_ACCESS_KEY":       admin.Secret,
		"AWS_SESSION_TOKEN":           "",
		"AWS_PROFILE":                 "",
		"AWS_REGION":                  "us-east-1",
		"AWS_CONFIG_FILE":             filepath.Join(dir, "config"),
		"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "credentials"),
		"AWS_EC2_METADATA_DISABLED":   "true",
		"XDG_STATE_HOME":              dir,
		// A CA bundle is parsed at every configuration load (about 3 ms
		// for a system bundle): measure keyrot, not the machine's setting.
		"AWS_CA_BUNDLE": "",
	} {
		b.Setenv(k, v)
	}
	return srv, srv.Keys("alice")[0].ID
}

// runCommand runs one keyrot command in-process, as Main would, minus the
// process start: flag parsing, configuration loading, the requests, output.
func runCommand(b testing.TB, args ...string) (stderr string) {
	ios, _, _, errOut := TestIO()
	f := newFactory(ios)
	root := newCmdRoot(f)
	root.SetArgs(args)
	if err := execute(context.Background(), f, root); err != nil {
		b.Fatalf("keyrot %v: %v\n%s", args, err, errOut)
	}
	return errOut.String()
}

// BenchmarkUpdateCommand is `keyrot update --user alice --access-key-id K
// --status Inactive` end to end: one UpdateAccessKey request.
func BenchmarkUpdateCommand(b *testing.B) {
	srv, key := benchEnv(b)
	srv.ResetCalls()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		status := "Inactive"
		if i%2 == 1 {
			status = "Active"
		}
		runCommand(b, "update", "--user", "alice", "--access-key-id", key, "--status", status)
	}
	b.ReportMetric(float64(srv.CallCount(""))/float64(b.N), "requests/op")
}

// BenchmarkDeactivateCommand is `keyrot deactivate --user alice` (no key
// ID): ListAccessKeys, then UpdateAccessKey for each Active key.
func BenchmarkDeactivateCommand(b *testing.B) {
	srv, key := benchEnv(b)
	b.ReportAllocs()
	var calls int
	for b.Loop() {
		b.StopTimer()
		runCommand(b, "update", "--user", "alice", "--access-key-id", key, "--status", "Active")
		srv.ResetCalls()
		b.StartTimer()
		runCommand(b, "deactivate", "--user", "alice")
		calls += srv.CallCount("")
	}
	b.ReportMetric(float64(calls)/float64(b.N), "requests/op")
}

// BenchmarkListCommand is `keyrot list --user alice --output json`:
// ListAccessKeys plus one GetAccessKeyLastUsed per key, concurrently.
func BenchmarkListCommand(b *testing.B) {
	srv, _ := benchEnv(b)
	srv.ResetCalls()
	b.ReportAllocs()
	for b.Loop() {
		runCommand(b, "list", "--user", "alice", "--output", "json")
	}
	b.ReportMetric(float64(srv.CallCount(""))/float64(b.N), "requests/op")
}

// BenchmarkRotateCommand is one verified rotation, `keyrot rotate --user
// alice --stdout --old-key delete --verify-interval 100ms`: ListAccessKeys,
// CreateAccessKey, three GetCallerIdentity signed by the new key (IAM is
// eventually consistent, so one success is not trusted), DeleteAccessKey.
// Its wall time is mostly the two 100 ms pauses between verifications.
func BenchmarkRotateCommand(b *testing.B) {
	srv, _ := benchEnv(b)
	srv.ResetCalls()
	b.ReportAllocs()
	for b.Loop() {
		runCommand(b, "rotate", "--user", "alice", "--stdout", "--old-key", "delete", "--verify-interval", "100ms")
	}
	b.ReportMetric(float64(srv.CallCount(""))/float64(b.N), "requests/op")
}

// BenchmarkContainCommand is `keyrot contain --access-key-id K --no-usage`
// without --user: GetAccessKeyInfo, GetCallerIdentity and
// GetAccessKeyLastUsed at once (the last names the owner), then
// ListAccessKeys and GetUserPolicy at once, UpdateAccessKey and
// PutUserPolicy: 7 requests in 4 round trips. The simulator's 5 ms latency
// per call makes the overlap visible in ns/op (about 4 × 5 ms, not 7 ×).
func BenchmarkContainCommand(b *testing.B) {
	srv, _ := benchEnv(b, iamsim.Latency(5*time.Millisecond))
	b.ReportAllocs()
	calls := 0
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		user := fmt.Sprintf("leaky-%d", i)
		if err := srv.AddUser(user, "/"); err != nil {
			b.Fatal(err)
		}
		key, _, err := srv.AddKey(user, iamsim.KeySeed{})
		if err != nil {
			b.Fatal(err)
		}
		srv.ResetCalls()
		b.StartTimer()
		runCommand(b, "contain", "--access-key-id", key, "--no-usage")
		calls += srv.CallCount("")
	}
	b.ReportMetric(float64(calls)/float64(b.N), "requests/op")
}
