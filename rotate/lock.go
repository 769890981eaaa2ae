package rotate

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"
)

// lockUser takes U's lock in dir, waiting up to o.LockWait (polling with
// o.Sleep), and returns its release function.
func lockUser(ctx context.Context, o Options, dir, user string) (release func(), err error) {
	path := stateFile(dir, user, ".lock")
	deadline := o.Now().Add(o.LockWait)
	for {
		f, busy, err := tryLock(path)
		if err != nil {
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		if !busy {
			host, _ := os.Hostname()
			_ = f.Truncate(0)
			_, _ = f.WriteAt([]byte(fmt.Sprintf("pid %d on %s since %s\n", os.Getpid(), host, o.Now().UTC().Format(time.RFC3339))), 0)
			return func() { unlock(f, path) }, nil
		}
		if !o.Now().Before(deadline) {
			holder, _ := os.ReadFile(path)
			return nil, &LockedError{User: user, Path: path, Holder: strings.TrimSpace(string(holder))}
		}
		if err := o.Sleep(ctx, 100*time.Millisecond); err != nil {
			return nil, &InterruptedError{Step: "lock", Err: err}
		}
	}
}
