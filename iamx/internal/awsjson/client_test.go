package awsjson_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/keyrot/keyrot/iamx/iamsim"
	"github.com/keyrot/keyrot/iamx/internal/awsjson"
)

// reply is one canned response.
type reply struct {
	status int
	header map[string]string
	body   string
}

// seen is what the server saw of one request.
type seen struct {
	method, path, target, contentType, amzRequest, invocation, auth, token, userAgent string
	body                                                                              string
}

// server answers with replies in turn (the last one again when they run
// out) and records the requests.
func server(t *testing.T, replies ...reply) (*httptest.Server, func() []seen) {
	t.Helper()
	var mu sync.Mutex
	var got []seen
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		n := len(got)
		got = append(got, seen{r.Method, r.URL.Path, r.Header.Get("X-Amz-Target"), r.Header.Get("Content-Type"),
			r.Header.Get("Amz-Sdk-Request"), r.Header.Get("Amz-Sdk-Invocation-Id"), r.Header.Get("Authorization"),
			r.Header.Get("X-Amz-Security-Token"), r.Header.Get("User-Agent"), string(b)})
		mu.Unlock()
		rp := replies[min(n, len(replies)-1)]
		for k, v := range rp.header {
			w.Header().Set(k, v)
		}
		w.Header().Set("X-Amzn-RequestId", "rid-"+string(rune('1'+n)))
		w.WriteHeader(rp.status)
		_, _ = io.WriteString(w, rp.body)
	}))
	t.Cleanup(srv.Close)
	return srv, func() []seen {
		mu.Lock()
		defer mu.Unlock()
		return append([]seen(nil), got...)
	}
}

// noBackoff is the standard retryer with no waits between attempts.
func noBackoff(maxAttempts int) func() aws.Retryer {
	return func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = maxAttempts
			o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
		})
	}
}

