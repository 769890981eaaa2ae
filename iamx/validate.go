package iamx

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// InputError is a value that breaks one of the API's documented
// constraints. It is reported before any request is sent.
type InputError struct {
	Field string // the flag or JSON field, e.g. "--access-key-id"
	Value string
	Rule  string
}

func (e *InputError) Error() string {
	return fmt.Sprintf("invalid %s %q: %s", e.Field, e.Value, e.Rule)
}

// Is makes errors.Is(err, ErrInvalidInput) true for every InputError.
func (e *InputError) Is(target error) bool { return target == ErrInvalidInput }

// The API's constraints (IAM API reference, UpdateAccessKey).
const (
	accessKeyIDMin = 16
	accessKeyIDMax = 128
	userNameMin    = 1
	userNameMax    = 128
)

// ValidateAccessKeyID checks an access key ID against IAM's constraints:
// 16 to 128 characters matching [\w]+.
func ValidateAccessKeyID(field, id string) error {
	if n := utf8.RuneCountInString(id); n < accessKeyIDMin || n > accessKeyIDMax {
		return &InputError{field, id, fmt.Sprintf("an access key ID is %d to %d characters long, this one has %d", accessKeyIDMin, accessKeyIDMax, n)}
	}
	for _, c := range id {
		if c >= utf8.RuneSelf || !isWord(byte(c)) {
			return &InputError{field, id, fmt.Sprintf("an access key ID holds only letters, digits and _, not %s", quoteRune(c))}
		}
	}
	return nil
}

// ValidateUserName checks a user name against IAM's constraints: 1 to 128
// characters matching [\w+=,.@-]+.
func ValidateUserName(field, name string) error {
	if n := utf8.RuneCountInString(name); n < userNameMin || n > userNameMax {
		return &InputError{field, name, fmt.Sprintf("a user name is %d to %d characters long, this one has %d", userNameMin, userNameMax, n)}
	}
	for _, c := range name {
		if c >= utf8.RuneSelf || !isWord(byte(c)) && !strings.ContainsRune("+=,.@-", c) {
			return &InputError{field, name, fmt.Sprintf("a user name holds only letters, digits and _+=,.@-, not %s", quoteRune(c))}
		}
	}
	return nil
}

// ParseStatus accepts Active or Inactive in any case, as keyrot's users type
// them, and returns IAM's spelling.
func ParseStatus(field, s string) (Status, error) {
	switch {
	case strings.EqualFold(s, string(StatusActive)):
		return StatusActive, nil
	case strings.EqualFold(s, string(StatusInactive)):
		return StatusInactive, nil
	}
	return "", &InputError{field, s, "the status is Active or Inactive"}
}

// quoteRune shows a character as typed; an invalid byte of UTF-8 as its code.
func quoteRune(c rune) string {
	if c == utf8.RuneError {
		return "a byte that is not UTF-8"
	}
	return fmt.Sprintf("%q", c)
}

