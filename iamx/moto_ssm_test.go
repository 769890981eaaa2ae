package iamx_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/keyrot/keyrot/iamx"
	"github.com/keyrot/keyrot/iamx/iamsim"
	"github.com/keyrot/keyrot/internal/motoserver"
	"github.com/keyrot/keyrot/rotate"
)

// TestSSMParameterAgainstMoto delivers keys to a parameter and undoes one,
// on the simulator and on moto, and expects the same history from both:
// versions, types, KMS keys and values, and a missing parameter found
// missing.
func TestSSMParameterAgainstMoto(t *testing.T) {
	motoURL := motoserver.Start(t)
	srv := iamsim.NewServer(iamsim.User("admin", iamsim.KeySeed{}))
	t.Cleanup(srv.Close)
	admin := srv.Keys("admin")[0]
	results := map[string][]string{}
	for _, target := range []struct {
		name, url, id, secret string
	}{
		{"iamsim", srv.URL(), admin.ID, admin.Secret},
		{"moto", motoURL, "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"},
	} {
		t.Run(target.name, func(t *testing.T) {
			cfg := aws.Config{BaseEndpoint: aws.String(target.url), Region: "us-east-1", RetryMaxAttempts: 1,
				Credentials: credentials.NewStaticCredentialsProvider(target.id, target.secret, "")}
			ctx := context.Background()
			c := iamx.New(cfg)
			if _, found, err := c.ParameterHistory(ctx, "/ci/none"); err != nil || found {
				t.Fatalf("missing parameter: found %v, %v", found, err)
			}
			d := rotate.SSMParameter{Store: c, Name: "/ci/app", KMSKeyID: "alias/ci"}
			if _, err := d.Deliver(ctx, iamx.NewKey{Key: iamx.Key{ID: "AKIAFIRSTKEY00000001"}, Secret: iamx.NewSecret("first")}); err != nil {
				t.Fatal(err)
			}
			undo, err := d.Deliver(ctx, iamx.NewKey{Key: iamx.Key{ID: "AKIASECONDKEY0000002"}, Secret: iamx.NewSecret("second")})
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
	sim, moto := results["iamsim"], results["moto"]
	if len(moto) == 0 {
		return // skipped
	}
	for i := range max(len(sim), len(moto)) {
		if at(sim, i) != at(moto, i) {
			t.Errorf("version %d: simulator %q, moto %q", i+1, at(sim, i), at(moto, i))
		}
	}
}
