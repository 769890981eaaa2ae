package cmd

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/fatih/color"
	jmespath "github.com/jmespath-community/go-jmespath"
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
		raw, err := json.Marshal(v.JSON)
		if err != nil {
			return err
		}
		var doc any
		if err := json.Unmarshal(raw, &doc); err != nil {
			return err
		}
		res, err := search(f.Global.Query, doc)
		if err != nil {
			return usageErrorf("--query %q: %s", f.Global.Query, queryError(f.Global.Query, err))
		}
		if m, ok := res.(map[string]any); ok && len(m) == 0 && f.outputFormat() != "text" && f.outputFormat() != "table" {
			return nil // the AWS CLI prints nothing for an empty object
		}
		switch f.outputFormat() {
		case "json":
			return writeOrderedJSON(w, res, newKeyOrder(raw, f.Global.Query))
		case "yaml", "yaml-stream":
			return writeYAML(w, res, f.outputFormat() == "yaml-stream")
		case "table":
			return writeQueryTable(w, f.Title, res, f.IO.TerminalWidth())
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
func compileQuery(q string) (jmespath.JMESPath, error) {
	jp, err := jmespath.Compile(q)
	if err != nil {
		if fixed, at := legacyLiterals(q); fixed != q {
			jp2, err2 := jmespath.Compile(fixed)
			if err2 == nil {
				return jp2, nil
			}
			// With the legacy literals read as the AWS CLI reads them, the
			// error that is left is the query's real one (an unclosed
			// bracket, say), not the literal's: report it, at its column
			// in the query as typed.
			var se jmespath.SyntaxError
			if errors.As(err2, &se) {
				off := min(max(se.Offset, 0), len(at)-1)
				return nil, &querySyntaxError{msg: strings.TrimPrefix(se.Error(), "SyntaxError: "), offset: at[off]}
			}
		}
	}
	return jp, err
}

// querySyntaxError is a syntax error of a query whose legacy literals
// were rewritten, at its offset in the query as typed.
type querySyntaxError struct {
	msg    string
	offset int
}

func (e *querySyntaxError) Error() string { return e.msg }

// legacyLiterals rewrites backtick literals that are not valid JSON into
// JSON strings, as the AWS CLI's JMESPath reads them (`Active` is the
// string "Active"), leaving quoted strings and identifiers untouched. at
// maps each byte offset of the result (and its end) to the offset in q
// it came from.
func legacyLiterals(q string) (string, []int) {
	var b strings.Builder
	var at []int
	put := func(s string, from int) {
		b.WriteString(s)
		for range len(s) {
			at = append(at, from)
		}
	}
	copyRange := func(i, j int) { // q[i:j] as it is
		b.WriteString(q[i:j])
		for k := i; k < j; k++ {
			at = append(at, k)
		}
	}
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
			copyRange(i, j+1)
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
				copyRange(i, len(q))
				return b.String(), append(at, len(q))
			}
			content := strings.TrimSpace(lit.String())
			if json.Valid([]byte(content)) {
				copyRange(i, j+1)
			} else {
				enc, _ := json.Marshal(content)
				put("`", i)
				put(strings.ReplaceAll(string(enc), "`", "\\`"), i+1)
				put("`", j)
			}
			i = j
		default:
			copyRange(i, i+1)
		}
	}
	return b.String(), append(at, len(q))
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
	res, err = q.Search(doc)
	if err != nil {
		return nil, err
	}
	// An expression reference (&name) is not a value to print.
	if _, merr := json.Marshal(res); merr != nil {
		return nil, errors.New("the result is not a JSON value (an &expression is only an argument to functions such as sort_by)")
	}
	return res, nil
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

// writeQueryText prints a query result as the AWS CLI's text output does
// (awscli's text formatter): a list of scalars on one tab-separated line;
// for a list of objects, each object's scalar values on a line, in the
// sorted order of every scalar key the objects have (None where one lacks
// it), its lists and objects after it, each line of those led by its key in
// capitals; lists of lists one line each.
func writeQueryText(w io.Writer, v any) error {
	var b strings.Builder
	formatText(&b, v, "", nil)
	_, err := io.WriteString(w, b.String())
	return err
}

func formatText(b *strings.Builder, v any, ident string, scalarKeys []string) {
	switch x := v.(type) {
	case map[string]any:
		var scalars []string
		type pair struct {
			k string
			v any
		}
		var nested []pair
		if scalarKeys == nil {
			for _, k := range sortedKeys(x) {
				if isScalar(x[k]) {
					scalars = append(scalars, textScalar(x[k]))
				} else {
					nested = append(nested, pair{k, x[k]})
				}
			}
		} else {
			for _, k := range scalarKeys {
				scalars = append(scalars, textScalar(x[k]))
			}
			for _, k := range sortedKeys(x) {
				if !slices.Contains(scalarKeys, k) {
					nested = append(nested, pair{k, x[k]})
				}
			}
		}
		if len(scalars) > 0 {
			if ident != "" {
				scalars = append([]string{strings.ToUpper(ident)}, scalars...)
			}
			b.WriteString(strings.Join(scalars, "\t") + "\n")
		}
		for _, p := range nested {
			formatText(b, p.v, p.k, nil)
		}
	case []any:
		if len(x) == 0 {
			return
		}
		hasMap, hasList := false, false
		for _, e := range x {
			switch e.(type) {
			case map[string]any:
				hasMap = true
			case []any:
				hasList = true
			}
		}
		switch {
		case hasMap:
			keys := map[string]bool{}
			for _, e := range x {
				if m, ok := e.(map[string]any); ok {
					for k, val := range m {
						if isScalar(val) {
							keys[k] = true
						}
					}
				}
			}
			all := make([]string, 0, len(keys))
			for k := range keys {
				all = append(all, k)
			}
			sort.Strings(all)
			for _, e := range x {
				formatText(b, e, ident, all)
			}
		case hasList:
			var scalars []any
			var rest []any
			for _, e := range x {
				if isScalar(e) {
					scalars = append(scalars, e)
				} else {
					rest = append(rest, e)
				}
			}
			if len(scalars) > 0 {
				scalarLine(b, scalars, ident)
			}
			for _, e := range rest {
				formatText(b, e, ident, nil)
			}
		default:
			scalarLine(b, x, ident)
		}
	default:
		b.WriteString(textScalar(x) + "\n")
	}
}

func scalarLine(b *strings.Builder, xs []any, ident string) {
	if ident != "" {
		for _, e := range xs {
			b.WriteString(strings.ToUpper(ident) + "\t" + textScalar(e) + "\n")
		}
		return
	}
	parts := make([]string, len(xs))
	for i, e := range xs {
		parts[i] = textScalar(e)
	}
	b.WriteString(strings.Join(parts, "\t") + "\n")
}

func isScalar(v any) bool {
	switch v.(type) {
	case map[string]any, []any:
		return false
	}
	return true
}

// textScalar spells a scalar as Python's str() does in the AWS CLI.
func textScalar(v any) string {
	switch x := v.(type) {
	case nil:
		return "None"
	case string:
		return x
	case bool:
		if x {
			return "True"
		}
		return "False"
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1e15 {
			return strconv.FormatInt(int64(x), 10)
		}
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}

func sortedKeys(m map[string]any) []string { return slices.Sorted(maps.Keys(m)) }

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
