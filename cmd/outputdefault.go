package cmd

import (
	"bufio"
	"io"
	"os"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"
)

// defaultOutputs are the formats AWS_DEFAULT_OUTPUT and a profile's
// output setting may name (csv is keyrot audit's flag alone).
var defaultOutputs = []string{"table", "json", "text", "yaml", "yaml-stream"}

// defaultOutput is the output format the AWS CLI would use without
// --output: AWS_DEFAULT_OUTPUT, else the profile's `output =` in the
// shared config file. from names where it came from; "" and "" when
// neither says.
func (g *globalOptions) defaultOutput() (format, from string) {
	if v := strings.TrimSpace(os.Getenv("AWS_DEFAULT_OUTPUT")); v != "" {
		return v, "AWS_DEFAULT_OUTPUT"
	}
	profile := g.Profile
	for _, env := range []string{"AWS_PROFILE", "AWS_DEFAULT_PROFILE"} {
		if profile == "" {
			profile = os.Getenv(env)
		}
	}
	if profile == "" {
		profile = "default"
	}
	path := os.Getenv("AWS_CONFIG_FILE")
	if path == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", ""
		}
		path = filepath.Join(home, ".aws", "config")
	}
	f, err := os.Open(path)
	if err != nil {
		return "", ""
	}
	defer f.Close()
	if v := profileSetting(f, profile, "output"); v != "" {
		return v, "output in profile " + profile + " of " + path
	}
	return "", ""
}

// profileSetting reads key from profile's section of a shared config
// file: [default] or [profile NAME]. It reads at most 1 MiB.
func profileSetting(r io.Reader, profile, key string) string {
	sc := bufio.NewScanner(io.LimitReader(r, 1<<20))
	in := false
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || line[0] == '#' || line[0] == ';':
			continue
		case line[0] == '[':
			name := strings.Join(strings.Fields(strings.Trim(line, "[]")), " ")
			in = name == "profile "+profile || (profile == "default" && name == "default")
			continue
		}
		if !in {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if ok && strings.TrimSpace(k) == key {
			if i := strings.IndexAny(v, "#;"); i >= 0 && (i == 0 || v[i-1] == ' ' || v[i-1] == '\t') {
				v = v[:i]
			}
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// writeYAML writes the generic form of v as YAML, keys sorted as the AWS
// CLI writes them; stream wraps the document in a one-item list, as
// yaml-stream does for one page.
func writeYAML(w io.Writer, v any, stream bool) error {
	doc, err := jsonValue(v)
	if err != nil {
		return err
	}
	if stream {
		doc = []any{doc}
	}
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return err
	}
	return enc.Close()
}
