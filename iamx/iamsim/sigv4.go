package iamsim

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// This file verifies AWS Signature Version 4 as the public specification
// describes it ("Create a signed AWS API request" in the IAM User Guide),
// written without the SDK's signer so that tests against the SDK prove the
// two agree.

const sigAlgorithm = "AWS4-HMAC-SHA256"

// credential is the parsed Authorization header.
type credential struct {
	keyID, date, region, service, terminator string
	signedHeaders                            []string
	signature                                string
}

// principal is who signed a request.
type principal struct {
	user    *user
	key     *key     // the long-term key, nil for session credentials
	session *session // nil for long-term keys
	keyID   string
	region  string
	service string
}

// signerKeyID extracts the access key ID from an Authorization header
// without validating anything, for the call log.
func signerKeyID(h string) string {
	_, rest, ok := strings.Cut(h, "Credential=")
	if !ok {
		return ""
	}
	id, _, _ := strings.Cut(rest, "/")
	return strings.TrimSpace(id)
}

func parseAuthorization(h string) (*credential, *apiError) {
	alg, rest, _ := strings.Cut(strings.TrimSpace(h), " ")
	if alg != sigAlgorithm {
		return nil, errf("IncompleteSignature", "Unsupported AWS 'algorithm': '%s'", alg)
	}
	fields := map[string]string{}
	for part := range strings.SplitSeq(rest, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return nil, errf("IncompleteSignature", "'%s' not a valid key=value pair (missing equal-sign) in Authorization header: '%s'.", strings.TrimSpace(part), h)
		}
		fields[k] = v
	}
	var missing []string
	for _, k := range []string{"Credential", "Signature", "SignedHeaders"} {
		if fields[k] == "" {
			missing = append(missing, "Authorization header requires '"+k+"' parameter.")
		}
	}
	if len(missing) > 0 {
		return nil, errf("IncompleteSignature", "%s Authorization=%s", strings.Join(missing, " "), h)
	}
	scope := strings.Split(fields["Credential"], "/")
	if len(scope) != 5 {
		return nil, errf("IncompleteSignature", "Credential should be scoped to a valid region. ")
	}
	return &credential{
		keyID:         scope[0],
		date:          scope[1],
		region:        scope[2],
		service:       scope[3],
		terminator:    scope[4],
		signedHeaders: strings.Split(fields["SignedHeaders"], ";"),
		signature:     fields["Signature"],
	}, nil
}

// authenticateLocked identifies and verifies the signer of r, whose
// credential scope must name one of services.
func (s *Server) authenticateLocked(r *http.Request, body []byte, services ...string) (*principal, *apiError) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return nil, errf("MissingAuthenticationToken", "Request is missing Authentication Token")
	}
	c, e := parseAuthorization(h)
	if e != nil {
		return nil, e
	}
	amzDate := r.Header.Get("X-Amz-Date")
	if amzDate == "" {
		return nil, errf("IncompleteSignature", "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=%s", h)
	}
	switch {
	case c.region == "":
		return nil, errf("SignatureDoesNotMatch", "Credential should be scoped to a valid region. ")
	case !slices.Contains(services, c.service):
		return nil, errf("SignatureDoesNotMatch", "Credential should be scoped to correct service: '%s'. ", services[0])
	case c.terminator != "aws4_request":
		return nil, errf("SignatureDoesNotMatch", "Credential should be scoped with a valid terminator: 'aws4_request', not '%s'. ", c.terminator)
	case len(amzDate) != 16 || c.date != amzDate[:8]:
		return nil, errf("SignatureDoesNotMatch", "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '%s' != '%.8s', from 'x-amz-date'.", c.date, amzDate)
	case !slices.Contains(c.signedHeaders, "host"):
		return nil, errf("SignatureDoesNotMatch", "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.")
	}

	invalid := errf("InvalidClientTokenId", "The security token included in the request is invalid.")
	token := r.Header.Get("X-Amz-Security-Token")
	p := &principal{keyID: c.keyID, region: c.region, service: c.service}
	var secret string
	now := s.clock()
	if ss := s.sessions[c.keyID]; ss != nil {
		owner := s.lookupLocked(ss.owner.name)
		if ss.owner.role {
			owner = s.roles[strings.ToLower(ss.owner.name)]
		}
		if token != ss.token || owner != ss.owner {
			return nil, invalid
		}
		if !now.Before(ss.expires) {
			return nil, errf("ExpiredToken", "The security token included in the request is expired")
		}
		p.user, p.session, secret = ss.owner, ss, ss.secret
	} else if k := s.keys[c.keyID]; k != nil {
		if token != "" || k.status != StatusActive {
			return nil, invalid
		}
		if k.apiCreated && s.now().Before(k.born.Add(s.propagation)) {
			return nil, invalid
		}
		p.user, p.key, secret = k.owner, k, k.secret
	} else {
		return nil, invalid
	}

	want := signature(secret, c, amzDate, canonicalRequest(r, body, c.signedHeaders))
	if !hmac.Equal([]byte(want), []byte(strings.ToLower(c.signature))) {
		return nil, errf("SignatureDoesNotMatch", "%s", defaultMessage["SignatureDoesNotMatch"])
	}
	if k := p.key; k != nil && k.apiCreated && s.flaky {
		switch k.flakyState {
		case 0:
			k.flakyState = 1
		case 1:
			k.flakyState = 2
			return nil, invalid
		}
	}
	return p, nil
}

