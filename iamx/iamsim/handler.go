package iamsim

import (
	"context"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// maxBody bounds a request body; IAM requests are small.
const maxBody = 1 << 20

// params are a request's Query-protocol parameters.
type params url.Values

func (p params) get(k string) string {
	if v := p[k]; len(v) > 0 {
		return v[0]
	}
	return ""
}

func (p params) has(k string) bool { _, ok := p[k]; return ok }

// request is one call being served.
type request struct {
	http   *http.Request
	action string
	p      params
	body   []byte // the JSON protocols' request document
	who    *principal
	// issued is the temporary access key ID the call returned, for its
	// CloudTrail event.
	issued string
}

// route finds a JSON-protocol operation (CloudTrail's AWS JSON 1.1 by its
// X-Amz-Target, the Account service's REST-JSON by its path); nil means the
// Query protocol of IAM and STS.
func route(r *http.Request) *jsonAction {
	if t := r.Header.Get("X-Amz-Target"); t != "" {
		if a, ok := jsonActions[t]; ok {
			return &a
		}
		return &jsonAction{name: t[strings.LastIndex(t, ".")+1:], unknown: true}
	}
	if a, ok := restActions[r.Method+" "+r.URL.Path]; ok {
		return &a
	}
	return nil
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if strings.HasPrefix(r.URL.Path, GitHubAPIPrefix+"/") {
		s.serveGitHub(w, r, body)
		return
	}
	ja := route(r)
	var p params
	var perr *apiError
	var action string
	if ja == nil {
		p, perr = parseParams(r, body)
		action = p.get("Action")
	} else {
		p, action = params{}, ja.name
		if len(body) > maxBody {
			perr = errf("ValidationException", "Request body too large")
		}
	}

	s.mu.Lock()
	s.reqCtr++
	reqID := requestID(s.reqCtr)
	idx := s.callBase + len(s.calls)
	s.calls = append(s.calls, Call{
		Action: action,
		Signer: signerKeyID(r.Header.Get("Authorization")),
		User:   p.get("UserName"),
		KeyID:  p.get("AccessKeyId"),
		Time:   s.clock(),
	})
	latency := s.latency
	writeErr := func(e *apiError) int {
		if ja != nil {
			return writeJSONError(w, reqID, e)
		}
		return writeError(w, action, reqID, e)
	}
	h := s.holds[action]
	if h == nil {
		h = s.holds[""]
	}
	if h != nil && h.next && s.holds[h.action] == h {
		delete(s.holds, h.action)
		s.taken[h.action] = h
	}
	s.mu.Unlock()

	if !s.wait(r.Context(), latency, h) {
		// Returning normally would send an empty 200.
		s.finish(idx, 0, "", true)
		drop(w)
	}

	s.mu.Lock()
	f := s.takeFaultLocked(action)
	s.mu.Unlock()
	if f != nil && f.drop && !f.afterward {
		s.finish(idx, 0, "", true)
		drop(w)
	}
	if f != nil && f.rawStatus != 0 {
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("x-amzn-RequestId", reqID)
		w.WriteHeader(f.rawStatus)
		_, _ = io.WriteString(w, f.rawBody)
		s.finish(idx, f.rawStatus, "", false)
		return
	}
	if f != nil && f.code != "" {
		e := &apiError{code: f.code, msg: f.message}
		if e.msg == "" {
			e.msg = defaultMessage[f.code]
		}
		s.finish(idx, writeErr(e), e.code, false)
		return
	}

	var result *xw
	var doc any
	var e *apiError
	switch {
	case perr != nil:
		e = perr
	case ja != nil:
		doc, e = s.dispatchJSON(r, body, ja)
	case r.Method != http.MethodPost && r.Method != http.MethodGet:
		e = errf("InvalidAction", "Could not find operation %s for version %s", action, p.get("Version"))
	default:
		result, e = s.dispatch(r, body, action, p)
	}
	if f != nil && f.drop {
		s.finish(idx, 0, "", true)
		drop(w)
	}
	if e != nil {
		s.finish(idx, writeErr(e), e.code, false)
		return
	}
	if ja != nil {
		writeJSON(w, http.StatusOK, reqID, doc)
	} else {
		writeResult(w, action, reqID, result)
	}
	s.finish(idx, http.StatusOK, "", false)
}

// parseParams merges the query string and a form-encoded body.
func parseParams(r *http.Request, body []byte) (params, *apiError) {
	if len(body) > maxBody {
		return params{}, errf("ValidationError", "Request body too large")
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return params{}, errf("MalformedQueryString", "%s", err)
	}
	if len(body) > 0 {
		ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if ct != "application/x-www-form-urlencoded" {
			return params(q), errf("InvalidAction", "Unsupported content type %q: the Query protocol takes application/x-www-form-urlencoded", ct)
		}
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return params(q), errf("MalformedQueryString", "The request body is not valid form encoding: %s", err)
		}
		for k, v := range form {
			q[k] = append(q[k], v...)
		}
	}
	return params(q), nil
}

