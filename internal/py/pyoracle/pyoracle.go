// Package pyoracle asks the real Python for the answers prefectctl must
// reproduce: conformance tests run a snippet or script in the venv that
// holds the pinned Prefect (through internal/testenv), feed it JSON on
// stdin and compare with what it prints as JSON.
package pyoracle

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
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
	cmd.Stdin = bytes.NewReader(data)
	cmd.Env = append(os.Environ(), "PREFECT_HOME="+t.TempDir(), "TZ=UTC")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	b, err := cmd.Output()
	if err != nil {
		t.Fatalf("python %v: %v\n%s", args[0], err, stderr.String())
	}
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatalf("python %v output: %v\n%s", args[0], err, b)
	}
}
