package cmd

import (
	"os"
	"runtime/debug"
	"time"
)

// A single keyrot command (update, deactivate, list --user) runs for a few
// milliseconds and allocates a few megabytes, most of them in the packages'
// initialisation and in parsing the system's CA certificates. Go's default
// collector would start its first cycle at 4 MB, in the middle of that, and
// the cycle costs more than the memory it frees: the process is about to
// exit. So the collector waits until a command has run for shortCommand,
// then works as usual for the rest of a long run (fleet rotations, audits),
// and shortCommandHeap bounds the heap while it waits.
const (
	shortCommand     = 100 * time.Millisecond
	shortCommandHeap = 64 << 20
)

// deferGC holds the garbage collector back for the first shortCommand of
// the process. GOGC or GOMEMLIMIT in the environment are the user's choice
// and are left alone.
func deferGC() {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	limit := debug.SetMemoryLimit(shortCommandHeap)
	percent := debug.SetGCPercent(-1)
	time.AfterFunc(shortCommand, func() {
		debug.SetGCPercent(percent)
		debug.SetMemoryLimit(limit)
	})
}
