package cmd

import (
	"context"

	"github.com/keyrot/keyrot/iamx"
	"github.com/keyrot/keyrot/rotate"
	"github.com/spf13/cobra"
)

type rollbackOptions struct {
	f         *Factory
	User      string
	DeleteNew bool
	Force     bool
	DryRun    bool
	StateDir  string
}

type rollbackJSON struct {
	UserName      string
	DryRun        bool
	OldKeyID      string `json:"OldAccessKeyId"`
	NewKeyID      string `json:"NewAccessKeyId"`
	NewKeyDeleted bool
	Restored      string `json:"RestoredCredentialsFile,omitempty"`
	Inferred      bool
	Explanation   string `json:",omitempty"`
	Actions       []string
}

func newCmdRollback(f *Factory, runF func(context.Context, *rollbackOptions) error) *cobra.Command {
	opts := &rollbackOptions{f: f}
	c := &cobra.Command{
		Use:   "rollback [--user NAME]",
		Short: "Undo the last rotation of a user's access key",
		Long: `Undo the last rotation: reactivate the old key, deactivate the new one
(--delete-new deletes it), and restore the credentials file from the backup the
rotation kept.

keyrot reads the rotation's journal from the state directory. Without one (on
another machine, say) it works from IAM alone when the user has exactly two
keys, the newer Active and the older Inactive, and says what it inferred. An
unfinished rotation (a crash, a kill -9) is undone first.` + exitHelp(exitOK, exitError, exitUsage, exitNotFound, exitService, exitDenied, exitRollbackFailed, exitInterrupted),
		Example: `  keyrot rollback --user Bob
  keyrot rollback --user Bob --delete-new --dry-run`,
		Args: noArgs,
		RunE: func(c *cobra.Command, args []string) error {
			if err := validateTarget(opts.User, ""); err != nil {
				return err
			}
			if runF != nil {
				return runF(c.Context(), opts)
			}
			return runRollback(f.interruptible(c.Context()), opts)
		},
	}
	addUserFlag(c, &opts.User, "user whose last rotation to undo")
	c.Flags().BoolVar(&opts.DeleteNew, "delete-new", false, "delete the new key instead of deactivating it")
	c.Flags().BoolVar(&opts.Force, "force", false, "deactivate the new key even when it signs this request")
	c.Flags().BoolVar(&opts.DryRun, "dry-run", false, "print what would be done and change nothing")
	c.Flags().StringVar(&opts.StateDir, "state-dir", "", "where journals and locks live (default $XDG_STATE_HOME/keyrot)")
	return c
}

func runRollback(ctx context.Context, opts *rollbackOptions) error {
	ro := &rotateOptions{f: opts.f, User: opts.User}
	rs, err := ro.openSession(ctx)
	if err != nil {
		return err
	}
	user := opts.User
	if user == "" {
		user = rs.caller.Name()
	}
	res, err := rotate.Rollback(ctx, rs.client, rotate.RollbackOptions{
		User: opts.User, Caller: rs.caller, Signer: rs.signer, Force: opts.Force,
		DeleteNew: opts.DeleteNew, StateDir: opts.StateDir, Now: opts.f.Now, DryRun: opts.DryRun, Secrets: rs.client, Parameters: rs.client, GitHub: githubAPI(opts.f),
	})
	if err != nil {
		return rotateError(err, user)
	}
	f := opts.f
	if res.Inferred {
		f.message("No journal of a rotation of %s here; inferred from IAM: %s", res.User, res.Explanation)
	}
	if res.Recovered != nil {
		f.message("The last rotation of %s was unfinished (stopped at %s): %s.", res.User, res.Recovered.Step, res.Recovered.Action)
	}
	prefix := ""
	if res.DryRun {
		prefix = "dry run: would "
	}
	for _, a := range res.Actions {
		f.message("  %s%s", prefix, a)
	}
	if !res.DryRun && res.OldKeyID != "" {
		state := string(iamx.StatusInactive)
		if res.NewKeyDeleted {
			state = "deleted"
		}
		f.message("Rolled back %s: %s is Active again, %s is %s.", res.User, res.OldKeyID, res.NewKeyID, state)
	}
	actions := res.Actions
	if actions == nil {
		actions = []string{}
	}
	return f.render(view{
		JSON: rollbackJSON{UserName: res.User, DryRun: res.DryRun, OldKeyID: res.OldKeyID, NewKeyID: res.NewKeyID,
			NewKeyDeleted: res.NewKeyDeleted, Restored: res.Restored, Inferred: res.Inferred, Explanation: res.Explanation, Actions: actions},
		Header: []string{"USER", "OLD KEY", "NEW KEY", "NEW KEY DELETED", "RESTORED"},
		Rows:   [][]string{{res.User, res.OldKeyID, res.NewKeyID, map[bool]string{true: "yes", false: "no"}[res.NewKeyDeleted], res.Restored}},
	})
}
