package iamx

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/smithy-go/logging"
	"github.com/keyrot/keyrot/iamx/iamsim"
)

func TestHTTPClientDefaults(t *testing.T) {
	for _, tc := range []struct {
		name          string
		o             LoadOptions
		connect, read time.Duration
	}{
		{"none given", LoadOptions{}, 60 * time.Second, 60 * time.Second},
		{"read given", LoadOptions{ReadTimeout: 5 * time.Second}, 60 * time.Second, 5 * time.Second},
		{"connect given", LoadOptions{ConnectTimeout: 2 * time.Second}, 2 * time.Second, 60 * time.Second},
		{"insecure only", LoadOptions{NoVerifySSL: true}, 60 * time.Second, 60 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("AWS_CONFIG_FILE", t.TempDir()+"/none")
			t.Setenv("AWS_SHARED_CREDENTIALS_FILE", t.TempDir()+"/none")
			c, err := Load(context.Background(), tc.o)
			if err != nil {
				t.Fatal(err)
			}
			hc, ok := c.Config().HTTPClient.(*HTTPClient)
			if !ok {
				t.Fatalf("HTTP client is %T, want *iamx.HTTPClient", c.Config().HTTPClient)
			}
			if connect, read := hc.Timeouts(); connect != tc.connect || read != tc.read {
				t.Errorf("timeouts connect %s read %s, want %s and %s", connect, read, tc.connect, tc.read)
			}
		})
	}
	// New, which tests and the fleet use, bounds requests too.
	hc, ok := New(aws.Config{}).Config().HTTPClient.(*HTTPClient)
	if !ok {
		t.Fatal("New left the SDK's unbounded client in place")
	}
	if connect, read := hc.Timeouts(); connect != DefaultConnectTimeout || read != DefaultReadTimeout {
		t.Errorf("New: timeouts %s %s", connect, read)
	}
}

func TestReadTimeoutEndsTheRequest(t *testing.T) {
	silent := iamsim.NewSilent()
	t.Cleanup(silent.Close)
	url := silent.URL()
	c := New(aws.Config{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(url),
		Credentials:      credentials.NewStaticCredentialsProvider("AKIAIOSFODNN7EXAMPLE", "secret", ""),
		HTTPClient:       NewHTTPClient(HTTPOptions{ReadTimeout: 200 * time.Millisecond}),
		RetryMaxAttempts: 2,
	})
	c.Sleep = func(context.Context, time.Duration) error { return nil }
	_, err := c.ListKeys(context.Background(), "bob")
	if !errors.Is(err, ErrUnreachable) {
		t.Fatalf("err = %v, want ErrUnreachable", err)
	}
	var te *TimeoutError
	if !errors.As(err, &te) {
		t.Fatalf("err = %v (%T), want a *TimeoutError", err, err)
	}
	want := "no response from " + url + " within 200ms (2 attempts)"
	if te.Error() != want || te.Flag() != "--cli-read-timeout" {
		t.Errorf("error %q (flag %s), want %q", te.Error(), te.Flag(), want)
	}
}

func TestTimeoutOfDial(t *testing.T) {
	err := &net.OpError{Op: "dial", Err: &dialTimeoutError{addr: "10.0.0.1:443", after: 3 * time.Second, err: errors.New("i/o timeout")}}
	te := timeoutOf(err)
	if te == nil || !strings.Contains(te.Error(), "could not connect to 10.0.0.1:443 within 3s") || te.Flag() != "--cli-connect-timeout" {
		t.Fatalf("timeoutOf = %v", te)
	}
	if timeoutOf(errors.New("other")) != nil {
		t.Error("a plain error is no timeout")
	}
}

// TestNoClosedConnectionOnLargePages is the race HTTPClient's body wrapper
// removes: large ListUsers pages read back to back. Without the wrapper
// nearly every run fails with "use of closed network connection".
func TestNoClosedConnectionOnLargePages(t *testing.T) {
	srv := iamsim.NewServer(iamsim.Seed(5000, 1), iamsim.User("admin", iamsim.KeySeed{}))
	t.Cleanup(srv.Close)
	k := srv.Keys("admin")[0]
	c := New(aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL()),
		Credentials: credentials.NewStaticCredentialsProvider(k.ID, k.Secret, ""), RetryMaxAttempts: 1})
	for i := 0; i < 10; i++ {
		p := iam.NewListUsersPaginator(c.iam, &iam.ListUsersInput{MaxItems: aws.Int32(1000)})
		for p.HasMorePages() {
			if _, err := p.NextPage(context.Background()); err != nil {
				t.Fatalf("listing %d: %v", i, err)
			}
		}
	}
}

func TestSDKLoggerOnlyIntoDebug(t *testing.T) {
	t.Setenv("AWS_CONFIG_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", t.TempDir()+"/none")
	c, err := Load(context.Background(), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Config().Logger.(logging.Nop); !ok {
		t.Errorf("without --debug the SDK logs to %T, want logging.Nop", c.Config().Logger)
	}
	var buf strings.Builder
	c, err = Load(context.Background(), LoadOptions{Debug: &buf})
	if err != nil {
		t.Fatal(err)
	}
	c.Config().Logger.Logf(logging.Warn, "failed to discard %d bytes\n", 3)
	if got, want := buf.String(), "debug: sdk warn: failed to discard 3 bytes\n"; got != want {
		t.Errorf("debug got %q, want %q", got, want)
	}
}
