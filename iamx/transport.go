package iamx

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
)

// The AWS CLI waits 60 seconds for a connection and 60 seconds for each
// read. keyrot uses the same defaults so that no command waits forever on
// an endpoint that accepts connections and never answers.
const (
	DefaultConnectTimeout = 60 * time.Second
	DefaultReadTimeout    = 60 * time.Second
)

// HTTPOptions shape keyrot's HTTP client. Zero timeouts take the defaults.
type HTTPOptions struct {
	ConnectTimeout time.Duration
	ReadTimeout    time.Duration
	NoVerifySSL    bool
}

func (o HTTPOptions) withDefaults() HTTPOptions {
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = DefaultConnectTimeout
	}
	if o.ReadTimeout <= 0 {
		o.ReadTimeout = DefaultReadTimeout
	}
	return o
}

// HTTPClient is the client keyrot sends every AWS request through: the
// SDK's own client with a connect timeout and a read timeout (the longest
// wait for any data from the server, reset by every read) always set.
//
// It also hides io.WriterTo on the request body. smithy-go wraps request
// bodies in a reader that it closes as soon as the response arrives, and
// whose WriteTo answers io.EOF once closed. net/http writes a body of known
// length straight to the socket and then drains the body once more to check
// its length; when the server answers before that drain (it has the whole
// request), the drain gets the io.EOF as an error and the transport closes
// the connection under the response being read: "use of closed network
// connection" on large responses (ListUsers pages, the credential report)
// on a loaded machine. Through plain Read, a closed body is an ordinary EOF.
type HTTPClient struct {
	inner *awshttp.BuildableClient
}

// NewHTTPClient builds the HTTP client for AWS requests.
func NewHTTPClient(o HTTPOptions) *HTTPClient {
	return &HTTPClient{inner: newBuildableClient(o)}
}

// newBuildableClient is the SDK client inside HTTPClient. config.Load
// needs it unwrapped to add a CA bundle (AWS_CA_BUNDLE, ca_bundle).
func newBuildableClient(o HTTPOptions) *awshttp.BuildableClient {
	o = o.withDefaults()
	b := awshttp.NewBuildableClient().
		WithDialerOptions(func(d *net.Dialer) { d.Timeout = o.ConnectTimeout }).
		WithReadTimeout(o.ReadTimeout).
		WithTransportOptions(func(t *http.Transport) {
			dial := t.DialContext
			t.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
				c, err := dial(ctx, network, addr)
				var ne net.Error
				if err != nil && ctx.Err() == nil && errors.As(err, &ne) && ne.Timeout() {
					return nil, &dialTimeoutError{addr: addr, after: o.ConnectTimeout, err: err}
				}
				return c, err
			}
			if o.NoVerifySSL {
				if t.TLSClientConfig == nil {
					t.TLSClientConfig = &tls.Config{}
				}
				t.TLSClientConfig.InsecureSkipVerify = true
			}
		})
	return b
}

// Timeouts reports the connect and read timeouts in effect.
func (c *HTTPClient) Timeouts() (connect, read time.Duration) {
	connect = c.inner.GetDialer().Timeout
	read, _ = c.inner.GetReadTimeout()
	return connect, read
}

// Do sends one request (aws.HTTPClient).
func (c *HTTPClient) Do(req *http.Request) (*http.Response, error) {
	if req.Body != nil && req.Body != http.NoBody {
		req.Body = readCloser{req.Body}
	}
	return c.inner.Do(req)
}

// readCloser is a request body with only Read and Close (see HTTPClient).
type readCloser struct{ rc io.ReadCloser }

func (r readCloser) Read(p []byte) (int, error) { return r.rc.Read(p) }
func (r readCloser) Close() error               { return r.rc.Close() }

// dialTimeoutError is a connection attempt that ran out of time.
type dialTimeoutError struct {
	addr  string
	after time.Duration
	err   error
}

func (e *dialTimeoutError) Error() string   { return e.err.Error() }
func (e *dialTimeoutError) Unwrap() error   { return e.err }
func (e *dialTimeoutError) Timeout() bool   { return true }
func (e *dialTimeoutError) Temporary() bool { return true }

// TimeoutError is a request that got no connection, or no data from the
// server, within the timeout, on every attempt. Its kind is ErrUnreachable.
type TimeoutError struct {
	Endpoint string        // scheme://host of the request
	Phase    string        // "connect" or "read"
	After    time.Duration // the timeout that ran out
	Attempts int           // attempts made, when the SDK retried
	Err      error
}

func (e *TimeoutError) Error() string {
	what := fmt.Sprintf("no response from %s within %s", e.Endpoint, e.After)
	if e.Phase == "connect" {
		what = fmt.Sprintf("could not connect to %s within %s", e.Endpoint, e.After)
	}
	if e.Attempts > 1 {
		what += fmt.Sprintf(" (%d attempts)", e.Attempts)
	}
	return what
}

// Unwrap exposes the kind and the SDK's error.
func (e *TimeoutError) Unwrap() []error { return []error{ErrUnreachable, e.Err} }

// Flag is the global flag that sets the timeout that ran out.
func (e *TimeoutError) Flag() string {
	if e.Phase == "connect" {
		return "--cli-connect-timeout"
	}
	return "--cli-read-timeout"
}

// timeoutOf recognises the SDK's read timeout and a dial timeout in err.
func timeoutOf(err error) *TimeoutError {
	e := &TimeoutError{Err: err}
	var rte *awshttp.ResponseTimeoutError
	var de *dialTimeoutError
	switch {
	case errors.As(err, &rte):
		e.Phase, e.After = "read", rte.TimeoutDur
	case errors.As(err, &de):
		e.Phase, e.After = "connect", de.after
	default:
		return nil
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		if u, perr := url.Parse(ue.URL); perr == nil {
			e.Endpoint = u.Scheme + "://" + u.Host
		}
	}
	if e.Endpoint == "" && de != nil {
		e.Endpoint = de.addr
	}
	var me *retry.MaxAttemptsError
	if errors.As(err, &me) {
		e.Attempts = me.Attempt
	}
	return e
}
