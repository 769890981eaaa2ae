//go:build unix

package rotate

import (
	"errors"
	"os"
	"syscall"
)

// tryLock takes an exclusive flock on path without blocking. The kernel
// drops the lock when the process dies, so a crash leaves no stale lock.
func tryLock(path string) (f *os.File, busy bool, err error) {
	f, err = os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, false, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, true, nil
		}
		return nil, false, err
	}
	return f, false, nil
}

// unlock releases the lock; the file stays for the next run.
func unlock(f *os.File, path string) {
	_ = f.Truncate(0)
	_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	f.Close()
}
