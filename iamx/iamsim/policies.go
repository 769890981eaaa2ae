package iamsim

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/url"
	"path"
	"slices"
	"strings"
	"time"
)

// This file holds IAM's inline user policies (PutUserPolicy, GetUserPolicy,
// ListUserPolicies, DeleteUserPolicy) and the part of policy evaluation the
// simulator honours: an explicit Deny in a user's inline policy. Allow
// statements change nothing, since every call is allowed unless denied.
// Conditions support the Date operators on aws:TokenIssueTime and
// aws:CurrentTime, and Bool on aws:MultiFactorAuthPresent, with IfExists;
// a statement with any other condition never applies.

// maxUserPolicyChars is IAM's quota on the aggregate size of a user's
// inline policies, whitespace not counted.
const maxUserPolicyChars = 2048

func checkPolicyName(field, v string) *apiError {
	if e := checkLength(field, v, 1, 128); e != nil {
		return e
	}
	for _, c := range v {
		if !isWord(c) && !strings.ContainsRune("+=,.@-", c) {
			return validationError(field, v, `Member must satisfy regular expression pattern: [\w+=,.@-]+`)
		}
	}
	return nil
}

func checkPolicyDocument(field, v string) *apiError {
	return checkLength(field, v, 1, 131072)
}

func noSuchPolicy(name string) *apiError {
	return errf("NoSuchEntity", "The user policy with name %s cannot be found.", name)
}

// statement is one policy statement; Action and Resource may be a string
// or a list of strings.
type statement struct {
	Effect    string
	Action    strList
	NotAction strList
	Resource  strList
	Condition map[string]map[string]strList
}

type strList []string

func (l *strList) UnmarshalJSON(b []byte) error {
	var scalar any
	if err := json.Unmarshal(b, &scalar); err == nil {
		switch v := scalar.(type) {
		case bool, float64:
			// IAM takes "Bool": {"aws:SecureTransport": false} too.
			*l = strList{fmt.Sprint(v)}
			return nil
		}
	}
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*l = strList{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return err
	}
	*l = many
	return nil
}

type policyDoc struct {
	Version   string
	Statement []statement
}

func (d *policyDoc) UnmarshalJSON(b []byte) error {
	var raw struct {
		Version   string
		Statement json.RawMessage
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	d.Version = raw.Version
	if len(raw.Statement) > 0 && raw.Statement[0] == '{' {
		var one statement
		if err := json.Unmarshal(raw.Statement, &one); err != nil {
			return err
		}
		d.Statement = []statement{one}
		return nil
	}
	return json.Unmarshal(raw.Statement, &d.Statement)
}

// parsePolicy checks a document as IAM does on PutUserPolicy.
func parsePolicy(doc string) (policyDoc, *apiError) {
	var d policyDoc
	if err := json.Unmarshal([]byte(doc), &d); err != nil {
		return d, errf("MalformedPolicyDocument", "Syntax errors in policy.")
	}
	if len(d.Statement) == 0 {
		return d, errf("MalformedPolicyDocument", "Policy statement must contain actions.")
	}
	for _, st := range d.Statement {
		if st.Effect != "Allow" && st.Effect != "Deny" {
			return d, errf("MalformedPolicyDocument", "Invalid effect: %s", st.Effect)
		}
		if len(st.Action) == 0 && len(st.NotAction) == 0 {
			return d, errf("MalformedPolicyDocument", "Policy statement must contain actions.")
		}
		if len(st.Resource) == 0 {
			return d, errf("MalformedPolicyDocument", "Policy statement must contain resources.")
		}
	}
	return d, nil
}

func nonSpace(s string) int {
	n := 0
	for _, c := range s {
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			n++
		}
	}
	return n
}

func (s *Server) putUserPolicy(req *request) (*xw, *apiError) {
	u, e := s.namedUserLocked(req)
	if e != nil {
		return nil, e
	}
	name, e := required(req.p, "PolicyName", "policyName", checkPolicyName)
	if e != nil {
		return nil, e
	}
	doc, e := required(req.p, "PolicyDocument", "policyDocument", checkPolicyDocument)
	if e != nil {
		return nil, e
	}
	if _, e := parsePolicy(doc); e != nil {
		return nil, e
	}
	total := nonSpace(doc)
	for n, d := range u.policies {
		if n != name {
			total += nonSpace(d)
		}
	}
	if total > maxUserPolicyChars {
		return nil, errf("LimitExceeded", "Maximum policy size of %d bytes exceeded for user %s", maxUserPolicyChars, u.name)
	}
	if u.policies == nil {
		u.policies = map[string]string{}
	}
	u.policies[name] = doc
	return nil, nil
}

// userPolicyLocked resolves the UserName and PolicyName of an existing
// inline policy.
func (s *Server) userPolicyLocked(req *request) (u *user, name, doc string, e *apiError) {
	if u, e = s.namedUserLocked(req); e != nil {
		return nil, "", "", e
	}
	if name, e = required(req.p, "PolicyName", "policyName", checkPolicyName); e != nil {
		return nil, "", "", e
	}
	doc, ok := u.policies[name]
	if !ok {
		return nil, "", "", noSuchPolicy(name)
	}
	return u, name, doc, nil
}

