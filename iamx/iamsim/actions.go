package iamsim

import (
	"encoding/base64"
	"slices"
	"strings"
)

// action is one supported API operation.
type action struct {
	fn       func(*Server, *request) (*xw, *apiError)
	sts      bool // STS namespace rather than IAM's
	mutation bool // denied by RequireMFA without an MFA session
}

var actions = map[string]action{
	"CreateUser":               {fn: (*Server).createUser, mutation: true},
	"GetUser":                  {fn: (*Server).getUser},
	"ListUsers":                {fn: (*Server).listUsers},
	"DeleteUser":               {fn: (*Server).deleteUser, mutation: true},
	"CreateAccessKey":          {fn: (*Server).createAccessKey, mutation: true},
	"UpdateAccessKey":          {fn: (*Server).updateAccessKey, mutation: true},
	"DeleteAccessKey":          {fn: (*Server).deleteAccessKey, mutation: true},
	"ListAccessKeys":           {fn: (*Server).listAccessKeys},
	"GetAccessKeyLastUsed":     {fn: (*Server).getAccessKeyLastUsed},
	"GenerateCredentialReport": {fn: (*Server).generateCredentialReport},
	"GetCredentialReport":      {fn: (*Server).getCredentialReport},
	"PutUserPolicy":            {fn: (*Server).putUserPolicy, mutation: true},
	"GetUserPolicy":            {fn: (*Server).getUserPolicy},
	"ListUserPolicies":         {fn: (*Server).listUserPolicies},
	"DeleteUserPolicy":         {fn: (*Server).deleteUserPolicy, mutation: true},
	"GetCallerIdentity":        {fn: (*Server).getCallerIdentity, sts: true},
	"GetSessionToken":          {fn: (*Server).getSessionToken, sts: true},
	"GetAccessKeyInfo":         {fn: (*Server).getAccessKeyInfo, sts: true},
	"AssumeRole":               {fn: (*Server).assumeRole, sts: true},
}

func noSuchUser(name string) *apiError {
	return errf("NoSuchEntity", "The user with name %s cannot be found.", name)
}

func noSuchKey(id string) *apiError {
	return errf("NoSuchEntity", "The Access Key with id %s cannot be found.", id)
}

// required returns a required string parameter after check.
func required(p params, name, field string, check func(string, string) *apiError) (string, *apiError) {
	if !p.has(name) {
		return "", nullError(field)
	}
	v := p.get(name)
	return v, check(field, v)
}

// namedUserLocked resolves a required UserName parameter.
func (s *Server) namedUserLocked(req *request) (*user, *apiError) {
	name, e := required(req.p, "UserName", "userName", checkUserName)
	if e != nil {
		return nil, e
	}
	u := s.users[strings.ToLower(name)]
	if u == nil {
		return nil, noSuchUser(name)
	}
	return u, nil
}

// targetUserLocked resolves the optional UserName parameter: absent means
// the signer. IAM refuses to guess the user for session credentials on the
// access key actions (sessionNeedsName).
func (s *Server) targetUserLocked(req *request, sessionNeedsName bool) (*user, *apiError) {
	if !req.p.has("UserName") {
		if sessionNeedsName && req.who.session != nil {
			return nil, errf("ValidationError", "Must specify userName when calling with non-User credentials")
		}
		return req.who.user, nil
	}
	name := req.p.get("UserName")
	if e := checkUserName("userName", name); e != nil {
		return nil, e
	}
	u := s.users[strings.ToLower(name)]
	if u == nil {
		return nil, noSuchUser(name)
	}
	return u, nil
}

func (s *Server) writeUser(x *xw, u *user) {
	if !u.root {
		x.leaf("Path", u.path)
		x.leaf("UserName", u.name)
	}
	x.leaf("UserId", u.id)
	x.leaf("Arn", s.arn(u))
	x.time("CreateDate", u.created)
}

func (s *Server) createUser(req *request) (*xw, *apiError) {
	name, e := required(req.p, "UserName", "userName", checkUserName)
	if e != nil {
		return nil, e
	}
	path := "/"
	if req.p.has("Path") {
		path = req.p.get("Path")
		if e := checkPath("path", path); e != nil {
			return nil, e
		}
	}
	u, e := s.createUserLocked(name, path, s.clock())
	if e != nil {
		return nil, e
	}
	x := &xw{}
	x.open("User")
	s.writeUser(x, u)
	x.close("User")
	return x, nil
}

func (s *Server) getUser(req *request) (*xw, *apiError) {
	u, e := s.targetUserLocked(req, false)
	if e != nil {
		return nil, e
	}
	x := &xw{}
	x.open("User")
	s.writeUser(x, u)
	x.close("User")
	return x, nil
}

func (s *Server) deleteUser(req *request) (*xw, *apiError) {
	u, e := s.namedUserLocked(req)
	if e != nil {
		return nil, e
	}
	if len(u.keys) > 0 {
		return nil, errf("DeleteConflict", "Cannot delete entity, must delete access keys first.")
	}
	if len(u.policies) > 0 {
		return nil, errf("DeleteConflict", "Cannot delete entity, must delete policies first.")
	}
	s.deleteUserLocked(u)
	return nil, nil
}

// Markers are opaque to clients; inside they name the next item.
func encodeMarker(next string) string {
	return base64.RawURLEncoding.EncodeToString([]byte("iamsim:" + next))
}

func decodeMarker(p params) (string, bool, *apiError) {
	if !p.has("Marker") {
		return "", false, nil
	}
	m := p.get("Marker")
	if e := checkMarker("marker", m); e != nil {
		return "", false, e
	}
	b, err := base64.RawURLEncoding.DecodeString(m)
	next, ok := strings.CutPrefix(string(b), "iamsim:")
	if err != nil || !ok {
		return "", false, errf("ValidationError", "Invalid Marker.")
	}
	return next, true, nil
}