// isWord matches the regular expression class \w: ASCII letters, digits
// and underscore. IAM's patterns use it in its ASCII sense.
func isWord(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

// ValidateSecretID checks a Secrets Manager secret ID: an ARN
// (arn:PARTITION:secretsmanager:…:secret:NAME), or a name of 1 to 512
// characters matching [\w/+=.@!-]+ (Secrets Manager's CreateSecret rule).
func ValidateSecretID(field, id string) error {
	if strings.HasPrefix(id, "arn:") {
		parts := strings.SplitN(id, ":", 7)
		if len(parts) != 7 || parts[2] != "secretsmanager" || parts[5] != "secret" || parts[6] == "" {
			return &InputError{field, id, "a secret ARN looks like arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME"}
		}
		return nil
	}
	if n := utf8.RuneCountInString(id); n < 1 || n > 512 {
		return &InputError{field, id, fmt.Sprintf("a secret name is 1 to 512 characters long, this one has %d", n)}
	}
	for _, c := range id {
		if c >= utf8.RuneSelf || !isWord(byte(c)) && !strings.ContainsRune("/+=.@!-", c) {
			return &InputError{field, id, fmt.Sprintf("a secret name holds only letters, digits and _/+=.@!-, not %s", quoteRune(c))}
		}
	}
	return nil
}

// ValidateParameterName checks an SSM parameter name: 1 to 2048 letters,
// digits and _.-/, a name with a / fully qualified (starting with /), and
// not under the reserved aws and ssm prefixes.
func ValidateParameterName(field, name string) error {
	if n := len(name); n < 1 || n > 2048 {
		return &InputError{field, name, fmt.Sprintf("a parameter name is 1 to 2048 characters long, this one has %d", n)}
	}
	for _, c := range name {
		if c >= utf8.RuneSelf || !isWord(byte(c)) && !strings.ContainsRune(".-/", c) {
			return &InputError{field, name, fmt.Sprintf("a parameter name holds only letters, digits and _.-/, not %s", quoteRune(c))}
		}
	}
	if strings.Contains(name, "/") && !strings.HasPrefix(name, "/") {
		return &InputError{field, name, "a name with a / is a path and starts with /, such as /ci/alice/aws"}
	}
	first := strings.ToLower(strings.SplitN(strings.TrimPrefix(name, "/"), "/", 2)[0])
	if strings.HasPrefix(first, "aws") || strings.HasPrefix(first, "ssm") {
		return &InputError{field, name, "names starting with aws or ssm are reserved by AWS"}
	}
	return nil
}

// validChars checks that s is min to max characters of \w and extra, the
// shape of most IAM and STS name patterns; what names the thing for the
// message ("a role name").
func validChars(field, s, what, extra string, lo, hi int) error {
	if n := utf8.RuneCountInString(s); n < lo || n > hi {
		return &InputError{field, s, fmt.Sprintf("%s is %d to %d characters long, this one has %d", what, lo, hi, n)}
	}
	for _, c := range s {
		if c >= utf8.RuneSelf || !isWord(byte(c)) && !strings.ContainsRune(extra, c) {
			return &InputError{field, s, fmt.Sprintf("%s holds only letters, digits and _%s, not %s", what, extra, quoteRune(c))}
		}
	}
	return nil
}

// ValidateRoleName checks an IAM role name: 1 to 64 of [\w+=,.@-].
func ValidateRoleName(field, name string) error {
	return validChars(field, name, "a role name", "+=,.@-", 1, 64)
}

// ValidateExternalID checks an STS AssumeRole ExternalId: 2 to 1224 of
// [\w+=,.@:/-].
func ValidateExternalID(field, id string) error {
	return validChars(field, id, "an external ID", "+=,.@:/-", 2, 1224)
}

// ValidateAccountID checks a 12-digit AWS account ID.
func ValidateAccountID(field, id string) error {
	if len(id) != 12 || strings.Trim(id, "0123456789") != "" {
		return &InputError{field, id, "an AWS account ID is 12 digits"}
	}
	return nil
}

// ValidateOUID checks an organizational unit's ID (ou-xxxx-xxxxxxxx) or a
// root's (r-xxxx), as Organizations' ParentId pattern has them.
func ValidateOUID(field, id string) error {
	lowerAlnum := func(s string, lo, hi int) bool {
		return len(s) >= lo && len(s) <= hi && strings.Trim(s, "0123456789abcdefghijklmnopqrstuvwxyz") == ""
	}
	parts := strings.Split(id, "-")
	switch {
	case len(parts) == 3 && parts[0] == "ou" && lowerAlnum(parts[1], 4, 32) && lowerAlnum(parts[2], 8, 32):
		return nil
	case len(parts) == 2 && parts[0] == "r" && lowerAlnum(parts[1], 4, 32):
		return nil
	}
	return &InputError{field, id, "an organizational unit ID looks like ou-ab12-cd34ef56 (or a root's, r-ab12)"}
}
