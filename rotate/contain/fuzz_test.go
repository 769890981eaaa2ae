package contain

import (
	"testing"
	"time"
)

// FuzzCutOff: a policy document read back from IAM never panics the
// parser, and the documents keyrot writes read back to their cut-off.
func FuzzCutOff(f *testing.F) {
	f.Add(revokeDocument("AKIAIOSFODNN7EXAMPLE", time.Date(2026, 12, 2, 13, 0, 0, 0, time.UTC)))
	f.Add(`{"Statement":[{"Effect":"Deny","Condition":{"DateLessThan":{"aws:TokenIssueTime":"x"}}}]}`)
	f.Add(`{"Statement":{"Effect":"Deny"}}`)
	f.Add(`null`)
	f.Fuzz(func(t *testing.T, doc string) {
		_, _ = cutOff(doc)
	})
}

func FuzzRevokeDocumentRoundTrip(f *testing.F) {
	f.Add("AKIAIOSFODNN7EXAMPLE", int64(1764680000))
	f.Add("a\"b\\c</x>", int64(0))
	f.Fuzz(func(t *testing.T, id string, sec int64) {
		if sec < 0 || sec > 253402300799 { // RFC 3339 years 1970-9999
			return
		}
		cut := time.Unix(sec, 0).UTC()
		got, err := cutOff(revokeDocument(id, cut))
		if err != nil || !got.Equal(cut) {
			t.Fatalf("cutOff(revokeDocument(%q, %s)) = %s, %v", id, cut, got, err)
		}
	})
}
