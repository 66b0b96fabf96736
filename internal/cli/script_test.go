package cli

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestMain lets testscript run prefectctl as a command in the scripts.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"prefectctl": func() { os.Exit(Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) },
	})
}

// TestScripts runs the end-to-end CLI scripts in testdata/script. Each
// script works in its own directory with no Prefect API configured, so any
// API call fails the script.
func TestScripts(t *testing.T) {
	root, _ := filepath.Abs(filepath.Join("..", ".."))
	testscript.Run(t, testscript.Params{
		Dir:                 filepath.Join(root, "testdata", "script"),
		RequireExplicitExec: true,
		Setup: func(env *testscript.Env) error {
			env.Setenv("NO_COLOR", "1")
			env.Setenv("PREFECT_HOME", filepath.Join(env.WorkDir, ".prefect"))
			env.Setenv("REPO", root)
			return nil
		},
	})
}
