// Command keyrot manages, rotates and audits AWS IAM access keys.
package main

import (
	"os"

	"github.com/keyrot/keyrot/cmd"
)

func main() { os.Exit(cmd.Main()) }