func signature(secret string, c *credential, amzDate, canonical string) string {
	scope := c.date + "/" + c.region + "/" + c.service + "/" + c.terminator
	sum := sha256.Sum256([]byte(canonical))
	toSign := sigAlgorithm + "\n" + amzDate + "\n" + scope + "\n" + hex.EncodeToString(sum[:])
	k := hmacSHA256([]byte("AWS4"+secret), c.date)
	k = hmacSHA256(k, c.region)
	k = hmacSHA256(k, c.service)
	k = hmacSHA256(k, c.terminator)
	return hex.EncodeToString(hmacSHA256(k, toSign))
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

func canonicalRequest(r *http.Request, body []byte, signed []string) string {
	var b strings.Builder
	b.WriteString(r.Method + "\n")
	path := r.URL.EscapedPath()
	if path == "" {
		path = "/"
	}
	// Services other than S3 encode the already-encoded path once more.
	b.WriteString(uriEncode(path, false) + "\n")
	b.WriteString(canonicalQuery(r.URL.RawQuery) + "\n")
	for _, name := range signed {
		var values []string
		switch name {
		case "host":
			values = []string{r.Host}
		case "content-length":
			values = r.Header.Values("Content-Length")
			if len(values) == 0 {
				values = []string{strconv.FormatInt(r.ContentLength, 10)}
			}
		default:
			values = r.Header.Values(name)
		}
		for i, v := range values {
			values[i] = strings.Join(strings.Fields(v), " ")
		}
		b.WriteString(name + ":" + strings.Join(values, ",") + "\n")
	}
	b.WriteString("\n" + strings.Join(signed, ";") + "\n")
	// A claimed payload hash that differs from the body's real one simply
	// fails the signature check.
	sum := sha256.Sum256(body)
	payload := hex.EncodeToString(sum[:])
	if r.Header.Get("X-Amz-Content-Sha256") == "UNSIGNED-PAYLOAD" {
		payload = "UNSIGNED-PAYLOAD"
	}
	b.WriteString(payload)
	return b.String()
}

// canonicalQuery sorts the query's parameters by name then value and
// encodes them as the specification requires (space as %20, not +).
func canonicalQuery(raw string) string {
	if raw == "" {
		return ""
	}
	q, err := url.ParseQuery(raw)
	if err != nil {
		return raw
	}
	type pair struct{ k, v string }
	var pairs []pair
	for k, vs := range q {
		for _, v := range vs {
			pairs = append(pairs, pair{uriEncode(k, true), uriEncode(v, true)})
		}
	}
	slices.SortFunc(pairs, func(a, b pair) int {
		if c := strings.Compare(a.k, b.k); c != 0 {
			return c
		}
		return strings.Compare(a.v, b.v)
	})
	out := make([]string, len(pairs))
	for i, p := range pairs {
		out[i] = p.k + "=" + p.v
	}
	return strings.Join(out, "&")
}

// uriEncode percent-encodes every byte except the unreserved characters
// A–Z a–z 0–9 - _ . ~ (and '/' unless encodeSlash), in upper-case hex.
func uriEncode(s string, encodeSlash bool) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9',
			c == '-', c == '_', c == '.', c == '~', c == '/' && !encodeSlash:
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&15])
		}
	}
	return b.String()
}
