package credfile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckWritable(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "credentials")
	if err := os.WriteFile(file, []byte("[a]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, path, want string
	}{
		{"existing file", file, ""},
		{"new file in a new directory", filepath.Join(dir, "new", "sub", "credentials"), ""},
		{"a directory", dir, "is a directory"},
		{"under a regular file", filepath.Join(file, "credentials"), "not a directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckWritable(tc.path)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("err = %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".keyrot-check-*")); len(left) > 0 {
		t.Errorf("left behind %v", left)
	}
	if _, err := os.Stat(filepath.Join(dir, "new")); err == nil {
		t.Error("the check created a directory")
	}
	if os.Geteuid() != 0 {
		ro := filepath.Join(dir, "ro")
		if err := os.Mkdir(ro, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(ro, "credentials"), nil, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(ro, 0o500); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = os.Chmod(ro, 0o700) })
		if err := CheckWritable(filepath.Join(ro, "credentials")); err == nil || !strings.Contains(err.Error(), "backup") {
			t.Errorf("read-only directory: err = %v", err)
		}
	}
}
