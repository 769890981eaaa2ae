package cmd

import (
	"bufio"
	"bytes"
	"fmt"
	"github.com/keyrot/keyrot/iamx"
	"io"
	"os"
	"strings"
	"sync"

	"golang.org/x/term"
)

// IOStreams are the process's standard streams. Only cmd touches os.Std*;
// everything below it writes to the writers it is given.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer

	stdinTTY  bool
	stdoutTTY bool
	stderrTTY bool
}

// System returns the real standard streams.
func System() *IOStreams {
	return &IOStreams{
		In:        os.Stdin,
		Out:       os.Stdout,
		ErrOut:    os.Stderr,
		stdinTTY:  term.IsTerminal(int(os.Stdin.Fd())),
		stdoutTTY: term.IsTerminal(int(os.Stdout.Fd())),
		stderrTTY: term.IsTerminal(int(os.Stderr.Fd())),
	}
}

// TestIO returns streams backed by buffers, for tests.
func TestIO() (ios *IOStreams, in, out, errOut *bytes.Buffer) {
	in, out, errOut = new(bytes.Buffer), new(bytes.Buffer), new(bytes.Buffer)
	return &IOStreams{In: in, Out: out, ErrOut: errOut}, in, out, errOut
}

// IsStdoutTTY reports whether stdout is a terminal.
func (s *IOStreams) IsStdoutTTY() bool { return s.stdoutTTY }

// TerminalWidth is stdout's width in columns: 80 when it is not a
// terminal, as the AWS CLI assumes.
func (s *IOStreams) TerminalWidth() int {
	if f, ok := s.Out.(*os.File); ok && s.stdoutTTY {
		if w, _, err := term.GetSize(int(f.Fd())); err == nil && w > 0 {
			return w
		}
	}
	return 80
}

// IsStdinTTY reports whether stdin is a terminal.
func (s *IOStreams) IsStdinTTY() bool { return s.stdinTTY }

// SetStdinTTY marks stdin as a terminal, for tests.
func (s *IOStreams) SetStdinTTY(on bool) { s.stdinTTY = on }

// IsStderrTTY reports whether stderr is a terminal.
func (s *IOStreams) IsStderrTTY() bool { return s.stderrTTY }

// SetTTY marks the streams as terminals, for tests.
func (s *IOStreams) SetTTY(stdout, stderr bool) { s.stdoutTTY, s.stderrTTY = stdout, stderr }

// promptMFA asks on the terminal for an MFA device's current code, as the
// AWS CLI does for an assume-role profile with mfa_serial: the prompt on
// stderr, the code read from the terminal. The SDK caches the session, so
// one run asks once.
func promptMFA(ios *IOStreams) func(serial string) (string, error) {
	var mu sync.Mutex
	in := bufio.NewReader(ios.In)
	return func(serial string) (string, error) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(ios.ErrOut, "Enter MFA code for %s: ", serial)
		line, err := in.ReadString('\n')
		code := strings.TrimSpace(line)
		if code == "" && err != nil {
			return "", fmt.Errorf("read the MFA code: %w", err)
		}
		if len(code) != 6 || strings.Trim(code, "0123456789") != "" {
			return "", fmt.Errorf("%w: %q is not an MFA code (6 digits)", iamx.ErrInvalidInput, code)
		}
		return code, nil
	}
}