func config(url string) aws.Config {
	return aws.Config{Region: "us-west-2", BaseEndpoint: aws.String(url),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", "session-token")}
}

func TestRequestShape(t *testing.T) {
	t.Parallel()
	srv, got := server(t, reply{200, nil, `{"Version":7,"Tier":"Standard"}`})
	c := awsjson.New(config(srv.URL), awsjson.SSM, awsjson.Options{})
	var out struct{ Version int64 }
	in := map[string]any{"Name": "/ci/app", "Overwrite": false}
	if err := c.Call(context.Background(), "PutParameter", in, &out); err != nil {
		t.Fatal(err)
	}
	if out.Version != 7 {
		t.Errorf("Version = %d", out.Version)
	}
	r := got()[0]
	if r.method != http.MethodPost || r.path != "/" || r.target != "AmazonSSM.PutParameter" || r.contentType != "application/x-amz-json-1.1" {
		t.Errorf("request %+v", r)
	}
	if r.amzRequest != "attempt=1; max=3" || r.invocation == "" || !strings.HasPrefix(r.userAgent, "aws-sdk-go-v2/") || r.token != "session-token" {
		t.Errorf("SDK headers %+v", r)
	}
	if !strings.HasPrefix(r.auth, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/") || !strings.Contains(r.auth, "/us-west-2/ssm/aws4_request") {
		t.Errorf("Authorization %q", r.auth)
	}
	var body map[string]any
	if json.Unmarshal([]byte(r.body), &body) != nil || body["Name"] != "/ci/app" || body["Overwrite"] != false {
		t.Errorf("body %s", r.body)
	}

	srv, got = server(t, reply{200, nil, `{}`})
	acct := awsjson.New(aws.Config{Region: "eu-west-1", BaseEndpoint: aws.String(srv.URL)}, awsjson.Account, awsjson.Options{})
	if err := acct.CallREST(context.Background(), "ListRegions", "/listRegions", struct{}{}, nil); err != nil {
		t.Fatal(err)
	}
	if r := got()[0]; r.path != "/listRegions" || r.target != "" || r.contentType != "application/json" || r.auth != "" || r.body != "{}" {
		t.Errorf("anonymous REST-JSON request %+v", r)
	}
}

// TestRetriesCounted: throttling and a 5xx are retried by the configured
// retryer; every attempt counts and is reported, with the same invocation
// ID and body.
func TestRetriesCounted(t *testing.T) {
	t.Parallel()
	srv, got := server(t,
		reply{400, map[string]string{"X-Amzn-ErrorType": "ThrottlingException"}, `{"message":"Rate exceeded"}`},
		reply{503, map[string]string{"Content-Type": "text/html"}, `<html>Service Unavailable</html>`},
		reply{200, nil, `{"ARN":"arn:aws:secretsmanager:us-west-2:123456789012:secret:app"}`})
	cfg := config(srv.URL)
	cfg.Retryer = noBackoff(3)
	var requests atomic.Int64
	var attempts []awsjson.Attempt
	c := awsjson.New(cfg, awsjson.SecretsManager, awsjson.Options{Requests: &requests, OnAttempt: func(a awsjson.Attempt) { attempts = append(attempts, a) }})
	var out struct{ ARN string }
	if err := c.Call(context.Background(), "PutSecretValue", map[string]string{"SecretId": "app", "SecretString": "s3cr3t"}, &out); err != nil {
		t.Fatal(err)
	}
	if requests.Load() != 3 || len(attempts) != 3 || out.ARN == "" {
		t.Fatalf("%d requests, %d attempts, %+v", requests.Load(), len(attempts), out)
	}
	for i, want := range []int{400, 503, 200} {
		a := attempts[i]
		if a.Status != want || a.Service != "Secrets Manager" || a.Operation != "PutSecretValue" || a.RequestID == "" || (a.Err == nil) != (want == 200) {
			t.Errorf("attempt %d: %+v", i+1, a)
		}
	}
	rs := got()
	for i, r := range rs {
		if r.amzRequest != "attempt="+string(rune('1'+i))+"; max=3" || r.invocation != rs[0].invocation || r.body != rs[0].body {
			t.Errorf("request %d: %+v", i+1, r)
		}
	}
}

// TestErrorValues: the error is the SDK's: an OperationError around the
// retryer's MaxAttemptsError around an *awshttp.ResponseError with the
// request ID, around the *smithyhttp.ResponseError with the status,
// around the API error.
func TestErrorValues(t *testing.T) {
	t.Parallel()
	srv, _ := server(t, reply{500, nil, `{"__type":"com.amazonaws.ssm#InternalServerError","message":"boom"}`})
	cfg := config(srv.URL)
	cfg.RetryMaxAttempts = 1
	var requests atomic.Int64
	err := awsjson.New(cfg, awsjson.SSM, awsjson.Options{Requests: &requests}).Call(context.Background(), "DeleteParameter", map[string]string{"Name": "x"}, nil)
	var oe *smithy.OperationError
	var me *retry.MaxAttemptsError
	var re *awshttp.ResponseError
	var he *smithyhttp.ResponseError
	var ae smithy.APIError
	if !errors.As(err, &oe) || oe.ServiceID != "SSM" || oe.OperationName != "DeleteParameter" {
		t.Fatalf("%v", err)
	}
	if !errors.As(err, &me) || me.Attempt != 1 || !errors.As(err, &re) || re.ServiceRequestID() != "rid-1" ||
		!errors.As(err, &he) || he.HTTPStatusCode() != 500 || !errors.As(err, &ae) || ae.ErrorCode() != "InternalServerError" || ae.ErrorMessage() != "boom" {
		t.Errorf("%v", err)
	}
	if want := "operation error SSM: DeleteParameter, exceeded maximum number of attempts, 1, https response error StatusCode: 500, RequestID: rid-1, api error InternalServerError: boom"; err.Error() != want {
		t.Errorf("got  %s\nwant %s", err, want)
	}
	if requests.Load() != 1 {
		t.Errorf("%d requests", requests.Load())
	}

	// Not retryable: one attempt, no MaxAttemptsError.
	srv, _ = server(t, reply{400, nil, `{"__type":"ValidationException","message":"bad"}`})
	cfg = config(srv.URL)
	cfg.Retryer = noBackoff(5)
	requests.Store(0)
	err = awsjson.New(cfg, awsjson.SSM, awsjson.Options{Requests: &requests}).Call(context.Background(), "DeleteParameter", struct{}{}, nil)
	if !errors.As(err, &ae) || ae.ErrorCode() != "ValidationException" || errors.As(err, &me) || requests.Load() != 1 {
		t.Errorf("%v after %d requests", err, requests.Load())
	}
}

// TestNonJSONErrorBody: the HTTP status is all there is.
func TestNonJSONErrorBody(t *testing.T) {
	t.Parallel()
	srv, _ := server(t, reply{502, nil, `Bad Gateway`})
	cfg := config(srv.URL)
	cfg.RetryMaxAttempts = 1
	err := awsjson.New(cfg, awsjson.CloudTrail, awsjson.Options{}).Call(context.Background(), "LookupEvents", struct{}{}, nil)
	var ae smithy.APIError
	var de *smithy.DeserializationError
	var he *smithyhttp.ResponseError
	if errors.As(err, &ae) || !errors.As(err, &de) || !errors.As(err, &he) || he.HTTPStatusCode() != 502 {
		t.Errorf("%v", err)
	}
}

// TestUnreachable: a connection that fails is a send error with no
// status, retried and counted like the others.
func TestUnreachable(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	cfg := config(url)
	cfg.Retryer = noBackoff(2)
	var requests atomic.Int64
	var statuses []int
	err := awsjson.New(cfg, awsjson.SSM, awsjson.Options{Requests: &requests, OnAttempt: func(a awsjson.Attempt) { statuses = append(statuses, a.Status) }}).
		Call(context.Background(), "PutParameter", struct{}{}, nil)
	var se *smithyhttp.RequestSendError
	var me *retry.MaxAttemptsError
	if !errors.As(err, &se) || !errors.As(err, &me) || me.Attempt != 2 || requests.Load() != 2 || len(statuses) != 2 || statuses[0] != 0 {
		t.Errorf("%v; %d requests, statuses %v", err, requests.Load(), statuses)
	}
}

// TestCanceledWhileWaiting: the wait before a retry ends with the context.
func TestCanceledWhileWaiting(t *testing.T) {
	t.Parallel()
	srv, _ := server(t, reply{503, nil, `{"__type":"ServiceUnavailable"}`})
	cfg := config(srv.URL)
	cfg.Retryer = func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) {
			o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return time.Hour, nil })
		})
	}
	ctx, cancel := context.WithCancel(context.Background())
	// After the first attempt, while the client waits to retry (a context
	// canceled sooner fails the retry token, as in the SDK).
	c := awsjson.New(cfg, awsjson.SSM, awsjson.Options{OnAttempt: func(awsjson.Attempt) { time.AfterFunc(50*time.Millisecond, cancel) }})
	start := time.Now()
	err := c.Call(ctx, "PutParameter", struct{}{}, nil)
	var ce *aws.RequestCanceledError
	if !errors.Is(err, context.Canceled) || !errors.As(err, &ce) || time.Since(start) > 10*time.Second {
		t.Errorf("%v after %s", err, time.Since(start))
	}
}

