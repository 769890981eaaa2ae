package credfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

var now = time.Date(2026, 11, 25, 11, 45, 0, 0, time.FixedZone("CET", 3600))

const backupSuffix = ".keyrot-backup-20261125T104500Z"

const original = "# laptop\n[default]\naws_access_key_id = " + oldID + "\naws_secret_access_key = " + oldSecret + "\naws_session_token = tok\n\n[ci]\nregion = eu-west-1\n"

const updated = "# laptop\n[default]\naws_access_key_id = " + newID + "\naws_secret_access_key = " + newSecret + "\n\n[ci]\nregion = eu-west-1\n"

func writeFile(t *testing.T, path, data string, perm fs.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), perm); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, perm); err != nil { // umask
		t.Fatal(err)
	}
}

func checkFile(t *testing.T, path, want string) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Errorf("%s =\n%q\nwant\n%q", path, got, want)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("%s has mode %v, want 0600", path, fi.Mode().Perm())
	}
}

// dirNames lists dir, to catch leftover temporary files.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names
}

func TestUpdateExistingFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "credentials")
	writeFile(t, path, original, 0o644)

	backup, err := Update(path, "default", newID, newSecret, now)
	if err != nil {
		t.Fatal(err)
	}
	if backup != path+backupSuffix {
		t.Errorf("backup = %q, want %q", backup, path+backupSuffix)
	}
	checkFile(t, path, updated) // 0600 although the original was 0644
	checkFile(t, backup, original)
	if got, want := dirNames(t, dir), []string{"credentials", "credentials" + backupSuffix}; strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("directory holds %q, want %q", got, want)
	}

	p, err := ReadProfile(path, "default")
	if err != nil || p.AccessKeyID != newID || p.SecretAccessKey.Reveal() != newSecret || p.SessionToken {
		t.Errorf("ReadProfile = %q token=%v, %v", p.AccessKeyID, p.SessionToken, err)
	}

	// A second rotation in the same second keeps the first backup.
	backup2, err := Update(path, "default", oldID, oldSecret, now)
	if err != nil {
		t.Fatal(err)
	}
	if backup2 != path+backupSuffix+".1" {
		t.Errorf("second backup = %q", backup2)
	}
	checkFile(t, backup, original)
	checkFile(t, backup2, updated)

	if err := Restore(path, backup); err != nil {
		t.Fatal(err)
	}
	checkFile(t, path, original)
	checkFile(t, backup, original) // kept
}

func TestUpdateNewFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "home", ".aws", "credentials")

	backup, err := Update(path, "default", newID, newSecret, now)
	if err != nil {
		t.Fatal(err)
	}
	if backup != "" {
		t.Errorf("backup = %q for a new file", backup)
	}
	checkFile(t, path, "[default]\naws_access_key_id = "+newID+"\naws_secret_access_key = "+newSecret+"\n")
	for _, d := range []string{filepath.Join(dir, "home"), filepath.Dir(path)} {
		fi, err := os.Stat(d)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s has mode %v, want 0700", d, fi.Mode().Perm())
		}
	}

	if err := Restore(path, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Restore with no backup left the file: %v", err)
	}
	if err := Restore(path, ""); err != nil {
		t.Errorf("Restore of an absent file: %v", err)
	}
}

func TestUpdateUnparseableFileUntouched(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "credentials")
	const bad = "[default]\naws_access_key_id = " + oldID + "\n[ci\naws_secret_access_key = " + oldSecret + "\n"
	writeFile(t, path, bad, 0o644)
	old := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
	if err := os.Chtimes(path, old, old); err != nil {
		t.Fatal(err)
	}

	backup, err := Update(path, "default", newID, newSecret, now)
	if !errors.Is(err, ErrSyntax) || backup != "" {
		t.Fatalf("Update = %q, %v; want a syntax error", backup, err)
	}
	if want := path + ":3: "; !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error %q, want prefix %q", err, want)
	}
	if strings.Contains(err.Error(), oldSecret) || strings.Contains(err.Error(), newSecret) {
		t.Errorf("error shows a secret: %v", err)
	}
	got, _ := os.ReadFile(path)
	fi, _ := os.Stat(path)
	if string(got) != bad || !fi.ModTime().Equal(old) || fi.Mode().Perm() != 0o644 {
		t.Errorf("file changed: %q %v %v", got, fi.ModTime(), fi.Mode())
	}
	if names := dirNames(t, dir); len(names) != 1 {
		t.Errorf("directory holds %q, want only the file", names)
	}

	if _, err := ReadProfile(path, "default"); !errors.Is(err, ErrSyntax) {
		t.Errorf("ReadProfile = %v, want a syntax error", err)
	}
}

