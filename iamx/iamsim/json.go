package iamsim

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// This file speaks the JSON protocols: AWS JSON 1.1 (CloudTrail, Secrets Manager, SSM: a POST to
// "/" naming the operation in X-Amz-Target) and REST-JSON (the Account
// service: the operation is the path). Errors are {"__type", "message"}.

// jsonAction is one JSON-protocol operation.
type jsonAction struct {
	name    string // the operation, as Call.Action and FailNext name it
	service string // the signing service
	fn      func(*Server, *request) (any, *apiError)
	unknown bool
}

var jsonActions = map[string]jsonAction{
	"CloudTrail_20131101.LookupEvents": {name: "LookupEvents", service: "cloudtrail", fn: (*Server).lookupEvents},

	"secretsmanager.CreateSecret":             {name: "CreateSecret", service: "secretsmanager", fn: (*Server).smCreateSecret},
	"secretsmanager.PutSecretValue":           {name: "PutSecretValue", service: "secretsmanager", fn: (*Server).smPutSecretValue},
	"secretsmanager.GetSecretValue":           {name: "GetSecretValue", service: "secretsmanager", fn: (*Server).smGetSecretValue},
	"secretsmanager.DescribeSecret":           {name: "DescribeSecret", service: "secretsmanager", fn: (*Server).smDescribeSecret},
	"secretsmanager.ListSecretVersionIds":     {name: "ListSecretVersionIds", service: "secretsmanager", fn: (*Server).smListSecretVersionIds},
	"secretsmanager.UpdateSecretVersionStage": {name: "UpdateSecretVersionStage", service: "secretsmanager", fn: (*Server).smUpdateSecretVersionStage},
	"secretsmanager.DeleteSecret":             {name: "DeleteSecret", service: "secretsmanager", fn: (*Server).smDeleteSecret},

	"AmazonSSM.PutParameter":        {name: "PutParameter", service: "ssm", fn: (*Server).ssmPutParameter},
	"AmazonSSM.GetParameter":        {name: "GetParameter", service: "ssm", fn: (*Server).ssmGetParameter},
	"AmazonSSM.GetParameterHistory": {name: "GetParameterHistory", service: "ssm", fn: (*Server).ssmGetParameterHistory},
	"AmazonSSM.DeleteParameter":     {name: "DeleteParameter", service: "ssm", fn: (*Server).ssmDeleteParameter},

	"AWSOrganizationsV20161128.DescribeOrganization":  {name: "DescribeOrganization", service: "organizations", fn: (*Server).orgDescribe},
	"AWSOrganizationsV20161128.ListAccounts":          {name: "ListAccounts", service: "organizations", fn: (*Server).orgListAccounts},
	"AWSOrganizationsV20161128.ListRoots":             {name: "ListRoots", service: "organizations", fn: (*Server).orgListRoots},
	"AWSOrganizationsV20161128.ListChildren":          {name: "ListChildren", service: "organizations", fn: (*Server).orgListChildren},
	"AWSOrganizationsV20161128.ListAccountsForParent": {name: "ListAccountsForParent", service: "organizations", fn: (*Server).orgListAccountsForParent},
}

var restActions = map[string]jsonAction{
	"POST /listRegions": {name: "ListRegions", service: "account", fn: (*Server).listRegions},
}

// jsonAuthError renames a Query-protocol authentication error the way the
// JSON services spell it.
func jsonAuthError(e *apiError) *apiError {
	switch e.code {
	case "InvalidClientTokenId":
		e.code = "UnrecognizedClientException"
	case "SignatureDoesNotMatch", "IncompleteSignature":
		e.code = "InvalidSignatureException"
	case "MissingAuthenticationToken", "ExpiredToken":
		e.code += "Exception"
	}
	return e
}

// jsonStatus is the HTTP status of a JSON-protocol error: 400 unless the
// code says otherwise.
func jsonStatus(code string) int {
	switch code {
	case "InternalFailure", "InternalServerException", "ServiceFailure":
		return http.StatusInternalServerError
	case "ServiceUnavailable", "ServiceUnavailableException":
		return http.StatusServiceUnavailable
	case "AccessDeniedException", "UnrecognizedClientException":
		return http.StatusForbidden
	}
	return http.StatusBadRequest
}

func writeJSONError(w http.ResponseWriter, reqID string, e *apiError) int {
	st := jsonStatus(e.code)
	w.Header().Set("x-amzn-ErrorType", e.code)
	writeJSON(w, st, reqID, map[string]string{"__type": e.code, "message": e.msg})
	return st
}

func writeJSON(w http.ResponseWriter, status int, reqID string, doc any) {
	body, err := json.Marshal(doc)
	if err != nil {
		status, body = http.StatusInternalServerError, []byte(`{"__type":"InternalFailure","message":"cannot encode the response"}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/x-amz-json-1.1")
	h.Set("x-amzn-RequestId", reqID)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// decodeJSON reads a request document into v.
func decodeJSON(body []byte, v any) *apiError {
	if len(body) == 0 {
		return nil
	}
	if err := json.Unmarshal(body, v); err != nil {
		return errf("SerializationException", "%s", err)
	}
	return nil
}
