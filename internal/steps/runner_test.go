package steps

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prefectctl/prefectctl/internal/diag"
	"github.com/prefectctl/prefectctl/internal/py"
	"github.com/prefectctl/prefectctl/internal/template"
	"github.com/prefectctl/prefectctl/internal/testenv"
)

func mustParse(t *testing.T, section, yamlJSON string) []*Step {
	t.Helper()
	raw, err := py.DecodeJSON([]byte(yamlJSON))
	if err != nil {
		t.Fatal(err)
	}
	s, err := ParseSection(raw, section)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestRunMatchesPrefect runs the same shell-step lists through prefectctl
// and through Prefect 3.9.1's run_steps, and compares the outputs (or the
// failure).
func TestRunMatchesPrefect(t *testing.T) {
	t.Setenv("PREFECTCTL_STEPS_TEST_VAR", "from-env")
	cases := []struct{ name, steps string }{
		{"spec example", `[{"prefect.deployments.steps.run_shell_script": {"script": "echo 'this is a test'", "id": "why_not_to_panic"}},
		  {"prefect.deployments.steps.run_shell_script": {"script": "echo Don\\'t Panic: {{ why_not_to_panic.stdout }}"}}]`},
		{"aliases and flat outputs", `[{"prefect.deployments.steps.utility.run_shell_script": {"script": "echo one", "id": "a"}},
		  {"prefect.deployments.steps:run_shell_script": {"script": "echo two {{ stdout }} {{ a.stdout }}", "id": "b"}},
		  {"prefect.deployments.steps.run_shell_script": {"script": "echo [{{ missing.value }}] {{ $PREFECTCTL_STEPS_TEST_VAR }} [{{ $UNSET_VAR_XYZ }}]"}}]`},
		{"whole-string miss is removed", `[{"prefect.deployments.steps.run_shell_script": {"script": "pwd", "directory": "{{ nothing.here }}", "stream_output": false}}]`},
		{"typed values", `[{"prefect.deployments.steps.run_shell_script": {"script": "echo 5", "id": "n"}},
		  {"prefect.deployments.steps.run_shell_script": {"script": "echo {{ n }}", "stream_output": "{{ n.stderr }}"}}]`},
		{"empty entries skipped", `[{}, null, {"prefect.deployments.steps.run_shell_script": {"script": "echo x"}}]`},
		{"failure", `[{"prefect.deployments.steps.run_shell_script": {"script": "echo ok", "id": "first"}},
		  {"prefect.deployments.steps.run_shell_script": {"script": "bash -c 'echo bad >&2; exit 4'", "id": "second"}}]`},
		{"unknown argument", `[{"prefect.deployments.steps.run_shell_script": {"script": "true", "bogus": 1}}]`},
		{"expand env vars", `[{"prefect.deployments.steps.run_shell_script": {"script": "echo $PREFECTCTL_STEPS_TEST_VAR ${STEP_ONLY} $$HOME $NOPE_XYZ", "expand_env_vars": true, "env": {"STEP_ONLY": "step"}, "stream_output": false}}]`},
		{"shell mode", `[{"prefect.deployments.steps.run_shell_script": {"script": "echo a b | tr ' ' '\n' | sort -r\n  \n  echo \"$PREFECTCTL_STEPS_TEST_VAR\" >&2  ", "shell": true, "stream_output": false}}]`},
		{"relative directory", `[{"prefect.deployments.steps.run_shell_script": {"script": "mkdir -p sub", "id": "mk"}},
		  {"prefect.deployments.steps.run_shell_script": {"script": "ls -a", "directory": "sub"}}]`},
		{"whitespace and unicode output", `[{"prefect.deployments.steps.run_shell_script": {"script": "printf '  \\tüñí\\n\\n\\n'\nprintf 'x\\r\\n'", "stream_output": false}}]`},
		{"stderr then failure mid-script", `[{"prefect.deployments.steps.run_shell_script": {"script": "bash -c 'echo e1 >&2'\nbash -c 'echo e2 >&2; exit 9'\necho unreached", "stream_output": false}}]`},
		{"list and mapping outputs kept whole", `[{"prefect.deployments.steps.run_shell_script": {"script": "echo x", "id": "s"}},
		  {"prefect.deployments.steps.run_shell_script": {"script": "echo {{ s }} {{ s.stdout[0] }} {{ s.nope }}", "env": {"A": "{{ s.stdout }}"}}}]`},
	}
	dir := t.TempDir()
	var reqs []map[string]any
	for _, c := range cases {
		var steps any
		if err := json.Unmarshal([]byte(c.steps), &steps); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		reqs = append(reqs, map[string]any{"kind": "run_steps", "steps": steps, "dir": dir})
	}
	ans := askPython(t, reqs)
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := NewRunner(&Env{Dir: dir})
			defer r.Close()
			got, err := r.Run(context.Background(), mustParse(t, "build", c.steps), nil)
			if ans[i].Error != "" {
				if err == nil {
					t.Fatalf("prefectctl succeeded with %v; Prefect failed with %s", got, ans[i].Error)
				}
				// Prefect's cause text must appear in ours.
				if !strings.Contains(err.Error(), strings.SplitN(ans[i].Error, ": ", 2)[1]) {
					t.Fatalf("error %q does not carry Prefect's %q", err, ans[i].Error)
				}
				return
			}
			if err != nil {
				t.Fatalf("prefectctl failed: %v; Prefect gave %s", err, ans[i].OK)
			}
			want, _ := py.DecodeJSON(ans[i].OK)
			if !py.Equal(got, want) {
				g, _ := py.EncodeJSON(got)
				t.Fatalf("outputs differ\nprefectctl: %s\nPrefect:    %s", g, ans[i].OK)
			}
		})
	}
}

