package steps

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"testing"

	"github.com/prefectctl/prefectctl/internal/testenv"
)

// askPython sends requests to testdata/pyref.py in the venv holding the
// real Prefect and returns one answer per request.
func askPython(t *testing.T, reqs []map[string]any) []struct {
	OK    json.RawMessage `json:"ok"`
	Error string          `json:"error"`
} {
	t.Helper()
	py := testenv.Python(t)
	in, err := json.Marshal(reqs)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(py, "testdata/pyref.py")
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("pyref.py: %v\n%s", err, stderr.String())
	}
	var ans []struct {
		OK    json.RawMessage `json:"ok"`
		Error string          `json:"error"`
	}
	if err := json.Unmarshal(out, &ans); err != nil {
		t.Fatalf("pyref.py answer: %v\n%s", err, out)
	}
	if len(ans) != len(reqs) {
		t.Fatalf("pyref.py gave %d answers for %d requests", len(ans), len(reqs))
	}
	return ans
}
