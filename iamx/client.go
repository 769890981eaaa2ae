package iamx

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/logging"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/keyrot/keyrot/iamx/internal/awsjson"
)

// iamAPI is exactly the part of *iam.Client keyrot calls.
type iamAPI interface {
	ListAccessKeys(context.Context, *iam.ListAccessKeysInput, ...func(*iam.Options)) (*iam.ListAccessKeysOutput, error)
	CreateAccessKey(context.Context, *iam.CreateAccessKeyInput, ...func(*iam.Options)) (*iam.CreateAccessKeyOutput, error)
	UpdateAccessKey(context.Context, *iam.UpdateAccessKeyInput, ...func(*iam.Options)) (*iam.UpdateAccessKeyOutput, error)
	DeleteAccessKey(context.Context, *iam.DeleteAccessKeyInput, ...func(*iam.Options)) (*iam.DeleteAccessKeyOutput, error)
	GetAccessKeyLastUsed(context.Context, *iam.GetAccessKeyLastUsedInput, ...func(*iam.Options)) (*iam.GetAccessKeyLastUsedOutput, error)
	ListUsers(context.Context, *iam.ListUsersInput, ...func(*iam.Options)) (*iam.ListUsersOutput, error)
	GenerateCredentialReport(context.Context, *iam.GenerateCredentialReportInput, ...func(*iam.Options)) (*iam.GenerateCredentialReportOutput, error)
	GetCredentialReport(context.Context, *iam.GetCredentialReportInput, ...func(*iam.Options)) (*iam.GetCredentialReportOutput, error)
	PutUserPolicy(context.Context, *iam.PutUserPolicyInput, ...func(*iam.Options)) (*iam.PutUserPolicyOutput, error)
	GetUserPolicy(context.Context, *iam.GetUserPolicyInput, ...func(*iam.Options)) (*iam.GetUserPolicyOutput, error)
	DeleteUserPolicy(context.Context, *iam.DeleteUserPolicyInput, ...func(*iam.Options)) (*iam.DeleteUserPolicyOutput, error)
}

// stsAPI is exactly the part of *sts.Client keyrot calls.
type stsAPI interface {
	GetCallerIdentity(context.Context, *sts.GetCallerIdentityInput, ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error)
	GetSessionToken(context.Context, *sts.GetSessionTokenInput, ...func(*sts.Options)) (*sts.GetSessionTokenOutput, error)
	GetAccessKeyInfo(context.Context, *sts.GetAccessKeyInfoInput, ...func(*sts.Options)) (*sts.GetAccessKeyInfoOutput, error)
	AssumeRole(context.Context, *sts.AssumeRoleInput, ...func(*sts.Options)) (*sts.AssumeRoleOutput, error)
}

var (
	_ iamAPI = (*iam.Client)(nil)
	_ stsAPI = (*sts.Client)(nil)
)

// DefaultRegion signs IAM requests when no region is configured. IAM is a
// global service whose commercial-partition endpoint signs for us-east-1.
const DefaultRegion = "us-east-1"

// LoadOptions are the global flags that shape the AWS configuration. Empty
// fields leave the SDK's own resolution (environment, shared files) alone.
type LoadOptions struct {
	Profile     string
	Region      string
	EndpointURL string

	ConnectTimeout time.Duration
	ReadTimeout    time.Duration
	CABundle       string
	NoVerifySSL    bool

	// MaxAttempts and RetryMode override AWS_MAX_ATTEMPTS/AWS_RETRY_MODE
	// when set; fleet runs use the adaptive mode.
	MaxAttempts int
	RetryMode   aws.RetryMode

	// Debug, when set, receives one line per HTTP attempt: service,
	// operation, status, duration and request ID. Never headers or bodies,
	// so never a secret.
	Debug io.Writer

	// MFAToken asks for the current code of an MFA device, for profiles
	// that assume a role with mfa_serial; nil: there is no one to ask.
	MFAToken func(serial string) (string, error)
}

