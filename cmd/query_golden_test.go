package cmd

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// TestQueryOutputLikeAWSCLI: --query results as text, JSON and tables are what the
// AWS CLI prints for the same document and query. The golden files come
// from the AWS CLI's own formatters (testdata/query/gen.py).
func TestQueryOutputLikeAWSCLI(t *testing.T) {
	dir := filepath.Join("testdata", "query")
	data, err := os.ReadFile(filepath.Join(dir, "cases.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cases []struct{ Name, Doc, Query string }
	if err := json.Unmarshal(data, &cases); err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join(dir, c.Doc))
			if err != nil {
				t.Fatal(err)
			}
			var doc any
			if err := json.Unmarshal(raw, &doc); err != nil {
				t.Fatal(err)
			}
			res, err := search(c.Query, doc)
			if err != nil {
				t.Fatal(err)
			}
			for _, form := range []string{"text", "json", "table"} {
				want, err := os.ReadFile(filepath.Join(dir, c.Name+"."+form))
				if form == "table" && os.IsNotExist(err) {
					continue // the AWS CLI itself fails on this result
				}
				if err != nil {
					t.Fatal(err)
				}
				var got bytes.Buffer
				switch form {
				case "text":
					err = writeQueryText(&got, res)
				case "json":
					err = writeOrderedJSON(&got, res, newKeyOrder(raw, c.Query))
				default:
					err = writeQueryTable(&got, "ListAccessKeys", res, 80)
				}
				if err != nil {
					t.Fatal(err)
				}
				if got.String() != string(want) {
					t.Errorf("%s of %q:\ngot:\n%s\nthe AWS CLI prints:\n%s", form, c.Query, got.String(), want)
				}
			}
		})
	}
}

// FuzzQuery: any --query compiles or fails with a worded error, and its
// result prints in every form without a panic.
func FuzzQuery(f *testing.F) {
	raw, err := os.ReadFile(filepath.Join("testdata", "query", "list.json"))
	if err != nil {
		f.Fatal(err)
	}
	var doc any
	if err := json.Unmarshal(raw, &doc); err != nil {
		f.Fatal(err)
	}
	for _, q := range []string{"AccessKeyMetadata[.Status", "a[?b==", "{a: b, \"c\": d}", "length(@)", "é[", "`x`"} {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, q string) {
		res, err := search(q, doc)
		if err != nil {
			_ = queryError(q, err)
			return
		}
		var b bytes.Buffer
		_ = writeQueryText(&b, res)
		_ = writeOrderedJSON(&b, res, newKeyOrder(raw, q))
		_ = writeYAML(&b, res, true)
		_ = writeQueryTable(&b, "List", res, 80)
	})
}
