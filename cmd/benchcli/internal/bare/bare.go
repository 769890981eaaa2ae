// Package bare is the bare aws-sdk-go-v2 program that keyrot's start-up
// is measured against (make bench-cli): LoadDefaultConfig and one IAM
// UpdateAccessKey, nothing else. cmd/benchcli/baseline runs it as it is,
// cmd/benchcli/withlibs with keyrot's other libraries linked in.
//
// It imports the IAM client directly, as such a program would; keyrot's
// own code reaches IAM only through iamx.
package bare

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
)

// Main parses the flags and makes the one request, exiting 1 on failure.
func Main() {
	user := flag.String("user-name", "", "user")
	key := flag.String("access-key-id", "", "access key ID")
	status := flag.String("status", "", "Active or Inactive")
	endpoint := flag.String("endpoint-url", "", "endpoint")
	flag.Parse()
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	client := iam.NewFromConfig(cfg, func(o *iam.Options) {
		if *endpoint != "" {
			o.BaseEndpoint = aws.String(*endpoint)
		}
	})
	_, err = client.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{
		UserName: aws.String(*user), AccessKeyId: aws.String(*key), Status: types.StatusType(*status)})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
