// Command gendocs writes keyrot's command reference from the cobra tree:
// markdown to docs/cli and man pages to docs/man. Its output depends only
// on the source, so `make check-docs` can diff it.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/keyrot/keyrot/cmd"
	"github.com/spf13/cobra/doc"
)

func main() {
	out := flag.String("out", "docs", "directory that receives cli/ and man/")
	flag.Parse()
	if err := run(*out); err != nil {
		fmt.Fprintln(os.Stderr, "gendocs:", err)
		os.Exit(1)
	}
}

func run(out string) error {
	root := cmd.NewRoot()
	root.DisableAutoGenTag = true
	mdDir, manDir := filepath.Join(out, "cli"), filepath.Join(out, "man")
	for _, d := range []string{mdDir, manDir} {
		if err := os.RemoveAll(d); err != nil {
			return err
		}
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	if err := doc.GenMarkdownTree(root, mdDir); err != nil {
		return err
	}
	// A fixed date keeps the man pages identical from run to run.
	date := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	return doc.GenManTree(root, &doc.GenManHeader{Title: "KEYROT", Section: "1", Source: "keyrot", Manual: "keyrot manual", Date: &date}, manDir)
}
