package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestRotationFaults is the fault matrix: for every step of a rotation,
// each kind of failure, then a rerun of the same rotation. After the fault
// and again after the rerun, checkInvariant asserts that alice still has a
// working key whose secret someone holds, that no Active key's secret is
// lost (after the rerun), and that the credentials file parses and is 0600.
func TestRotationFaults(t *testing.T) {
	t.Parallel()
	const rot = "keyrot rotate --user alice --verify-interval 100ms --wait 2s"
	const dest = "--credentials-file creds --profile-name alice"
	type fault struct {
		name   string
		before string // sim commands arming the fault
		run    string // the rotation that meets it
		code   int    // its exit code; -1: killed with SIGKILL
		wait   string // for -1: what to wait for before the kill
		after  string // sim commands after the fault (release held calls)
	}
	heldKill := func(action, extra string) fault {
		return fault{before: "sim hold " + action, run: rot + " " + dest + extra, code: -1, wait: "sim wait-held " + action, after: "sim release " + action}
	}
	var cases []fault
	add := func(step, kind string, f fault) {
		f.name = step + "_" + kind
		cases = append(cases, f)
	}
	// create
	add("create", "api_error", fault{before: "sim fail CreateAccessKey AccessDenied", run: rot + " " + dest, code: 6})
	add("create", "throttled", fault{before: "sim throttle CreateAccessKey 2", run: rot + " " + dest, code: 5})
	add("create", "killed", heldKill("CreateAccessKey", ""))
	add("create", "response_lost", fault{before: "sim drop-response CreateAccessKey", run: rot + " " + dest, code: 5})
	// hand-over
	// A credentials file that cannot be written is refused before the
	// create; a write that fails anyway (a full disk) is rolled back.
	add("handover", "unwritable", fault{run: rot + " --credentials-file notadir/creds --profile-name alice", code: 2})
	add("handover", "write_error", fault{run: "sh -c 'exec " + rot + " --stdout >/dev/full'", code: 8})
	add("handover", "command_fails", fault{run: rot + " --exec 'exit 75'", code: 8})
	add("handover", "killed", fault{run: rot + " --exec 'touch started; sleep 3'", code: -1, wait: "waitfile started"})
	// verify
	add("verify", "api_error", fault{before: "sim fail-always GetCallerIdentity AccessDenied", run: rot + " " + dest, code: 8, after: "sim clear"})
	add("verify", "throttled", fault{before: "sim throttle GetCallerIdentity 1000", run: rot + " " + dest, code: 8, after: "sim clear"})
	add("verify", "killed", heldKill("GetCallerIdentity", ""))
	// deactivate the old key
	add("deactivate", "api_error", fault{before: "sim fail UpdateAccessKey AccessDenied", run: rot + " " + dest, code: 8})
	add("deactivate", "throttled", fault{before: "sim throttle UpdateAccessKey 2", run: rot + " " + dest, code: 8})
	add("deactivate", "killed", heldKill("UpdateAccessKey", ""))
	// delete the old key
	add("delete", "api_error", fault{before: "sim fail DeleteAccessKey AccessDenied", run: rot + " " + dest + " --old-key delete", code: 8})
	add("delete", "throttled", fault{before: "sim throttle DeleteAccessKey 2", run: rot + " " + dest + " --old-key delete", code: 8})
	add("delete", "killed", heldKill("DeleteAccessKey", " --old-key delete"))

	dir := t.TempDir()
	for _, c := range cases {
		var b strings.Builder
		fmt.Fprintf(&b, "# %s\n", c.name)
		b.WriteString("exec sh -c 'printf \"[alice]\\naws_access_key_id = %s\\naws_secret_access_key = %s\\n\" \"$ALICE_KEY\" \"$ALICE_KEY_SECRET\" > creds && chmod 600 creds'\n")
		b.WriteString("exec sh -c 'echo not a directory > notadir'\n")
		if c.before != "" {
			b.WriteString(c.before + "\n")
		}
		if c.code == -1 {
			fmt.Fprintf(&b, "! exec %s &rot&\n%s\nkill -KILL rot\nwait rot\n", c.run, c.wait)
		} else {
			fmt.Fprintf(&b, "fails %d %s\n", c.code, c.run)
		}
		if c.after != "" {
			b.WriteString(c.after + "\n")
		}
		b.WriteString("sim clear\n")
		b.WriteString("sim invariant-weak alice creds alice\n")
		fmt.Fprintf(&b, "exec %s %s --delete-inactive\n", rot, dest)
		b.WriteString("sim invariant alice creds alice\n")
		if err := os.WriteFile(filepath.Join(dir, c.name+".txtar"), []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	testscript.Run(t, testscript.Params{
		Dir:   dir,
		Setup: setupSimulator,
		Cmds: map[string]func(*testscript.TestScript, bool, []string){
			"sim":      cmdSim,
			"fails":    cmdFails,
			"waitfile": cmdWaitFile,
		},
	})
}
