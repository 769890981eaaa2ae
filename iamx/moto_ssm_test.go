package iamx_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/keyrot/keyrot/iamx"
	"github.com/keyrot/keyrot/rotate"
)

// TestSSMParameterAgainstMoto delivers keys to a parameter and undoes one,
// on the simulator and on moto, and expects the same history from both:
// versions, types, KMS keys and values, and a missing parameter found
// missing.
func TestSSMParameterAgainstMoto(t *testing.T) {
	results := map[string][]string{}
	for _, target := range againstMoto(t) {
		t.Run(target.name, func(t *testing.T) {
			cfg := target.cfg
			ctx := context.Background()
			c := iamx.New(cfg)
			if _, found, err := c.ParameterHistory(ctx, "/ci/none"); err != nil || found {
				t.Fatalf("missing parameter: found %v, %v", found, err)
			}
			d := rotate.SSMParameter{Store: c, Name: "/ci/app", KMSKeyID: "alias/ci"}
			if _, err := d.Deliver(ctx, iamx.NewKey{Key: iamx.Key{ID: "AKIAFIRSTKEYEXAMPLE1"}, Secret: iamx.NewSecret("first")}); err != nil {
				t.Fatal(err)
			}
			undo, err := d.Deliver(ctx, iamx.NewKey{Key: iamx.Key{ID: "AKIASECONDKYEXAMPLE2"}, Secret: iamx.NewSecret("second")})
			if err != nil {
				t.Fatal(err)
			}
			if err := undo(); err != nil {
				t.Fatal(err)
			}
			vs, found, err := c.ParameterHistory(ctx, "/ci/app")
			if err != nil || !found {
				t.Fatalf("history: %v %v", found, err)
			}
			var seen []string
			for _, v := range vs {
				seen = append(seen, fmt.Sprintf("%d %s %s %s", v.Version, v.Type, v.KeyID, v.Value.Reveal()))
			}
			if err := c.DeleteParameter(ctx, "/ci/app"); err != nil {
				t.Fatal(err)
			}
			if _, found, _ := c.ParameterHistory(ctx, "/ci/app"); found {
				t.Error("the parameter survived DeleteParameter")
			}
			results[target.name] = seen
		})
	}
	sameSteps(t, results)
}
