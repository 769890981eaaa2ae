package iamx_test

import (
	"context"
	"errors"
	"testing"

	"github.com/keyrot/keyrot/iamx"
	"github.com/keyrot/keyrot/iamx/internal/awsjson"
	"github.com/keyrot/keyrot/rotate"
)

// TestSecretsManagerAgainstMoto delivers a key to Secrets Manager and
// undoes it, on the simulator and on moto, and expects both to end alike:
// the staging labels after CreateSecret, PutSecretValue and the undo's
// UpdateSecretVersionStage calls, and the error of a missing secret.
func TestSecretsManagerAgainstMoto(t *testing.T) {
	results := map[string][]string{}
	for _, target := range againstMoto(t) {
		t.Run(target.name, func(t *testing.T) {
			cfg := target.cfg
			ctx := context.Background()
			c := iamx.New(cfg)
			raw := awsjson.New(cfg, awsjson.SecretsManager, awsjson.Options{})
			value := func(stage string) string {
				var out struct{ SecretString string }
				if err := raw.Call(ctx, "GetSecretValue", map[string]string{"SecretId": "app/aws", "VersionStage": stage}, &out); err != nil {
					return "-"
				}
				return out.SecretString
			}
			var seen []string
			note := func() { seen = append(seen, value(iamx.StageCurrent)+" | "+value(iamx.StagePrevious)) }

			if _, found, err := c.CurrentSecret(ctx, "app/aws"); err != nil || found {
				t.Fatalf("missing secret: found %v, %v", found, err)
			}
			if err := c.MoveSecretStage(ctx, "app/none", iamx.StageCurrent, "x", ""); !errors.Is(err, iamx.ErrNotFound) {
				t.Errorf("stage on a missing secret: %v", err)
			}
			d := rotate.SecretsManager{Store: c, SecretID: "app/aws"}
			undoCreate, err := d.Deliver(ctx, iamx.NewKey{Key: iamx.Key{ID: "AKIAFIRSTKEYEXAMPLE1"}, Secret: iamx.NewSecret("first")})
			if err != nil {
				t.Fatal(err)
			}
			note()
			for i, id := range []string{"AKIASECONDKYEXAMPLE2", "AKIATHIRDKEYEXAMPLE3"} {
				undo, err := d.Deliver(ctx, iamx.NewKey{Key: iamx.Key{ID: id}, Secret: iamx.NewSecret("s" + id)})
				if err != nil {
					t.Fatal(err)
				}
				note()
				if i == 1 {
					if err := undo(); err != nil {
						t.Fatal(err)
					}
					note()
				}
			}
			if err := undoCreate(); err != nil { // no longer holds the first key: nothing to do
				t.Fatal(err)
			}
			note()
			results[target.name] = seen
		})
	}
	sameSteps(t, results)
}
