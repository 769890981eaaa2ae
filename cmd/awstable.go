package cmd

import (
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/mattn/go-runewidth"
)

// This file draws a --query result as the AWS CLI's table output does
// (awscli's TableFormatter and MultiTable): a titled section per object
// or list, the scalar keys of objects as column headers in sorted order,
// nested values in indented sections, columns scaled to the widest
// section, and, when that is wider than the terminal (80 columns when
// stdout is not one), single-row sections turned into key/value rows.

type awsSection struct {
	title     string
	headers   []string
	rows      [][]string
	indent    int
	numCols   int
	maxWidths []int
}

var eastAsian = runewidth.Condition{EastAsianWidth: true}

// textWidth counts wide, full-width and ambiguous East Asian characters
// as two columns, every other character as one, as the AWS CLI does.
func textWidth(s string) int {
	n := 0
	for _, r := range s {
		if eastAsian.RuneWidth(r) == 2 {
			n += 2
		} else {
			n++
		}
	}
	return n
}

func (s *awsSection) updateWidths(row []string) {
	if len(s.maxWidths) == 0 {
		for _, e := range row {
			s.maxWidths = append(s.maxWidths, textWidth(e))
		}
		return
	}
	for i, e := range row {
		if i < len(s.maxWidths) {
			s.maxWidths[i] = max(s.maxWidths[i], textWidth(e))
		}
	}
}

func (s *awsSection) addHeader(h []string) {
	s.updateWidths(h)
	if s.numCols == 0 {
		s.numCols = len(h)
	}
	s.headers = h
}

func (s *awsSection) addRow(row []string) {
	if s.numCols == 0 {
		s.numCols = len(row)
	}
	s.rows = append(s.rows, row)
	s.updateWidths(row)
}

func (s *awsSection) columnWidths(padding, maxWidth int) []int {
	w := make([]int, len(s.maxWidths))
	sum := 0
	for i, m := range s.maxWidths {
		w[i] = m + padding
		sum += w[i]
	}
	if maxWidth <= 0 || len(w) == 0 {
		return w
	}
	scale := float64(maxWidth) / float64(sum)
	total := 0
	for i := range w {
		w[i] = int(math.RoundToEven(scale * float64(w[i])))
		total += w[i]
	}
	off := total - maxWidth
	for off != 0 {
		for k := range w {
			i := k
			if off < 0 {
				i = len(w) - 1 - k
			}
			if off > 0 {
				w[i]--
				off--
			} else {
				w[i]++
				off++
			}
			if off == 0 {
				break
			}
		}
	}
	return w
}

func (s *awsSection) totalWidth(padding int, border bool, outer int) int {
	total := 0
	for _, w := range s.columnWidths(0, 0) {
		total += w + padding
	}
	if border {
		total += 2
	}
	total += 2 * outer
	return max(textWidth(s.title)+2+2*outer, total)
}

type awsTable struct {
	sections []*awsSection
	cur      *awsSection
	width    int // the terminal's
}

func (t *awsTable) newSection(title string, indent int) {
	t.cur = &awsSection{title: title, indent: indent}
	t.sections = append(t.sections, t.cur)
}

// build mirrors TableFormatter._build_table.
func (t *awsTable) build(title string, hasTitle bool, v any, indent int) bool {
	if empty(v) {
		return false
	}
	if hasTitle {
		t.newSection(title, indent)
	}
	switch x := v.(type) {
	case []any:
		if _, ok := x[0].(map[string]any); ok {
			t.subTableFromList(x, indent, title)
			break
		}
		for _, item := range x {
			switch it := item.(type) {
			case map[string]any:
				t.build("", false, it, 0)
			case []any:
				all := true
				for _, e := range it {
					all = all && isScalar(e)
				}
				if all {
					row := make([]string, len(it))
					for i, e := range it {
						row[i] = textScalar(e)
					}
					t.cur.addRow(row)
				} else {
					t.build("", false, it, 0)
				}
			default:
				t.cur.addRow([]string{textScalar(it)})
			}
		}
	case map[string]any:
		t.subTableFromDict(x, indent)
	}
	return true
}

// empty is Python's falsiness of a JSON value.
func empty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case []any:
		return len(x) == 0
	case map[string]any:
		return len(x) == 0
	case string:
		return x == ""
	case bool:
		return !x
	case float64:
		return x == 0
	}
	return false
}

func groupKeys(m map[string]any) (headers, more []string) {
	for k, v := range m {
		if isScalar(v) {
			headers = append(headers, k)
		} else {
			more = append(more, k)
		}
	}
	sort.Strings(headers)
	sort.Strings(more)
	return headers, more
}

func (t *awsTable) subTableFromDict(m map[string]any, indent int) {
	headers, more := groupKeys(m)
	if t.cur == nil {
		t.newSection("", 0)
	}
	switch {
	case len(headers) == 1:
		t.cur.addRow([]string{headers[0], textScalar(m[headers[0]])})
	case len(headers) > 1:
		t.cur.addHeader(headers)
		row := make([]string, len(headers))
		for i, k := range headers {
			row[i] = textScalar(m[k])
		}
		t.cur.addRow(row)
	}
	for _, k := range more {
		t.build(k, true, m[k], indent+1)
	}
}

