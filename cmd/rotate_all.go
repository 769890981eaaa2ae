package cmd

import (
	"context"

	"github.com/spf13/cobra"
)

// fleetOptions select the users of `keyrot rotate --all-users`.
type fleetOptions struct {
	AllUsers bool
}

func addFleetFlags(c *cobra.Command, o *fleetOptions) {
	c.Flags().BoolVar(&o.AllUsers, "all-users", false, "rotate every selected user's key (fleet mode)")
}

func (o *fleetOptions) validate(c *cobra.Command, r *rotateOptions) error {
	if o.AllUsers {
		return usageErrorf("--all-users is not available in this build")
	}
	return nil
}

func runRotateAll(ctx context.Context, opts *rotateOptions) error {
	return usageErrorf("--all-users is not available in this build")
}
