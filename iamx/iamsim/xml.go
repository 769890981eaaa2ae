package iamsim

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

const (
	iamNamespace = "https://iam.amazonaws.com/doc/2010-05-08/"
	stsNamespace = "https://sts.amazonaws.com/doc/2011-06-15/"
)

// apiError is an error as IAM reports it.
type apiError struct {
	code string
	msg  string
}

func (e *apiError) Error() string { return e.code + ": " + e.msg }

func errf(code, format string, args ...any) *apiError {
	return &apiError{code: code, msg: fmt.Sprintf(format, args...)}
}

// errorStatus holds the HTTP status AWS sends with each error code.
var errorStatus = map[string]int{
	"AccessDenied":                  403,
	"AccessDeniedException":         403,
	"ConcurrentModification":        409,
	"DeleteConflict":                409,
	"EntityAlreadyExists":           409,
	"EntityTemporarilyUnmodifiable": 409,
	"ExpiredToken":                  403,
	"IncompleteSignature":           400,
	"InternalFailure":               500,
	"InvalidAction":                 400,
	"InvalidClientTokenId":          403,
	"InvalidInput":                  400,
	"InvalidParameterValue":         400,
	"LimitExceeded":                 409,
	"MalformedQueryString":          404,
	"MissingAction":                 400,
	"MissingAuthenticationToken":    403,
	"NoSuchEntity":                  404,
	"OptInRequired":                 403,
	"ReportExpired":                 410,
	"ReportInProgress":              404,
	"ReportNotPresent":              410,
	"RequestExpired":                400,
	"ServiceFailure":                500,
	"ServiceUnavailable":            503,
	"SignatureDoesNotMatch":         403,
	"Throttling":                    400,
	"ThrottlingException":           400,
	"UnrecognizedClientException":   403,
	"ValidationError":               400,
}

// defaultMessage is the message an injected fault carries.
var defaultMessage = map[string]string{
	"AccessDenied":               "User is not authorized to perform this operation.",
	"AccessDeniedException":      "User is not authorized to perform this operation.",
	"ThrottlingException":        "Rate exceeded",
	"ConcurrentModification":     "The request was rejected because multiple requests to change this object were submitted simultaneously.",
	"ExpiredToken":               "The security token included in the request is expired",
	"InternalFailure":            "The request processing has failed because of an unknown error, exception or failure.",
	"InvalidClientTokenId":       "The security token included in the request is invalid.",
	"LimitExceeded":              "Cannot exceed quota for AccessKeysPerUser: 2",
	"MissingAuthenticationToken": "Request is missing Authentication Token",
	"NoSuchEntity":               "The specified entity cannot be found.",
	"ReportExpired":              "The credential report has expired. Use GenerateCredentialReport to generate a new one.",
	"ReportInProgress":           "Report generation in progress.",
	"ReportNotPresent":           "No credential report is present. Use GenerateCredentialReport to generate a report.",
	"ServiceFailure":             "The request processing has failed because of an unknown error, exception or failure.",
	"ServiceUnavailable":         "Service is unavailable.",
	"SignatureDoesNotMatch":      "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
	"Throttling":                 "Rate exceeded",
	"ValidationError":            "1 validation error detected.",
}

// StatusFor returns the HTTP status AWS sends with an error code: 400 for
// codes it does not know.
func StatusFor(code string) int {
	if st, ok := errorStatus[code]; ok {
		return st
	}
	return http.StatusBadRequest
}

// xw builds an XML document; values are escaped, names are trusted.
type xw struct{ b strings.Builder }

func (x *xw) open(name string)  { x.b.WriteString("<" + name + ">") }
func (x *xw) close(name string) { x.b.WriteString("</" + name + ">") }

func (x *xw) leaf(name, value string) {
	x.open(name)
	xml.EscapeText(&x.b, []byte(value))
	x.close(name)
}

func (x *xw) time(name string, t time.Time) { x.leaf(name, isoTime(t)) }

func (x *xw) bool(name string, v bool) { x.leaf(name, strconv.FormatBool(v)) }

func isoTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

func namespaceFor(action string) string {
	if a, ok := actions[action]; ok && a.sts {
		return stsNamespace
	}
	return iamNamespace
}

func writeResult(w http.ResponseWriter, action, reqID string, result *xw) {
	var x xw
	x.b.WriteString(`<` + action + `Response xmlns="` + namespaceFor(action) + `">`)
	if result != nil {
		x.open(action + "Result")
		x.b.WriteString(result.b.String())
		x.close(action + "Result")
	}
	x.open("ResponseMetadata")
	x.leaf("RequestId", reqID)
	x.close("ResponseMetadata")
	x.close(action + "Response")
	writeXML(w, http.StatusOK, reqID, x.b.String())
}

func writeError(w http.ResponseWriter, action, reqID string, e *apiError) int {
	st := StatusFor(e.code)
	typ := "Sender"
	if st >= 500 {
		typ = "Receiver"
	}
	var x xw
	x.b.WriteString(`<ErrorResponse xmlns="` + namespaceFor(action) + `">`)
	x.open("Error")
	x.leaf("Type", typ)
	x.leaf("Code", e.code)
	x.leaf("Message", e.msg)
	x.close("Error")
	x.leaf("RequestId", reqID)
	x.close("ErrorResponse")
	writeXML(w, st, reqID, x.b.String())
	return st
}

func writeXML(w http.ResponseWriter, status int, reqID, body string) {
	h := w.Header()
	h.Set("Content-Type", "text/xml")
	h.Set("x-amzn-RequestId", reqID)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}