func TestRunFailureStopsAndNamesStep(t *testing.T) {
	dir := t.TempDir()
	marker := filepath.Join(dir, "later-step-ran")
	steps := mustParse(t, "push", `[
	  {"prefect.deployments.steps.run_shell_script": {"script": "echo fine"}},
	  {"prefect.deployments.steps.run_shell_script": {"id": "breaks", "script": "bash -c 'echo out; echo something broke >&2; exit 2'", "stream_output": false}},
	  {"prefect.deployments.steps.run_shell_script": {"script": "touch `+marker+`"}}]`)
	var stderr bytes.Buffer
	r := NewRunner(&Env{Dir: dir, Stderr: &stderr})
	_, err := r.Run(context.Background(), steps, py.MapOf("previous", "x"))
	var de *diag.Error
	if !errors.As(err, &de) {
		t.Fatalf("err = %v, want *diag.Error", err)
	}
	if de.Kind != diag.Runtime || de.Path != "push[1]" {
		t.Errorf("kind %v path %q, want Runtime push[1]", de.Kind, de.Path)
	}
	for _, want := range []string{"Encountered error while running prefect.deployments.steps.run_shell_script (push step 2, id breaks): ", "error code 2: something broke"} {
		if !strings.Contains(de.Error(), want) {
			t.Errorf("error %q lacks %q", de.Error(), want)
		}
	}
	if de.Hint == "" {
		t.Error("no hint")
	}
	if _, err := os.Stat(marker); err == nil {
		t.Error("a step after the failing one ran")
	}
	if !strings.Contains(stderr.String(), "Running deployment push steps...\n > Running run_shell_script step...\n") {
		t.Errorf("progress lines missing: %q", stderr.String())
	}
}

// fakeResolver serves one secret block and one variable.
type fakeResolver struct{}

func (fakeResolver) Variable(_ context.Context, name string) (any, bool, error) {
	if name == "greeting" {
		return "hello-from-variable", true, nil
	}
	return nil, false, nil
}

func (fakeResolver) BlockDocumentByName(_ context.Context, slug, name string) (*py.Map, error) {
	if slug == "secret" && name == "token" {
		return py.MapOf("value", "s3cr3t-t0ken-value"), nil
	}
	return nil, template.ErrNotFound
}

func (fakeResolver) BlockDocumentByID(context.Context, string) (*py.Map, error) {
	return nil, template.ErrNotFound
}

