// Command withlibs is the bare program of cmd/benchcli/baseline with the
// libraries keyrot links besides the SDK linked in too (and initialised, as
// Go initialises every linked package), but not used: their share of
// keyrot's start-up (docs/performance.md).
//
//	withlibs --user-name U --access-key-id K --status Inactive [--endpoint-url URL]
package main

import (
	"github.com/keyrot/keyrot/cmd/benchcli/internal/bare"

	_ "github.com/fatih/color"
	_ "github.com/jmespath-community/go-jmespath"
	_ "github.com/olekukonko/tablewriter"
	_ "github.com/schollz/progressbar/v3"
	_ "github.com/spf13/cobra"
	_ "go.yaml.in/yaml/v3"
	_ "golang.org/x/crypto/nacl/box"
)

func main() { bare.Main() }
