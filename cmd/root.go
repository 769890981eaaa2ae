// Package cmd is keyrot's command line: one file per cobra command, the
// global flags, output rendering, and the one place where errors become
// exit codes. It holds no AWS logic: that lives in iamx and rotate.
package cmd

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/keyrot/keyrot/iamx"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// globalOptions are the flags every command accepts, named as in the AWS CLI.
type globalOptions struct {
	Profile     string
	Region      string
	EndpointURL string
	Output      string
	// DefaultOutput is AWS_DEFAULT_OUTPUT or the profile's output
	// setting, used when --output is not given.
	DefaultOutput  string
	Query          string
	Color          string
	Debug          bool
	Quiet          bool
	NoCLIPager     bool
	ConnectTimeout int
	ReadTimeout    int
	CABundle       string
	NoVerifySSL    bool
}

func (g *globalOptions) loadOptions(ios *IOStreams) iamx.LoadOptions {
	o := iamx.LoadOptions{
		Profile:        g.Profile,
		Region:         g.Region,
		EndpointURL:    g.EndpointURL,
		ConnectTimeout: time.Duration(g.ConnectTimeout) * time.Second,
		ReadTimeout:    time.Duration(g.ReadTimeout) * time.Second,
		CABundle:       g.CABundle,
		NoVerifySSL:    g.NoVerifySSL,
	}
	if g.Debug {
		o.Debug = ios.ErrOut
	}
	if ios.IsStdinTTY() && ios.IsStderrTTY() {
		o.MFAToken = promptMFA(ios)
	}
	return o
}

func (g *globalOptions) addFlags(fs *pflag.FlagSet) {
	fs.StringVar(&g.Profile, "profile", "", "use this named profile from the shared config and credentials files")
	fs.StringVar(&g.Region, "region", "", "region to sign requests for (IAM is global; default us-east-1)")
	fs.StringVar(&g.EndpointURL, "endpoint-url", "", "send IAM and STS requests to this URL (an IAM-compatible endpoint or the local simulator)")
	fs.StringVar(&g.Output, "output", "", "output format: table, json, text, yaml or yaml-stream (default AWS_DEFAULT_OUTPUT, the profile's output setting, else table on a terminal and text otherwise)")
	fs.StringVar(&g.Query, "query", "", "JMESPath query applied to the JSON form of the output")
	fs.StringVar(&g.Color, "color", "auto", "colour in tables: auto (on a terminal, unless NO_COLOR is set), on or off")
	fs.BoolVar(&g.Debug, "debug", false, "log every HTTP request (operation, status, timing; never headers, bodies or secrets) to stderr")
	fs.BoolVarP(&g.Quiet, "quiet", "q", false, "print no messages on stderr, only data and errors")
	fs.BoolVar(&g.NoCLIPager, "no-cli-pager", false, "accepted for AWS CLI compatibility; keyrot never pages")
	fs.IntVar(&g.ConnectTimeout, "cli-connect-timeout", 0, "seconds to wait for a connection (0: the default, 60)")
	fs.IntVar(&g.ReadTimeout, "cli-read-timeout", 0, "seconds to wait for data from the server before a request fails (0: the default, 60)")
	fs.StringVar(&g.CABundle, "ca-bundle", "", "PEM file of CA certificates to trust for TLS")
	fs.BoolVar(&g.NoVerifySSL, "no-verify-ssl", false, "do not verify TLS certificates (unsafe; for test endpoints only)")
}