// Client is keyrot's IAM and STS client.
type Client struct {
	cfg      aws.Config
	iam      iamAPI
	sts      stsAPI
	trails   *trailClients
	sm       *secretsClient
	ssm      *ssmClient
	org      *orgClient
	account  string // the member account InAccount made the client for
	requests *atomic.Int64
	debug    *debugLog // nil without --debug
	profile  string

	// Sleep waits between polls; tests replace it.
	Sleep func(ctx context.Context, d time.Duration) error
}

// Load resolves the configuration the way the AWS CLI does
// (config.LoadDefaultConfig), then applies keyrot's flags.
func Load(ctx context.Context, o LoadOptions) (*Client, error) {
	var fns []func(*config.LoadOptions) error
	if o.Profile != "" {
		fns = append(fns, config.WithSharedConfigProfile(o.Profile))
	}
	if o.Region != "" {
		fns = append(fns, config.WithRegion(o.Region))
	}
	if o.MaxAttempts > 0 {
		fns = append(fns, config.WithRetryMaxAttempts(o.MaxAttempts))
	}
	if o.RetryMode != "" {
		fns = append(fns, config.WithRetryMode(o.RetryMode))
	}
	if o.CABundle != "" {
		pem, err := os.ReadFile(o.CABundle)
		if err != nil {
			return nil, &InputError{"--ca-bundle", o.CABundle, err.Error()}
		}
		if !x509.NewCertPool().AppendCertsFromPEM(pem) {
			return nil, &InputError{"--ca-bundle", o.CABundle, "the file holds no PEM-encoded certificate"}
		}
		fns = append(fns, config.WithCustomCABundle(bytes.NewReader(pem)))
	}
	fns = append(fns, config.WithHTTPClient(newBuildableClient(HTTPOptions{
		ConnectTimeout: o.ConnectTimeout, ReadTimeout: o.ReadTimeout, NoVerifySSL: o.NoVerifySSL})))
	fns = append(fns, config.WithLogger(sdkLogger(o.Debug)))
	fns = append(fns, config.WithAssumeRoleCredentialOptions(assumeRoleOptions(o)))
	cfg, err := config.LoadDefaultConfig(ctx, fns...)
	if err != nil {
		return nil, loadError(o, err)
	}
	if b, ok := cfg.HTTPClient.(*awshttp.BuildableClient); ok {
		cfg.HTTPClient = &HTTPClient{inner: b}
	}
	if o.EndpointURL != "" {
		cfg.BaseEndpoint = aws.String(o.EndpointURL)
	}
	c := New(cfg)
	c.profile = o.Profile
	if o.Debug != nil {
		c.debug = &debugLog{w: o.Debug}
		c.cfg.APIOptions = append(c.cfg.APIOptions, c.debug.middleware)
		c.iam = iam.NewFromConfig(c.cfg)
		c.sts = sts.NewFromConfig(c.cfg)
	}
	return c, nil
}

func loadError(o LoadOptions, err error) error {
	var pe config.SharedConfigProfileNotExistError
	if errors.As(err, &pe) {
		return &InputError{"--profile", o.Profile, "no such profile in the shared config or credentials file"}
	}
	return fmt.Errorf("load AWS configuration: %w", err)
}

// New builds a Client on an existing configuration. It fills in the
// default region, keyrot's HTTP client (timeouts, see HTTPClient) and a
// silent SDK logger when cfg has none, and counts HTTP requests.
func New(cfg aws.Config) *Client {
	if cfg.Region == "" {
		cfg.Region = DefaultRegion
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = NewHTTPClient(HTTPOptions{})
	}
	if cfg.Logger == nil {
		cfg.Logger = sdkLogger(nil)
	}
	c := &Client{requests: new(atomic.Int64), trails: &trailClients{}, sm: &secretsClient{}, ssm: &ssmClient{}, org: &orgClient{}, Sleep: sleep}
	cfg.APIOptions = append(cfg.APIOptions[:len(cfg.APIOptions):len(cfg.APIOptions)], countMiddleware(c.requests))
	c.cfg = cfg
	c.iam = iam.NewFromConfig(cfg)
	c.sts = sts.NewFromConfig(cfg)
	return c
}

