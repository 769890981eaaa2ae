package iamsim

import (
	"testing"
	"time"
)

// FuzzPolicy: any document PutUserPolicy receives is parsed and, when
// accepted, evaluated for a session and a long-term key without panicking.
func FuzzPolicy(f *testing.F) {
	f.Add(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"DateLessThan":{"aws:TokenIssueTime":"2026-01-01T00:00:00Z"}}}]}`)
	f.Add(`{"Statement":{"Effect":"Deny","NotAction":["iam:Get*"],"Resource":["*"],"Condition":{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}}}`)
	f.Add(`{"Statement":[{"Effect":"Deny","Action":"[","Resource":"*"}]}`)
	s := &Server{now: func() time.Time { return time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC) }}
	u := &user{name: "bob"}
	f.Fuzz(func(t *testing.T, doc string) {
		d, e := parsePolicy(doc)
		if e != nil {
			return
		}
		for _, who := range []*principal{{user: u}, {user: u, session: &session{issued: s.clock(), mfa: true}}} {
			for _, st := range d.Statement {
				_ = st.matches("iam:ListUsers", "arn:aws:iam::123456789012:user/bob")
				_ = s.conditionsHold(st.Condition, who)
			}
		}
	})
}

// FuzzAccountOfKeyID: decoding never panics, and every ID keyIDFor makes
// decodes to its account.
func FuzzAccountOfKeyID(f *testing.F) {
	f.Add("AKIAIOSFODNN7EXAMPLE", uint64(123456789012))
	f.Add("ASIA", uint64(0))
	f.Fuzz(func(t *testing.T, id string, n uint64) {
		_, _ = accountOfKeyID(id)
		n %= 1000000000000
		account := pad(n)
		if got, ok := accountOfKeyID(keyIDFor("AKIA", account, id)); !ok || got != account {
			t.Fatalf("account %s encoded, %s (%v) decoded", account, got, ok)
		}
	})
}

func pad(n uint64) string {
	const digits = "0123456789"
	b := make([]byte, 12)
	for i := 11; i >= 0; i-- {
		b[i] = digits[n%10]
		n /= 10
	}
	return string(b)
}

// FuzzGitHubRoute: any path and method is routed or refused, never a
// panic, and a routed request names an operation.
func FuzzGitHubRoute(f *testing.F) {
	for _, p := range []string{"/repos/a/b/actions/secrets/public-key", "/repos/a/b/environments/e/secrets/X",
		"/orgs/o/actions/secrets/S/repositories", "/orgs/%zz/actions/secrets/S", "/"} {
		f.Add("PUT", p)
		f.Add("GET", p)
	}
	f.Fuzz(func(t *testing.T, method, path string) {
		rt, ok := parseGHRoute(method, path)
		if ok && rt.op == "" {
			t.Fatalf("%s %q routed to no operation", method, path)
		}
	})
}
