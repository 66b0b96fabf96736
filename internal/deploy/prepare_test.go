package deploy

import (
	"context"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/prefectctl/prefectctl/internal/diag"
	"github.com/prefectctl/prefectctl/internal/project"
	"github.com/prefectctl/prefectctl/internal/py"
)

// fakeFlows stands in for the flow-metadata reader, which has its own tests.
type fakeFlows map[string]*Flow

func (f fakeFlows) LoadFlow(_ context.Context, ep string) (*Flow, error) {
	if fl, ok := f[ep]; ok {
		return fl, nil
	}
	return nil, &diag.Error{Kind: diag.Invalid, Msg: "no such flow " + ep}
}

func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

func helloFlow() *Flow {
	return &Flow{Name: "hello", Version: "abc123",
		ParameterSchema: py.MapOf("title", "Parameters", "type", "object", "properties",
			py.MapOf("name", py.MapOf("default", "Marvin", "position", int64(0), "title", "name", "type", "string")))}
}

func planProject(t *testing.T, dir string, env map[string]string, sel project.SelectOptions) ([]*Deployment, []*Spec, []*diag.Error) {
	t.Helper()
	p, err := project.Load(filepath.Join(dir, "prefect.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := p.Select(sel)
	if err != nil {
		t.Fatal(err)
	}
	var warnings []*diag.Error
	opt := Options{Dir: dir, Env: func(k string) (string, bool) { v, ok := env[k]; return v, ok }}
	deps := Deps{Flows: fakeFlows{"flows/hello.py:hello": helloFlow()}, Warn: func(e *diag.Error) { warnings = append(warnings, e) }}
	var ds []*Deployment
	var specs []*Spec
	for _, it := range s.Items {
		d, err := Prepare(context.Background(), p, it, opt, deps)
		if err != nil {
			t.Fatal(err)
		}
		spec, err := Finalize(d, nil, true, time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), opt, deps)
		if err != nil {
			t.Fatal(err)
		}
		ds, specs = append(ds, d), append(specs, spec)
	}
	return ds, specs, warnings
}

func TestDryRunOfTheGuideProject(t *testing.T) {
	dir := filepath.Join(repoRoot(), "examples", "flows")
	_, specs, _ := planProject(t, dir, map[string]string{}, project.SelectOptions{All: true})
	if len(specs) != 2 {
		t.Fatalf("want 2 deployments, got %d", len(specs))
	}
	want := map[string]string{"default": "{}", "arthur": "{'name': 'Arthur'}"}
	for _, s := range specs {
		b := s.Body
		if got := py.Repr(get(b, "parameters")); got != want[s.Name] {
			t.Errorf("%s parameters = %s", s.Name, got)
		}
		if get(b, "work_pool_name") != "kubernetes" {
			t.Errorf("%s work pool = %v", s.Name, get(b, "work_pool_name"))
		}
		// Prefect 3.9.1 keeps the git-SHA tag through the environment pass
		// (the reference spec, read from older code, says it is dropped), so
		// it stays pending until the shell step has run.
		if got := py.Repr(get(b, "tags")); got != "['eks', '{{ get-commit-hash.stdout }}']" {
			t.Errorf("%s tags = %s", s.Name, got)
		}
		if got := py.Repr(get(b, "job_variables")); got != "{'image': '{{ build-image.image }}'}" {
			t.Errorf("%s job_variables = %s", s.Name, got)
		}
		if strings.Join(s.Pending, ",") != "build-image.image,get-commit-hash.stdout" {
			t.Errorf("%s pending = %v", s.Name, s.Pending)
		}
		if got := py.Repr(get(b, "pull_steps")); got != "[{'prefect.deployments.steps.set_working_directory': {'directory': '/opt/prefect/flows'}}]" {
			t.Errorf("%s pull_steps = %s", s.Name, got)
		}
		if s.FlowName != "hello" || get(b, "entrypoint") != "flows/hello.py:hello" {
			t.Errorf("%s flow/entrypoint = %s %v", s.Name, s.FlowName, get(b, "entrypoint"))
		}
	}
}

func TestFinalizeAppliesStepOutputs(t *testing.T) {
	dir := filepath.Join(repoRoot(), "examples", "flows")
	p, err := project.Load(filepath.Join(dir, "prefect.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	sel, err := p.Select(project.SelectOptions{Names: []string{"hello/arthur"}})
	if err != nil {
		t.Fatal(err)
	}
	opt := Options{Dir: dir, Env: func(string) (string, bool) { return "", false }}
	deps := Deps{Flows: fakeFlows{"flows/hello.py:hello": helloFlow()}}
	d, err := Prepare(context.Background(), p, sel.Items[0], opt, deps)
	if err != nil {
		t.Fatal(err)
	}
	outputs := py.MapOf("get-commit-hash", py.MapOf("stdout", "abc1234", "stderr", ""),
		"build-image", py.MapOf("image", "127.0.0.1:5000/hello:abc1234", "image_name", "127.0.0.1:5000/hello", "tag", "abc1234"))
	spec, err := Finalize(d, outputs, false, time.Now(), opt, deps)
	if err != nil {
		t.Fatal(err)
	}
	if got := py.Repr(get(spec.Body, "job_variables")); got != "{'image': '127.0.0.1:5000/hello:abc1234'}" {
		t.Errorf("job_variables = %s", got)
	}
	if got := py.Repr(get(spec.Body, "tags")); got != "['eks', 'abc1234']" {
		t.Errorf("tags = %s", got)
	}
	if len(spec.Pending) != 0 {
		t.Errorf("pending in a real run: %v", spec.Pending)
	}
}

func TestPullDefaults(t *testing.T) {
	cases := []struct{ name, yaml, want string }{
		{"no pull", "deployments:\n- {name: d, entrypoint: 'flows/hello.py:hello', work_pool: {name: p}}\n", "[{'prefect.deployments.steps.set_working_directory': {'directory': '%DIR%'}}]"},
		{"top-level []", "pull: []\ndeployments:\n- {name: d, entrypoint: 'flows/hello.py:hello', work_pool: {name: p}}\n", "[]"},
		{"deployment []", "pull: [{prefect.deployments.steps.git_clone: {repository: r}}]\ndeployments:\n- {name: d, entrypoint: 'flows/hello.py:hello', work_pool: {name: p}, pull: []}\n", "[]"},
		{"pull null", "pull: null\ndeployments:\n- {name: d, entrypoint: 'flows/hello.py:hello', work_pool: {name: p}}\n", "[{'prefect.deployments.steps.set_working_directory': {'directory': '%DIR%'}}]"},
		{"auto dockerfile", "build: [{prefect_docker.deployments.steps.build_docker_image: {image_name: x, dockerfile: auto}}]\ndeployments:\n- {name: d, entrypoint: 'flows/hello.py:hello', work_pool: {name: p}}\n", "[{'prefect.deployments.steps.set_working_directory': {'directory': '/opt/prefect/%BASE%'}}]"},
		{"image job variable", "deployments:\n- {name: d, entrypoint: 'flows/hello.py:hello', work_pool: {name: p, job_variables: {image: x}}}\n", "[{'prefect.deployments.steps.set_working_directory': {'directory': '/opt/prefect'}}]"},
	}
	for _, c := range cases {
		dir := t.TempDir()
		writeFile(t, filepath.Join(dir, "prefect.yaml"), c.yaml)
		_, specs, _ := planProject(t, dir, nil, project.SelectOptions{All: true})
		want := strings.ReplaceAll(strings.ReplaceAll(c.want, "%DIR%", absDir(dir)), "%BASE%", filepath.Base(dir))
		if got := py.Repr(get(specs[0].Body, "pull_steps")); got != want {
			t.Errorf("%s:\n got %s\nwant %s", c.name, got, want)
		}
	}
}
