package flowmeta

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/prefectctl/prefectctl/internal/py"
	"github.com/prefectctl/prefectctl/internal/testenv"
)

// TestLoadWithPythonMatchesStatic runs the embedded helper with the test
// venv's Prefect and checks it agrees with the static reader and the goldens.
func TestLoadWithPythonMatchesStatic(t *testing.T) {
	python := testenv.Python(t) // the venv with the pinned Prefect, set up by scripts/testenv.sh
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

// TestUnreadableDefaultsThreeWays pins what happens to a default the static
// reader cannot compute (a name and a call from a package outside the
// project), against the real Prefect: prefectctl leaves it out with a
// warning; Prefect with the package installed stores the value pydantic can
// render (none for a sentinel object); Prefect without it falls back to
// reading the source and stores null (and a null version).
// docs/differences.md quotes the warnings checked here.
func TestUnreadableDefaultsThreeWays(t *testing.T) {
	python := testenv.Python(t)
	project, site := t.TempDir(), t.TempDir()
	if err := os.Mkdir(filepath.Join(project, "flows"), 0o755); err != nil {
		t.Fatal(err)
	}
	write(t, project, "flows/etl.py", `from warehouse_client import NOT_SET, default_charset

from prefect import flow


@flow
def etl(db_charset: str = NOT_SET, table: str = "events", charset: str = default_charset("utf8")):
    """Loads events."""
`)
	write(t, site, "warehouse_client.py", "class _NotSet:\n    pass\n\n\nNOT_SET = _NotSet()\n\n\ndef default_charset(name):\n    return name.upper()\n")
	t.Setenv("PREFECT_HOME", t.TempDir())
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const ep = "flows/etl.py:etl"
	opt := Options{ProjectDir: project}
	defaults := func(f *Flow) map[string]any {
		out := map[string]any{}
		props, _ := f.ParameterSchema.Get("properties")
		for _, name := range []string{"db_charset", "table", "charset"} {
			p, _ := props.(*py.Map).Get(name)
			if d, ok := p.(*py.Map).Get("default"); ok {
				out[name] = d
			} else {
				out[name] = "(absent)"
			}
		}
		return out
	}
	check := func(what string, f *Flow, want map[string]any) {
		t.Helper()
		if got := defaults(f); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: defaults %v, want %v", what, got, want)
		}
	}

	static, err := Load(ep, opt)
	if err != nil {
		t.Fatal(err)
	}
	check("static", static, map[string]any{"db_charset": "(absent)", "table": "events", "charset": "(absent)"})
	var msgs []string
	for _, w := range static.Warnings {
		msgs = append(msgs, w.Msg)
		if w.Line != 7 || w.Hint != "use --flow-metadata=python to compute this value with Prefect itself" {
			t.Errorf("warning %+v: want line 7 and the --flow-metadata=python hint", w)
		}
	}
	wantMsgs := []string{
		"default of parameter db_charset cannot be computed without running Python (NOT_SET is defined in module warehouse_client, outside the project); it is left out of the schema",
		"default of parameter charset cannot be computed without running Python (call of default_charset); it is left out of the schema",
	}
	if !reflect.DeepEqual(msgs, wantMsgs) {
		t.Errorf("warnings\n got %q\nwant %q", msgs, wantMsgs)
	}

	t.Setenv("PYTHONPATH", site)
	installed, err := LoadWithPython(ctx, python, ep, opt)
	if err != nil {
		t.Fatal(err)
	}
	check("python, package installed", installed, map[string]any{"db_charset": "(absent)", "table": "events", "charset": "UTF8"})
	if installed.Version != static.Version {
		t.Errorf("version %q, want the file's MD5 %q", installed.Version, static.Version)
	}

	t.Setenv("PYTHONPATH", "")
	missing, err := LoadWithPython(ctx, python, ep, opt)
	if err != nil {
		t.Fatal(err)
	}
	check("python, package missing", missing, map[string]any{"db_charset": nil, "table": "events", "charset": nil})
	if missing.Version != "" {
		t.Errorf("version %q, want none (Prefect's source fallback)", missing.Version)
	}
}
