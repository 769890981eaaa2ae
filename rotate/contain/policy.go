package contain

import (
	"encoding/json"
	"fmt"
	"github.com/keyrot/keyrot/rotate"
	"strings"
	"time"
)

// PolicyPrefix starts the name of the inline policy Contain puts on the
// key's user; the key ID follows, so each contained key has one policy and
// containing it again finds it.
const PolicyPrefix = rotate.RevokePolicyPrefix

// MaxSessionLife is the longest a session minted from an access key lives:
// GetSessionToken and GetFederationToken allow 129,600 seconds. Once that
// long has passed since the policy's cut-off, no session it denies is left.
const MaxSessionLife = 36 * time.Hour

// PolicyName is the inline policy that revokes the sessions of key id.
func PolicyName(id string) string { return PolicyPrefix + id }

// revokeDocument denies every action on every resource to sessions issued
// before cut, the shape of the IAM console's "Revoke active sessions".
func revokeDocument(id string, cut time.Time) string {
	doc := map[string]any{
		"Version": "2012-10-17",
		"Statement": []any{map[string]any{
			"Sid":       "KeyrotRevokeSessions" + sidSafe(id),
			"Effect":    "Deny",
			"Action":    "*",
			"Resource":  "*",
			"Condition": map[string]any{"DateLessThan": map[string]string{"aws:TokenIssueTime": cut.UTC().Format(time.RFC3339)}},
		}},
	}
	b, _ := json.Marshal(doc)
	return string(b)
}

func sidSafe(s string) string {
	var b strings.Builder
	for _, c := range s {
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' {
			b.WriteRune(c)
		}
	}
	return b.String()
}

// cutOff reads the aws:TokenIssueTime cut-off of a policy Contain wrote.
func cutOff(doc string) (time.Time, error) {
	var d struct {
		Statement []struct {
			Effect    string
			Condition map[string]map[string]string
		}
	}
	if err := json.Unmarshal([]byte(doc), &d); err != nil {
		return time.Time{}, fmt.Errorf("the policy is not one keyrot wrote: %w", err)
	}
	for _, st := range d.Statement {
		if v, ok := st.Condition["DateLessThan"]["aws:TokenIssueTime"]; ok && st.Effect == "Deny" {
			return time.Parse(time.RFC3339, v)
		}
	}
	return time.Time{}, fmt.Errorf("the policy has no Deny on aws:TokenIssueTime")
}
