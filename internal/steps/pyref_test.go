package steps

import (
	"encoding/json"
	"testing"

	"github.com/prefectctl/prefectctl/internal/py/pyoracle"
)

// askPython sends requests to testdata/pyref.py in the venv holding the
// real Prefect and returns one answer per request.
func askPython(t *testing.T, reqs []map[string]any) []struct {
	OK    json.RawMessage `json:"ok"`
	Error string          `json:"error"`
} {
	t.Helper()
	var ans []struct {
		OK    json.RawMessage `json:"ok"`
		Error string          `json:"error"`
	}
	pyoracle.Run(t, reqs, &ans, "testdata/pyref.py")
	if len(ans) != len(reqs) {
		t.Fatalf("pyref.py gave %d answers for %d requests", len(ans), len(reqs))
	}
	return ans
}
