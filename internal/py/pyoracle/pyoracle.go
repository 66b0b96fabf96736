// Package pyoracle asks the real Python for the answers prefectctl must
// reproduce: conformance tests run a snippet or script in the venv that
// holds the pinned Prefect (through internal/testenv), feed it JSON on
// stdin and compare with what it prints as JSON.
package pyoracle

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/prefectctl/prefectctl/internal/testenv"
)

// Run runs the venv's python with args (a script path, or "-c" and a
// snippet), writes in to its stdin as JSON and decodes its stdout into
// out. PREFECT_HOME is a fresh directory and TZ is UTC, so answers do not
// depend on the machine. Any failure fails the test.
func Run(t testing.TB, in, out any, args ...string) {
	t.Helper()
	python := testenv.Python(t)
	data, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(python, args...)
	cmd.Env = append(os.Environ(), "PREFECT_HOME="+t.TempDir(), "TZ=UTC")
	// Prefect may start its ephemeral API server in a subprocess; if it
	// outlives python it would hold a stdout pipe open, and reading to the
	// pipe's end would wait for it forever (seen under load). So the
	// request and answers are files, which python's exit ends, python leads a process
	// group of its own, and that group is ended once python exits.
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "stdin"), data, 0o600); err != nil {
		t.Fatal(err)
	}
	stdin, err := os.Open(filepath.Join(dir, "stdin"))
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	stdout, err := os.Create(filepath.Join(dir, "stdout"))
	if err != nil {
		t.Fatal(err)
	}
	defer stdout.Close()
	stderr, err := os.Create(filepath.Join(dir, "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	defer stderr.Close()
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, stdout, stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	err = cmd.Start()
	if err == nil {
		err = cmd.Wait()
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	b, _ := os.ReadFile(stdout.Name())
	if err != nil {
		e, _ := os.ReadFile(stderr.Name())
		t.Fatalf("python %v: %v\n%s", args[0], err, e)
	}
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatalf("python %v output: %v\n%s", args[0], err, b)
	}
}
