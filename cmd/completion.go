package cmd

import (
	"context"
	"strings"
	"time"

	"github.com/keyrot/keyrot/iamx"
	"github.com/spf13/cobra"
)

func newCmdCompletion(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "completion bash|zsh|fish|powershell",
		Short: "Print a shell completion script",
		Long: `Print a completion script for bash, zsh, fish or PowerShell.

Beyond commands and flags, it completes --user from the account's users and
--access-key-id from the chosen user's keys (asking IAM, with a short
timeout: a slow or failing call completes nothing rather than hang the shell).

  bash:        source <(keyrot completion bash)
  zsh:         keyrot completion zsh > "${fpath[1]}/_keyrot"
  fish:        keyrot completion fish > ~/.config/fish/completions/keyrot.fish
  PowerShell:  keyrot completion powershell | Out-String | Invoke-Expression` + exitHelp(exitOK, exitError, exitUsage),
		ValidArgs: []string{"bash", "zsh", "fish", "powershell"},
		Args: func(c *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageErrorf("completion takes one shell: bash, zsh, fish or powershell")
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error {
			root, out := c.Root(), f.IO.Out
			switch args[0] {
			case "bash":
				return root.GenBashCompletionV2(out, true)
			case "zsh":
				return root.GenZshCompletion(out)
			case "fish":
				return root.GenFishCompletion(out, true)
			case "powershell":
				return root.GenPowerShellCompletionWithDesc(out)
			}
			return usageErrorf("unknown shell %q: use bash, zsh, fish or powershell", args[0])
		},
	}
}

// completionTimeout bounds the IAM calls behind dynamic completion: a
// shell waiting on Tab must never hang.
const completionTimeout = 2 * time.Second

// registerGlobalCompletions completes the global flags' fixed values.
func registerGlobalCompletions(f *Factory, root *cobra.Command) {
	fixed := map[string][]string{
		"output": {"table", "json", "text", "yaml", "yaml-stream"},
		"color":  {"auto", "on", "off"},
	}
	for name, vals := range fixed {
		_ = root.RegisterFlagCompletionFunc(name, cobra.FixedCompletions(vals, cobra.ShellCompDirectiveNoFileComp))
	}
	_ = root.RegisterFlagCompletionFunc("profile", completeProfiles)
	_ = root.RegisterFlagCompletionFunc("region", completeRegions(f))
}

// registerKeyCompletions completes --user from ListUsers, --access-key-id
// from the chosen user's keys and --status from its two values.
func registerKeyCompletions(f *Factory, c *cobra.Command) {
	if c.Flags().Lookup("regions") != nil {
		// A comma-separated list: complete its last item.
		regions := completeRegions(f)
		_ = c.RegisterFlagCompletionFunc("regions", func(c *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
			all, dir := regions(c, args, toComplete)
			prefix := toComplete[:strings.LastIndex(toComplete, ",")+1]
			out := make([]cobra.Completion, 0, len(all))
			for _, r := range all {
				out = append(out, prefix+r)
			}
			return out, dir
		})
	}
	if c.Flags().Lookup("user") != nil {
		_ = c.RegisterFlagCompletionFunc("user", func(c *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
			ctx, cancel := context.WithTimeout(c.Context(), completionTimeout)
			defer cancel()
			client, err := completionClient(ctx, f)
			if err != nil {
				return nil, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveError
			}
			users, err := client.ListUsers(ctx, "")
			if err != nil {
				return nil, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveError
			}
			out := make([]cobra.Completion, 0, len(users))
			for _, u := range users {
				out = append(out, u.Name)
			}
			return out, cobra.ShellCompDirectiveNoFileComp
		})
	}
	if c.Flags().Lookup("access-key-id") != nil {
		_ = c.RegisterFlagCompletionFunc("access-key-id", func(c *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
			ctx, cancel := context.WithTimeout(c.Context(), completionTimeout)
			defer cancel()
			user, _ := c.Flags().GetString("user")
			if user != "" && iamx.ValidateUserName("--user", user) != nil {
				return nil, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveError
			}
			client, err := completionClient(ctx, f)
			if err != nil {
				return nil, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveError
			}
			keys, err := client.ListKeys(ctx, user)
			if err != nil {
				return nil, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveError
			}
			out := make([]cobra.Completion, 0, len(keys))
			for _, k := range keys {
				out = append(out, cobra.CompletionWithDesc(k.ID, string(k.Status)+", created "+k.Created.UTC().Format("2006-01-02")))
			}
			return out, cobra.ShellCompDirectiveNoFileComp
		})
	}
	if c.Flags().Lookup("status") != nil {
		_ = c.RegisterFlagCompletionFunc("status", cobra.FixedCompletions([]string{"Active", "Inactive"}, cobra.ShellCompDirectiveNoFileComp))
	}
}

// completionClient loads a client that gives up quickly: one attempt, no
// retries, the short deadline of the context.
func completionClient(ctx context.Context, f *Factory) (*iamx.Client, error) {
	o := f.Global.loadOptions(f.IO)
	o.Debug = nil
	o.MaxAttempts = 1
	return iamx.Load(ctx, o)
}
