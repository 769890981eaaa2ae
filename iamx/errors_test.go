package iamx

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

func responseError(status int, err error) error {
	return &smithyhttp.ResponseError{
		Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}},
		Err:      err,
	}
}

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		kind error
	}{
		{"modelled NoSuchEntity", responseError(404, &types.NoSuchEntityException{Message: new("The user with name Bob cannot be found.")}), ErrNotFound},
		{"modelled LimitExceeded", responseError(409, &types.LimitExceededException{}), ErrKeyLimit},
		{"modelled ServiceFailure", responseError(500, &types.ServiceFailureException{}), ErrServiceFailure},
		{"Throttling code", responseError(400, &smithy.GenericAPIError{Code: "Throttling"}), ErrThrottled},
		{"AccessDenied code", responseError(403, &smithy.GenericAPIError{Code: "AccessDenied"}), ErrAccessDenied},
		{"InvalidClientTokenId", responseError(403, &smithy.GenericAPIError{Code: "InvalidClientTokenId"}), ErrInvalidCredentials},
		{"SignatureDoesNotMatch", responseError(403, &smithy.GenericAPIError{Code: "SignatureDoesNotMatch"}), ErrInvalidCredentials},
		{"ExpiredToken", responseError(403, &smithy.GenericAPIError{Code: "ExpiredToken"}), ErrInvalidCredentials},
		{"ValidationError", responseError(400, &smithy.GenericAPIError{Code: "ValidationError"}), ErrInvalidInput},
		{"unknown code, 403", responseError(403, &smithy.GenericAPIError{Code: "Weird"}), ErrAccessDenied},
		{"unknown code, 404", responseError(404, &smithy.GenericAPIError{Code: "UnknownError"}), ErrNotFound},
		{"unknown code, 409", responseError(409, &smithy.GenericAPIError{Code: "UnknownError"}), ErrKeyLimit},
		{"unknown code, 503", responseError(503, &smithy.GenericAPIError{Code: "UnknownError"}), ErrServiceFailure},
		{"unparseable body, 502", responseError(502, errors.New("deserialization failed")), ErrServiceFailure},
		{"unparseable body, 429", responseError(429, errors.New("deserialization failed")), ErrThrottled},
		{"connection refused", &net.OpError{Op: "dial", Err: errors.New("connection refused")}, ErrUnreachable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := classify(fmt.Errorf("operation error IAM: X, %w", tc.err))
			if !errors.Is(err, tc.kind) {
				t.Fatalf("classify(%v) = %v, want kind %v", tc.err, err, tc.kind)
			}
			for _, other := range []error{ErrNotFound, ErrKeyLimit, ErrServiceFailure, ErrThrottled, ErrAccessDenied, ErrInvalidCredentials, ErrInvalidInput, ErrUnreachable} {
				if other != tc.kind && errors.Is(err, other) {
					t.Errorf("classify(%v) also matches %v", tc.err, other)
				}
			}
		})
	}
}

func TestClassifyKeepsCancellation(t *testing.T) {
	err := classify(fmt.Errorf("op: %w", context.Canceled))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("classify lost context.Canceled: %v", err)
	}
	if classify(nil) != nil {
		t.Fatal("classify(nil) != nil")
	}
}

func TestErrorMessage(t *testing.T) {
	err := classify(responseError(404, &types.NoSuchEntityException{Message: new("The user with name Bob cannot be found.")}))
	if got, want := err.Error(), "NoSuchEntity: The user with name Bob cannot be found."; got != want {
		t.Fatalf("Error() = %q, want %q", got, want)
	}
	err = classify(responseError(503, errors.New("garbled")))
	if got, want := err.Error(), "HTTP 503 Service Unavailable"; got != want {
		t.Fatalf("Error() = %q, want %q", got, want)
	}
}

func TestSecretRedacts(t *testing.T) {
	s := NewSecret("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
	for _, out := range []string{fmt.Sprint(s), fmt.Sprintf("%v %+v %#v %s", s, s, s, s), fmt.Sprintf("%v", NewKey{Secret: s}), fmt.Sprintf("%+v", NewKey{Secret: s})} {
		if strings.Contains(out, "wJalr") {
			t.Fatalf("secret printed: %s", out)
		}
	}
	if s.Reveal() != "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" {
		t.Fatal("Reveal lost the secret")
	}
}

func TestIdentityFromARN(t *testing.T) {
	for arn, want := range map[string]Identity{
		"arn:aws:iam::123456789012:user/Bob":                       {User: "Bob"},
		"arn:aws-cn:iam::123456789012:user/division/team/Bob":      {User: "Bob"},
		"arn:aws:iam::123456789012:root":                           {Root: true},
		"arn:aws-us-gov:sts::123456789012:assumed-role/admin/sess": {AssumedRole: true},
		"garbage": {},
	} {
		got := identityFromARN("123456789012", arn, "")
		if got.User != want.User || got.Root != want.Root || got.AssumedRole != want.AssumedRole {
			t.Errorf("identityFromARN(%q) = %+v, want %+v", arn, got, want)
		}
	}
}
