package cmd

import (
	"context"

	"github.com/keyrot/keyrot/iamx"
	"github.com/spf13/cobra"
)

type deactivateOptions struct {
	statusOptions
}

func newCmdDeactivate(f *Factory, runF func(context.Context, *deactivateOptions) error) *cobra.Command {
	opts := &deactivateOptions{statusOptions{f: f, Status: iamx.StatusInactive}}
	c := &cobra.Command{
		Use:   "deactivate [--user NAME] [--access-key-id ID]",
		Short: "Deactivate a user's access keys",
		Long: `Deactivate access keys (UpdateAccessKey with Status Inactive).

With --access-key-id, deactivate that key. Without it, deactivate every Active
key of the user: the incident-response case. A deactivated key can be turned
back on with keyrot activate.

keyrot refuses to deactivate the key that signs the request (you could not
undo it with the same credentials) unless --force is given. With
--unused-for, it also refuses keys used more recently than that.` + exitHelp(changeCodes...),
		Example: `  # Someone leaked Bob's key: turn off all of Bob's keys now
  keyrot deactivate --user Bob

  # One key, checking the plan first
  keyrot deactivate --user Bob --access-key-id AKIAIOSFODNN7EXAMPLE --dry-run

  # Only if the key has not been used for a week
  keyrot deactivate --user Bob --access-key-id AKIAIOSFODNN7EXAMPLE --unused-for 7d`,
		Args: noArgs,
		RunE: func(c *cobra.Command, args []string) error {
			if err := validateTarget(opts.User, opts.KeyID); err != nil {
				return err
			}
			if runF != nil {
				return runF(c.Context(), opts)
			}
			return runDeactivate(c.Context(), opts)
		},
	}
	addUserFlag(c, &opts.User, "user whose keys to deactivate")
	addKeyFlag(c, &opts.KeyID, "the key to deactivate (default: every Active key of the user)")
	c.Flags().BoolVar(&opts.DryRun, "dry-run", false, "print what would change and change nothing")
	c.Flags().BoolVar(&opts.Force, "force", false, "deactivate even the key signing this request, or a key in use")
	c.Flags().Var(ageValue{&opts.UnusedFor}, "unused-for", "refuse to deactivate a key used within this long (e.g. 7d, 36h)")
	return c
}

func runDeactivate(ctx context.Context, opts *deactivateOptions) error {
	if opts.KeyID != "" {
		return opts.setOne(ctx)
	}
	s, err := openSession(ctx, opts.f, opts.User)
	if err != nil {
		return err
	}
	user, keys, err := opts.listTarget(ctx, s)
	if err != nil {
		return err
	}
	active := keysWithStatus(keys, iamx.StatusActive)
	if len(active) == 0 {
		opts.f.message("%s has no Active access keys; nothing to do", user)
		return opts.report(nil)
	}
	return opts.setAll(ctx, s, user, active)
}
