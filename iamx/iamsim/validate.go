package iamsim

import (
	"fmt"
	"strconv"
)

// The checks below are IAM's own API constraints, with its messages, so that
// a client's validation can be compared with the service's.

func validationError(field, value, constraint string) *apiError {
	return errf("ValidationError",
		"1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: %s",
		value, field, constraint)
}

func nullError(field string) *apiError {
	return errf("ValidationError",
		"1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", field)
}

func checkLength(field, value string, lo, hi int) *apiError {
	if n := len([]rune(value)); n < lo {
		return validationError(field, value, fmt.Sprintf("Member must have length greater than or equal to %d", lo))
	} else if n > hi {
		return validationError(field, value, fmt.Sprintf("Member must have length less than or equal to %d", hi))
	}
	return nil
}

func isWord(c rune) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

// checkUserName applies userNameType: 1–128 characters of [\w+=,.@-].
func checkUserName(field, v string) *apiError {
	if e := checkLength(field, v, 1, 128); e != nil {
		return e
	}
	for _, c := range v {
		if !isWord(c) && c != '+' && c != '=' && c != ',' && c != '.' && c != '@' && c != '-' {
			return validationError(field, v, `Member must satisfy regular expression pattern: [\w+=,.@-]+`)
		}
	}
	return nil
}

// checkAccessKeyID applies accessKeyIdType: 16–128 characters of [\w].
func checkAccessKeyID(field, v string) *apiError {
	if e := checkLength(field, v, 16, 128); e != nil {
		return e
	}
	for _, c := range v {
		if !isWord(c) {
			return validationError(field, v, `Member must satisfy regular expression pattern: [\w]+`)
		}
	}
	return nil
}

// checkStatus applies statusType: exactly Active or Inactive.
func checkStatus(field, v string) *apiError {
	if v == StatusActive || v == StatusInactive {
		return nil
	}
	return validationError(field, v, "Member must satisfy enum value set: [Active, Inactive]")
}

// checkPath applies pathType: "/" or "/…/" of printable ASCII, 1–512.
func checkPath(field, v string) *apiError {
	if e := checkLength(field, v, 1, 512); e != nil {
		return e
	}
	ok := v == "/" || len(v) >= 3 && v[0] == '/' && v[len(v)-1] == '/'
	for _, c := range v {
		if c < 0x21 || c > 0x7e {
			ok = false
		}
	}
	if !ok {
		return validationError(field, v, `Member must satisfy regular expression pattern: (\u002F)|(\u002F[\u0021-\u007E]+\u002F)`)
	}
	return nil
}

// checkPathPrefix applies pathPrefixType: "/" then printable ASCII, 1–512.
func checkPathPrefix(field, v string) *apiError {
	if e := checkLength(field, v, 1, 512); e != nil {
		return e
	}
	ok := v[0] == '/'
	for _, c := range v {
		if c < 0x21 || c > 0x7e {
			ok = false
		}
	}
	if !ok {
		return validationError(field, v, `Member must satisfy regular expression pattern: \u002F[\u0021-\u007F]*`)
	}
	return nil
}

// checkMarker applies markerType: 1–320 characters of [\u0020-\u00FF].
func checkMarker(field, v string) *apiError {
	if e := checkLength(field, v, 1, 320); e != nil {
		return e
	}
	for _, c := range v {
		if c < 0x20 || c > 0xff {
			return validationError(field, v, `Member must satisfy regular expression pattern: [\u0020-\u00FF]+`)
		}
	}
	return nil
}

// maxItems parses MaxItems: 1–1000, default 100.
func maxItems(p params) (int, *apiError) {
	if !p.has("MaxItems") {
		return 100, nil
	}
	v := p.get("MaxItems")
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, validationError("maxItems", v, "Member must be an integer")
	}
	if n < 1 {
		return 0, validationError("maxItems", v, "Member must have value greater than or equal to 1")
	}
	if n > 1000 {
		return 0, validationError("maxItems", v, "Member must have value less than or equal to 1000")
	}
	return n, nil
}

// checkSerial applies serialNumberType: 9–256 characters of [\w+=/:,.@-].
func checkSerial(field, v string) *apiError {
	if e := checkLength(field, v, 9, 256); e != nil {
		return e
	}
	for _, c := range v {
		if !isWord(c) && c != '+' && c != '=' && c != '/' && c != ':' && c != ',' && c != '.' && c != '@' && c != '-' {
			return validationError(field, v, `Member must satisfy regular expression pattern: [\w+=/:,.@-]*`)
		}
	}
	return nil
}

// checkTokenCode applies tokenCodeType: six digits.
func checkTokenCode(field, v string) *apiError {
	if e := checkLength(field, v, 6, 6); e != nil {
		return e
	}
	for _, c := range v {
		if c < '0' || c > '9' {
			return validationError(field, v, `Member must satisfy regular expression pattern: [\d]*`)
		}
	}
	return nil
}