func TestUpdateInvalidArgument(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "credentials")
	writeFile(t, path, original, 0o600)
	if _, err := Update(path, "default", newID, "bad secret", now); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("Update = %v, want ErrInvalidArgument", err)
	}
	checkFile(t, path, original)
	if names := dirNames(t, dir); len(names) != 1 {
		t.Errorf("directory holds %q, want only the file", names)
	}
}

// A credentials file kept in a dotfiles checkout and linked into ~/.aws
// stays a link: the target is rewritten, and the backup, which holds a
// secret, stays in ~/.aws rather than landing in the checkout.
func TestUpdateThroughSymlink(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	dotfiles := filepath.Join(dir, "dotfiles")
	aws := filepath.Join(dir, ".aws")
	for _, d := range []string{dotfiles, aws} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	target := filepath.Join(dotfiles, "credentials")
	writeFile(t, target, original, 0o644)
	link := filepath.Join(aws, "credentials")
	if err := os.Symlink("../dotfiles/credentials", link); err != nil {
		t.Skip("symlinks unsupported:", err)
	}

	backup, err := Update(link, "default", newID, newSecret, now)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		t.Fatalf("link replaced: %v %v", fi, err)
	}
	checkFile(t, target, updated)
	if backup != link+backupSuffix {
		t.Errorf("backup = %q, want it next to the link", backup)
	}
	checkFile(t, backup, original)
	if names := dirNames(t, dotfiles); len(names) != 1 {
		t.Errorf("dotfiles holds %q, want only the target", names)
	}

	if err := Restore(link, backup); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		t.Fatalf("link replaced by Restore: %v %v", fi, err)
	}
	checkFile(t, target, original)
}

func TestUpdateDanglingSymlink(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	link := filepath.Join(dir, "credentials")
	target := filepath.Join(dir, "store", "credentials")
	if err := os.Symlink(target, link); err != nil {
		t.Skip("symlinks unsupported:", err)
	}
	backup, err := Update(link, "default", newID, newSecret, now)
	if err != nil || backup != "" {
		t.Fatalf("Update = %q, %v", backup, err)
	}
	checkFile(t, target, "[default]\naws_access_key_id = "+newID+"\naws_secret_access_key = "+newSecret+"\n")
	if err := Restore(link, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(target); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("target left: %v", err)
	}
	if _, err := os.Lstat(link); err != nil {
		t.Errorf("link removed: %v", err)
	}
}

func TestReadProfileErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "credentials")
	if _, err := ReadProfile(path, "default"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	writeFile(t, path, original, 0o600)
	if _, err := ReadProfile(path, "nope"); !errors.Is(err, ErrProfileNotFound) {
		t.Errorf("missing profile: %v", err)
	}
}

func TestWriteFileAtomic(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "journal")
	for _, data := range []string{"one\n", "two\n"} {
		if err := WriteFileAtomic(path, []byte(data), 0o640); err != nil {
			t.Fatal(err)
		}
		got, _ := os.ReadFile(path)
		fi, _ := os.Stat(path)
		if string(got) != data || fi.Mode().Perm() != 0o640 {
			t.Errorf("got %q %v, want %q 0640", got, fi.Mode().Perm(), data)
		}
	}

	// Renaming over a directory fails: the temporary file must not stay.
	sub := filepath.Join(dir, "sub")
	if err := os.Mkdir(sub, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := WriteFileAtomic(sub, []byte("x"), 0o600); err == nil {
		t.Error("WriteFileAtomic over a directory succeeded")
	}
	if names := dirNames(t, dir); strings.Join(names, " ") != "journal sub" {
		t.Errorf("directory holds %q", names)
	}
	if err := WriteFileAtomic(filepath.Join(dir, "missing", "f"), []byte("x"), 0o600); err == nil {
		t.Error("WriteFileAtomic into a missing directory succeeded")
	}
}

func TestPath(t *testing.T) {
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/etc/keyrot/credentials")
	if p, err := Path(); err != nil || p != "/etc/keyrot/credentials" {
		t.Errorf("Path() = %q, %v", p, err)
	}
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "")
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("USERPROFILE", home)
	if p, err := Path(); err != nil || p != filepath.Join(home, ".aws", "credentials") {
		t.Errorf("Path() = %q, %v", p, err)
	}
}
