package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const goBenchOutput = `goos: linux
goarch: amd64
pkg: github.com/keyrot/keyrot/cmd
cpu: AMD EPYC
BenchmarkUpdateCommand-2   	     918	   1270512 ns/op	  160234 B/op	    1893 allocs/op	         1.000 requests/op
--- some log line
BenchmarkBroken-2 	 12 	 notanumber ns/op
PASS
ok  	github.com/keyrot/keyrot/cmd	3.1s
pkg: github.com/keyrot/keyrot/iamx
BenchmarkDeactivate 	    2870	    416123 ns/op	   60000 B/op	     478 allocs/op
`

func TestParseGoBench(t *testing.T) {
	lines, cpu, err := parseGoBench(strings.NewReader(goBenchOutput))
	if err != nil {
		t.Fatal(err)
	}
	if cpu != "AMD EPYC" {
		t.Errorf("cpu = %q", cpu)
	}
	if len(lines) != 2 {
		t.Fatalf("parsed %d lines, want 2: %+v", len(lines), lines)
	}
	if l := lines[0]; l.pkg != "github.com/keyrot/keyrot/cmd" || l.name != "BenchmarkUpdateCommand-2" || l.n != 918 || len(l.metrics) != 4 || l.metrics[3] != (metric{1, "requests/op"}) {
		t.Errorf("first line = %+v", l)
	}
	if l := lines[1]; l.pkg != "github.com/keyrot/keyrot/iamx" || l.metrics[0] != (metric{416123, "ns/op"}) {
		t.Errorf("second line = %+v", l)
	}

	out := renderGoBench(lines, cpu)
	for _, want := range []string{
		"| cmd | BenchmarkUpdateCommand | 1.27 ms | 160234 | 1893 | 1 requests/op |",
		"| iamx | BenchmarkDeactivate | 416.1 µs | 60000 | 478 |  |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("rendered table lacks %q:\n%s", want, out)
		}
	}
}

func TestRateFloor(t *testing.T) {
	for _, tc := range []struct {
		n    int
		rate float64
		want time.Duration
	}{
		{3000, 100, 29 * time.Second}, // 100 free, 2900 at 10 ms
		{50, 100, 0},                  // within the burst
		{10, 0.5, 18 * time.Second},   // burst of 1, then one every 2 s
	} {
		if got := rateFloor(tc.n, tc.rate); got != tc.want {
			t.Errorf("rateFloor(%d, %g) = %v, want %v", tc.n, tc.rate, got, tc.want)
		}
	}
}

func TestReplaceSection(t *testing.T) {
	path := filepath.Join(t.TempDir(), "perf.md")
	doc := "# P\n\nintro\n\n<!-- a:begin -->\nold\n<!-- a:end -->\n\nafter\n<!-- b:begin -->\n<!-- b:end -->\n"
	if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := replaceSection(path, "<!-- a:begin -->", "<!-- a:end -->", "<!-- a:begin -->\nnew\n<!-- a:end -->\n"); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	want := "# P\n\nintro\n\n<!-- a:begin -->\nnew\n<!-- a:end -->\n\nafter\n<!-- b:begin -->\n<!-- b:end -->\n"
	if string(got) != want {
		t.Errorf("after replace:\n%s\nwant:\n%s", got, want)
	}
	if err := replaceSection(path, "<!-- b:end -->", "<!-- b:begin -->", "x"); err == nil {
		t.Error("markers in the wrong order: no error")
	}
}
