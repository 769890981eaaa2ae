package cmd

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ageValue is a duration flag that also takes days and weeks ("90d", "2w"),
// the units key policies are written in.
type ageValue struct{ d *time.Duration }

func (v ageValue) String() string {
	if v.d == nil || *v.d == 0 {
		return "0"
	}
	return formatAge(*v.d)
}

func (v ageValue) Set(s string) error {
	d, err := parseAge(s)
	if err != nil {
		return err
	}
	*v.d = d
	return nil
}

func (v ageValue) Type() string { return "duration" }

// parseAge reads "90d", "2w", "36h", "1h30m" or "0". Negative ages are
// refused: every keyrot age is a threshold in the past.
func parseAge(s string) (time.Duration, error) {
	if s == "" {
		return 0, fmt.Errorf("empty duration: use a number with a unit, like 90d, 2w or 36h")
	}
	if s == "0" {
		return 0, nil
	}
	if n, unit := s[:len(s)-1], s[len(s)-1]; unit == 'd' || unit == 'w' {
		days, err := strconv.ParseUint(n, 10, 32)
		if err != nil || strings.HasPrefix(n, "+") {
			return 0, fmt.Errorf("invalid duration %q: use a whole number of days or weeks, like 90d or 2w", s)
		}
		if days > 100*365 {
			return 0, fmt.Errorf("invalid duration %q: longer than 100 years", s)
		}
		if unit == 'w' {
			days *= 7
		}
		return time.Duration(days) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("invalid duration %q: use a number with a unit, like 90d, 2w, 36h or 10m", s)
	}
	if d < 0 {
		return 0, fmt.Errorf("invalid duration %q: cannot be negative", s)
	}
	return d, nil
}

// formatAge prints a duration in the largest whole unit that fits.
func formatAge(d time.Duration) string {
	day := 24 * time.Hour
	if d >= day && d%day == 0 {
		return fmt.Sprintf("%dd", d/day)
	}
	return d.String()
}
