package iamsim_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/keyrot/keyrot/iamx/iamsim"
)

type errorResponse struct {
	XMLName xml.Name `xml:"ErrorResponse"`
	Error   struct {
		Type    string
		Code    string
		Message string
	}
	RequestID string `xml:"RequestId"`
}

// TestMalformedRequests sends hand-built requests the SDK would never send.
func TestMalformedRequests(t *testing.T) {
	t.Parallel()
	srv := iamsim.NewServer(iamsim.User("alice", iamsim.KeySeed{}))
	t.Cleanup(srv.Close)
	tests := []struct {
		name        string
		method      string
		ctype, body string
		auth        string
		code        string
		status      int
	}{
		{"no auth", "POST", "application/x-www-form-urlencoded", "Action=ListUsers&Version=2010-05-08", "",
			"MissingAuthenticationToken", 403},
		{"bad form", "POST", "application/x-www-form-urlencoded", "Action=ListUsers&Version=%zz", "",
			"MalformedQueryString", 404},
		{"json body", "POST", "application/json", `{"Action":"ListUsers"}`, "",
			"InvalidAction", 400},
		{"other algorithm", "POST", "application/x-www-form-urlencoded", "Action=ListUsers&Version=2010-05-08",
			"AWS4-HMAC-SHA512 Credential=x", "IncompleteSignature", 400},
		{"no signature", "POST", "application/x-www-form-urlencoded", "Action=ListUsers&Version=2010-05-08",
			"AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20250101/us-east-1/iam/aws4_request, SignedHeaders=host",
			"IncompleteSignature", 400},
		{"no date", "POST", "application/x-www-form-urlencoded", "Action=ListUsers&Version=2010-05-08",
			"AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20250101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=00",
			"IncompleteSignature", 400},
		{"PUT", "PUT", "application/x-www-form-urlencoded", "Action=ListUsers&Version=2010-05-08", "",
			"InvalidAction", 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, srv.URL(), strings.NewReader(tt.body))
			req.Header.Set("Content-Type", tt.ctype)
			if tt.auth != "" {
				req.Header.Set("Authorization", tt.auth)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			var er errorResponse
			if err := xml.Unmarshal(body, &er); err != nil {
				t.Fatalf("body %s: %v", body, err)
			}
			if resp.StatusCode != tt.status || er.Error.Code != tt.code || er.Error.Type != "Sender" || er.RequestID == "" {
				t.Errorf("got %d %+v, want %d %s", resp.StatusCode, er, tt.status, tt.code)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "text/xml" {
				t.Errorf("Content-Type = %s", ct)
			}
			if resp.Header.Get("x-amzn-RequestId") != er.RequestID {
				t.Errorf("header request ID %q != body %q", resp.Header.Get("x-amzn-RequestId"), er.RequestID)
			}
		})
	}
}

// TestUnknownAction signs a request for an action the simulator lacks, with
// the Handler mounted on a server of the test's own.
func TestUnknownAction(t *testing.T) {
	t.Parallel()
	srv := iamsim.NewServer(iamsim.User("alice", iamsim.KeySeed{}))
	t.Cleanup(srv.Close)
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	resp, err := http.Post(hs.URL, "application/x-www-form-urlencoded", strings.NewReader("Action=ListRoles&Version=2010-05-08"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	// Authentication comes before the action lookup, as on AWS.
	if resp.StatusCode != 403 {
		t.Errorf("status = %d", resp.StatusCode)
	}
	if c := srv.Calls(); len(c) != 1 || c[0].Action != "ListRoles" || c[0].ErrorCode != "MissingAuthenticationToken" {
		t.Errorf("calls = %+v", c)
	}
}

// TestSignedByHand signs requests with the SDK's v4 signer directly: a GET
// with the parameters in the query string, and an action the simulator does
// not implement.
func TestSignedByHand(t *testing.T) {
	t.Parallel()
	srv := iamsim.NewServer(iamsim.User("alice", iamsim.KeySeed{}))
	t.Cleanup(srv.Close)
	k := srv.Keys("alice")[0]
	creds := aws.Credentials{AccessKeyID: k.ID, SecretAccessKey: k.Secret}
	send := func(method, query, body string) (*http.Response, []byte) {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL()+"/?"+query, strings.NewReader(body))
		if body != "" {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		sum := sha256.Sum256([]byte(body))
		if err := v4.NewSigner().SignHTTP(ctx(t), creds, req, hex.EncodeToString(sum[:]), "iam", "us-east-1", time.Now()); err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, b
	}
	resp, body := send("GET", "Action=ListUsers&Version=2010-05-08&PathPrefix=%2F&MaxItems=10", "")
	if resp.StatusCode != 200 || !strings.Contains(string(body), "<UserName>alice</UserName>") ||
		!strings.HasPrefix(string(body), `<ListUsersResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">`) {
		t.Errorf("GET ListUsers = %d %s", resp.StatusCode, body)
	}
	resp, body = send("POST", "", "Action=ListRoles&Version=2010-05-08")
	var er errorResponse
	_ = xml.Unmarshal(body, &er)
	if resp.StatusCode != 400 || er.Error.Code != "InvalidAction" {
		t.Errorf("ListRoles = %d %s", resp.StatusCode, body)
	}
	resp, body = send("POST", "", "Action=GetCallerIdentity&Version=2011-06-15")
	if resp.StatusCode != 200 || !strings.Contains(string(body), `xmlns="https://sts.amazonaws.com/doc/2011-06-15/"`) {
		t.Errorf("GetCallerIdentity = %d %s", resp.StatusCode, body)
	}
}
