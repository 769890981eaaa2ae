package awsjson

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/smithy-go"
)

func TestDecodeError(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		header   string // x-amzn-ErrorType
		body     string
		rest     bool
		code     string // "" when the body does not decode
		message  string
		rawError string // the DeserializationError's text
	}{
		{name: "plain __type", body: `{"__type":"ParameterNotFound","message":"no /x"}`, code: "ParameterNotFound", message: "no /x"},
		{name: "namespaced __type", body: `{"__type":"com.amazonaws.secretsmanager#ResourceNotFoundException","Message":"no secret"}`, code: "ResourceNotFoundException", message: "no secret"},
		{name: "URI suffix", body: `{"__type":"ThrottlingException:http://internal.amazon.com/coral/com.amazon.coral.availability/"}`, code: "ThrottlingException", message: "UnknownError"},
		{name: "namespace and suffix", body: `{"__type":"aws.protocoltests.restjson#FooError:http://internal.amazon.com/coral/com.amazon.coral.validate/"}`, code: "FooError", message: "UnknownError"},
		{name: "header beats body", header: "AccessDeniedException:http://x/", body: `{"__type":"ValidationException","message":"m"}`, code: "AccessDeniedException", message: "m"},
		{name: "code member", body: `{"code":"InternalFailure","message":"m"}`, code: "InternalFailure", message: "m"},
		{name: "non-string code member", body: `{"code":500,"message":"m"}`, code: "UnknownError", message: "m"},
		{name: "JSON 1.1 prefers __type", body: `{"__type":"A","Code":"B"}`, code: "A", message: "UnknownError"},
		{name: "REST-JSON prefers Code", body: `{"__type":"A","Code":"B"}`, rest: true, code: "B", message: "UnknownError"},
		{name: "REST-JSON header", header: "TooManyRequestsException", body: `{"message":"slow down"}`, rest: true, code: "TooManyRequestsException", message: "slow down"},
		{name: "empty body", body: ``, code: "UnknownError", message: "UnknownError"},
		{name: "empty object", body: `{}`, code: "UnknownError", message: "UnknownError"},
		{name: "HTML", body: `<html><body>Service Unavailable</body></html>`, rawError: "deserialization failed, failed to decode response body, invalid character '<' looking for beginning of value"},
		{name: "HTML with a header code", header: "ServiceUnavailable", body: `<html/>`, rawError: "deserialization failed, failed to decode response body, invalid character '<' looking for beginning of value"},
		{name: "a message that is not a string", body: `{"__type":"X","message":{"a":1}}`, rawError: "deserialization failed, failed to decode response body, json: cannot unmarshal object into Go struct field .Message of type string"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			if tc.header != "" {
				h.Set("X-Amzn-ErrorType", tc.header)
			}
			err := decodeError(h, []byte(tc.body), tc.rest)
			var ae *smithy.GenericAPIError
			var de *smithy.DeserializationError
			switch {
			case tc.code != "":
				if !errors.As(err, &ae) || ae.Code != tc.code || ae.Message != tc.message {
					t.Errorf("got %#v, want code %q message %q", err, tc.code, tc.message)
				}
			case !errors.As(err, &de) || err.Error() != tc.rawError:
				t.Errorf("got %v (%T), want a DeserializationError %q", err, err, tc.rawError)
			}
		})
	}
}

// FuzzDecodeError: any error response decodes to an API error with a
// sanitized code or to a DeserializationError, without a panic.
func FuzzDecodeError(f *testing.F) {
	f.Add("", []byte(`{"__type":"com.amazonaws.ssm#ParameterNotFound","message":"x"}`), false)
	f.Add("Throttling:http://x", []byte(`{"code":"ThrottlingException"}`), true)
	f.Add("", []byte(`{"Code":["a"],"__type":null}`), false)
	f.Add("a#b:c", []byte(`<html>`), true)
	f.Add("", []byte{}, false)
	f.Add("", []byte(`{"message":"\ud800"} trailing`), false)
	f.Fuzz(func(t *testing.T, header string, body []byte, rest bool) {
		h := http.Header{}
		h.Set("X-Amzn-ErrorType", header)
		err := decodeError(h, body, rest)
		var ae *smithy.GenericAPIError
		var de *smithy.DeserializationError
		switch {
		case errors.As(err, &ae):
			// An empty code ("#" in the header) is the SDK's too.
			if strings.Contains(ae.Code, ":") || ae.Message == "" {
				t.Fatalf("code %q, message %q", ae.Code, ae.Message)
			}
		case errors.As(err, &de):
		default:
			t.Fatalf("%T %v", err, err)
		}
	})
}
