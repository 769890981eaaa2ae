package iamx

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// Error kinds. Every error a Client returns matches at most one of them
// with errors.Is; callers turn kinds into exit codes and advice.
var (
	ErrInvalidInput       = errors.New("invalid input")
	ErrNotFound           = errors.New("not found")
	ErrKeyLimit           = errors.New("limit exceeded")
	ErrServiceFailure     = errors.New("service failure")
	ErrThrottled          = errors.New("throttled")
	ErrAccessDenied       = errors.New("access denied")
	ErrInvalidCredentials = errors.New("invalid credentials")
	ErrNoCredentials      = errors.New("no credentials")
	ErrUnreachable        = errors.New("endpoint unreachable")
)

// Error is an AWS error response, classified. Its message is AWS's code and
// message; callers add the operation, the user and the key.
type Error struct {
	Kind       error // one of the Err* kinds, nil when unknown
	Code       string
	Message    string
	HTTPStatus int
	RequestID  string
	Err        error
}

func (e *Error) Error() string {
	switch {
	case e.Code != "" && e.Message != "":
		return e.Code + ": " + e.Message
	case e.Code != "":
		return e.Code
	case e.HTTPStatus != 0:
		return fmt.Sprintf("HTTP %d %s", e.HTTPStatus, http.StatusText(e.HTTPStatus))
	case e.Err != nil:
		return e.Err.Error()
	case e.Kind != nil:
		return e.Kind.Error()
	}
	return "unknown AWS error"
}

// Unwrap exposes both the kind and the SDK's error.
func (e *Error) Unwrap() []error {
	if e.Kind == nil {
		return []error{e.Err}
	}
	return []error{e.Kind, e.Err}
}

// codeKinds maps AWS error codes (IAM's, STS's, the secret stores' and the
// common ones) to kinds.
var codeKinds = map[string]error{
	"NoSuchEntity":                      ErrNotFound,
	"ResourceNotFoundException":         ErrNotFound,
	"ParameterNotFound":                 ErrNotFound,
	"ParameterVersionNotFound":          ErrNotFound,
	"ParameterAlreadyExists":            ErrInvalidInput,
	"InvalidParameterException":         ErrInvalidInput,
	"InvalidRequestException":           ErrInvalidInput,
	"ResourceExistsException":           ErrInvalidInput,
	"InternalServiceError":              ErrServiceFailure,
	"LimitExceeded":                     ErrKeyLimit,
	"ServiceFailure":                    ErrServiceFailure,
	"InternalFailure":                   ErrServiceFailure,
	"InternalError":                     ErrServiceFailure,
	"ServiceUnavailable":                ErrServiceFailure,
	"EntityTemporarilyUnmodifiable":     ErrServiceFailure,
	"ConcurrentModification":            ErrServiceFailure,
	"Throttling":                        ErrThrottled,
	"ThrottlingException":               ErrThrottled,
	"RequestLimitExceeded":              ErrThrottled,
	"TooManyRequestsException":          ErrThrottled,
	"AccessDenied":                      ErrAccessDenied,
	"AccessDeniedException":             ErrAccessDenied,
	"UnauthorizedOperation":             ErrAccessDenied,
	"InvalidClientTokenId":              ErrInvalidCredentials,
	"SignatureDoesNotMatch":             ErrInvalidCredentials,
	"IncompleteSignature":               ErrInvalidCredentials,
	"MissingAuthenticationToken":        ErrInvalidCredentials,
	"ExpiredToken":                      ErrInvalidCredentials,
	"ExpiredTokenException":             ErrInvalidCredentials,
	"InvalidAccessKeyId":                ErrInvalidCredentials,
	"UnrecognizedClientException":       ErrInvalidCredentials,
	"InvalidSignatureException":         ErrInvalidCredentials,
	"MalformedPolicyDocument":           ErrInvalidInput,
	"ValidationException":               ErrInvalidInput,
	"InvalidLookupAttributesException":  ErrInvalidInput,
	"InvalidTimeRangeException":         ErrInvalidInput,
	"InvalidNextTokenException":         ErrInvalidInput,
	"InvalidMaxResultsException":        ErrInvalidInput,
	"ValidationError":                   ErrInvalidInput,
	"InvalidInputException":             ErrInvalidInput,
	"ParentNotFoundException":           ErrNotFound,
	"AccountNotFoundException":          ErrNotFound,
	"AWSOrganizationsNotInUseException": ErrNotFound,
	"InvalidInput":                      ErrInvalidInput,
	"MalformedInput":                    ErrInvalidInput,
	"InvalidParameterValue":             ErrInvalidInput,
}

// statusKind classifies by HTTP status when the code is unknown: some
// IAM-compatible endpoints send error bodies the SDK cannot parse.
func statusKind(status int) error {
	switch {
	case status == http.StatusForbidden || status == http.StatusUnauthorized:
		return ErrAccessDenied
	case status == http.StatusNotFound:
		return ErrNotFound
	case status == http.StatusConflict:
		return ErrKeyLimit
	case status == http.StatusTooManyRequests:
		return ErrThrottled
	case status >= 500:
		return ErrServiceFailure
	}
	return nil
}

// classify turns an SDK error into an *Error with a kind. Context
// cancellation passes through untouched so callers can tell an interrupt
// from a failure.
func classify(err error) error {
	if err == nil || errors.Is(err, context.Canceled) {
		return err
	}
	if te := timeoutOf(err); te != nil {
		return te
	}
	e := &Error{Err: err}
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		e.HTTPStatus = re.HTTPStatusCode()
	}
	var rid interface{ ServiceRequestID() string }
	if errors.As(err, &rid) {
		e.RequestID = rid.ServiceRequestID()
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		e.Code, e.Message = ae.ErrorCode(), ae.ErrorMessage()
		e.Kind = codeKinds[e.Code]
	}
	if e.Kind == nil && e.HTTPStatus != 0 {
		e.Kind = statusKind(e.HTTPStatus)
		if ae == nil || e.Code == "UnknownError" {
			e.Code, e.Message = "", ""
		}
	}
	var ne net.Error
	switch {
	case e.HTTPStatus == 0 && ae == nil && errors.As(err, &ne):
		return fmt.Errorf("%w: %w", ErrUnreachable, err)
	case e.HTTPStatus == 0 && ae == nil:
		return err
	case e.Kind == nil && errors.As(err, &ne):
		// The connection failed while the response was read.
		e.Kind = ErrUnreachable
	}
	return e
}
