package rotate

import (
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/keyrot/keyrot/iamx"
	"github.com/keyrot/keyrot/rotate/credfile"
)

// Checker is a Destination that can tell, before any key exists, that it
// could not take one. Plan and Run call Check first: a destination that
// cannot work is exit 2 with nothing changed, not a created key rolled back.
type Checker interface {
	Check() error
}

// Check finds a credentials file that cannot be written: a directory in
// its place, a directory where its backup or temporary file cannot go.
func (c CredentialsFile) Check() error {
	if err := credfile.CheckWritable(c.Path); err != nil {
		return &iamx.InputError{Field: "--credentials-file", Value: c.Path, Rule: err.Error()}
	}
	return nil
}

// Check finds a hook whose program does not exist or cannot run. The
// command runs through sh -c, so only a first word that is a plain word or
// path is checked, the way sh would find it: a path as it is, a name on
// PATH. Shell syntax (a variable, quotes, a builtin, a keyword) is left to
// the shell.
func (e Exec) Check() error {
	bad := func(rule string) error { return &iamx.InputError{Field: "--exec", Value: e.Command, Rule: rule} }
	word := firstWord(e.Command)
	switch {
	case word == "":
		return bad("the command is empty")
	case !plainWord(word) || shellBuiltins()[word]:
		return nil
	case strings.Contains(word, "/"):
		if why := notRunnable(word); why != "" {
			return bad(word + " " + why)
		}
		return nil
	}
	path := os.Getenv("PATH")
	for _, kv := range e.Env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			path = v
		}
	}
	for _, dir := range filepath.SplitList(path) {
		if dir == "" {
			dir = "."
		}
		if notRunnable(filepath.Join(dir, word)) == "" {
			return nil
		}
	}
	return bad(word + " is not found on PATH")
}

func firstWord(cmd string) string {
	f := strings.Fields(cmd)
	if len(f) == 0 {
		return ""
	}
	return f[0]
}

// plainWord: no character the shell would expand or treat specially.
func plainWord(w string) bool {
	for _, c := range w {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("_./+-@%:,", c)) {
			return false
		}
	}
	return true
}

// notRunnable says why path is no program sh could run, "" if it is one.
func notRunnable(path string) string {
	fi, err := os.Stat(path)
	switch {
	case err != nil && os.IsNotExist(err):
		return "does not exist"
	case err != nil:
		return "cannot be read: " + err.Error()
	case fi.IsDir():
		return "is a directory"
	case fi.Mode().Perm()&0o111 == 0:
		return "is not executable (chmod +x it, or run it as `sh " + path + "`)"
	}
	return ""
}

// shellBuiltins are the POSIX shell's reserved words and builtins: sh runs
// them without a program on PATH.
// Built on first use: most commands run no hook.
var shellBuiltins = sync.OnceValue(func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`! { } case do done elif else esac fi for if in then until while
		: . [ alias bg break cd command continue echo eval exec exit export false fc fg getopts hash
		jobs kill local printf pwd read readonly return set shift test times trap true type ulimit
		umask unalias unset wait`) {
		m[w] = true
	}
	return m
})
