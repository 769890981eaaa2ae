package cmd

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/fatih/color"
	"github.com/jmespath/go-jmespath"
	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"
)

// view is one command's data in every output form: the JSON document
// (stable, PascalCase like AWS's responses) and the rows of the table and
// text forms, which share their column order.
type view struct {
	JSON   any
	Header []string
	// Rows hold text-form values: RFC 3339 times, "" for none.
	Rows [][]string
	// TableRows, when set, hold the terminal form: relative ages, "-" for
	// none. Same shape as Rows.
	TableRows [][]string
}

// outputFormat is --output, or table on a terminal and text otherwise.
func (f *Factory) outputFormat() string {
	if f.Global.Output != "" {
		return f.Global.Output
	}
	if f.Global.DefaultOutput != "" {
		return f.Global.DefaultOutput
	}
	if f.IO.IsStdoutTTY() {
		return "table"
	}
	return "text"
}

// colorOn: --color on or off; otherwise colour on a terminal unless
// NO_COLOR is set (https://no-color.org), as gh does.
func (f *Factory) colorOn() bool {
	switch f.Global.Color {
	case "on":
		return true
	case "off":
		return false
	}
	return f.IO.IsStdoutTTY() && os.Getenv("NO_COLOR") == ""
}

// render writes v to stdout in the chosen format.
func (f *Factory) render(v view) error {
	w := f.IO.Out
	if f.Global.Query != "" {
		doc, err := jsonValue(v.JSON)
		if err != nil {
			return err
		}
		res, err := search(f.Global.Query, doc)
		if err != nil {
			return usageErrorf("--query %q: %v", f.Global.Query, err)
		}
		switch f.outputFormat() {
		case "json":
			return writeJSON(w, res)
		case "yaml", "yaml-stream":
			return writeYAML(w, res, f.outputFormat() == "yaml-stream")
		}
		return writeQueryText(w, res)
	}
	switch f.outputFormat() {
	case "json":
		return writeJSON(w, v.JSON)
	case "yaml", "yaml-stream":
		return writeYAML(w, v.JSON, f.outputFormat() == "yaml-stream")
	case "table":
		rows := v.TableRows
		if rows == nil {
			rows = v.Rows
		}
		if len(rows) == 0 {
			return nil // the message on stderr said there was nothing; a bare header adds nothing
		}
		return f.writeTable(w, v.Header, rows)
	default:
		return writeText(w, v.Rows)
	}
}

// compileQuery compiles a JMESPath expression. Like the AWS CLI, it
// accepts the legacy literal form in which a backtick literal that is not
// JSON (`Inactive`) means the string it spells: AWS's own examples use it.
func compileQuery(q string) (*jmespath.JMESPath, error) {
	jp, err := jmespath.Compile(q)
	if err != nil {
		if fixed := legacyLiterals(q); fixed != q {
			if jp2, err2 := jmespath.Compile(fixed); err2 == nil {
				return jp2, nil
			}
		}
	}
	return jp, err
}

// legacyLiterals rewrites backtick literals that are not valid JSON into
// JSON strings, leaving quoted strings and identifiers untouched.
func legacyLiterals(q string) string {
	var b strings.Builder
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch c {
		case '\'', '"':
			j := i + 1
			for j < len(q) && q[j] != c {
				if q[j] == '\\' {
					j++
				}
				j++
			}
			if j >= len(q) {
				j = len(q) - 1
			}
			b.WriteString(q[i : j+1])
			i = j
		case '`':
			j := i + 1
			var lit strings.Builder
			for j < len(q) && q[j] != '`' {
				if q[j] == '\\' && j+1 < len(q) && q[j+1] == '`' {
					j++
				}
				lit.WriteByte(q[j])
				j++
			}
			if j >= len(q) {
				b.WriteString(q[i:])
				return b.String()
			}
			content := strings.TrimSpace(lit.String())
			if json.Valid([]byte(content)) {
				b.WriteString(q[i : j+1])
			} else {
				enc, _ := json.Marshal(content)
				b.WriteByte('`')
				b.WriteString(strings.ReplaceAll(string(enc), "`", "\\`"))
				b.WriteByte('`')
			}
			i = j
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// search evaluates a query. The JMESPath library can panic on odd
// expressions at evaluation time; that is a usage error, not a crash.
func search(query string, doc any) (res any, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("cannot evaluate: %v", r)
		}
	}()
	q, err := compileQuery(query)
	if err != nil {
		return nil, err
	}
	return q.Search(doc)
}

