package cmd

import (
	"strings"
	"testing"
)

// TestColor: key states are coloured on a terminal, not when NO_COLOR is
// set or stdout is a pipe; --color on and off win over both.
func TestColor(t *testing.T) {
	for _, tc := range []struct {
		name    string
		tty     bool
		noColor string
		flag    string
		want    bool
	}{
		{"terminal", true, "", "auto", true},
		{"NO_COLOR", true, "1", "auto", false},
		{"pipe", false, "", "auto", false},
		{"--color on", false, "1", "on", true},
		{"--color off", true, "", "off", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("NO_COLOR", tc.noColor)
			ios, _, out, _ := TestIO()
			ios.SetTTY(tc.tty, tc.tty)
			f := newFactory(ios)
			f.Global.Color, f.Global.Output = tc.flag, "table"
			if err := f.render(view{Header: []string{"STATUS"}, Rows: [][]string{{"Active"}, {"Inactive"}}}); err != nil {
				t.Fatal(err)
			}
			if got := strings.Contains(out.String(), "\x1b["); got != tc.want {
				t.Errorf("escape codes %v, want %v:\n%q", got, tc.want, out.String())
			}
		})
	}
}
