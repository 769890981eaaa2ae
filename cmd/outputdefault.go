package cmd

import (
	"bufio"
	"bytes"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

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

// writeYAML writes the generic form of v as YAML the way the AWS CLI v2's
// YAML dumper does (ruamel's safe dumper): keys sorted, lists not indented
// under their key, strings plain unless that would read as something else
// and then in single quotes, a scalar result as one JSON value; stream
// wraps the document in a one-item list, as yaml-stream does for one page.
func writeYAML(w io.Writer, v any, stream bool) error {
	doc, err := jsonValue(v)
	if err != nil {
		return err
	}
	if stream {
		doc = []any{doc}
	}
	switch doc.(type) {
	case map[string]any, []any:
	default:
		return writeScalarLine(w, doc)
	}
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	enc.CompactSeqIndent()
	if err := enc.Encode(yamlNode(doc)); err != nil {
		return err
	}
	if err := enc.Close(); err != nil {
		return err
	}
	_, err = w.Write(foldYAML(b.Bytes()))
	return err
}

// yamlWidth is the line width past which the AWS CLI's YAML dumper folds
// long plain and single-quoted strings at a space.
const yamlWidth = 80

// foldYAML folds long string values the way libyaml (whose emitter both
// ruamel and go-yaml derive from) does with a line width of 80, which
// go-yaml turns off and offers no way to set: at a space, once a line is
// longer than the width, the line breaks and goes on indented two columns
// past its key (or its list item's dash). Only plain and single-quoted
// values on one line are folded; keys and quoted escapes are left as
// they are.
func foldYAML(in []byte) []byte {
	var out bytes.Buffer
	for _, line := range strings.SplitAfter(string(in), "\n") {
		body := strings.TrimSuffix(line, "\n")
		if utf8.RuneCountInString(body) <= yamlWidth {
			out.WriteString(line)
			continue
		}
		prefix, value, cont, ok := yamlValue(body)
		if !ok {
			out.WriteString(line)
			continue
		}
		out.WriteString(prefix)
		col := utf8.RuneCountInString(prefix)
		inner := []rune(value)
		closing := ""
		if strings.HasPrefix(value, "'") && strings.HasSuffix(value, "'") && len(inner) >= 2 {
			out.WriteByte('\'')
			col++
			inner, closing = inner[1:len(inner)-1], "'"
		}
		spaces := false
		for i, r := range inner {
			if r == ' ' {
				first, last := i == 0, i == len(inner)-1
				if !spaces && col > yamlWidth && !first && !last && inner[i+1] != ' ' {
					out.WriteString("\n" + strings.Repeat(" ", cont))
					col = cont
				} else {
					out.WriteRune(r)
					col++
				}
				spaces = true
				continue
			}
			out.WriteRune(r)
			col++
			spaces = false
		}
		out.WriteString(closing)
		if strings.HasSuffix(line, "\n") {
			out.WriteByte('\n')
		}
	}
	return out.Bytes()
}

// yamlValue splits a block YAML line into what precedes its scalar value
// (indentation, list dashes, "key: "), the value, and the indentation of
// the value's continuation lines; ok is false for a line with no plain or
// single-quoted scalar value.
func yamlValue(line string) (prefix, value string, cont int, ok bool) {
	i := 0
	for i < len(line) && line[i] == ' ' {
		i++
	}
	anchor := i
	for strings.HasPrefix(line[i:], "- ") {
		anchor = i
		i += 2
		cont = anchor + 2
	}
	rest := line[i:]
	if k := yamlKeyEnd(rest); k > 0 {
		prefix, value = line[:i+k], rest[k:]
		cont = i + 2
	} else {
		prefix, value = line[:i], rest
		if i == anchor { // no dash: a bare scalar document
			return "", "", 0, false
		}
	}
	if value == "" || value[0] == '"' || value[0] == '|' || value[0] == '>' || value[0] == '{' || value[0] == '[' {
		return "", "", 0, false
	}
	return prefix, value, cont, true
}

// yamlKeyEnd is the length of a leading "key: " (a plain or single-quoted
// key), 0 if rest does not start with one.
func yamlKeyEnd(rest string) int {
	if strings.HasPrefix(rest, "'") {
		for j := 1; j < len(rest); j++ {
			if rest[j] == '\'' {
				if j+1 < len(rest) && rest[j+1] == '\'' {
					j++
					continue
				}
				if strings.HasPrefix(rest[j+1:], ": ") {
					return j + 3
				}
				return 0
			}
		}
		return 0
	}
	if k := strings.Index(rest, ": "); k > 0 && !strings.ContainsAny(rest[:k], "'\"") {
		return k + 2
	}
	return 0
}

// writeScalarLine is a scalar result as the AWS CLI writes it in YAML: as
// JSON, so that no YAML document end marker follows it.
func writeScalarLine(w io.Writer, v any) error {
	var b bytes.Buffer
	writeScalarJSON(&b, v)
	b.WriteByte('\n')
	_, err := w.Write(b.Bytes())
	return err
}

// yamlNode is the node tree of a generic JSON value, styled as above.
func yamlNode(v any) *yaml.Node {
	switch x := v.(type) {
	case map[string]any:
		n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			n.Content = append(n.Content, yamlString(k), yamlNode(x[k]))
		}
		return n
	case []any:
		n := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		for _, e := range x {
			n.Content = append(n.Content, yamlNode(e))
		}
		return n
	case string:
		return yamlString(x)
	case nil:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}
	case bool:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: strconv.FormatBool(x)}
	case float64:
		var b bytes.Buffer
		writeScalarJSON(&b, x)
		tag := "!!float"
		if x == math.Trunc(x) && !strings.ContainsAny(b.String(), ".eE") {
			tag = "!!int"
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: b.String()}
	}
	var b bytes.Buffer
	writeScalarJSON(&b, v)
	return &yaml.Node{Kind: yaml.ScalarNode, Value: b.String()}
}

// yamlString is a string scalar: plain when YAML reads the plain form
// back as this string, single-quoted otherwise (dates, numbers, true,
// "", leading or trailing spaces), as ruamel writes them; the encoder
// turns to double quotes by itself where single quotes cannot hold the
// string (control characters).
func yamlString(s string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
	// A string over several lines, too, as ruamel writes it (a quoted
	// scalar with blank lines, not a |- block).
	if plain, err := yaml.Marshal(s); err != nil || len(plain) == 0 || plain[0] == '"' || plain[0] == '\'' || strings.Contains(s, "\n") {
		n.Style = yaml.SingleQuotedStyle
	}
	return n
}
