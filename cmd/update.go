package cmd

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/keyrot/keyrot/iamx"
	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"
)

type updateOptions struct {
	statusOptions
	rawStatus string
	InputJSON string
	InputYAML string
	Skeleton  string
}

// updateInput is the --cli-input-json document, the same shape as the AWS
// CLI's `aws iam update-access-key --generate-cli-skeleton`.
type updateInput struct {
	UserName    *string `json:"UserName,omitempty"`
	AccessKeyID *string `json:"AccessKeyId,omitempty"`
	Status      *string `json:"Status,omitempty"`
}

// maxInputJSON bounds --cli-input-json: the real document is a few dozen bytes.
const maxInputJSON = 1 << 20

func newCmdUpdate(f *Factory, runF func(context.Context, *updateOptions) error) *cobra.Command {
	opts := &updateOptions{statusOptions: statusOptions{f: f}}
	c := &cobra.Command{
		Use:   "update --access-key-id ID --status Active|Inactive [--user NAME]",
		Short: "Set an access key's status, as aws iam update-access-key does",
		Long: `Set an access key's status: the plain UpdateAccessKey operation, with the
same flags as aws iam update-access-key. The status is case-insensitive.

--cli-input-json takes the parameters as JSON, inline or from file://PATH,
with the keys UserName, AccessKeyId and Status; flags given on the command
line override it. --generate-cli-skeleton prints the input document to fill
in (or, with "output", a sample of the output) without sending a request.

With --user, this is exactly one request to IAM.` + exitHelp(changeCodes...),
		Example: `  keyrot update --user Bob --access-key-id AKIAIOSFODNN7EXAMPLE --status Inactive
  keyrot update --cli-input-json file://update.json
  keyrot update --generate-cli-skeleton > update.json`,
		Args: func(c *cobra.Command, args []string) error {
			// The AWS CLI accepts `--generate-cli-skeleton output` with a space.
			if len(args) == 1 && c.Flags().Changed("generate-cli-skeleton") && (args[0] == "input" || args[0] == "yaml-input" || args[0] == "output") {
				opts.Skeleton = args[0]
				return nil
			}
			return noArgs(c, args)
		},
		RunE: func(c *cobra.Command, args []string) error {
			if err := opts.resolve(c); err != nil {
				return err
			}
			if opts.Skeleton != "" {
				return opts.printSkeleton()
			}
			if runF != nil {
				return runF(c.Context(), opts)
			}
			return runUpdate(c.Context(), opts)
		},
	}
	addUserFlag(c, &opts.User, "user who owns the key")
	addKeyFlag(c, &opts.KeyID, "the key to update (required)")
	c.Flags().StringVar(&opts.rawStatus, "status", "", "Active or Inactive, any case (required)")
	c.Flags().StringVar(&opts.InputJSON, "cli-input-json", "", "parameters as JSON, inline or file://PATH (flags override it)")
	c.Flags().StringVar(&opts.InputYAML, "cli-input-yaml", "", "parameters as YAML, inline or file://PATH (flags override it)")
	c.Flags().StringVar(&opts.Skeleton, "generate-cli-skeleton", "", "print an input skeleton (input: JSON, yaml-input: YAML) or a sample output (output) and exit")
	c.Flags().Lookup("generate-cli-skeleton").NoOptDefVal = "input"
	c.Flags().BoolVar(&opts.DryRun, "dry-run", false, "print what would change and change nothing")
	c.Flags().BoolVar(&opts.Force, "force", false, "deactivate even the key signing this request, or a key in use")
	c.Flags().Var(ageValue{&opts.UnusedFor}, "unused-for", "refuse to deactivate a key used within this long (e.g. 7d)")
	return c
}

// resolve merges --cli-input-json under the flags and validates the result.
func (o *updateOptions) resolve(c *cobra.Command) error {
	switch o.Skeleton {
	case "", "input", "yaml-input", "output":
	default:
		return usageErrorf("invalid --generate-cli-skeleton %q: use input, yaml-input or output", o.Skeleton)
	}
	if o.Skeleton == "input" || o.Skeleton == "yaml-input" {
		return nil
	}
	if o.InputJSON != "" && o.InputYAML != "" {
		return usageErrorf("give --cli-input-json or --cli-input-yaml, not both")
	}
	if o.InputJSON != "" || o.InputYAML != "" {
		var in updateInput
		var err error
		if o.InputJSON != "" {
			var data []byte
			if data, err = readInput("--cli-input-json", o.InputJSON); err == nil {
				in, err = parseUpdateInput(data, "--cli-input-json")
			}
		} else {
			var data []byte
			if data, err = readInput("--cli-input-yaml", o.InputYAML); err == nil {
				in, err = parseUpdateYAML(data)
			}
		}
		if err != nil {
			return err
		}
		if in.UserName != nil && !c.Flags().Changed("user") {
			o.User = *in.UserName
		}
		if in.AccessKeyID != nil && !c.Flags().Changed("access-key-id") {
			o.KeyID = *in.AccessKeyID
		}
		if in.Status != nil && !c.Flags().Changed("status") {
			o.rawStatus = *in.Status
		}
	}
	if o.KeyID == "" {
		return usageErrorf("update needs --access-key-id (or AccessKeyId in --cli-input-json)")
	}
	if o.rawStatus == "" {
		return usageErrorf("update needs --status Active or Inactive (or Status in --cli-input-json)")
	}
	st, err := iamx.ParseStatus("--status", o.rawStatus)
	if err != nil {
		return err
	}
	o.Status = st
	return validateTarget(o.User, o.KeyID)
}

