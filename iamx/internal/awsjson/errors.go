package awsjson

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/aws/smithy-go"
)

// decodeError reads an error response as the SDK's deserializers do: the
// code from the x-amzn-ErrorType header, else the body's __type (or Code:
// AWS JSON 1.1 prefers __type, REST-JSON Code), namespace and URI
// stripped; the message from the body's message or Message. A code the
// response does not give is "UnknownError", as in the SDK. A body that is
// not JSON is a *smithy.DeserializationError: the caller's HTTP status
// classifies it.
//
// Every code comes back as a *smithy.GenericAPIError, where the SDK has a
// type for a modeled one; both are smithy.APIError with the same code and
// message.
func decodeError(h http.Header, body []byte, rest bool) error {
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	var code, message string
	if rest {
		var info struct {
			Code    string
			Type    string `json:"__type"`
			Message string
		}
		if err := d.Decode(&info); err != nil && err != io.EOF {
			return bodyError(err)
		}
		code, message = info.Code, info.Message
		if code == "" {
			code = info.Type
		}
	} else {
		var info struct {
			Type    string `json:"__type"`
			Message string
			Code    any // some services put the code here, not always a string
		}
		if err := d.Decode(&info); err != nil && err != io.EOF {
			return bodyError(err)
		}
		code, message = info.Type, info.Message
		if s, ok := info.Code.(string); ok && code == "" {
			code = s
		}
	}
	if v := h.Get("X-Amzn-ErrorType"); v != "" {
		code = v
	}
	if code == "" {
		code = "UnknownError"
	}
	if message == "" {
		message = "UnknownError"
	}
	return &smithy.GenericAPIError{Code: sanitizeCode(code), Message: message}
}

func bodyError(err error) error {
	return &smithy.DeserializationError{Err: fmt.Errorf("failed to decode response body, %w", err)}
}

// sanitizeCode strips a URI suffix ("Code:http://...") and a namespace
// ("com.amazonaws.ssm#Code"), in that order, as the SDK does.
func sanitizeCode(code string) string {
	if i := strings.IndexByte(code, ':'); i >= 0 {
		code = code[:i]
	}
	if i := strings.IndexByte(code, '#'); i >= 0 {
		code = code[i+1:]
	}
	return code
}
