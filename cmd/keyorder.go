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

// keyOrder puts a query result's object keys in the order the AWS CLI
// prints them: an object a multiselect hash built ({Id: AccessKeyId, ...})
// lists its keys as the query names them; any other object as the same
// object of the unqueried document did. Go maps keep neither order, so
// both are recorded by key set: the hashes' from the query, the objects'
// from the document. Objects found in neither fall back to the rank of
// their keys' first appearance (the document's, then the hashes'), then
// A-Z.
type keyOrder struct {
	sets map[string][]string // sorted keys joined by NUL → keys in order
	rank map[string]int
	seen []string // the document's keys in order of first appearance
}

var hashKey = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^([A-Za-z_][A-Za-z0-9_]*|"(?:[^"\\]|\\.)*")\s*:`)
})

func newKeyOrder(doc []byte, query string) keyOrder {
	o := keyOrder{sets: map[string][]string{}, rank: map[string]int{}}
	// The document's objects first; a hash with the same key set wins
	// below, as the hash is what built the result object.
	_ = o.walk(json.NewDecoder(bytes.NewReader(doc)))
	// The fallback rank, for objects built otherwise (merge(), say): the
	// document's keys in order, then the hashes' new ones, as the AWS CLI
	// keeps a merged object's keys and appends the others; never a map's
	// order, so that the output does not vary from run to run.
	o.rank = map[string]int{}
	for _, k := range o.seen {
		o.rank[k] = len(o.rank)
	}
	for _, keys := range multiselectHashes(query) {
		o.sets[keySet(keys)] = keys
		for _, k := range keys {
			if _, ok := o.rank[k]; !ok {
				o.rank[k] = len(o.rank)
			}
		}
	}
	return o
}

// multiselectHashes lists the keys of each multiselect hash of query, in
// the query's order: a key is a name or a quoted name followed by ':' at
// the top level of a {...} (not in a nested bracket, a string or a literal).
func multiselectHashes(query string) [][]string {
	type frame struct {
		hash bool
		keys []string
	}
	var stack []frame
	var out [][]string
	expectKey := false
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch c {
		case '\'', '`':
			// A raw string or a JSON literal: skip to its end.
			for i++; i < len(query) && query[i] != c; i++ {
				if query[i] == '\\' {
					i++
				}
			}
			continue
		case '{':
			stack = append(stack, frame{hash: true})
			expectKey = true
			continue
		case '[', '(':
			stack = append(stack, frame{})
			expectKey = false
			continue
		case '}', ']', ')':
			if n := len(stack); n > 0 {
				if stack[n-1].hash && len(stack[n-1].keys) > 0 {
					out = append(out, stack[n-1].keys)
				}
				stack = stack[:n-1]
			}
			expectKey = false
			continue
		case ',':
			expectKey = len(stack) > 0 && stack[len(stack)-1].hash
			continue
		case ' ', '\t', '\n', '\r':
			continue
		}
		if expectKey {
			if m := hashKey().FindStringSubmatch(query[i:]); m != nil {
				k := m[1]
				if strings.HasPrefix(k, `"`) {
					var u string
					if json.Unmarshal([]byte(k), &u) == nil {
						k = u
					}
				}
				top := &stack[len(stack)-1]
				top.keys = append(top.keys, k)
				i += len(m[0]) - 1
			}
			expectKey = false
			continue
		}
		if c == '"' {
			for i++; i < len(query) && query[i] != '"'; i++ {
				if query[i] == '\\' {
					i++
				}
			}
		}
	}
	return out
}

func keySet(keys []string) string {
	s := append([]string(nil), keys...)
	sort.Strings(s)
	return strings.Join(s, "\x00")
}

// walk records the keys of one JSON value and of every object in it, in
// document order.
func (o *keyOrder) walk(dec *json.Decoder) error {
	t, err := dec.Token()
	if err != nil {
		return err
	}
	d, ok := t.(json.Delim)
	if !ok {
		return nil
	}
	var keys []string
	for dec.More() {
		if d == '{' {
			kt, err := dec.Token()
			if err != nil {
				return err
			}
			if k, ok := kt.(string); ok {
				keys = append(keys, k)
				if _, seen := o.rank[k]; !seen {
					o.rank[k] = len(o.rank)
					o.seen = append(o.seen, k)
				}
			}
		}
		if err := o.walk(dec); err != nil {
			return err
		}
	}
	if d == '{' && len(keys) > 0 {
		if set := keySet(keys); o.sets[set] == nil {
			o.sets[set] = keys
		}
	}
	_, err = dec.Token() // the closing delimiter
	return err
}

func (o keyOrder) sort(keys []string) {
	if order, ok := o.sets[keySet(keys)]; ok {
		copy(keys, order)
		return
	}
	sort.SliceStable(keys, func(i, j int) bool {
		a, aok := o.rank[keys[i]]
		b, bok := o.rank[keys[j]]
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
