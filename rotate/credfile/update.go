package credfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"runtime"
	"strconv"
	"time"
)

// Mode is the permission of every file this package writes: the
// credentials file itself (even when it was 0644 before: credentials must
// not be readable by other users), its backups and temporary files.
const Mode fs.FileMode = 0o600

// dirMode is the permission of a parent directory Update creates, like ~/.aws.
const dirMode fs.FileMode = 0o700

// backupTimeFormat is the UTC timestamp in backup names.
const backupTimeFormat = "20060102T150405Z"

// Path returns the credentials file the SDK reads: $AWS_SHARED_CREDENTIALS_FILE
// when set, else .aws/credentials in the home directory (os.UserHomeDir,
// falling back on the user database, as the SDK does).
func Path() (string, error) {
	if p := os.Getenv("AWS_SHARED_CREDENTIALS_FILE"); p != "" {
		return p, nil
	}
	home, err := os.UserHomeDir()
	if home == "" {
		if u, uerr := user.Current(); uerr == nil && u.HomeDir != "" {
			home, err = u.HomeDir, nil
		}
	}
	if home == "" {
		if err == nil {
			err = errors.New("empty home directory")
		}
		return "", fmt.Errorf("locate credentials file: %w; set AWS_SHARED_CREDENTIALS_FILE", err)
	}
	return filepath.Join(home, ".aws", "credentials"), nil
}

// ReadProfile reads the named profile from the credentials file at path.
// It returns ErrProfileNotFound when the file has no such profile, an error
// matching fs.ErrNotExist when there is no file, and a *SyntaxError naming
// path when it cannot be parsed.
func ReadProfile(path, profile string) (Profile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Profile{}, fmt.Errorf("read credentials file: %w", err)
	}
	f, err := parseAt(path, data)
	if err != nil {
		return Profile{}, err
	}
	p, ok := f.Profile(profile)
	if !ok {
		return Profile{}, fmt.Errorf("%s: profile %q: %w", path, profile, ErrProfileNotFound)
	}
	return p, nil
}

// parseAt parses data read from path, naming path in a *SyntaxError.
func parseAt(path string, data []byte) (*File, error) {
	f, err := Parse(data)
	var se *SyntaxError
	if errors.As(err, &se) {
		se.Path = path
	}
	return f, err
}

// Update sets the key pair of profile in the credentials file at path and
// removes its session token (see File.SetKey), replacing the file atomically.
//
// A missing file is created, with its parent directory (mode 0700) when
// needed. An existing file is first copied to a backup next to path, named
// path + ".keyrot-backup-" + now in UTC (20261125T104500Z; ".1", ".2" … are
// appended if that name is taken), mode 0600, synced to disk before the file
// is replaced. Update returns the backup's path, or "" when the file did not
// exist; Restore undoes the update with it.
//
// The result always has mode 0600, whatever the mode before. When path is a
// symbolic link (a dotfiles checkout, say), the link is kept and its target
// is replaced; the backup still goes next to path, so no copy of a secret
// lands in the directory the link points into.
//
// On any error before the final rename, the file is unchanged; a file that
// does not parse is reported as a *SyntaxError naming path and line.
func Update(path, profile, accessKeyID, secret string, now time.Time) (backup string, err error) {
	target, err := resolve(path)
	if err != nil {
		return "", err
	}
	data, err := os.ReadFile(target)
	exists := err == nil
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("read credentials file: %w", err)
	}
	f, err := parseAt(path, data)
	if err != nil {
		return "", err
	}
	if err := f.SetKey(profile, accessKeyID, secret); err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	if exists {
		backup, err = writeBackup(path+".keyrot-backup-"+now.UTC().Format(backupTimeFormat), data)
		if err != nil {
			return "", err
		}
	} else if err := os.MkdirAll(filepath.Dir(target), dirMode); err != nil {
		return "", fmt.Errorf("create credentials directory: %w", err)
	}
	if err := WriteFileAtomic(target, f.Bytes(), Mode); err != nil {
		return backup, fmt.Errorf("write credentials file: %w", err)
	}
	return backup, nil
}

// Restore puts back the credentials file that Update replaced: it copies
// backup over path atomically with mode 0600 (through a symbolic link, as
// Update writes), or, when backup is "" (the file did not exist before
// Update), removes path. The backup itself is kept.
func Restore(path, backup string) error {
	target, err := resolve(path)
	if err != nil {
		return err
	}
	if backup == "" {
		if err := os.Remove(target); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("restore credentials file: %w", err)
		}
		if err := syncDir(filepath.Dir(target)); err != nil {
			return fmt.Errorf("restore credentials file: %w", err)
		}
		return nil
	}
	data, err := os.ReadFile(backup)
	if err != nil {
		return fmt.Errorf("restore credentials file: %w", err)
	}
	if err := WriteFileAtomic(target, data, Mode); err != nil {
		return fmt.Errorf("restore credentials file: %w", err)
	}
	return nil
}

// resolve follows symbolic links from path to the file they name, which
// need not exist yet (a dangling link is written through, too).
func resolve(path string) (string, error) {
	for range 40 { // the usual kernel limit on link chains
		fi, err := os.Lstat(path)
		if errors.Is(err, fs.ErrNotExist) {
			return path, nil
		}
		if err != nil {
			return "", fmt.Errorf("credentials file: %w", err)
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			return path, nil
		}
		dest, err := os.Readlink(path)
		if err != nil {
			return "", fmt.Errorf("credentials file: %w", err)
		}
		if !filepath.IsAbs(dest) {
			dest = filepath.Join(filepath.Dir(path), dest)
		}
		path = dest
	}
	return "", fmt.Errorf("credentials file %s: too many levels of symbolic links", path)
}

// writeBackup writes data to a new file at name (or name.1, name.2 … if
// taken), syncs it and its directory, and returns its path.
func writeBackup(name string, data []byte) (string, error) {
	for n := 0; ; n++ {
		p := name
		if n > 0 {
			p += "." + strconv.Itoa(n)
		}
		fh, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, Mode)
		if errors.Is(err, fs.ErrExist) && n < 100 {
			continue
		}
		if err != nil {
			return "", fmt.Errorf("back up credentials file: %w", err)
		}
		err = writeSync(fh, data, Mode)
		if err == nil {
			err = syncDir(filepath.Dir(p))
		}
		if err != nil {
			_ = os.Remove(p)
			return "", fmt.Errorf("back up credentials file: %w", err)
		}
		return p, nil
	}
}

// WriteFileAtomic replaces path with data so that, even after a crash, path
// holds either its old content or data, never a mix: it writes a temporary
// file in the same directory, sets perm exactly (umask does not apply),
// syncs it, renames it over path and syncs the directory. The temporary file
// is removed on failure. A symbolic link at path is replaced, not followed.
func WriteFileAtomic(path string, data []byte, perm fs.FileMode) error {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return err
	}
	name := tmp.Name()
	if err := writeSync(tmp, data, perm); err != nil {
		_ = os.Remove(name)
		return err
	}
	if err := os.Rename(name, path); err != nil {
		_ = os.Remove(name)
		return err
	}
	return syncDir(dir)
}

// writeSync writes data, sets perm, syncs and closes fh.
func writeSync(fh *os.File, data []byte, perm fs.FileMode) error {
	_, err := fh.Write(data)
	if err == nil {
		err = fh.Chmod(perm)
	}
	if err == nil {
		err = fh.Sync()
	}
	if cerr := fh.Close(); err == nil {
		err = cerr
	}
	return err
}

// syncDir makes a rename or removal in dir durable.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil // directories cannot be opened for syncing there
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
