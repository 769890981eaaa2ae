package cmd

import (
	"fmt"
	"strings"
	"sync"
	"time"
)

// progress is a one-line progress bar on stderr, drawn only when stderr is
// a terminal and --quiet is off; otherwise every method does nothing, so
// cron logs get the summary alone.
type progress struct {
	f     *Factory
	label string

	mu      sync.Mutex
	total   int
	done    int
	failed  int
	started time.Time
	drawn   time.Time
	active  bool
}

func newProgress(f *Factory, label string) *progress {
	if !f.IO.IsStderrTTY() || f.Global.Quiet {
		return nil
	}
	return &progress{f: f, label: label}
}

func (p *progress) start(total int) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.total, p.started, p.active = total, time.Now(), total > 0
	p.drawLocked(true)
}

func (p *progress) add(failed bool) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done++
	if failed {
		p.failed++
	}
	p.drawLocked(p.done == p.total)
}

// finish clears the line so that the summary starts on a clean one.
func (p *progress) finish() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.active {
		fmt.Fprint(p.f.IO.ErrOut, "\r\x1b[K")
		p.active = false
	}
}

// drawLocked redraws at most ten times a second.
func (p *progress) drawLocked(force bool) {
	if !p.active || (!force && time.Since(p.drawn) < 100*time.Millisecond) {
		return
	}
	p.drawn = time.Now()
	const width = 30
	fill := 0
	if p.total > 0 {
		fill = p.done * width / p.total
	}
	bar := strings.Repeat("=", fill) + strings.Repeat(" ", width-fill)
	eta := ""
	if p.done > 0 && p.done < p.total {
		left := time.Since(p.started) / time.Duration(p.done) * time.Duration(p.total-p.done)
		eta = " ~" + left.Round(time.Second).String() + " left"
	}
	fmt.Fprintf(p.f.IO.ErrOut, "\r\x1b[K%s [%s] %d/%d users, %d failed%s", p.label, bar, p.done, p.total, p.failed, eta)
}