func (t *awsTable) subTableFromList(list []any, indent int, title string) {
	hs, ms := map[string]bool{}, map[string]bool{}
	for _, e := range list {
		if m, ok := e.(map[string]any); ok {
			h, mo := groupKeys(m)
			for _, k := range h {
				hs[k] = true
			}
			for _, k := range mo {
				ms[k] = true
			}
		}
	}
	headers, more := slices.Sorted(maps.Keys(hs)), slices.Sorted(maps.Keys(ms))
	if t.cur == nil {
		t.newSection(title, indent)
	}
	t.cur.addHeader(headers)
	for i, e := range list {
		m, _ := e.(map[string]any)
		if i > 0 && len(more) > 0 {
			t.newSection(title, indent)
			t.cur.addHeader(headers)
		}
		row := make([]string, len(headers))
		for j, h := range headers {
			if v, ok := m[h]; ok {
				row[j] = textScalar(v)
			}
		}
		t.cur.addRow(row)
		for _, k := range more {
			if v, ok := m[k]; ok {
				t.build(k, true, v, indent+1)
			}
		}
	}
}

func (t *awsTable) maxWidth() int {
	w := 0
	for _, s := range t.sections {
		w = max(w, s.totalWidth(4, true, s.indent))
	}
	return w
}

func centerText(text string, length int, left, right string) string {
	tl := textWidth(text)
	start := max(length/2-tl/2-1, 0)
	var b strings.Builder
	b.WriteString(left + strings.Repeat(" ", start) + text)
	so := textWidth(left) + start + tl
	b.WriteString(strings.Repeat(" ", max(length-textWidth(right)-so, 0)))
	b.WriteString(right)
	return b.String()
}

func alignLeft(text string, length int, left, right string) string {
	tl := textWidth(text)
	pad := 2
	if length-(tl+2+textWidth(left)+textWidth(right)) < 0 {
		pad = 0
	}
	so := len(left) + pad + tl
	return left + strings.Repeat(" ", pad) + text + strings.Repeat(" ", max(length-so-len(right), 0)) + right
}

func lineBreak(widths []int) string {
	var b strings.Builder
	for i, w := range widths {
		if i == 0 {
			b.WriteString("+" + strings.Repeat("-", max(w-2, 0)) + "+")
		} else {
			b.WriteString(strings.Repeat("-", max(w-1, 0)) + "+")
		}
	}
	return b.String()
}

func (t *awsTable) render(w io.Writer) error {
	mw := t.maxWidth()
	if mw > t.width {
		for i, s := range t.sections {
			if len(s.rows) == 1 && len(s.headers) > 0 {
				n := &awsSection{title: s.title, indent: s.indent}
				for j, h := range s.headers {
					if j < len(s.rows[0]) {
						n.addRow([]string{h, s.rows[0][j]})
					}
				}
				t.sections[i] = n
			}
		}
		mw = t.maxWidth()
	}
	var b strings.Builder
	b.WriteString(strings.Repeat("-", mw) + "\n")
	for _, s := range t.sections {
		edge := strings.Repeat("|", s.indent)
		line := func(text string) { b.WriteString(edge + text + edge + "\n") }
		width := mw - 2*s.indent
		if s.title != "" {
			line(centerText(s.title, width, "|", "|"))
			if len(s.headers) == 0 && len(s.rows) == 0 {
				line("+" + strings.Repeat("-", max(width-2, 0)) + "+")
			}
		}
		if len(s.headers) > 0 {
			widths := s.columnWidths(4, width)
			var cur strings.Builder
			for i, h := range s.headers {
				le := ""
				if i == 0 {
					le = "|"
				}
				if i < len(widths) {
					cur.WriteString(centerText(h, widths[i], le, "|"))
				}
			}
			line(lineBreak(widths))
			line(cur.String())
		}
		if len(s.rows) > 0 {
			widths := s.columnWidths(4, width)
			if len(widths) == 0 {
				continue
			}
			line(lineBreak(widths))
			for _, row := range s.rows {
				var cur strings.Builder
				for i, e := range row {
					le := ""
					if i == 0 {
						le = "|"
					}
					if i < len(widths) {
						cur.WriteString(alignLeft(e, widths[i], le, "|"))
					}
				}
				line(cur.String())
			}
			line(lineBreak(widths))
		}
	}
	_, err := fmt.Fprint(w, b.String())
	return err
}

// writeQueryTable draws a query result as the AWS CLI's table output does,
// titled like the AWS CLI's operation name; width is the terminal's.
func writeQueryTable(w io.Writer, title string, v any, width int) error {
	t := &awsTable{width: width}
	if !t.build(title, true, v, 0) {
		return nil
	}
	return t.render(w)
}

// tableTitle is the AWS CLI's title for a command's table: the IAM
// operation a command mirrors, else the command's name.
func tableTitle(command string) string {
	switch command {
	case "list":
		return "ListAccessKeys"
	case "update", "activate", "deactivate":
		return "UpdateAccessKey"
	case "":
		return "keyrot"
	}
	return strings.ToUpper(command[:1]) + command[1:]
}
