package cmd

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// Set at build time with -ldflags "-X github.com/keyrot/keyrot/cmd.version=…".
var (
	version = ""
	commit  = ""
	date    = ""
)

// buildInfo is the version report, falling back on what the Go toolchain
// recorded (go install, go build in a checkout).
type buildInfo struct {
	Version   string
	Commit    string
	Date      string
	GoVersion string
	Platform  string
}

func currentBuild() buildInfo {
	b := buildInfo{Version: version, Commit: commit, Date: date, GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if info, ok := debug.ReadBuildInfo(); ok {
		if b.Version == "" && info.Main.Version != "" && info.Main.Version != "(devel)" {
			b.Version = info.Main.Version
		}
		for _, s := range info.Settings {
			switch {
			case s.Key == "vcs.revision" && b.Commit == "":
				b.Commit = s.Value
			case s.Key == "vcs.time" && b.Date == "":
				b.Date = s.Value
			}
		}
	}
	if b.Version == "" {
		b.Version = "dev"
	}
	return b
}

// versionLine is `keyrot version`'s text line, and `keyrot --version`.
func versionLine(b buildInfo) string {
	line := fmt.Sprintf("keyrot %s", b.Version)
	if b.Commit != "" {
		line += fmt.Sprintf(" (commit %.12s", b.Commit)
		if b.Date != "" {
			line += ", built " + b.Date
		}
		line += ")"
	}
	return line + fmt.Sprintf(" %s %s", b.GoVersion, b.Platform)
}

func newCmdVersion(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print keyrot's version",
		Long:  "Print keyrot's version, commit, build date, Go version and platform." + exitHelp(exitOK, exitUsage),
		Args:  noArgs,
		RunE: func(c *cobra.Command, args []string) error {
			b := currentBuild()
			line := versionLine(b)
			return f.render(view{
				JSON:      b,
				Header:    []string{"VERSION", "COMMIT", "DATE", "GO", "PLATFORM"},
				Rows:      [][]string{{line}},
				TableRows: [][]string{{b.Version, dash(b.Commit), dash(b.Date), b.GoVersion, b.Platform}},
			})
		},
	}
}