func TestRunBlocksVariablesAndSecretMasking(t *testing.T) {
	dir := t.TempDir()
	r := NewRunner(&Env{Dir: dir, Resolver: fakeResolver{}})
	out, err := r.Run(context.Background(), mustParse(t, "build", `[
	  {"prefect.deployments.steps.run_shell_script": {"id": "v", "script": "echo {{ prefect.variables.greeting }}", "stream_output": false}}]`), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := template.GetFromDict(out, "v.stdout"); got != "hello-from-variable" {
		t.Fatalf("v.stdout = %v", got)
	}
	_, err = r.Run(context.Background(), mustParse(t, "build", `[
	  {"prefect.deployments.steps.run_shell_script": {"script": "bash -c 'echo leaked {{ prefect.blocks.secret.token }} >&2; exit 1'", "stream_output": false}}]`), nil)
	if err == nil {
		t.Fatal("expected failure")
	}
	if strings.Contains(err.Error(), "s3cr3t-t0ken-value") {
		t.Fatalf("secret shown in error: %v", err)
	}
	if !strings.Contains(err.Error(), "leaked ********") {
		t.Fatalf("error lost the masked output: %v", err)
	}
	// Without a resolver, a block reference is a clear error.
	r2 := NewRunner(&Env{Dir: dir})
	_, err = r2.Run(context.Background(), mustParse(t, "build", `[{"prefect.deployments.steps.run_shell_script": {"script": "echo {{ prefect.blocks.secret.token }}"}}]`), nil)
	if err == nil || !strings.Contains(err.Error(), "needs the Prefect API") {
		t.Fatalf("err = %v", err)
	}
}

func TestSetWorkingDirectoryMovesLaterSteps(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	r := NewRunner(&Env{Dir: dir})
	out, err := r.Run(context.Background(), mustParse(t, "build", `[
	  {"prefect.deployments.steps.set_working_directory": {"directory": "sub"}},
	  {"prefect.deployments.steps.run_shell_script": {"id": "p", "script": "pwd", "stream_output": false}}]`), nil)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := filepath.EvalSymlinks(filepath.Join(dir, "sub"))
	if got, _ := template.GetFromDict(out, "p.stdout"); got != want {
		t.Fatalf("pwd = %v, want %s", got, want)
	}
	if d, _ := out.Get("directory"); d != want {
		t.Fatalf("directory output = %v", d)
	}
}

func TestBridgeCustomStepsFeedLaterSteps(t *testing.T) {
	py := testenv.Python(t)
	dir, _ := filepath.Abs("testdata/bridgeproj")
	var stdout, stderr bytes.Buffer
	r := NewRunner(&Env{Dir: dir, Python: py, Stdout: &stdout, Stderr: &stderr})
	steps := mustParse(t, "build", `[
	  {"my_steps.make_greeting": {"id": "greet", "name": "{{ $PREFECTCTL_BRIDGE_NAME }}", "times": 2}},
	  {"my_steps:async_step": {"id": "twice", "value": "{{ greet.count }}"}},
	  {"pkg.steps:Helpers.upper": {"text": "{{ greet.greeting }}"}},
	  {"script_step.py:run": {"tag": "{{ twice.nested.items[0] }}"}},
	  {"my_steps.not_a_dict": {}},
	  {"prefect.deployments.steps.run_shell_script": {"id": "echo", "script": "echo {{ upper }} {{ twice.doubled }} {{ from_script }}", "stream_output": false}}]`)
	t.Setenv("PREFECTCTL_BRIDGE_NAME", "ada")
	out, err := r.Run(context.Background(), steps, nil)
	if err != nil {
		t.Fatalf("%v\nstderr: %s", err, stderr.String())
	}
	if got, _ := template.GetFromDict(out, "echo.stdout"); got != "HELLO ADA HELLO ADA! 4 script-2" {
		t.Fatalf("echo.stdout = %q", got)
	}
	if got, _ := template.GetFromDict(out, "greet.count"); got != int64(2) {
		t.Fatalf("greet.count = %#v, want int64 2", got)
	}
	if got, _ := template.GetFromDict(out, "greet.cwd"); got != dir {
		t.Fatalf("step ran in %v, want %s", got, dir)
	}
	if !strings.Contains(stdout.String(), "making a greeting for ada") {
		t.Fatalf("the step's print did not reach stdout: %q", stdout.String())
	}

	_, err = r.Run(context.Background(), mustParse(t, "build", `[{"my_steps.explode": {"id": "boom", "reason": "on purpose"}}]`), nil)
	if err == nil || !strings.Contains(err.Error(), "RuntimeError: exploded: on purpose") || !strings.Contains(err.Error(), "id boom") ||
		!strings.Contains(err.Error(), `my_steps.py", line`) {
		t.Fatalf("err = %v", err)
	}
	_, err = r.Run(context.Background(), mustParse(t, "build", `[{"not_installed_pkg_xyz.steps.go": {"requires": "not-installed-pkg-xyz>=1.0"}}]`), nil)
	var de *diag.Error
	if !errors.As(err, &de) || !strings.Contains(err.Error(), "ModuleNotFoundError") || !strings.Contains(de.Hint, "pip install 'not-installed-pkg-xyz>=1.0'") || !strings.Contains(de.Hint, "--allow-pip-install") {
		t.Fatalf("err = %v (hint %q)", err, de.Hint)
	}
}

func TestBridgeWithoutPython(t *testing.T) {
	r := NewRunner(&Env{Dir: t.TempDir(), Python: "/nonexistent/python3"})
	_, err := r.Run(context.Background(), mustParse(t, "build", `[{"my_pkg.steps.do_thing": {"requires": "my-pkg"}}]`), nil)
	var de *diag.Error
	if !errors.As(err, &de) {
		t.Fatalf("err = %v", err)
	}
	for _, want := range []string{"my_pkg.steps.do_thing", "/nonexistent/python3 was not found"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if !strings.Contains(de.Hint, "install Python 3") || !strings.Contains(de.Hint, "my-pkg") {
		t.Errorf("hint = %q", de.Hint)
	}
}
