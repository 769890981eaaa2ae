package iamsim

import (
	"strconv"
	"time"
)

// This file serves the STS operations keyrot uses.

func (s *Server) getCallerIdentity(req *request) (*xw, *apiError) {
	u := req.who.user
	x := &xw{}
	x.leaf("UserId", u.id)
	x.leaf("Account", s.account)
	x.leaf("Arn", s.arn(u))
	return x, nil
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
	mfa := false
	if req.p.has("SerialNumber") || req.p.has("TokenCode") {
		serial, e := required(req.p, "SerialNumber", "serialNumber", checkSerial)
		if e != nil {
			return nil, e
		}
		code, e := required(req.p, "TokenCode", "tokenCode", checkTokenCode)
		if e != nil {
			return nil, e
		}
		if u.mfaSerial == "" || serial != u.mfaSerial {
			return nil, errf("AccessDenied", "MultiFactorAuthentication failed, unable to validate MFA code. Please verify your MFA serial number is valid and associated with this user.")
		}
		if code != u.mfaCode {
			return nil, errf("AccessDenied", "MultiFactorAuthentication failed with invalid MFA one time pass code. ")
		}
		mfa = true
	}
	ss := s.newSessionLocked(u, d, mfa)
	ss.parent, req.issued = req.who.keyID, ss.id
	x := &xw{}
	x.open("Credentials")
	x.leaf("AccessKeyId", ss.id)
	x.leaf("SecretAccessKey", ss.secret)
	x.leaf("SessionToken", ss.token)
	x.time("Expiration", ss.expires)
	x.close("Credentials")
	return x, nil
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
