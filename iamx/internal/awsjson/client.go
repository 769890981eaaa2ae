// Package awsjson is a small AWS client for the JSON protocols of the
// services keyrot calls besides IAM and STS: AWS JSON 1.1 (SSM, Secrets
// Manager, CloudTrail, Organizations) and REST-JSON (Account). It signs with the SDK's
// SigV4 signer, retries with the configuration's retryer, resolves
// endpoints in the SDK's order and returns the error values the SDK's
// clients return, so that callers classify both alike.
//
// It exists for start-up time: each SDK service package builds its endpoint
// rules and serialization schemas at program start (about 1.5 ms and 1.4 MB
// for SSM alone) in every keyrot command, while keyrot calls six of their
// hundreds of operations in a few of its commands.
package awsjson

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	smithyrand "github.com/aws/smithy-go/rand"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// Service is one AWS service as the client needs it.
type Service struct {
	// ID is the SDK's service ID: in errors and debug lines, and the sdkID
	// of AWS_ENDPOINT_URL_<ID> and the shared config's services section.
	ID string
	// SigningName is SigV4's service name.
	SigningName string
	// Prefix is the first label of the service's default endpoint.
	Prefix string
	// Target is the X-Amz-Target prefix of AWS JSON 1.1; "" for REST-JSON.
	Target string
	// Global: one endpoint per partition, signed for its global region.
	Global bool

	host func(p *partition, region string, fips, dualStack bool) string
}

// The services keyrot calls, with their endpoint quirks as the SDK's rules
// have them (see endpoint.go).
var (
	SSM            = &Service{ID: "SSM", SigningName: "ssm", Prefix: "ssm", Target: "AmazonSSM", host: ssmHost}
	SecretsManager = &Service{ID: "Secrets Manager", SigningName: "secretsmanager", Prefix: "secretsmanager", Target: "secretsmanager", host: secretsManagerHost}
	CloudTrail     = &Service{ID: "CloudTrail", SigningName: "cloudtrail", Prefix: "cloudtrail", Target: "CloudTrail_20131101", host: cloudTrailHost}
	Account        = &Service{ID: "Account", SigningName: "account", Prefix: "account", Global: true}
	Organizations  = &Service{ID: "Organizations", SigningName: "organizations", Prefix: "organizations", Target: "AWSOrganizationsV20161128", Global: true}
)

// Attempt is one HTTP attempt, for --debug: never a header or a body.
type Attempt struct {
	Service, Operation string
	Host               string
	Status             int // 0 when no response came
	Duration           time.Duration
	RequestID          string
	Err                error // the attempt's error, as the SDK's deserialize step sees it
}

// Options are the client's hooks.
type Options struct {
	// Region overrides the configuration's region.
	Region string
	// Requests, when set, counts every HTTP attempt as it is sent.
	Requests *atomic.Int64
	// OnAttempt, when set, is called after every HTTP attempt.
	OnAttempt func(Attempt)
}

// Client calls one service in one region.
type Client struct {
	svc       *Service
	cfg       aws.Config
	region    string
	endpoint  endpoint
	epErr     error
	retryer   aws.RetryerV2
	signer    *v4.Signer
	userAgent string
	opts      Options
}

// New builds a client of svc from cfg, as svc's NewFromConfig would: the
// endpoint, FIPS and dual-stack settings are read from cfg.ConfigSources
// now, the retryer is made now and kept (its retry quota is the client's),
// requests go through cfg.HTTPClient (the SDK's default client if nil).
func New(cfg aws.Config, svc *Service, o Options) *Client {
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = awshttp.NewBuildableClient()
	}
	c := &Client{svc: svc, cfg: cfg, region: cfg.Region, signer: v4.NewSigner(), opts: o}
	if o.Region != "" {
		c.region = o.Region
	}
	c.endpoint, c.epErr = resolveEndpoint(context.Background(), cfg, svc, c.region)
	c.retryer = newRetryer(cfg)
	c.userAgent = userAgent(svc, cfg.AppID)
	return c
}

// Region is the region the client was made for.
func (c *Client) Region() string { return c.region }

// newRetryer is the SDK clients' resolveRetryer and
// finalizeRetryMaxAttempts: cfg.Retryer when set, else the standard or the
// adaptive mode (AWS_RETRY_MODE), with AWS_MAX_ATTEMPTS on top.
func newRetryer(cfg aws.Config) aws.RetryerV2 {
	var r aws.Retryer
	if cfg.Retryer != nil {
		r = cfg.Retryer()
	}
	if r == nil {
		var so []func(*retry.StandardOptions)
		if n := cfg.RetryMaxAttempts; n != 0 {
			so = append(so, func(o *retry.StandardOptions) { o.MaxAttempts = n })
		}
		if cfg.RetryMode == aws.RetryModeAdaptive {
			r = retry.NewAdaptiveMode(func(o *retry.AdaptiveModeOptions) { o.StandardOptions = append(o.StandardOptions, so...) })
		} else {
			r = retry.NewStandard(so...)
		}
	}
	if cfg.RetryMaxAttempts != 0 {
		r = retry.AddWithMaxAttempts(r, cfg.RetryMaxAttempts)
	}
	if v2, ok := r.(aws.RetryerV2); ok {
		return v2
	}
	return retryerV2{r}
}

