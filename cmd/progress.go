package cmd

import (
	"fmt"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
)

// progress is a one-line progress bar on stderr, drawn only when stderr is
// a terminal and --quiet is off; otherwise every method does nothing, so
// cron logs get the summary alone.
type progress struct {
	f     *Factory
	label string
	its   string // what it counts: users, accounts

	mu     sync.Mutex
	bar    *progressbar.ProgressBar
	failed int
}

func newProgress(f *Factory, label string) *progress { return newProgressOf(f, label, "users") }

// newProgressOf is a bar that counts its (accounts, say).
func newProgressOf(f *Factory, label, its string) *progress {
	if !f.IO.IsStderrTTY() || f.Global.Quiet {
		return nil
	}
	return &progress{f: f, label: label, its: its}
}

func (p *progress) start(total int) {
	if p == nil || total <= 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.bar = progressbar.NewOptions(total,
		progressbar.OptionSetWriter(p.f.IO.ErrOut),
		progressbar.OptionSetDescription(p.label),
		progressbar.OptionSetWidth(30),
		progressbar.OptionShowCount(),
		progressbar.OptionSetItsString(p.its),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionUseANSICodes(true),
		progressbar.OptionThrottle(100*time.Millisecond),
	)
	_ = p.bar.RenderBlank()
}

func (p *progress) add(failed bool) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar == nil {
		return
	}
	if failed {
		p.failed++
		p.bar.Describe(fmt.Sprintf("%s (%d failed)", p.label, p.failed))
	}
	_ = p.bar.Add(1)
}

// finish clears the line so that the summary starts on a clean one.
func (p *progress) finish() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar != nil {
		_ = p.bar.Clear()
		p.bar = nil
	}
}

// waitDelay: a wait shorter than this shows nothing, so quick steps do
// not flicker.
const waitDelay = 300 * time.Millisecond

// waiting shows, on a terminal, a spinner with the elapsed time for as
// long as a silent wait lasts (a new key propagating, the credential
// report being generated); stop clears the line. Without a terminal on
// stderr, or with --quiet, it shows nothing.
func (f *Factory) waiting(label string) (stop func()) {
	if !f.IO.IsStderrTTY() || f.Global.Quiet {
		return func() {}
	}
	bar := progressbar.NewOptions(-1,
		progressbar.OptionSetWriter(f.IO.ErrOut),
		progressbar.OptionSetDescription(label),
		progressbar.OptionSpinnerType(14),
		progressbar.OptionSetElapsedTime(true),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionUseANSICodes(true),
		progressbar.OptionThrottle(90*time.Millisecond),
		// Our ticker drives it: the library's own refresh goroutine reads
		// the bar's state without its lock (a data race under -race).
		progressbar.OptionSetSpinnerChangeInterval(0),
	)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		select {
		case <-done:
			return
		case <-time.After(waitDelay):
		}
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			_ = bar.Add(1)
			select {
			case <-done:
				_ = bar.Finish()
				return
			case <-t.C:
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			close(done)
			wg.Wait()
		})
	}
}