// validate checks the global flags before any command runs.
func (g *globalOptions) validate() error {
	if g.Output != "" && g.Output != "csv" && !slices.Contains(defaultOutputs, g.Output) {
		return usageErrorf("invalid --output %q: use table, json, text, yaml or yaml-stream (or csv for keyrot audit)", g.Output)
	}
	if g.Output == "" {
		format, from := g.defaultOutput()
		if format != "" && !slices.Contains(defaultOutputs, format) {
			return usageErrorf("invalid output %q (from %s): use table, json, text, yaml or yaml-stream", format, from)
		}
		g.DefaultOutput = format
	}
	switch g.Color {
	case "auto", "on", "off":
	default:
		return usageErrorf("invalid --color %q: use auto, on or off", g.Color)
	}
	if g.ConnectTimeout < 0 || g.ReadTimeout < 0 {
		return usageErrorf("timeouts are seconds and cannot be negative")
	}
	if g.Query != "" {
		if _, err := compileQuery(g.Query); err != nil {
			return usageErrorf("invalid --query %q: %s", g.Query, queryError(g.Query, err))
		}
	}
	for _, v := range []struct{ flag, val string }{{"--profile", g.Profile}, {"--region", g.Region}} {
		if len(v.val) > 256 {
			return usageErrorf("invalid %s: longer than 256 characters", v.flag)
		}
	}
	if err := validateRegion("--region", g.Region); err != nil {
		return err
	}
	if err := validateEndpoint("--endpoint-url", g.EndpointURL); err != nil {
		return err
	}
	// The SDK reads these itself; a bad one would surface as exit 1 after
	// the configuration loaded, or as exit 5 after three attempts.
	for _, env := range []string{"AWS_REGION", "AWS_DEFAULT_REGION"} {
		if err := validateRegion(env, os.Getenv(env)); err != nil && g.Region == "" {
			return err
		}
	}
	for _, env := range []string{"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_IAM", "AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL_CLOUDTRAIL", "AWS_ENDPOINT_URL_ACCOUNT"} {
		if err := validateEndpoint(env, os.Getenv(env)); err != nil && g.EndpointURL == "" {
			return err
		}
	}
	return nil
}

