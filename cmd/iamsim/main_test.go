package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestDemoEnvFile(t *testing.T) {
	dir := t.TempDir()
	envFile := filepath.Join(dir, "iamsim.env")
	if err := os.WriteFile(envFile, []byte("stale"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- serve(ctx, options{addr: "127.0.0.1:0", demo: true, envFile: envFile, account: "123456789012"}, &stdout, &stderr)
	}()

	var env map[string]string
	deadline := time.Now().Add(10 * time.Second)
	for {
		if b, err := os.ReadFile(envFile); err == nil && string(b) != "stale" {
			env = map[string]string{}
			for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
				k, v, _ := strings.Cut(line, "=")
				env[k] = v
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no env file; stderr: %s", stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if fi, err := os.Stat(envFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("env file mode = %v, %v", fi.Mode(), err)
	}
	if env["AWS_REGION"] != "us-east-1" || !strings.HasPrefix(env["AWS_ENDPOINT_URL"], "http://127.0.0.1:") {
		t.Errorf("env = %v", env)
	}

	cfg := aws.Config{
		Region:       env["AWS_REGION"],
		Credentials:  credentials.NewStaticCredentialsProvider(env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"], ""),
		BaseEndpoint: aws.String(env["AWS_ENDPOINT_URL"]),
		Retryer:      func() aws.Retryer { return aws.NopRetryer{} },
	}
	id, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(id.Arn) != "arn:aws:iam::123456789012:user/admin" {
		t.Fatalf("admin identity = %+v, %v", id, err)
	}
	users, err := iam.NewFromConfig(cfg).ListUsers(ctx, &iam.ListUsersInput{})
	if err != nil || len(users.Users) != 5 {
		t.Errorf("demo users = %+v, %v", users, err)
	}
	bob, err := iam.NewFromConfig(cfg).ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String("bob")})
	if err != nil || len(bob.AccessKeyMetadata) != 2 {
		t.Errorf("bob's keys = %+v, %v", bob, err)
	}

	if first, _, _ := strings.Cut(stdout.String(), "\n"); first != env["AWS_ENDPOINT_URL"] {
		t.Errorf("first stdout line = %q, want the URL", first)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(envFile); !os.IsNotExist(err) {
		t.Errorf("env file left behind: %v", err)
	}

	// The admin credentials are the same on every run.
	ctx2, cancel2 := context.WithCancel(context.Background())
	var out2 syncBuffer
	go func() {
		done <- serve(ctx2, options{addr: "127.0.0.1:0", demo: true, account: "123456789012"}, &out2, &stderr)
	}()
	for !strings.Contains(out2.String(), "AWS_REGION") {
		time.Sleep(10 * time.Millisecond)
	}
	cancel2()
	<-done
	if !strings.Contains(out2.String(), "AWS_ACCESS_KEY_ID="+env["AWS_ACCESS_KEY_ID"]+"\n") ||
		!strings.Contains(out2.String(), "AWS_SECRET_ACCESS_KEY="+env["AWS_SECRET_ACCESS_KEY"]+"\n") {
		t.Errorf("admin credentials differ between runs:\n%s", out2.String())
	}
}

func TestFlags(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"--latency", "soon"}, &stdout, &stderr); code != 2 {
		t.Errorf("bad flag: exit %d", code)
	}
	if code := run([]string{"extra"}, &stdout, &stderr); code != 2 {
		t.Errorf("extra argument: exit %d", code)
	}
	if code := run([]string{"--help"}, &stdout, &stderr); code != 0 || !strings.Contains(stderr.String(), "--env-file") && !strings.Contains(stderr.String(), "-env-file") {
		t.Errorf("--help: exit %d, %s", code, stderr.String())
	}
	if code := run([]string{"--account-id", "12", "--addr", "127.0.0.1:0"}, &stdout, &stderr); code != 1 {
		t.Errorf("bad account: exit %d", code)
	}
}
