package cmd

import (
	"context"
	"fmt"

	"github.com/keyrot/keyrot/iamx"
	"github.com/spf13/cobra"
)

type activateOptions struct {
	statusOptions
}

func newCmdActivate(f *Factory, runF func(context.Context, *activateOptions) error) *cobra.Command {
	opts := &activateOptions{statusOptions{f: f, Status: iamx.StatusActive}}
	c := &cobra.Command{
		Use:   "activate [--user NAME] [--access-key-id ID]",
		Short: "Activate a user's access key",
		Long: `Activate an access key (UpdateAccessKey with Status Active).

Without --access-key-id, keyrot activates the user's Inactive key only when
there is exactly one; with several it lists them and asks you to choose.` + exitHelp(readCodes...),
		Example: `  # Undo an emergency deactivation
  keyrot activate --user Bob

  # Choose the key when Bob has two Inactive keys
  keyrot activate --user Bob --access-key-id AKIAIOSFODNN7EXAMPLE`,
		Args: noArgs,
		RunE: func(c *cobra.Command, args []string) error {
			if err := validateTarget(opts.User, opts.KeyID); err != nil {
				return err
			}
			if runF != nil {
				return runF(c.Context(), opts)
			}
			return runActivate(c.Context(), opts)
		},
	}
	addUserFlag(c, &opts.User, "user whose key to activate")
	addKeyFlag(c, &opts.KeyID, "the key to activate (default: the user's only Inactive key)")
	c.Flags().BoolVar(&opts.DryRun, "dry-run", false, "print what would change and change nothing")
	return c
}

func runActivate(ctx context.Context, opts *activateOptions) error {
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
	inactive := keysWithStatus(keys, iamx.StatusInactive)
	switch {
	case len(keys) == 0:
		return fmt.Errorf("%s has no access keys to activate: %w", user, iamx.ErrNotFound)
	case len(inactive) == 0:
		opts.f.message("all of %s's access keys are already Active; nothing to do", user)
		return opts.report(nil)
	case len(inactive) > 1:
		return withHint(usageErrorf("%s has %d Inactive access keys; choose one with --access-key-id:%s", user, len(inactive), describeKeys(keys, opts.f.Now())),
			"for example: keyrot activate --user %s --access-key-id %s", user, inactive[len(inactive)-1].ID)
	}
	return opts.setAll(ctx, s, user, inactive)
}
