package iamx_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/keyrot/keyrot/iamx"
	"github.com/keyrot/keyrot/iamx/iamsim"
)

// BenchmarkDeactivate is one UpdateAccessKey → Inactive through the real
// SDK (signing, HTTP, XML) against the simulator, client already loaded.
func BenchmarkDeactivate(b *testing.B) {
	srv := iamsim.NewServer(iamsim.User("admin", iamsim.KeySeed{}), iamsim.User("alice", iamsim.KeySeed{}))
	defer srv.Close()
	admin, key := srv.Keys("admin")[0], srv.Keys("alice")[0].ID
	c := iamx.New(aws.Config{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(srv.URL()),
		Credentials:  credentials.NewStaticCredentialsProvider(admin.ID, admin.Secret, ""),
	})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := c.SetStatus(ctx, "alice", key, iamx.StatusInactive); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(c.Requests())/float64(b.N), "requests/op")
}
