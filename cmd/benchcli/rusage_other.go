//go:build !unix

package main

import "os"

// maxRSSKiB is unknown where getrusage is not available.
func maxRSSKiB(*os.ProcessState) int64 { return 0 }
