package iamsim

import (
	"strconv"
	"strings"
	"time"
)

// This file serves the STS operations keyrot uses.

func (s *Server) getCallerIdentity(req *request) (*xw, *apiError) {
	u := req.who.user
	x := &xw{}
	if ss := req.who.session; ss != nil && ss.roleSession != "" {
		x.leaf("UserId", u.id+":"+ss.roleSession)
		x.leaf("Account", s.account)
		x.leaf("Arn", "arn:"+s.partition+":sts::"+s.account+":assumed-role/"+u.name+"/"+ss.roleSession)
		return x, nil
	}
	x.leaf("UserId", u.id)
	x.leaf("Account", s.account)
	x.leaf("Arn", s.arn(u))
	return x, nil
}

// assumeRole issues a role session to a user of the account: the trust
// policy of every simulated role names the account, and, for a role that
// requires MFA, a valid MFA code of the caller.
func (s *Server) assumeRole(req *request) (*xw, *apiError) {
	arn, e := required(req.p, "RoleArn", "roleArn", func(field, v string) *apiError { return checkLength(field, v, 20, 2048) })
	if e != nil {
		return nil, e
	}
	name, e := required(req.p, "RoleSessionName", "roleSessionName", func(field, v string) *apiError {
		if e := checkLength(field, v, 2, 64); e != nil {
			return e
		}
		return checkPolicyName(field, v)
	})
	if e != nil {
		return nil, e
	}
	caller := req.who.user
	denied := errf("AccessDenied", "User: %s is not authorized to perform: sts:AssumeRole on resource: %s", s.arn(caller), arn)
	d := time.Hour
	if req.p.has("DurationSeconds") {
		v := req.p.get("DurationSeconds")
		n, err := strconv.Atoi(v)
		if err != nil || n < 900 || n > 43200 {
			return nil, validationError("durationSeconds", v, "Member must have value between 900 and 43200")
		}
		d = time.Duration(n) * time.Second
	}
	if acct, roleName, ok := roleARNAccount(arn); ok && acct != s.account && s.org != nil {
		return s.assumeInto(req, arn, acct, roleName, name, d)
	}
	prefix := "arn:" + s.partition + ":iam::" + s.account + ":role/"
	role := s.roles[strings.ToLower(strings.TrimPrefix(arn, prefix))]
	if !strings.HasPrefix(arn, prefix) || role == nil || caller.role {
		return nil, denied
	}
	mfa, e := mfaCode(req, caller)
	if e != nil {
		return nil, e
	}
	if role.roleMFA && !mfa {
		return nil, denied
	}
	ss := s.newSessionLocked(role, d, mfa)
	ss.parent, ss.roleSession, req.issued = req.who.keyID, name, ss.id
	return s.assumeRoleResult(ss, role, name), nil
}

// assumeRoleResult is AssumeRole's answer: the session's credentials and
// the assumed-role user of role in s's account.
func (s *Server) assumeRoleResult(ss *session, role *user, sessionName string) *xw {
	x := &xw{}
	writeCredentials(x, ss)
	x.open("AssumedRoleUser")
	x.leaf("AssumedRoleId", role.id+":"+sessionName)
	x.leaf("Arn", "arn:"+s.partition+":sts::"+s.account+":assumed-role/"+role.name+"/"+sessionName)
	x.close("AssumedRoleUser")
	return x
}

func (s *Server) getSessionToken(req *request) (*xw, *apiError) {
	u := req.who.user
	if req.who.session != nil {
		return nil, errf("AccessDenied", "Cannot call GetSessionToken with session credentials")
	}
	d := 12 * time.Hour
	if req.p.has("DurationSeconds") {
		v := req.p.get("DurationSeconds")
		n, err := strconv.Atoi(v)
		switch {
		case err != nil:
			return nil, validationError("durationSeconds", v, "Member must be an integer")
		case n < 900:
			return nil, validationError("durationSeconds", v, "Member must have value greater than or equal to 900")
		case n > 129600:
			return nil, validationError("durationSeconds", v, "Member must have value less than or equal to 129600")
		}
		d = time.Duration(n) * time.Second
	}
	if u.root && d > time.Hour {
		d = time.Hour // AWS caps root sessions at one hour
	}
	mfa, e := mfaCode(req, u)
	if e != nil {
		return nil, e
	}
	ss := s.newSessionLocked(u, d, mfa)
	ss.parent, req.issued = req.who.keyID, ss.id
	x := &xw{}
	writeCredentials(x, ss)
	return x, nil
}

// mfaCode checks the optional SerialNumber and TokenCode of
// GetSessionToken and AssumeRole against u's MFA device: true when they
// name it and its code, false when both are absent.
func mfaCode(req *request, u *user) (bool, *apiError) {
	if !req.p.has("SerialNumber") && !req.p.has("TokenCode") {
		return false, nil
	}
	serial, e := required(req.p, "SerialNumber", "serialNumber", checkSerial)
	if e != nil {
		return false, e
	}
	code, e := required(req.p, "TokenCode", "tokenCode", checkTokenCode)
	if e != nil {
		return false, e
	}
	if u.mfaSerial == "" || serial != u.mfaSerial {
		return false, errf("AccessDenied", "MultiFactorAuthentication failed, unable to validate MFA code. Please verify your MFA serial number is valid and associated with this user.")
	}
	if code != u.mfaCode {
		return false, errf("AccessDenied", "MultiFactorAuthentication failed with invalid MFA one time pass code. ")
	}
	return true, nil
}

// writeCredentials is a session's Credentials element.
func writeCredentials(x *xw, ss *session) {
	x.open("Credentials")
	x.leaf("AccessKeyId", ss.id)
	x.leaf("SecretAccessKey", ss.secret)
	x.leaf("SessionToken", ss.token)
	x.time("Expiration", ss.expires)
	x.close("Credentials")
}

// getAccessKeyInfo names the account an access key belongs to. Like AWS it
// answers for any well-formed key ID, not only this account's: the account
// is encoded in the ID (see accountOfKeyID).
func (s *Server) getAccessKeyInfo(req *request) (*xw, *apiError) {
	id, e := required(req.p, "AccessKeyId", "accessKeyId", checkAccessKeyID)
	if e != nil {
		return nil, e
	}
	account := ""
	if _, ok := s.keys[id]; ok {
		account = s.account
	} else if _, ok := s.sessions[id]; ok {
		account = s.account
	} else if a, ok := accountOfKeyID(id); ok {
		account = a
	} else {
		return nil, errf("InvalidParameterValue", "The access key ID %s is not valid.", id)
	}
	x := &xw{}
	x.leaf("Account", account)
	return x, nil
}
