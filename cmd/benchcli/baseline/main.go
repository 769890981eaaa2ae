// Command baseline is the bare aws-sdk-go-v2 program that keyrot's
// start-up is measured against (make bench-cli): LoadDefaultConfig and one
// IAM UpdateAccessKey, nothing else (cmd/benchcli/internal/bare).
//
//	baseline --user-name U --access-key-id K --status Inactive [--endpoint-url URL]
package main

import "github.com/keyrot/keyrot/cmd/benchcli/internal/bare"

func main() { bare.Main() }