// Config returns the resolved AWS configuration.
func (c *Client) Config() aws.Config { return c.cfg }

// Requests is the number of HTTP requests sent so far, retries included.
func (c *Client) Requests() int64 { return c.requests.Load() }

// Signer reads the signing credentials from the provider chain. For static,
// environment and shared-file credentials this costs no request.
func (c *Client) Signer(ctx context.Context) (Signer, error) {
	if c.cfg.Credentials == nil {
		return Signer{}, fmt.Errorf("%w: set AWS_PROFILE or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or pass --profile", ErrNoCredentials)
	}
	creds, err := c.cfg.Credentials.Retrieve(ctx)
	if err != nil && c.account != "" {
		// A member account's AssumeRole: STS's answer is the error.
		return Signer{}, classify(err)
	}
	if err != nil {
		var me *MFAError
		if errors.As(err, &me) {
			return Signer{}, me
		}
		if se := ssoError(c.cfg.Credentials, c.profile, err); se != nil {
			return Signer{}, se
		}
		return Signer{}, fmt.Errorf("%w: %w", ErrNoCredentials, err)
	}
	return Signer{
		AccessKeyID: creds.AccessKeyID,
		Temporary:   creds.SessionToken != "" || strings.HasPrefix(creds.AccessKeyID, "ASIA"),
		Source:      creds.Source,
	}, nil
}

// WithCredentials returns a Client that signs with other credentials (an
// MFA session, say) and shares the request counter.
func (c *Client) WithCredentials(p aws.CredentialsProvider) *Client {
	cfg := c.cfg.Copy()
	cfg.Credentials = aws.NewCredentialsCache(p)
	n := &Client{cfg: cfg, requests: c.requests, debug: c.debug, trails: &trailClients{}, sm: &secretsClient{}, ssm: &ssmClient{}, org: &orgClient{}, Sleep: c.Sleep}
	n.iam = iam.NewFromConfig(cfg)
	n.sts = sts.NewFromConfig(cfg)
	return n
}

// CallerIdentity asks STS who signs the requests.
func (c *Client) CallerIdentity(ctx context.Context) (Identity, error) {
	out, err := c.sts.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return Identity{}, classify(err)
	}
	return identityFromARN(aws.ToString(out.Account), aws.ToString(out.Arn), aws.ToString(out.UserId)), nil
}

// VerifyKey signs one STS GetCallerIdentity with the given key, without
// retries: the caller polls.
func (c *Client) VerifyKey(ctx context.Context, id string, secret Secret) (Identity, error) {
	out, err := c.sts.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}, func(o *sts.Options) {
		o.Credentials = credentials.NewStaticCredentialsProvider(id, secret.Reveal(), "")
		o.RetryMaxAttempts = 1
	})
	if err != nil {
		return Identity{}, classify(err)
	}
	return identityFromARN(aws.ToString(out.Account), aws.ToString(out.Arn), aws.ToString(out.UserId)), nil
}

// SessionToken gets session credentials (STS GetSessionToken), MFA-backed
// when serial and code are given, for policies that require MFA for key
// management.
func (c *Client) SessionToken(ctx context.Context, serial, code string, d time.Duration) (aws.Credentials, error) {
	in := &sts.GetSessionTokenInput{SerialNumber: optional(serial), TokenCode: optional(code)}
	if d > 0 {
		in.DurationSeconds = aws.Int32(int32(d / time.Second))
	}
	out, err := c.sts.GetSessionToken(ctx, in)
	if err != nil {
		return aws.Credentials{}, classify(err)
	}
	cr := out.Credentials
	return aws.Credentials{
		AccessKeyID:     aws.ToString(cr.AccessKeyId),
		SecretAccessKey: aws.ToString(cr.SecretAccessKey),
		SessionToken:    aws.ToString(cr.SessionToken),
		CanExpire:       cr.Expiration != nil,
		Expires:         aws.ToTime(cr.Expiration),
		Source:          "keyrot MFA session",
	}, nil
}

