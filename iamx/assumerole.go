package iamx

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/ssocreds"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// ErrMFACodeNeeded: a profile assumes a role with mfa_serial and no
// terminal can be asked for the code. It counts as ErrNoCredentials.
var ErrMFACodeNeeded = errors.New("the profile needs an MFA code")

// MFAError names the profile's MFA device.
type MFAError struct {
	Serial string
}

func (e *MFAError) Error() string {
	return fmt.Sprintf("the profile assumes a role with mfa_serial %s and needs its current code, but there is no terminal to ask for it on", e.Serial)
}

// Is makes errors.Is(err, ErrMFACodeNeeded) and ErrNoCredentials true.
func (e *MFAError) Is(target error) bool {
	return target == ErrMFACodeNeeded || target == ErrNoCredentials
}

// assumeRoleOptions shapes the SDK's assume-role provider for profiles
// with role_arn: its AssumeRole goes where the other requests go
// (--endpoint-url, AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL) and appears in
// --debug, and mfa_serial asks for the code through mfa.
func assumeRoleOptions(o LoadOptions) func(*stscreds.AssumeRoleOptions) {
	return func(ro *stscreds.AssumeRoleOptions) {
		ep := o.EndpointURL
		for _, env := range []string{"AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL"} {
			if ep == "" {
				ep = os.Getenv(env)
			}
		}
		if ep != "" || o.Debug != nil {
			ro.Client = routedSTS{inner: ro.Client, endpoint: ep, debug: o.Debug}
		}
		if ro.Duration == 0 {
			// Without duration_seconds the AWS CLI asks STS for its default
			// session, an hour; the SDK asks for 15 minutes, which made a
			// fleet run with an mfa_serial profile prompt again mid-run.
			ro.Duration = time.Hour
		}
		ro.TokenProvider = func() (string, error) {
			serial := aws.ToString(ro.SerialNumber)
			if o.MFAToken == nil {
				return "", &MFAError{Serial: serial}
			}
			return o.MFAToken(serial)
		}
	}
}

// routedSTS sends the provider's AssumeRole to the configured endpoint,
// signed with the source profile's credentials as before.
type routedSTS struct {
	inner    stscreds.AssumeRoleAPIClient
	endpoint string
	debug    io.Writer
}

func (r routedSTS) AssumeRole(ctx context.Context, in *sts.AssumeRoleInput, optFns ...func(*sts.Options)) (*sts.AssumeRoleOutput, error) {
	optFns = append(optFns, func(so *sts.Options) {
		if r.endpoint != "" {
			so.BaseEndpoint = aws.String(r.endpoint)
		}
		if r.debug != nil {
			so.APIOptions = append(so.APIOptions, debugMiddleware(r.debug))
		}
	})
	return r.inner.AssumeRole(ctx, in, optFns...)
}

// SSOLoginError: an SSO profile has no valid token. It counts as
// ErrNoCredentials.
type SSOLoginError struct {
	Profile string
	Err     error
}

func (e *SSOLoginError) Error() string {
	return fmt.Sprintf("the profile signs in through IAM Identity Center (SSO) and has no valid token: run aws sso login --profile %s (%v)", e.Profile, e.Err)
}

func (e *SSOLoginError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrNoCredentials) true.
func (e *SSOLoginError) Is(target error) bool { return target == ErrNoCredentials }

// ssoError: credentials from an SSO profile that cannot be had (no cached
// token, an expired one) need a login; nil for any other provider.
func ssoError(provider aws.CredentialsProvider, profile string, err error) error {
	var ite *ssocreds.InvalidTokenError
	if !errors.As(err, &ite) && !aws.IsCredentialsProvider(provider, (*ssocreds.Provider)(nil)) {
		return nil
	}
	if profile == "" {
		profile = os.Getenv("AWS_PROFILE")
	}
	return &SSOLoginError{Profile: profile, Err: err}
}
