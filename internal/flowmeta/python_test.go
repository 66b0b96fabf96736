package flowmeta

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prefectctl/prefectctl/internal/py"
)

// TestLoadWithPythonMatchesStatic runs the embedded helper with the test
// venv's Prefect and checks it agrees with the static reader and the goldens.
func TestLoadWithPythonMatchesStatic(t *testing.T) {
	python := os.Getenv("PREFECTCTL_PYTHON")
	if python == "" {
		home, _ := os.UserHomeDir()
		python = filepath.Join(home, ".cache/prefectctl-testenv/venv-prefect-3.9.1/bin/python")
	}
	if _, err := os.Stat(python); err != nil {
		t.Skipf("no Prefect venv at %s (set PREFECTCTL_PYTHON)", python)
	}
	project, _ := filepath.Abs(filepath.Join(flowsDir, "project"))
	t.Setenv("PREFECT_HOME", t.TempDir())
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for _, ep := range []string{"enums_models.py:mixed_everything", "classes.py:Pipelines.run", "pkg.sub.mod_flows:module_flow"} {
		got, err := LoadWithPython(ctx, python, ep, Options{ProjectDir: project})
		if err != nil {
			t.Fatalf("%s: %v", ep, err)
		}
		want, err := Load(ep, Options{ProjectDir: project})
		if err != nil {
			t.Fatal(err)
		}
		if got.Name != want.Name || got.Description != want.Description || got.Version != want.Version || got.HasDescription != want.HasDescription {
			t.Errorf("%s: python %+v, static %+v", ep, got, want)
		}
		if !py.Equal(got.ParameterSchema, want.ParameterSchema) {
			a, _ := py.EncodeJSON(got.ParameterSchema)
			b, _ := py.EncodeJSON(want.ParameterSchema)
			t.Errorf("%s: schema differs\npython: %s\nstatic: %s", ep, a, b)
		}
	}
	if _, err := LoadWithPython(ctx, python, "inexact.py:not_a_flow", Options{ProjectDir: project}); err == nil {
		t.Error("a function that is not a flow must be refused")
	}
	if _, err := LoadWithPython(ctx, filepath.Join(t.TempDir(), "nope"), "basic.py:hello", Options{ProjectDir: project}); err == nil {
		t.Error("a missing interpreter must be an error")
	}
}
