package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// flowProject is the flow test project, resolved before any test changes
// directory.
var flowProject, _ = filepath.Abs(filepath.Join("..", "..", "testdata", "flows", "project"))

// runFlowCmd runs prefectctl in the flow test project and returns the
// exit code, stdout and stderr.
func runFlowCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	t.Chdir(flowProject)
	t.Setenv("NO_COLOR", "1")
	var out, errOut bytes.Buffer
	code := Main(args, strings.NewReader(""), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestFlowInspectJSONMatchesGolden(t *testing.T) {
	code, out, errOut := runFlowCmd(t, "flow", "inspect", "enums_models.py:mixed_everything", "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("bad JSON: %v\n%s", err, out)
	}
	raw, err := os.ReadFile(filepath.Join(flowProject, "..", "golden", "enums_models_py_mixed_everything.json"))
	if err != nil {
		t.Fatal(err)
	}
	var want map[string]any
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"name", "description", "version", "parameter_openapi_schema"} {
		if !reflect.DeepEqual(got[k], want[k]) {
			t.Errorf("%s: got %v, want %v", k, got[k], want[k])
		}
	}
	if w, _ := got["warnings"].([]any); len(w) != 0 {
		t.Errorf("warnings: %v", w)
	}
}

func TestFlowInspectTextAndWarnings(t *testing.T) {
	code, out, errOut := runFlowCmd(t, "flow", "inspect", "inexact.py:computed_name")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"Name", "computed-name", "Parameter schema", `"type": "integer"`} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(errOut, "Warning:") || !strings.Contains(errOut, "inexact.py:10") {
		t.Errorf("stderr should warn with file and line:\n%s", errOut)
	}
	code, _, errOut = runFlowCmd(t, "flow", "inspect", "inexact.py:computed_name", "--quiet")
	if code != 0 || errOut != "" {
		t.Errorf("--quiet: exit %d, stderr %q", code, errOut)
	}
}

func TestFlowInspectErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"flow", "inspect", "inexact.py:not_a_flow"}, ExitUsage, "is not a flow"},
		{[]string{"flow", "inspect", "missing.py:f"}, ExitUsage, "flow file not found"},
		{[]string{"flow", "inspect", "broken_syntax.py:broken"}, ExitUsage, "broken_syntax.py:6"},
		{[]string{"flow", "inspect", "basic.py:hello", "--flow-metadata", "guess"}, ExitUsage, "unknown --flow-metadata"},
		{[]string{"flow", "inspect", "basic.py:hello", "-o", "xml"}, ExitUsage, "unknown output format"},
		{[]string{"flow", "inspect"}, ExitUsage, "exactly one ENTRYPOINT"},
	} {
		code, _, errOut := runFlowCmd(t, tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.msg) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d with %q", tc.args, code, errOut, tc.code, tc.msg)
		}
	}
}
