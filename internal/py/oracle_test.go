package py

import (
	"testing"

	"github.com/prefectctl/prefectctl/internal/py/pyoracle"
)

// askPython runs a snippet in the Prefect venv with args as JSON on stdin
// and decodes what it prints into out: every conformance table of this
// package goes through it.
func askPython(t *testing.T, script string, args any, out any) {
	t.Helper()
	pyoracle.Run(t, args, out, "-c", script)
}
