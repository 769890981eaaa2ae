package rotate

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/keyrot/keyrot/iamx"
	"github.com/keyrot/keyrot/iamx/iamsim"
)

// crashStore dies right after a write to Secrets Manager landed, before
// the journal records it.
type crashStore struct{ SecretStore }

func (c crashStore) PutSecret(ctx context.Context, id string, v iamx.Secret, token string) (iamx.SecretVersion, error) {
	_, _ = c.SecretStore.PutSecret(ctx, id, v, token)
	crashNow()
	return iamx.SecretVersion{}, nil
}

func (c crashStore) CreateSecret(ctx context.Context, name string, v iamx.Secret, kms, token string) (iamx.SecretVersion, error) {
	_, _ = c.SecretStore.CreateSecret(ctx, name, v, kms, token)
	crashNow()
	return iamx.SecretVersion{}, nil
}

// A rotation killed after its PutSecretValue landed: the next run either
// finishes it (the secret holds the new key, which verifies) or, with
// rollback, puts the secret back as it was and deletes the new key. No
// run leaves the secret holding a deleted key.
func TestSecretsManagerCrash(t *testing.T) {
	for _, tc := range []struct {
		name     string
		existing bool
		rollback bool
	}{
		{"put-then-resume", true, false},
		{"put-then-rollback", true, true},
		{"create-then-resume", false, false},
		{"create-then-rollback", false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			before := `{"AccessKeyId":"` + e.aliceOld + `","SecretAccessKey":"old","team":"ci"}`
			if tc.existing {
				e.srv.PutSecret("", "ci/alice", before)
			}
			o := e.opts(SecretsManager{Store: crashStore{e.admin}, SecretID: "ci/alice"})
			o.Secrets = e.admin
			crash(t, e.admin, o)
			if n := len(e.srv.Keys("alice")); n != 2 {
				t.Fatalf("crash left %d keys", n)
			}
			var holds struct{ AccessKeyId, SecretAccessKey string }
			sec, _ := e.srv.SecretValue("", "ci/alice")
			_ = json.Unmarshal([]byte(sec.Current), &holds)
			newID := holds.AccessKeyId
			if newID == e.aliceOld || newID == "" {
				t.Fatalf("the crash came before the write: %q", sec.Current)
			}

			o = e.opts(SecretsManager{Store: e.admin, SecretID: "ci/alice"})
			o.Secrets = e.admin
			if tc.rollback {
				res, err := Rollback(context.Background(), e.admin, RollbackOptions{User: "alice", Caller: o.Caller, Signer: o.Signer,
					DeleteNew: true, StateDir: e.dir, Now: e.clk.Now, Sleep: e.clk.Sleep, Secrets: e.admin})
				if err != nil {
					t.Fatal(err)
				}
				t.Logf("rollback: %s", res.Explanation)
				if st := e.status("alice"); len(st) != 1 || st[e.aliceOld] != string(iamx.StatusActive) {
					t.Fatalf("alice after rollback: %v", st)
				}
				sec, found := e.srv.SecretValue("", "ci/alice")
				switch {
				case !tc.existing && found:
					t.Fatalf("the secret keyrot created survived the rollback: %+v", sec)
				case tc.existing && (sec.Current != before || sec.Previous != ""):
					t.Fatalf("secret after rollback: current %s, previous %q", sec.Current, sec.Previous)
				}
				return
			}
			res, err := Run(context.Background(), e.admin, o)
			if err != nil {
				t.Fatal(err)
			}
			if res.Recovered == nil || res.Recovered.Action != "finished" {
				t.Fatalf("recovered %+v", res.Recovered)
			}
			st := e.status("alice")
			if st[newID] != string(iamx.StatusActive) || st[e.aliceOld] != string(iamx.StatusInactive) {
				t.Fatalf("alice after resume: %v (new %s)", st, newID)
			}
			sec, _ = e.srv.SecretValue("", "ci/alice")
			if !strings.Contains(sec.Current, newID) || tc.existing && !strings.Contains(sec.Current, `"team":"ci"`) {
				t.Fatalf("secret after resume: %s", sec.Current)
			}
			if k := e.srv.Keys("alice"); !strings.Contains(sec.Current, secretOf(k, newID)) {
				t.Fatal("the secret does not hold the new key's secret")
			}
		})
	}
}

func secretOf(keys []iamsim.Key, id string) string {
	for _, k := range keys {
		if k.ID == id {
			return k.Secret
		}
	}
	return "\x00none"
}

// MergeKeyJSON keeps every other field of a JSON object, sets the two key
// fields, and refuses anything that is not a JSON object.
func FuzzMergeKeyJSON(f *testing.F) {
	for _, s := range []string{"", "{}", `{"a":1}`, `{"AccessKeyId":"x","b":[1,{"c":null}]}`, "null", "[]", `"s"`, "{", ` {"a":"\u00e9"} `, `{"a":1,"a":2}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, existing string) {
		got, err := MergeKeyJSON(existing, "AKIANEW", iamx.NewSecret("s3cr/t+"))
		var before map[string]json.RawMessage
		isObject := strings.TrimSpace(existing) == "" || json.Unmarshal([]byte(existing), &before) == nil && strings.HasPrefix(strings.TrimSpace(existing), "{")
		if !isObject {
			if err == nil {
				t.Fatalf("%q is not a JSON object, merged into %s", existing, got.Reveal())
			}
			return
		}
		if err != nil {
			t.Fatalf("%q: %v", existing, err)
		}
		var after map[string]json.RawMessage
		if err := json.Unmarshal([]byte(got.Reveal()), &after); err != nil {
			t.Fatalf("merged value is not JSON: %v", err)
		}
		var id, secret string
		_ = json.Unmarshal(after["AccessKeyId"], &id)
		_ = json.Unmarshal(after["SecretAccessKey"], &secret)
		if id != "AKIANEW" || secret != "s3cr/t+" {
			t.Fatalf("key fields %q %q", id, secret)
		}
		for k, v := range before {
			if k == "AccessKeyId" || k == "SecretAccessKey" {
				continue
			}
			var a, b any
			_ = json.Unmarshal(v, &a)
			_ = json.Unmarshal(after[k], &b)
			ja, _ := json.Marshal(a)
			jb, _ := json.Marshal(b)
			if string(ja) != string(jb) {
				t.Fatalf("field %q changed: %s → %s", k, v, after[k])
			}
		}
		if len(after) != len(before)+2-countKeyFields(before) {
			t.Fatalf("fields: %d before, %d after", len(before), len(after))
		}
	})
}

func countKeyFields(m map[string]json.RawMessage) int {
	n := 0
	for _, k := range []string{"AccessKeyId", "SecretAccessKey"} {
		if _, ok := m[k]; ok {
			n++
		}
	}
	return n
}
