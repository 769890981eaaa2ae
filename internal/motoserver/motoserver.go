// Package motoserver starts moto_server, an independent AWS emulator, for
// tests that check the simulator's behaviour against it. Tests skip, and
// say so, on machines without it.
package motoserver

import (
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"testing"
	"time"
)

// startWait bounds moto's start-up (a Python process: about 2 seconds).
const startWait = 30 * time.Second

// Start runs moto_server on a free port of 127.0.0.1 until the test ends
// and returns its URL. Without moto_server on PATH it skips the test.
func Start(t testing.TB) string {
	t.Helper()
	bin, err := exec.LookPath("moto_server")
	if err != nil {
		t.Skip("moto_server is not on PATH: the check against an independent AWS emulator did not run (pip install 'moto[server]')")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := exec.Command(bin, "-H", "127.0.0.1", "-p", fmt.Sprint(port))
	if err := cmd.Start(); err != nil {
		t.Fatalf("start moto_server: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(startWait)
	for time.Now().Before(deadline) {
		if resp, err := client.Get(url + "/moto-api/"); err == nil {
			resp.Body.Close()
			return url
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("moto_server did not answer on %s within %s", url, startWait)
	return ""
}