// position turns a byte offset into a 1-based line and column (in
// characters) for error messages.
func position(data []byte, off int64) (line, col int) {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	before := data[:off]
	line = bytes.Count(before, []byte("\n")) + 1
	start := bytes.LastIndexByte(before, '\n') + 1
	return line, utf8.RuneCount(before[start:])
}

// readInput reads --cli-input-json or --cli-input-yaml: file://PATH or
// the document itself.
func readInput(flag, v string) ([]byte, error) {
	path, isFile := strings.CutPrefix(v, "file://")
	if !isFile {
		t := strings.TrimSpace(v)
		looksLikePath := strings.HasSuffix(t, ".json") || strings.HasSuffix(t, ".yaml") || strings.HasSuffix(t, ".yml")
		if flag == "--cli-input-json" && t != "" && !strings.HasPrefix(t, "{") || flag == "--cli-input-yaml" && !strings.Contains(t, ":") {
			if _, err := os.Stat(t); err == nil || looksLikePath {
				return nil, usageErrorf("%s %q is a file name, not the document; did you mean file://%s?", flag, v, t)
			}
		}
		return []byte(v), nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, usageErrorf("%s: %v", flag, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxInputJSON+1))
	if err != nil {
		return nil, usageErrorf("%s: read %s: %v", flag, path, err)
	}
	if len(data) > maxInputJSON {
		return nil, usageErrorf("%s: %s is larger than %d bytes", flag, path, maxInputJSON)
	}
	return data, nil
}

// parseUpdateInput decodes the --cli-input-json document strictly: one
// object, known keys only, string values.
func parseUpdateInput(data []byte, flag string) (updateInput, error) {
	var in updateInput
	if len(data) > maxInputJSON {
		return in, usageErrorf("%s is larger than %d bytes", flag, maxInputJSON)
	}
	var raw map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&raw); err != nil || raw == nil {
		if errors.Is(err, io.EOF) {
			return in, usageErrorf("%s is empty: give a JSON object such as {\"AccessKeyId\": \"...\", \"Status\": \"Inactive\"}", flag)
		}
		var se *json.SyntaxError
		if errors.As(err, &se) {
			line, col := position(data, se.Offset)
			return in, usageErrorf("%s: line %d, column %d: %v", flag, line, col, se)
		}
		if errors.Is(err, io.ErrUnexpectedEOF) {
			line, col := position(data, int64(len(data)))
			return in, usageErrorf("%s: line %d, column %d: the JSON ends early", flag, line, col)
		}
		return in, usageErrorf("%s is not a JSON object with the keys UserName, AccessKeyId and Status", flag)
	}
	if _, err := dec.Token(); err != io.EOF {
		return in, usageErrorf("%s: unexpected data after the JSON object", flag)
	}
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		var dst **string
		switch k {
		case "UserName":
			dst = &in.UserName
		case "AccessKeyId":
			dst = &in.AccessKeyID
		case "Status":
			dst = &in.Status
		default:
			return in, usageErrorf("%s: unknown parameter %q; the parameters are UserName, AccessKeyId and Status", flag, k)
		}
		var v string
		if err := json.Unmarshal(raw[k], &v); err != nil || bytes.Equal(bytes.TrimSpace(raw[k]), []byte("null")) {
			return in, usageErrorf("%s: %s must be a string, not %s", flag, k, bytes.TrimSpace(raw[k]))
		}
		if v == "" {
			return in, usageErrorf("%s: %s is empty: give a value, or leave the key out", flag, k)
		}
		*dst = &v
	}
	return in, nil
}

// parseUpdateYAML decodes the --cli-input-yaml document: the same keys,
// checked by parseUpdateInput once in JSON form.
func parseUpdateYAML(data []byte) (updateInput, error) {
	if len(data) > maxInputJSON {
		return updateInput{}, usageErrorf("--cli-input-yaml is larger than %d bytes", maxInputJSON)
	}
	var raw map[string]any
	if err := yaml.Unmarshal(data, &raw); err != nil {
		return updateInput{}, usageErrorf("--cli-input-yaml: %v", strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if raw == nil {
		return updateInput{}, usageErrorf("--cli-input-yaml is empty: give a YAML mapping such as 'AccessKeyId: AKIA...' and 'Status: Inactive'")
	}
	js, err := json.Marshal(raw)
	if err != nil {
		return updateInput{}, usageErrorf("--cli-input-yaml: the parameters are strings: UserName, AccessKeyId and Status")
	}
	return parseUpdateInput(js, "--cli-input-yaml")
}

func (o *updateOptions) printSkeleton() error {
	if o.Skeleton == "yaml-input" {
		// As the AWS CLI prints it: each parameter with its documentation.
		_, err := io.WriteString(o.f.IO.Out, `UserName: '' # The name of the user whose key you want to update.
AccessKeyId: '' # [REQUIRED] The access key ID of the secret access key you want to update.
Status: Active # [REQUIRED] The status you want to assign to the secret access key. Valid values are: Active, Inactive.
`)
		return err
	}
	if o.Skeleton == "input" {
		return writeJSON(o.f.IO.Out, struct {
			UserName    string
			AccessKeyID string `json:"AccessKeyId"`
			Status      string
		}{Status: string(iamx.StatusActive)})
	}
	return writeJSON(o.f.IO.Out, changeOutput{AccessKeys: []keyChange{{
		UserName: "UserName", AccessKeyID: "AccessKeyId", Status: iamx.StatusActive, PreviousStatus: iamx.StatusInactive,
	}}})
}

func runUpdate(ctx context.Context, opts *updateOptions) error {
	return opts.setOne(ctx)
}
