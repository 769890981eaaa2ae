package cmd

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/keyrot/keyrot/iamx"
)

// Factory carries what every command needs. Client is lazy so that --help,
// completion scripts and usage errors never load the AWS configuration.
type Factory struct {
	IO     *IOStreams
	Now    func() time.Time
	Global *globalOptions
	Client func(context.Context) (*iamx.Client, error)
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
	return f
}
