package credfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// CheckWritable reports, before any key exists, why Update could not
// write path: a directory in its place, a directory where the temporary
// file or the backup cannot be created, an unreadable file. It writes and
// removes one empty temporary file in each directory it checks.
func CheckWritable(path string) error {
	target, err := resolve(path)
	if err != nil {
		return err
	}
	fi, err := os.Stat(target)
	exists := err == nil
	switch {
	case exists && fi.IsDir():
		return fmt.Errorf("%s is a directory, not a credentials file", path)
	case exists && !fi.Mode().IsRegular():
		return fmt.Errorf("%s is not a regular file", path)
	case exists:
		f, err := os.Open(target)
		if err != nil {
			return fmt.Errorf("cannot read %s: %w", path, unwrapPath(err))
		}
		f.Close()
	case !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("cannot use %s: %w", path, unwrapPath(err))
	}
	dirs := []string{filepath.Dir(target)}
	if exists && filepath.Dir(path) != dirs[0] {
		dirs = append(dirs, filepath.Dir(path)) // the backup goes next to path
	}
	for _, d := range dirs {
		if !exists {
			d = existingAncestor(d) // Update creates the missing directories
		}
		if err := canCreateIn(d); err != nil {
			what := "the new file"
			if exists {
				what = "the backup and the new file"
			}
			return fmt.Errorf("cannot write %s for %s in %s: %w", what, path, d, err)
		}
	}
	return nil
}

func existingAncestor(d string) string {
	for {
		if _, err := os.Stat(d); err == nil {
			return d
		}
		parent := filepath.Dir(d)
		if parent == d {
			return d
		}
		d = parent
	}
}

func canCreateIn(dir string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return unwrapPath(err)
	}
	if !fi.IsDir() {
		return errors.New("not a directory")
	}
	f, err := os.CreateTemp(dir, ".keyrot-check-*")
	if err != nil {
		return unwrapPath(err)
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}

func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
