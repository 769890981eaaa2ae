// Command withlibs is the bare program of cmd/benchcli/baseline with the
// libraries keyrot links besides the SDK linked in too (and initialised, as
// Go initialises every linked package), but not used: the share of keyrot's
// start-up that is theirs (docs/performance.md).
//
//	withlibs --user-name U --access-key-id K --status Inactive [--endpoint-url URL]
//
// It imports the IAM client directly, as such a program would; keyrot's
// own code reaches IAM only through iamx.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	_ "github.com/fatih/color"
	_ "github.com/jmespath-community/go-jmespath"
	_ "github.com/olekukonko/tablewriter"
	_ "github.com/schollz/progressbar/v3"
	_ "github.com/spf13/cobra"
	_ "go.yaml.in/yaml/v3"
	_ "golang.org/x/crypto/nacl/box"
)

func main() {
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
