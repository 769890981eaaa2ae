//go:build !unix

package rotate

import (
	"errors"
	"io/fs"
	"os"
)

// tryLock creates path exclusively: a best-effort lock. A crash leaves the
// file behind; the LockedError names it so that it can be removed.
func tryLock(path string) (f *os.File, busy bool, err error) {
	f, err = os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil, true, nil
	}
	return f, false, err
}

// unlock removes the lock file.
func unlock(f *os.File, path string) {
	f.Close()
	_ = os.Remove(path)
}