// drop closes the connection without a response.
func drop(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			conn.Close()
			panic(http.ErrAbortHandler)
		}
	}
	panic(http.ErrAbortHandler)
}

// wait sleeps the latency and blocks on a hold; false when the client or
// the server went away first.
func (s *Server) wait(ctx context.Context, latency time.Duration, h *hold) bool {
	if latency > 0 {
		t := time.NewTimer(latency)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return false
		case <-s.done:
			return false
		}
	}
	if h != nil {
		h.heldOnce.Do(func() { close(h.held) })
		select {
		case <-h.released:
		case <-ctx.Done():
			return false
		}
	}
	return true
}

func (s *Server) finish(idx, status int, code string, dropped bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	// ResetCalls may have dropped the record meanwhile.
	if i := idx - s.callBase; i >= 0 && i < len(s.calls) {
		c := &s.calls[i]
		c.HTTPStatus, c.ErrorCode, c.Dropped = status, code, dropped
	}
}

// dispatch authenticates the call and runs the action.
func (s *Server) dispatch(r *http.Request, body []byte, action string, p params) (*xw, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	who, e := s.authenticateLocked(r, body, "iam", "sts")
	if e != nil {
		return nil, e
	}
	s.touchLocked(who)
	if action == "" {
		return nil, errf("MissingAction", "Could not find operation  for version %s", p.get("Version"))
	}
	a, ok := actions[action]
	if !ok {
		return nil, errf("InvalidAction", "Could not find operation %s for version %s", action, p.get("Version"))
	}
	service := "iam"
	if a.sts {
		service = "sts"
	}
	req := &request{http: r, action: action, p: p, who: who}
	e = s.authorizeLocked(req, service, a.mutation)
	var result *xw
	if e == nil {
		result, e = a.fn(s, req)
	}
	s.recordLocked(req, service, e)
	return result, e
}

// dispatchJSON authenticates and runs a JSON-protocol operation.
func (s *Server) dispatchJSON(r *http.Request, body []byte, a *jsonAction) (any, *apiError) {
	if a.unknown {
		return nil, errf("UnknownOperationException", "Unknown operation %s", r.Header.Get("X-Amz-Target"))
	}
	if r.Method != http.MethodPost {
		return nil, errf("UnknownOperationException", "Unknown operation %s %s", r.Method, r.URL.Path)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	who, e := s.authenticateLocked(r, body, a.service)
	if e != nil {
		return nil, jsonAuthError(e)
	}
	s.touchLocked(who)
	req := &request{http: r, action: a.name, p: params{}, body: body, who: who}
	if e := s.authorizeLocked(req, a.service, false); e != nil {
		e.code += "Exception"
		s.recordLocked(req, a.service, e)
		return nil, e
	}
	doc, e := a.fn(s, req)
	s.recordLocked(req, a.service, e)
	return doc, e
}

// touchLocked records the use of a long-term key, as GetAccessKeyLastUsed
// reports it.
func (s *Server) touchLocked(who *principal) {
	if k := who.key; k != nil {
		k.lastUsed = s.clock()
		k.lastSvc = who.service
		k.lastRegion = who.region
	}
}

// authorizeLocked applies the user's inline policies' Deny statements,
// Deny and RequireMFA, the simulator's stand-ins for identity policies.
// GetCallerIdentity is never denied, as on AWS.
func (s *Server) authorizeLocked(req *request, service string, mutation bool) *apiError {
	u := req.who.user
	lc := strings.ToLower(u.name)
	if req.action == "GetCallerIdentity" {
		return nil
	}
	if name := s.deniedByPolicyLocked(req, service); name != "" {
		return errf("AccessDenied", "User: %s is not authorized to perform: %s:%s on resource: %s with an explicit deny in an identity-based policy",
			s.arn(u), service, req.action, s.resourceARN(req))
	}
	if s.denies[lc+"\x00"+req.action] || s.denies[lc+"\x00"] {
		return errf("AccessDenied", "User: %s is not authorized to perform: %s:%s on resource: %s because no identity-based policy allows the %s:%s action",
			s.arn(u), service, req.action, s.resourceARN(req), service, req.action)
	}
	if mutation && u.mfaSerial != "" && (req.who.session == nil || !req.who.session.mfa) {
		return errf("AccessDenied", "User: %s is not authorized to perform: %s:%s on resource: %s with an explicit deny in an identity-based policy",
			s.arn(u), service, req.action, s.resourceARN(req))
	}
	return nil
}

func (s *Server) resourceARN(req *request) string {
	if n := req.p.get("UserName"); n != "" {
		if u := s.lookupLocked(n); u != nil {
			return s.arn(u)
		}
		return "arn:" + s.partition + ":iam::" + s.account + ":user/" + n
	}
	return s.arn(req.who.user)
}