// isRegion reports whether r is a DNS label, as the SDK requires of a
// region to build a host name from it: 1 to 63 letters, digits and
// hyphens, neither first nor last a hyphen. Checked by hand: a regexp
// would be compiled on every start.
func isRegion(r string) bool {
	if len(r) == 0 || len(r) > 63 || r[0] == '-' || r[len(r)-1] == '-' {
		return false
	}
	for i := 0; i < len(r); i++ {
		c := r[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

func validateRegion(field, r string) error {
	if r == "" || isRegion(r) {
		return nil
	}
	return usageErrorf("invalid %s %q: a region is letters, digits and hyphens, such as us-east-1", field, r)
}

// validateEndpoint accepts an http or https URL with a host, as the AWS
// CLI does.
func validateEndpoint(field, v string) error {
	if v == "" {
		return nil
	}
	if !strings.Contains(v, "://") {
		return usageErrorf("invalid %s %q: use an http:// or https:// URL; did you mean http://%s?", field, v, v)
	}
	u, err := url.Parse(v)
	switch {
	case err != nil:
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return usageErrorf("invalid %s %q: %v", field, v, err)
	case u.Scheme != "http" && u.Scheme != "https":
		return usageErrorf("invalid %s %q: use an http:// or https:// URL, not %s://", field, v, u.Scheme)
	case u.Host == "" || u.Hostname() == "":
		return usageErrorf("invalid %s %q: the URL has no host", field, v)
	case u.User != nil:
		return usageErrorf("invalid %s %q: no user name or password in the URL", field, v)
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return usageErrorf("invalid %s %q: port %s is not 1 to 65535", field, v, p)
		}
	}
	return nil
}

// refuseEmpty rejects a flag given with an empty value where leaving it
// out means something else: --user "" is not the caller, and
// --access-key-id "" is not every key.
func refuseEmpty(c *cobra.Command) error {
	for _, name := range []string{"user", "access-key-id", "profile", "region", "endpoint-url", "exec", "profile-name", "credentials-file"} {
		if fl := c.Flags().Lookup(name); fl != nil && fl.Changed && strings.TrimSpace(fl.Value.String()) == "" {
			what := "--" + name
			if name == "user" {
				what = "--user (--user-name)"
			}
			return usageErrorf("%s is empty: give a value, or leave the flag out", what)
		}
	}
	return nil
}

// unknownCommand turns cobra's unknown-command error into a usage error
// (exit 2) that suggests the nearest command.
func unknownCommand(root *cobra.Command, err error) error {
	var name string
	if err == nil || !strings.HasPrefix(err.Error(), "unknown command ") {
		return err
	}
	if _, serr := fmt.Sscanf(err.Error(), "unknown command %q", &name); serr != nil {
		return usageErrorf("%s", strings.SplitN(err.Error(), "\n", 2)[0])
	}
	e := usageErrorf("unknown command %q for keyrot", name)
	if s := root.SuggestionsFor(name); len(s) > 0 {
		return withHint(e, "did you mean `keyrot %s`? Run `keyrot --help` to see the commands", strings.Join(s, "` or `keyrot "))
	}
	return withHint(e, "run `keyrot --help` to see the commands")
}

// Main runs keyrot with the process's arguments and returns its exit code.
func Main() int {
	deferGC()
	ios := System()
	f := newFactory(ios)
	root := newCmdRootFor(f, os.Args[1:])
	root.SetArgs(os.Args[1:])
	err := unknownCommand(root, execute(context.Background(), f, root))
	return reportError(ios.ErrOut, err)
}

// execute runs root, maps a run a signal cut short to errInterrupted, and
// removes the signal handlers the command installed (Factory.interruptible).
func execute(ctx context.Context, f *Factory, root *cobra.Command) error {
	err := root.ExecuteContext(ctx)
	if err == nil && f.interrupted() {
		err = errInterrupted
	}
	if f.stopSignals != nil {
		f.stopSignals()
		f.signals, f.stopSignals = nil, nil
	}
	return err
}

// subcommands are keyrot's commands in the order --help lists them.
var subcommands = []struct {
	name string
	make func(*Factory) *cobra.Command
}{
	{"list", func(f *Factory) *cobra.Command { return newCmdList(f, nil) }},
	{"deactivate", func(f *Factory) *cobra.Command { return newCmdDeactivate(f, nil) }},
	{"activate", func(f *Factory) *cobra.Command { return newCmdActivate(f, nil) }},
	{"update", func(f *Factory) *cobra.Command { return newCmdUpdate(f, nil) }},
	{"rotate", func(f *Factory) *cobra.Command { return newCmdRotate(f, nil) }},
	{"rollback", func(f *Factory) *cobra.Command { return newCmdRollback(f, nil) }},
	{"contain", func(f *Factory) *cobra.Command { return newCmdContain(f, nil) }},
	{"usage", func(f *Factory) *cobra.Command { return newCmdUsage(f, nil) }},
	{"audit", func(f *Factory) *cobra.Command { return newCmdAudit(f, nil) }},
	{"enforce", func(f *Factory) *cobra.Command { return newCmdEnforce(f, nil) }},
	{"version", newCmdVersion},
	{"completion", newCmdCompletion},
	{"exit-codes", func(*Factory) *cobra.Command { return newExitCodesTopic() }},
}

// newCmdRoot builds the whole command tree: help, completion, the docs
// generator and typo suggestions need every command.
func newCmdRoot(f *Factory) *cobra.Command {
	root := newRootOnly(f)
	for _, s := range subcommands {
		addSubcommand(f, root, s.make(f))
	}
	return root
}

// newCmdRootFor builds the tree that running args needs: when args name
// one of keyrot's commands, only that one, so a single command does not
// pay for building the other twelve with all their flags (make bench-cli);
// anything else (help, completion, an unknown or missing command) gets the
// whole tree.
func newCmdRootFor(f *Factory, args []string) *cobra.Command {
	root := newRootOnly(f)
	name := commandName(root.PersistentFlags(), args)
	for _, s := range subcommands {
		if s.name == name {
			addSubcommand(f, root, s.make(f))
			return root
		}
	}
	for _, s := range subcommands {
		addSubcommand(f, root, s.make(f))
	}
	return root
}

// commandName is the first argument that is not a global flag or a global
// flag's value, or "" when args hold none or a flag that is not global.
func commandName(global *pflag.FlagSet, args []string) string {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" || a == "-" {
			return ""
		}
		if !strings.HasPrefix(a, "-") {
			return a
		}
		if strings.Contains(a, "=") {
			continue
		}
		var fl *pflag.Flag
		if strings.HasPrefix(a, "--") {
			fl = global.Lookup(strings.TrimPrefix(a, "--"))
		} else if len(a) == 2 {
			fl = global.ShorthandLookup(a[1:])
		}
		if fl == nil {
			return ""
		}
		if fl.NoOptDefVal == "" {
			i++ // the flag's value
		}
	}
	return ""
}

