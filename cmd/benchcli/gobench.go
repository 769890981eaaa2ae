package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
)

const (
	goBegin = "<!-- bench-go:begin -->"
	goEnd   = "<!-- bench-go:end -->"
)

// benchLine is one result line of `go test -bench` output.
type benchLine struct {
	pkg, name string
	n         int64
	metrics   []metric // in the order printed: ns/op, B/op, allocs/op, custom units
}

type metric struct {
	value float64
	unit  string
}

// parseGoBench reads `go test -bench` output: "pkg:" and "cpu:" headers
// and "BenchmarkName-P N value unit value unit ..." lines. Anything else
// (PASS, ok, log output) is skipped.
func parseGoBench(r io.Reader) (lines []benchLine, cpu string, err error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	pkg := ""
	for sc.Scan() {
		text := sc.Text()
		if v, ok := strings.CutPrefix(text, "pkg: "); ok {
			pkg = strings.TrimSpace(v)
			continue
		}
		if v, ok := strings.CutPrefix(text, "cpu: "); ok {
			cpu = strings.TrimSpace(v)
			continue
		}
		f := strings.Fields(text)
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") || len(f)%2 != 0 {
			continue
		}
		n, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil {
			continue
		}
		bl := benchLine{pkg: pkg, name: f[0], n: n}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				bl.metrics = nil
				break
			}
			bl.metrics = append(bl.metrics, metric{v, f[i+1]})
		}
		if bl.metrics != nil {
			lines = append(lines, bl)
		}
	}
	return lines, cpu, sc.Err()
}

// runGoBench renders the benchmark results in path (- for stdin) as the
// bench-go section of out.
func runGoBench(path, out string, stdout, stderr io.Writer) error {
	var r io.Reader = os.Stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		r = f
	}
	lines, cpu, err := parseGoBench(r)
	if err != nil {
		return err
	}
	if len(lines) == 0 {
		return fmt.Errorf("%s: no benchmark results (did `go test -bench` fail?)", path)
	}
	if cpu == "" {
		cpu = cpuModel()
	}
	section := renderGoBench(lines, cpu)
	if out == "-" {
		_, err := io.WriteString(stdout, section)
		return err
	}
	if err := replaceSection(out, goBegin, goEnd, section); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "benchcli: wrote %d benchmark results to %s\n", len(lines), out)
	return nil
}

func renderGoBench(lines []benchLine, cpu string) string {
	var b strings.Builder
	m := machine{cpu: cpu, cores: runtime.NumCPU(), os: osName(), goVersion: runtime.Version(), date: time.Now().UTC().Format("2006-01-02")}
	m.header(&b, goBegin, "`make bench` (go test -bench)")
	b.WriteString("\n")
	fmt.Fprintf(&b, "| package | benchmark | time/op | B/op | allocs/op | other |\n")
	fmt.Fprintf(&b, "| --- | --- | ---: | ---: | ---: | --- |\n")
	for _, l := range lines {
		var timeOp, bytesOp, allocsOp string
		var other []string
		for _, m := range l.metrics {
			switch m.unit {
			case "ns/op":
				timeOp = duration(m.value)
			case "B/op":
				bytesOp = strconv.FormatFloat(m.value, 'f', -1, 64)
			case "allocs/op":
				allocsOp = strconv.FormatFloat(m.value, 'f', -1, 64)
			default:
				other = append(other, strconv.FormatFloat(m.value, 'g', 4, 64)+" "+m.unit)
			}
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n",
			strings.TrimPrefix(l.pkg, "github.com/keyrot/keyrot/"), trimProcs(l.name), timeOp, bytesOp, allocsOp, strings.Join(other, ", "))
	}
	fmt.Fprintf(&b, "%s\n", goEnd)
	return b.String()
}

// trimProcs drops the -GOMAXPROCS suffix of a benchmark name.
func trimProcs(name string) string {
	if i := strings.LastIndexByte(name, '-'); i > 0 {
		if _, err := strconv.Atoi(name[i+1:]); err == nil {
			return name[:i]
		}
	}
	return name
}

func duration(ns float64) string {
	switch {
	case ns >= 1e9:
		return fmt.Sprintf("%.2f s", ns/1e9)
	case ns >= 1e6:
		return fmt.Sprintf("%.2f ms", ns/1e6)
	case ns >= 1e3:
		return fmt.Sprintf("%.1f µs", ns/1e3)
	}
	return fmt.Sprintf("%.0f ns", ns)
}