type retryerV2 struct{ aws.Retryer }

func (r retryerV2) GetAttemptToken(context.Context) (func(error) error, error) {
	return r.GetInitialToken(), nil
}

// userAgent is the SDK's User-Agent without the service module's version
// (there is none).
func userAgent(svc *Service, appID string) string {
	osName := runtime.GOOS
	switch osName {
	case "darwin":
		osName = "macos"
	case "linux", "windows":
	default:
		osName = "other"
	}
	ua := "aws-sdk-go-v2/" + aws.SDKVersion + " ua/2.1 os/" + osName + " lang/go#" + strings.TrimPrefix(runtime.Version(), "go") +
		" md/GOOS#" + runtime.GOOS + " md/GOARCH#" + runtime.GOARCH + " api/" + svc.SigningName
	if appID != "" {
		ua += " app/" + appID
	}
	return ua
}

// NewToken is a client request token, as the SDK fills in an idempotency
// token the caller left out: made once per call, so that every retry of the
// call carries the same one.
func NewToken() (string, error) {
	return smithyrand.NewUUID(rand.Reader).GetUUID()
}

// Call sends the AWS JSON 1.1 operation op with input in (marshalled with
// encoding/json) and decodes the response into out (nil: ignore it).
func (c *Client) Call(ctx context.Context, op string, in, out any) error {
	return c.call(ctx, op, "/", in, out)
}

// CallREST sends the REST-JSON operation op: a POST of in to path.
func (c *Client) CallREST(ctx context.Context, op, path string, in, out any) error {
	return c.call(ctx, op, path, in, out)
}

func (c *Client) call(ctx context.Context, op, path string, in, out any) error {
	err := c.invoke(ctx, op, path, in, out)
	if err != nil {
		return &smithy.OperationError{ServiceID: c.svc.ID, OperationName: op, Err: err}
	}
	return nil
}

// invoke is the SDK's retry loop (retry.Attempt) around one attempt each.
func (c *Client) invoke(ctx context.Context, op, path string, in, out any) error {
	if c.epErr != nil {
		return fmt.Errorf("failed to resolve service endpoint, %w", c.epErr)
	}
	payload := []byte("{}")
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return &smithy.SerializationError{Err: err}
		}
		payload = b
	}
	sum := sha256.Sum256(payload)
	req := request{op: op, path: path, payload: payload, hash: hex.EncodeToString(sum[:])}
	if id, err := NewToken(); err == nil {
		req.invocationID = id
	}
	maxAttempts := c.retryer.MaxAttempts()
	releaseRetry := func(error) error { return nil }
	for attempt := 1; ; attempt++ {
		select {
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		releaseAttempt, err := c.retryer.GetAttemptToken(ctx)
		if err != nil {
			return fmt.Errorf("failed to get retry Send token, %w", err)
		}
		resp, err := c.attempt(ctx, req, attempt, maxAttempts, out)
		if rerr := releaseRetry(err); rerr != nil && err != nil {
			return fmt.Errorf("failed to release retry token after request error, %w", err)
		}
		if rerr := releaseAttempt(err); rerr != nil && err != nil {
			return fmt.Errorf("failed to release initial token after request error, %w", err)
		}
		if err == nil {
			return nil
		}
		if !c.retryer.IsErrorRetryable(err) {
			return err
		}
		if maxAttempts > 0 && attempt >= maxAttempts {
			return &retry.MaxAttemptsError{Attempt: attempt, Err: err}
		}
		rel, terr := c.retryer.GetRetryToken(ctx, err)
		if terr != nil {
			return errors.Join(err, terr)
		}
		releaseRetry = rel
		delay, derr := c.retryer.RetryDelay(attempt, err)
		if derr != nil {
			return derr
		}
		if serr := sleep(ctx, retryAfter(delay, resp)); serr != nil {
			return &aws.RequestCanceledError{Err: serr}
		}
	}
}

