package cmd

import (
	"bytes"
	"encoding/json"
	"io"
	"regexp"
	"sort"
	"strings"
	"sync"
)

// keyOrder ranks object keys the way a query result should list them: in
// the order a multiselect hash ({Id: AccessKeyId, ...}) names them in the
// query, then in the order they first appear in the unqueried document. The
// AWS CLI keeps both orders; Go maps keep neither.
type keyOrder map[string]int

var hashKey = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`([A-Za-z_][A-Za-z0-9_]*|"(?:[^"\\]|\\.)*")\s*:`)
})

func newKeyOrder(doc []byte, query string) keyOrder {
	o := keyOrder{}
	// A multiselect hash's keys first: the result objects it builds list
	// them as the query names them, even where the document has the same
	// key elsewhere ({Key: AccessKeyId, Status: Status}).
	for _, m := range hashKey().FindAllStringSubmatch(query, -1) {
		k := strings.Trim(m[1], `"`)
		if _, ok := o[k]; !ok {
			o[k] = len(o)
		}
	}
	_ = o.walk(json.NewDecoder(bytes.NewReader(doc)))
	return o
}

// walk records the keys of one JSON value, in document order.
func (o keyOrder) walk(dec *json.Decoder) error {
	t, err := dec.Token()
	if err != nil {
		return err
	}
	d, ok := t.(json.Delim)
	if !ok {
		return nil
	}
	for dec.More() {
		if d == '{' {
			kt, err := dec.Token()
			if err != nil {
				return err
			}
			if k, ok := kt.(string); ok {
				if _, seen := o[k]; !seen {
					o[k] = len(o)
				}
			}
		}
		if err := o.walk(dec); err != nil {
			return err
		}
	}
	_, err = dec.Token() // the closing delimiter
	return err
}

func (o keyOrder) sort(keys []string) {
	sort.SliceStable(keys, func(i, j int) bool {
		a, aok := o[keys[i]]
		b, bok := o[keys[j]]
		switch {
		case aok && bok:
			return a < b
		case aok != bok:
			return aok
		}
		return keys[i] < keys[j]
	})
}

// writeOrderedJSON writes v (a generic JSON value) indented by four spaces
// like writeJSON, with object keys in o's order.
func writeOrderedJSON(w io.Writer, v any, o keyOrder) error {
	var b bytes.Buffer
	encodeOrdered(&b, v, o, "")
	b.WriteByte('\n')
	_, err := w.Write(b.Bytes())
	return err
}

func encodeOrdered(b *bytes.Buffer, v any, o keyOrder, indent string) {
	inner := indent + "    "
	switch x := v.(type) {
	case map[string]any:
		if len(x) == 0 {
			b.WriteString("{}")
			return
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		o.sort(keys)
		b.WriteString("{\n")
		for i, k := range keys {
			b.WriteString(inner)
			writeScalarJSON(b, k)
			b.WriteString(": ")
			encodeOrdered(b, x[k], o, inner)
			if i < len(keys)-1 {
				b.WriteByte(',')
			}
			b.WriteByte('\n')
		}
		b.WriteString(indent + "}")
	case []any:
		if len(x) == 0 {
			b.WriteString("[]")
			return
		}
		b.WriteString("[\n")
		for i, e := range x {
			b.WriteString(inner)
			encodeOrdered(b, e, o, inner)
			if i < len(x)-1 {
				b.WriteByte(',')
			}
			b.WriteByte('\n')
		}
		b.WriteString(indent + "]")
	default:
		writeScalarJSON(b, x)
	}
}

func writeScalarJSON(b *bytes.Buffer, v any) {
	var one bytes.Buffer
	enc := json.NewEncoder(&one)
	enc.SetEscapeHTML(false)
	if enc.Encode(v) != nil {
		b.WriteString("null") // search lets only JSON values through
		return
	}
	b.Write(bytes.TrimSuffix(one.Bytes(), []byte("\n")))
}
