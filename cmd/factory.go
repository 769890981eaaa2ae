package cmd

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
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

	// signals is the context SIGINT and SIGTERM cancel, once a command
	// asked for it (interruptible); nil before.
	signals     context.Context
	stopSignals context.CancelFunc
}

// interruptible makes SIGINT and SIGTERM cancel ctx instead of ending the
// process, for the commands that change several things in a row or run
// long (rotate, rollback, contain, enforce, audit, list --all-users): they
// finish or roll back the step in flight and exit 130. The others (update,
// activate, deactivate, list --user, usage) make one request per key, or
// only read, and let a signal end the process at once, as the AWS CLI
// does (130 for SIGINT, 143 for SIGTERM): installing the handlers costs a
// thread and about half a millisecond at start-up, more than such a
// command's own work.
func (f *Factory) interruptible(ctx context.Context) context.Context {
	if f.signals == nil {
		f.signals, f.stopSignals = signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	}
	return f.signals
}

// interrupted reports whether a signal cancelled the command's context.
func (f *Factory) interrupted() bool { return f.signals != nil && f.signals.Err() != nil }

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
