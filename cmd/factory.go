package cmd

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/keyrot/keyrot/iamx"
	"github.com/keyrot/keyrot/rotate/github"
)

// Factory carries what every command needs. Client is lazy so that --help,
// completion scripts and usage errors never load the AWS configuration.
type Factory struct {
	IO     *IOStreams
	Now    func() time.Time
	Global *globalOptions
	Client func(context.Context) (*iamx.Client, error)
	// GitHub is the GitHub API client of the Actions secrets destination,
	// built on first use from GH_TOKEN or GITHUB_TOKEN and GITHUB_API_URL.
	GitHub func() *github.Client
	// Title heads a --query result drawn as a table, as the AWS CLI's
	// operation name does (ListAccessKeys for keyrot list).
	Title string
}

// newFactory builds a Factory whose client is loaded once, from the global
// flags as parsed when it is first asked for.
func newFactory(ios *IOStreams) *Factory {
	f := &Factory{IO: ios, Now: time.Now, Global: &globalOptions{}}
	var (
		once   sync.Once
		client *iamx.Client
		err    error
	)
	f.Client = func(ctx context.Context) (*iamx.Client, error) {
		once.Do(func() {
			if f.Global.NoVerifySSL {
				fmt.Fprintln(ios.ErrOut, "keyrot: warning: --no-verify-ssl: TLS certificates are not verified; anyone on the network path can read and change these requests")
			}
			client, err = iamx.Load(ctx, f.Global.loadOptions(ios))
		})
		return client, err
	}
	var ghOnce sync.Once
	var gh *github.Client
	f.GitHub = func() *github.Client {
		ghOnce.Do(func() {
			gh = github.New(os.Getenv("GITHUB_API_URL"), github.TokenFromEnv(os.Getenv), &http.Client{Timeout: 60 * time.Second})
			if f.Global.Debug {
				gh.Debug = func(format string, args ...any) { fmt.Fprintf(ios.ErrOut, "debug: "+format+"\n", args...) }
			}
		})
		return gh
	}
	return f
}