// TestResponseThatDoesNotDecode: the error names the field, never what the
// response held (a response may hold a secret).
func TestResponseThatDoesNotDecode(t *testing.T) {
	t.Parallel()
	for _, body := range []string{`{"SecretString":"s3cr3t","Version":"s3cr3t-v"}`, `{"SecretString":"s3cr3t`} {
		srv, _ := server(t, reply{200, nil, body})
		var out struct {
			SecretString string
			Version      int64
		}
		err := awsjson.New(config(srv.URL), awsjson.SecretsManager, awsjson.Options{}).Call(context.Background(), "GetSecretValue", struct{}{}, &out)
		var de *smithy.DeserializationError
		if !errors.As(err, &de) || strings.Contains(err.Error(), "s3cr3t") {
			t.Errorf("%q: %v", body, err)
		}
	}
}

// TestSignedForTheSimulator: the simulator verifies SigV4 as AWS does; a
// wrong secret is refused with the JSON services' code.
func TestSignedForTheSimulator(t *testing.T) {
	t.Parallel()
	srv := iamsim.NewServer(iamsim.User("admin", iamsim.KeySeed{}))
	t.Cleanup(srv.Close)
	k := srv.Keys("admin")[0]
	cfg := aws.Config{Region: "eu-west-1", BaseEndpoint: aws.String(srv.URL()), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(k.ID, k.Secret, "")}
	ctx := context.Background()
	ssm := awsjson.New(cfg, awsjson.SSM, awsjson.Options{})
	var put struct{ Version int64 }
	if err := ssm.Call(ctx, "PutParameter", map[string]any{"Name": "/p", "Value": "v", "Type": "SecureString"}, &put); err != nil || put.Version != 1 {
		t.Fatalf("PutParameter: %+v, %v", put, err)
	}
	var regions struct{ Regions []struct{ RegionName string } }
	if err := awsjson.New(cfg, awsjson.Account, awsjson.Options{}).CallREST(ctx, "ListRegions", "/listRegions", struct{}{}, &regions); err != nil || len(regions.Regions) == 0 {
		t.Fatalf("ListRegions: %+v, %v", regions, err)
	}
	var ae smithy.APIError
	cfg.Credentials = credentials.NewStaticCredentialsProvider(k.ID, "wrong", "")
	err := awsjson.New(cfg, awsjson.SSM, awsjson.Options{}).Call(ctx, "DeleteParameter", map[string]string{"Name": "/p"}, nil)
	if !errors.As(err, &ae) || ae.ErrorCode() != "InvalidSignatureException" {
		t.Errorf("wrong secret: %v", err)
	}
}
