package iamx_test

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/keyrot/keyrot/iamx"
	"github.com/keyrot/keyrot/iamx/iamsim"
)

// retryingClient is a client of srv whose retryer retries at once, up to
// three attempts.
func retryingClient(srv *iamsim.Server, k iamsim.Key) *iamx.Client {
	return iamx.New(aws.Config{BaseEndpoint: aws.String(srv.URL()), Region: "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider(k.ID, k.Secret, ""),
		Retryer: func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
			})
		}})
}

// TestJSONServiceRetriesCounted: the JSON services' retries (throttling, a
// 5xx without an AWS error body, a lost response) count in Requests like
// the SDK clients' do.
func TestJSONServiceRetriesCounted(t *testing.T) {
	t.Parallel()
	srv := iamsim.NewServer(iamsim.User("admin", iamsim.KeySeed{}))
	t.Cleanup(srv.Close)
	c := retryingClient(srv, srv.Keys("admin")[0])
	ctx := context.Background()
	srv.FailNext("PutParameter", "ThrottlingException")
	srv.FailNextRaw("PutParameter", 503, "<html>Service Unavailable</html>")
	if v, err := c.PutParameter(ctx, "/ci/app", iamx.NewSecret("first"), "", false); err != nil || v != 1 {
		t.Fatalf("PutParameter = %d, %v", v, err)
	}
	if got := c.Requests(); got != 3 || srv.CallCount("PutParameter") != 3 {
		t.Errorf("%d requests counted, %d received, want 3", got, srv.CallCount("PutParameter"))
	}

	// Three 5xx: the retries run out, the status classifies.
	srv.FailNextRaw("DeleteParameter", 500, "oops")
	srv.FailNextRaw("DeleteParameter", 500, "oops")
	srv.FailNextRaw("DeleteParameter", 500, "oops")
	if err := c.DeleteParameter(ctx, "/ci/app"); !errors.Is(err, iamx.ErrServiceFailure) {
		t.Errorf("DeleteParameter after three 500s: %v", err)
	}
	if got := c.Requests(); got != 6 {
		t.Errorf("%d requests, want 6", got)
	}
}

// TestCreateSecretRetryIsIdempotent: a CreateSecret whose response is lost
// is retried with the same client request token, so the retry finds the
// secret it made instead of failing on it.
func TestCreateSecretRetryIsIdempotent(t *testing.T) {
	t.Parallel()
	srv := iamsim.NewServer(iamsim.User("admin", iamsim.KeySeed{}))
	t.Cleanup(srv.Close)
	c := retryingClient(srv, srv.Keys("admin")[0])
	srv.DropNextResponse("CreateSecret")
	v, err := c.CreateSecret(context.Background(), "app/aws", iamx.NewSecret(`{"a":1}`), "", "")
	if err != nil || v.VersionID == "" || srv.CallCount("CreateSecret") != 2 {
		t.Fatalf("CreateSecret = %+v, %v after %d calls", v, err, srv.CallCount("CreateSecret"))
	}
}

// TestJSONServicesDebug: --debug shows one line per attempt of the JSON
// services in the SDK clients' format, with AWS's error code, and never a
// secret or a signature.
func TestJSONServicesDebug(t *testing.T) {
	srv := iamsim.NewServer(iamsim.User("admin", iamsim.KeySeed{}))
	t.Cleanup(srv.Close)
	k := srv.Keys("admin")[0]
	dir := t.TempDir()
	for name, v := range map[string]string{
		"AWS_ACCESS_KEY_ID": k.ID, "AWS_SECRET_ACCESS_KEY": k.Secret, "AWS_SESSION_TOKEN": "", "AWS_PROFILE": "",
		"AWS_CONFIG_FILE": filepath.Join(dir, "config"), "AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "credentials"),
		"AWS_EC2_METADATA_DISABLED": "true", "AWS_ENDPOINT_URL": "", "AWS_ENDPOINT_URL_SSM": "", "AWS_ENDPOINT_URL_SECRETS_MANAGER": "",
		"AWS_ENDPOINT_URL_CLOUDTRAIL": "", "AWS_ENDPOINT_URL_ACCOUNT": "", "AWS_MAX_ATTEMPTS": "", "AWS_RETRY_MODE": "",
	} {
		t.Setenv(name, v)
	}
	var debug bytes.Buffer
	ctx := context.Background()
	c, err := iamx.Load(ctx, iamx.LoadOptions{Region: "us-east-1", EndpointURL: srv.URL(), Debug: &debug})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutParameter(ctx, "/ci/app", iamx.NewSecret("s3cr3t-parameter"), "", false); err != nil {
		t.Fatal(err)
	}
	if _, found, err := c.CurrentSecret(ctx, "app/none"); err != nil || found {
		t.Fatalf("CurrentSecret: %v, %v", found, err)
	}
	if _, err := c.CreateSecret(ctx, "app/aws", iamx.NewSecret("s3cr3t-secret"), "", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := c.EnabledRegions(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.LookupEvents(ctx, "eu-west-1", k.ID, time.Now().Add(-time.Hour), time.Now(), ""); err != nil {
		t.Fatal(err)
	}
	out := debug.String()
	for _, want := range []string{
		`(?m)^debug: SSM\.PutParameter 127\.0\.0\.1:\d+ -> 200 in \S+ request-id=\S+$`,
		`(?m)^debug: Secrets Manager\.GetSecretValue 127\.0\.0\.1:\d+ -> 400 in \S+ request-id=\S+ error=ResourceNotFoundException$`,
		`(?m)^debug: Secrets Manager\.CreateSecret .* -> 200 `,
		`(?m)^debug: Account\.ListRegions .* -> 200 `,
		`(?m)^debug: CloudTrail\.LookupEvents .* -> 200 `,
	} {
		if !regexp.MustCompile(want).MatchString(out) {
			t.Errorf("no line like %s in\n%s", want, out)
		}
	}
	for _, never := range []string{"s3cr3t", k.Secret, "Authorization", "Signature=", "X-Amz"} {
		if strings.Contains(out, never) {
			t.Errorf("the debug output holds %q:\n%s", never, out)
		}
	}
	if n := strings.Count(out, "\n"); int64(n) != c.Requests() || n != 5 {
		t.Errorf("%d debug lines, %d requests, want 5 of each", n, c.Requests())
	}
}