func (s *Server) getUserPolicy(req *request) (*xw, *apiError) {
	u, name, doc, e := s.userPolicyLocked(req)
	if e != nil {
		return nil, e
	}
	x := &xw{}
	x.leaf("UserName", u.name)
	x.leaf("PolicyName", name)
	// IAM returns the document URL-encoded (RFC 3986).
	x.leaf("PolicyDocument", strings.ReplaceAll(url.QueryEscape(doc), "+", "%20"))
	return x, nil
}

func (s *Server) listUserPolicies(req *request) (*xw, *apiError) {
	u, e := s.namedUserLocked(req)
	if e != nil {
		return nil, e
	}
	limit, e := maxItems(req.p)
	if e != nil {
		return nil, e
	}
	after, _, e := decodeMarker(req.p)
	if e != nil {
		return nil, e
	}
	names := make([]string, 0, len(u.policies))
	for n := range u.policies {
		if n > after {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	truncated := len(names) > limit
	if truncated {
		names = names[:limit]
	}
	x := &xw{}
	x.open("PolicyNames")
	for _, n := range names {
		x.leaf("member", n)
	}
	x.close("PolicyNames")
	x.bool("IsTruncated", truncated)
	if truncated {
		x.leaf("Marker", encodeMarker(names[len(names)-1]))
	}
	return x, nil
}

func (s *Server) deleteUserPolicy(req *request) (*xw, *apiError) {
	u, name, _, e := s.userPolicyLocked(req)
	if e != nil {
		return nil, e
	}
	delete(u.policies, name)
	return nil, nil
}

// deniedByPolicyLocked returns the name of an inline policy of the signer
// whose Deny applies to req, "" if none.
func (s *Server) deniedByPolicyLocked(req *request, service string) string {
	u := req.who.user
	if len(u.policies) == 0 {
		return ""
	}
	action := service + ":" + req.action
	resource := s.resourceARN(req)
	for _, n := range slices.Sorted(maps.Keys(u.policies)) {
		d, e := parsePolicy(u.policies[n])
		if e != nil {
			continue
		}
		for _, st := range d.Statement {
			if st.Effect == "Deny" && st.matches(action, resource) && s.conditionsHold(st.Condition, req.who) {
				return n
			}
		}
	}
	return ""
}

func (st statement) matches(action, resource string) bool {
	hit := func(pats strList, v string) bool {
		for _, p := range pats {
			if ok, _ := path.Match(strings.ToLower(p), strings.ToLower(v)); ok || p == "*" {
				return true
			}
		}
		return false
	}
	if len(st.NotAction) > 0 {
		if hit(st.NotAction, action) {
			return false
		}
	} else if !hit(st.Action, action) {
		return false
	}
	return hit(st.Resource, resource)
}

// conditionsHold evaluates a Condition block for the signer.
func (s *Server) conditionsHold(cond map[string]map[string]strList, who *principal) bool {
	for op, keys := range cond {
		base, ifExists := strings.CutSuffix(op, "IfExists")
		for k, want := range keys {
			got, present := s.contextKey(strings.ToLower(k), who)
			if !present {
				if ifExists {
					continue
				}
				return false
			}
			if !anyHolds(base, got, want) {
				return false
			}
		}
	}
	return true
}

// contextKey is the value of a global condition key for the signer.
func (s *Server) contextKey(k string, who *principal) (string, bool) {
	switch k {
	case "aws:tokenissuetime":
		if who.session == nil {
			return "", false
		}
		return who.session.issued.UTC().Format(time.RFC3339), true
	case "aws:currenttime":
		return s.clock().Format(time.RFC3339), true
	case "aws:multifactorauthpresent":
		if who.session == nil {
			return "", false
		}
		if who.session.mfa {
			return "true", true
		}
		return "false", true
	}
	return "", false
}

func anyHolds(op, got string, want strList) bool {
	for _, w := range want {
		if holds(op, got, w) {
			return true
		}
	}
	return false
}

func holds(op, got, want string) bool {
	switch op {
	case "Bool":
		return strings.EqualFold(got, want)
	case "DateLessThan", "DateLessThanEquals", "DateGreaterThan", "DateGreaterThanEquals":
		g, err1 := parseDate(got)
		w, err2 := parseDate(want)
		if err1 != nil || err2 != nil {
			return false
		}
		switch op {
		case "DateLessThan":
			return g.Before(w)
		case "DateLessThanEquals":
			return !g.After(w)
		case "DateGreaterThan":
			return g.After(w)
		default:
			return !g.Before(w)
		}
	}
	return false
}

func parseDate(v string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	return time.Parse("2006-01-02", v)
}

// Policies returns user's inline policies, name → document; nil for an
// unknown user.
func (s *Server) Policies(name string) map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.lookupLocked(name)
	if u == nil {
		return nil
	}
	out := make(map[string]string, len(u.policies))
	for n, d := range u.policies {
		out[n] = d
	}
	return out
}