// jsonValue turns a typed document into the generic form JMESPath walks.
func jsonValue(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var doc any
	err = json.Unmarshal(b, &doc)
	return doc, err
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "    ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// writeText writes tab-separated rows: easy to cut, awk and read in shell.
func writeText(w io.Writer, rows [][]string) error {
	var b strings.Builder
	for _, r := range rows {
		b.WriteString(strings.Join(r, "\t"))
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeQueryText prints a query result the way the AWS CLI's text output
// does: scalars on a line, lists of scalars tab-separated, objects as their
// values in key order, one per line.
func writeQueryText(w io.Writer, v any) error {
	var b strings.Builder
	var line func(v any) string
	line = func(v any) string {
		switch x := v.(type) {
		case nil:
			return "None"
		case string:
			return x
		case []any:
			parts := make([]string, len(x))
			for i, e := range x {
				parts[i] = line(e)
			}
			return strings.Join(parts, "\t")
		case map[string]any:
			keys := make([]string, 0, len(x))
			for k := range x {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			parts := make([]string, len(keys))
			for i, k := range keys {
				parts[i] = line(x[k])
			}
			return strings.Join(parts, "\t")
		default:
			out, _ := json.Marshal(x)
			return string(out)
		}
	}
	if list, ok := v.([]any); ok {
		for _, e := range list {
			b.WriteString(line(e))
			b.WriteByte('\n')
		}
	} else {
		b.WriteString(line(v))
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func (f *Factory) writeTable(w io.Writer, header []string, rows [][]string) error {
	t := tablewriter.NewTable(w,
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithRowAutoWrap(tw.WrapNone),
		tablewriter.WithHeaderAlignment(tw.AlignLeft),
		tablewriter.WithRowAlignment(tw.AlignLeft),
	)
	t.Header(toAny(header)...)
	color := f.colorOn()
	for _, r := range rows {
		cells := toAny(r)
		if color {
			for i, c := range r {
				cells[i] = colorStatus(c)
			}
		}
		if err := t.Append(cells...); err != nil {
			return err
		}
	}
	return t.Render()
}

func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// colorStatus paints key states: green Active, yellow Inactive. The
// caller decided that colour is on (colorOn).
func colorStatus(s string) string {
	var c *color.Color
	switch s {
	case "Active":
		c = color.New(color.FgGreen)
	case "Inactive":
		c = color.New(color.FgYellow)
	default:
		return s
	}
	c.EnableColor()
	return c.Sprint(s)
}

// textTime is a time in text and JSON output: RFC 3339 in UTC, "" for none.
func textTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// jsonTime is a time in JSON output: null for none.
func jsonTime(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := textTime(t)
	return &s
}

// ageDays is whole days between t and now.
func ageDays(t, now time.Time) int {
	if t.IsZero() || now.Before(t) {
		return 0
	}
	return int(now.Sub(t) / (24 * time.Hour))
}

// relative is a terminal-friendly age: "3 days ago", "5 hours ago", "never".
func relative(t, now time.Time, never string) string {
	if t.IsZero() {
		return never
	}
	d := now.Sub(t)
	if d < 0 {
		d = 0
	}
	plural := func(n int, unit string) string {
		if n == 1 {
			return fmt.Sprintf("1 %s ago", unit)
		}
		return fmt.Sprintf("%d %ss ago", n, unit)
	}
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return plural(int(d/time.Minute), "minute")
	case d < 24*time.Hour:
		return plural(int(d/time.Hour), "hour")
	case d < 365*24*time.Hour:
		return plural(int(d/(24*time.Hour)), "day")
	}
	return plural(int(d/(365*24*time.Hour)), "year")
}

// dash shows "" as "-" in tables.
func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