// sdkLogger takes the SDK's own log lines (a retry's warning, the IMDS
// client's fallback to IMDSv1): into the --debug output when there is one,
// else nowhere, so that stderr carries only keyrot's messages.
func sdkLogger(debug io.Writer) logging.Logger {
	if debug == nil {
		return logging.Nop{}
	}
	var mu sync.Mutex
	return logging.LoggerFunc(func(c logging.Classification, format string, v ...any) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(debug, "debug: sdk %s: %s\n", strings.ToLower(string(c)), strings.TrimSpace(fmt.Sprintf(format, v...)))
	})
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// countMiddleware counts HTTP attempts: it sits in the deserialize step,
// below the retry loop, so every retry counts.
func countMiddleware(n *atomic.Int64) func(*middleware.Stack) error {
	return func(s *middleware.Stack) error {
		return s.Deserialize.Add(middleware.DeserializeMiddlewareFunc("keyrotCount",
			func(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
				n.Add(1)
				return next.HandleDeserialize(ctx, in)
			}), middleware.After)
	}
}

// debugMiddleware writes one line per HTTP attempt of an SDK client.
func debugMiddleware(w io.Writer) func(*middleware.Stack) error {
	return (&debugLog{w: w}).middleware
}

// debugLog writes the --debug lines of HTTP attempts, one whole line at a
// time: the SDK clients' through its middleware, the JSON services'
// (awsjson) through attempt.
type debugLog struct {
	mu sync.Mutex
	w  io.Writer
}

// middleware wraps the deserializer (first in the deserialize step) so that
// it sees AWS's error code; retries happen in the finalize step, above it.
// It deliberately logs neither headers (the Authorization header, a session
// token) nor bodies (CreateAccessKey's response carries the secret).
func (d *debugLog) middleware(s *middleware.Stack) error {
	return s.Deserialize.Add(middleware.DeserializeMiddlewareFunc("keyrotDebug",
		func(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
			start := time.Now()
			out, md, err := next.HandleDeserialize(ctx, in)
			a := awsjson.Attempt{Service: middleware.GetServiceID(ctx), Operation: middleware.GetOperationName(ctx),
				Duration: time.Since(start), Err: err}
			if req, ok := in.Request.(*smithyhttp.Request); ok {
				a.Host = req.URL.Host
			}
			if resp, ok := out.RawResponse.(*smithyhttp.Response); ok {
				a.Status = resp.StatusCode
				a.RequestID = resp.Header.Get("X-Amzn-Requestid")
			}
			d.attempt(a)
			return out, md, err
		}), middleware.Before)
}

// attempt writes a's line: service, operation, host, status, duration,
// request ID and AWS's error code. An Attempt holds no header or body.
func (d *debugLog) attempt(a awsjson.Attempt) {
	line := fmt.Sprintf("debug: %s.%s %s -> %d in %s request-id=%s",
		a.Service, a.Operation, a.Host, a.Status, a.Duration.Round(time.Microsecond), a.RequestID)
	if a.Err != nil {
		if e, ok := classify(a.Err).(*Error); ok && e.Code != "" {
			line += " error=" + e.Code
		}
	}
	d.mu.Lock()
	fmt.Fprintln(d.w, line)
	d.mu.Unlock()
}

// jsonClient is a client of one of the JSON services in region ("": the
// configured one) that counts its requests with the SDK clients' and
// writes its --debug lines with theirs.
func (c *Client) jsonClient(svc *awsjson.Service, region string) *awsjson.Client {
	o := awsjson.Options{Region: region, Requests: c.requests}
	if d := c.debug; d != nil {
		o.OnAttempt = d.attempt
	}
	return awsjson.New(c.cfg, svc, o)
}