func (s *Server) listUsers(req *request) (*xw, *apiError) {
	prefix := "/"
	if req.p.has("PathPrefix") {
		prefix = req.p.get("PathPrefix")
		if e := checkPathPrefix("pathPrefix", prefix); e != nil {
			return nil, e
		}
	}
	limit, e := maxItems(req.p)
	if e != nil {
		return nil, e
	}
	start, _, e := decodeMarker(req.p)
	if e != nil {
		return nil, e
	}
	names := s.sortedNamesLocked()
	i, _ := slices.BinarySearch(names, start)
	x := &xw{}
	x.open("Users")
	n, next := 0, ""
	for ; i < len(names); i++ {
		u := s.users[names[i]]
		if !strings.HasPrefix(u.path, prefix) {
			continue
		}
		if n == limit {
			next = names[i]
			break
		}
		x.open("member")
		s.writeUser(x, u)
		x.close("member")
		n++
	}
	x.close("Users")
	x.bool("IsTruncated", next != "")
	if next != "" {
		x.leaf("Marker", encodeMarker(next))
	}
	return x, nil
}

func (s *Server) writeKeyMetadata(x *xw, k *key) {
	if !k.owner.root {
		x.leaf("UserName", k.owner.name)
	}
	x.leaf("AccessKeyId", k.id)
	x.leaf("Status", k.status)
	x.time("CreateDate", k.created)
}

func (s *Server) createAccessKey(req *request) (*xw, *apiError) {
	u, e := s.targetUserLocked(req, true)
	if e != nil {
		return nil, e
	}
	k, e := s.addKeyLocked(u, KeySeed{})
	if e != nil {
		return nil, e
	}
	k.apiCreated = true
	x := &xw{}
	x.open("AccessKey")
	if !u.root {
		x.leaf("UserName", u.name)
	}
	x.leaf("AccessKeyId", k.id)
	x.leaf("Status", k.status)
	x.leaf("SecretAccessKey", k.secret)
	x.time("CreateDate", k.created)
	x.close("AccessKey")
	return x, nil
}

// ownedKeyLocked finds key id of user u; IAM says "not found" both for an
// unknown key and for another user's key.
func (s *Server) ownedKeyLocked(u *user, id string) (*key, *apiError) {
	k := s.keys[id]
	if k == nil || k.owner != u {
		return nil, noSuchKey(id)
	}
	return k, nil
}

func (s *Server) updateAccessKey(req *request) (*xw, *apiError) {
	id, e := required(req.p, "AccessKeyId", "accessKeyId", checkAccessKeyID)
	if e != nil {
		return nil, e
	}
	status, e := required(req.p, "Status", "status", checkStatus)
	if e != nil {
		return nil, e
	}
	u, e := s.targetUserLocked(req, true)
	if e != nil {
		return nil, e
	}
	k, e := s.ownedKeyLocked(u, id)
	if e != nil {
		return nil, e
	}
	k.status = status
	return nil, nil
}

func (s *Server) deleteAccessKey(req *request) (*xw, *apiError) {
	id, e := required(req.p, "AccessKeyId", "accessKeyId", checkAccessKeyID)
	if e != nil {
		return nil, e
	}
	u, e := s.targetUserLocked(req, true)
	if e != nil {
		return nil, e
	}
	k, e := s.ownedKeyLocked(u, id)
	if e != nil {
		return nil, e
	}
	delete(s.keys, id)
	u.keys = slices.DeleteFunc(u.keys, func(o *key) bool { return o == k })
	return nil, nil
}

func (s *Server) listAccessKeys(req *request) (*xw, *apiError) {
	limit, e := maxItems(req.p)
	if e != nil {
		return nil, e
	}
	start, hasMarker, e := decodeMarker(req.p)
	if e != nil {
		return nil, e
	}
	u, e := s.targetUserLocked(req, true)
	if e != nil {
		return nil, e
	}
	i := 0
	if hasMarker {
		i = slices.IndexFunc(u.keys, func(k *key) bool { return k.id == start })
		if i < 0 {
			return nil, errf("ValidationError", "Invalid Marker.")
		}
	}
	x := &xw{}
	x.open("AccessKeyMetadata")
	n, next := 0, ""
	for ; i < len(u.keys); i++ {
		if n == limit {
			next = u.keys[i].id
			break
		}
		x.open("member")
		s.writeKeyMetadata(x, u.keys[i])
		x.close("member")
		n++
	}
	x.close("AccessKeyMetadata")
	x.bool("IsTruncated", next != "")
	if next != "" {
		x.leaf("Marker", encodeMarker(next))
	}
	if !u.root {
		x.leaf("UserName", u.name)
	}
	return x, nil
}

func (s *Server) getAccessKeyLastUsed(req *request) (*xw, *apiError) {
	id, e := required(req.p, "AccessKeyId", "accessKeyId", checkAccessKeyID)
	if e != nil {
		return nil, e
	}
	k := s.keys[id]
	if k == nil {
		return nil, noSuchKey(id)
	}
	x := &xw{}
	if k.owner.root {
		x.leaf("UserName", "root")
	} else {
		x.leaf("UserName", k.owner.name)
	}
	x.open("AccessKeyLastUsed")
	if k.lastUsed.IsZero() {
		x.leaf("ServiceName", "N/A")
		x.leaf("Region", "N/A")
	} else {
		x.time("LastUsedDate", k.lastUsed)
		x.leaf("ServiceName", k.lastSvc)
		x.leaf("Region", k.lastRegion)
	}
	x.close("AccessKeyLastUsed")
	return x, nil
}