func addSubcommand(f *Factory, root, c *cobra.Command) {
	root.AddCommand(c)
	registerKeyCompletions(f, c)
}

// newRootOnly is the root command with its flags and no subcommands.
func newRootOnly(f *Factory) *cobra.Command {
	root := &cobra.Command{
		Use:   "keyrot <command> [flags]",
		Short: "Manage, rotate and audit AWS IAM access keys",
		Long: `keyrot manages AWS IAM access keys: it turns them on and off, rotates them
without locking anyone out, and lists them across a user or a whole account.

Configuration comes from the same places as the AWS CLI's: AWS_PROFILE,
AWS_REGION, AWS_ENDPOINT_URL, the shared config and credentials files, and the
global flags below.` + exitHelp(),
		Example: `  keyrot list --user Bob
  keyrot deactivate --user Bob
  keyrot update --user Bob --access-key-id AKIAIOSFODNN7EXAMPLE --status Active`,
		SilenceErrors: true,
		SilenceUsage:  true,
		// No Args: cobra then reports an unknown command, with its
		// suggestions, before it parses the flags meant for another
		// command (keyrot lsit --user bob).
		RunE: func(c *cobra.Command, args []string) error {
			if v, _ := c.Flags().GetBool("version"); v {
				_, err := fmt.Fprintln(f.IO.Out, versionLine(currentBuild()))
				return err
			}
			return c.Help()
		},
		PersistentPreRunE: func(c *cobra.Command, args []string) error {
			f.Title = tableTitle(c.Name())
			if err := f.Global.validate(); err != nil {
				return err
			}
			if err := refuseEmpty(c); err != nil {
				return err
			}
			return checkCSV(c, f.Global)
		},
		CompletionOptions: cobra.CompletionOptions{DisableDefaultCmd: true},
	}
	root.SetIn(f.IO.In)
	root.SetOut(f.IO.Out)
	root.SetErr(f.IO.ErrOut)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageErrorf("%v; run `%s --help` for usage", err, c.CommandPath())
	})
	f.Global.addFlags(root.PersistentFlags())
	root.Flags().Bool("version", false, "print keyrot's version (as keyrot version)")
	registerGlobalCompletions(f, root)

	// --user-name is the AWS CLI's spelling of --user.
	root.SetGlobalNormalizationFunc(func(_ *pflag.FlagSet, name string) pflag.NormalizedName {
		if name == "user-name" {
			name = "user"
		}
		return pflag.NormalizedName(name)
	})
	return root
}

// noArgs rejects positional arguments as a usage error (exit 2).
func noArgs(c *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageErrorf("%s takes no arguments, got %q; run `%s --help` for usage", c.CommandPath(), args[0], c.CommandPath())
	}
	return nil
}

// errInterrupted is returned when SIGINT or SIGTERM ended the command.
var errInterrupted = errors.New("interrupted")

// message prints a human message on stderr unless --quiet.
func (f *Factory) message(format string, a ...any) {
	if f.Global.Quiet {
		return
	}
	fmt.Fprintf(f.IO.ErrOut, format+"\n", a...)
}

// NewRoot builds keyrot's command tree on the process's streams, for tools
// that walk it (the docs generator).
func NewRoot() *cobra.Command {
	return newCmdRoot(newFactory(System()))
}
