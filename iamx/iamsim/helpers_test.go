package iamsim_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/keyrot/keyrot/iamx"
	"github.com/keyrot/keyrot/iamx/iamsim"
)

// fakeClock is a settable clock for the simulator.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fakeClock {
	return &fakeClock{t: time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type clientOpts struct {
	token   string
	region  string
	retryer func() aws.Retryer
}

// config builds an SDK config the way keyrot does: static credentials,
// BaseEndpoint at the simulator, keyrot's HTTP client (without it, large
// responses meet smithy-go's closed-body race: see iamx.HTTPClient), no
// retries unless asked.
func config(srv *iamsim.Server, id, secret string, o clientOpts) aws.Config {
	if o.region == "" {
		o.region = "us-east-1"
	}
	if o.retryer == nil {
		o.retryer = func() aws.Retryer { return aws.NopRetryer{} }
	}
	return aws.Config{
		Region:       o.region,
		Credentials:  credentials.NewStaticCredentialsProvider(id, secret, o.token),
		Retryer:      o.retryer,
		BaseEndpoint: aws.String(srv.URL()),
		HTTPClient:   iamx.NewHTTPClient(iamx.HTTPOptions{}),
	}
}

func iamClient(srv *iamsim.Server, id, secret string) *iam.Client {
	return iam.NewFromConfig(config(srv, id, secret, clientOpts{}))
}

func stsClient(srv *iamsim.Server, id, secret string) *sts.Client {
	return sts.NewFromConfig(config(srv, id, secret, clientOpts{}))
}

// admin starts a simulator with an "admin" user and returns its IAM client.
func admin(t *testing.T, opts ...iamsim.Option) (*iamsim.Server, *iam.Client) {
	t.Helper()
	srv := iamsim.NewServer(append([]iamsim.Option{iamsim.User("admin", iamsim.KeySeed{})}, opts...)...)
	t.Cleanup(srv.Close)
	k := srv.Keys("admin")[0]
	return srv, iamClient(srv, k.ID, k.Secret)
}

// apiErr checks that err is an API error with code and HTTP status.
func apiErr(t *testing.T, err error, code string, status int) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("err = %v (%T), want API error %s", err, err, code)
	}
	if ae.ErrorCode() != code {
		t.Errorf("code = %s (%s), want %s", ae.ErrorCode(), ae.ErrorMessage(), code)
	}
	var re *awshttp.ResponseError
	if !errors.As(err, &re) {
		t.Fatalf("err = %v has no HTTP response", err)
	}
	if re.HTTPStatusCode() != status {
		t.Errorf("status = %d, want %d", re.HTTPStatusCode(), status)
	}
	if re.ServiceRequestID() == "" {
		t.Errorf("no request ID in %v", err)
	}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}