// retryAfter is the SDK's adjustForRetryAfterHeader: a service's
// x-amz-retry-after (milliseconds) stretches the backoff by up to 5 s.
func retryAfter(backoff time.Duration, resp *http.Response) time.Duration {
	if resp == nil {
		return backoff
	}
	v := resp.Header.Get("X-Amz-Retry-After")
	ms, err := strconv.ParseInt(v, 10, 64)
	if v == "" || err != nil || ms < 0 {
		return backoff
	}
	return min(max(time.Duration(ms)*time.Millisecond, backoff), backoff+5*time.Second)
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

type request struct {
	op, path     string
	payload      []byte
	hash         string
	invocationID string
}

// attempt sends req once: credentials, signature, HTTP, decoding. Its
// error is the one the SDK's stack returns from one attempt: an
// *awshttp.ResponseError around the API error, the deserialization error
// or the send error.
func (c *Client) attempt(ctx context.Context, r request, n, maxAttempts int, out any) (*http.Response, error) {
	var creds aws.Credentials
	signed := !anonymous(c.cfg.Credentials)
	if signed {
		var err error
		if creds, err = c.cfg.Credentials.Retrieve(ctx); err != nil {
			return nil, fmt.Errorf("get identity: %w", err)
		}
	}
	u := *c.endpoint.url
	u.Path = smithyhttp.JoinPath(u.Path, r.path)
	if u.RawPath != "" {
		u.RawPath = smithyhttp.JoinPath(u.RawPath, r.path)
	}
	u.RawQuery, u.Fragment = "", ""
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(r.payload))
	if err != nil {
		return nil, &smithy.SerializationError{Err: err}
	}
	h := hreq.Header
	if c.svc.Target != "" {
		h.Set("Content-Type", "application/x-amz-json-1.1")
		h.Set("X-Amz-Target", c.svc.Target+"."+r.op)
	} else {
		h.Set("Content-Type", "application/json")
	}
	h.Set("User-Agent", c.userAgent)
	if r.invocationID != "" {
		h.Set("Amz-Sdk-Invocation-Id", r.invocationID)
	}
	amzReq := "attempt=" + strconv.Itoa(n)
	if maxAttempts != 0 {
		amzReq += "; max=" + strconv.Itoa(maxAttempts)
	}
	h.Set("Amz-Sdk-Request", amzReq)
	if signed {
		if err := c.signer.SignHTTP(ctx, creds, hreq, r.hash, c.svc.SigningName, c.endpoint.signingRegion, time.Now().UTC()); err != nil {
			return nil, fmt.Errorf("sign request: sign http: %w", err)
		}
	}

	if c.opts.Requests != nil {
		c.opts.Requests.Add(1)
	}
	start := time.Now()
	resp, err := c.cfg.HTTPClient.Do(hreq)
	var body []byte
	if err != nil {
		err = &smithyhttp.RequestSendError{Err: err}
		if ctx.Err() != nil {
			err = &smithy.CanceledError{Err: ctx.Err()}
		}
		if resp == nil {
			resp = &http.Response{Header: http.Header{}, Body: http.NoBody}
		}
	} else {
		body, err = io.ReadAll(resp.Body)
		resp.Body.Close()
		switch {
		case err != nil && resp.StatusCode >= 200 && resp.StatusCode < 300:
			err = &smithy.DeserializationError{Err: err}
		case err != nil:
			err = &smithy.DeserializationError{Err: fmt.Errorf("failed to copy error response body, %w", err)}
		case resp.StatusCode < 200 || resp.StatusCode >= 300:
			err = decodeError(resp.Header, body, c.svc.Target == "")
		default:
			err = decodeOutput(body, out)
		}
	}
	rid := requestID(resp.Header)
	if err != nil {
		err = &awshttp.ResponseError{
			ResponseError: &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: resp}, Err: err},
			RequestID:     rid,
		}
	}
	if c.opts.OnAttempt != nil {
		c.opts.OnAttempt(Attempt{Service: c.svc.ID, Operation: r.op, Host: hreq.URL.Host, Status: resp.StatusCode,
			Duration: time.Since(start), RequestID: rid, Err: err})
	}
	return resp, err
}

func anonymous(p aws.CredentialsProvider) bool {
	switch p.(type) {
	case nil, aws.AnonymousCredentials, *aws.AnonymousCredentials:
		return true
	}
	return false
}

// requestID is the SDK's RequestIDRetriever.
func requestID(h http.Header) string {
	if v := h.Get("X-Amzn-Requestid"); v != "" {
		return v
	}
	return h.Get("X-Amz-Requestid")
}

// decodeOutput decodes a successful response. Its errors name the place,
// never the content: a response may hold a secret.
func decodeOutput(body []byte, out any) error {
	if out == nil || len(body) == 0 {
		return nil
	}
	if err := json.Unmarshal(body, out); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			err = fmt.Errorf("invalid JSON at offset %d", se.Offset)
		case errors.As(err, &te):
			err = fmt.Errorf("field %s: a JSON %s where %s was expected", te.Field, te.Value, te.Type)
		default:
			err = errors.New("the response does not decode")
		}
		return &smithy.DeserializationError{Err: err}
	}
	return nil
}
