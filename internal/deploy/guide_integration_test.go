package deploy_test

// Acceptance tests of the guide project (examples/flows without its Docker
// steps) and of the guide's customised Kubernetes work pool. They run on a
// Prefect server of their own: the guide's names (hello/arthur, pool
// "kubernetes") are fixed, and other packages' tests use the same names on
// the shared test server.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prefectctl/prefectctl/internal/cloudapi"
	"github.com/prefectctl/prefectctl/internal/py"
	"github.com/prefectctl/prefectctl/internal/testenv"
)

// privateServer starts a Prefect 3.9.1 server (API only, no services) on a
// free loopback port with its own home, and stops it, by process group of
// the PID it started, when the test ends.
func privateServer(t *testing.T) *server {
	t.Helper()
	if testing.Short() {
		t.Skip("needs the Prefect 3.9.1 CLI to start a server")
	}
	cli := testenv.PrefectCLI(t)
	py := testenv.Python(t)
	venvBin = filepath.Dir(py)
	api := testenv.PrivatePrefect(t)
	c, err := cloudapi.New(cloudapi.Options{BaseURL: api, MaxRetries: 6, Timeout: 60 * time.Second, BackoffBase: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return &server{api: api, cli: cli, python: py, c: c}
}

// createGuidePool creates the work pool "kubernetes" with the guide's
// customised base job template: the default Kubernetes template of
// Prefect's worker registry (served by the server itself), with a
// cpu_request variable wired into the container's resource requests.
func createGuidePool(ctx context.Context, t *testing.T, s *server) *py.Map {
	t.Helper()
	var raw json.RawMessage
	if _, err := s.c.Do(ctx, "GET", "/collections/views/aggregate-worker-metadata", nil, nil, &raw); err != nil {
		t.Fatal(err)
	}
	v, err := py.DecodeJSON(raw)
	if err != nil {
		t.Fatal(err)
	}
	tmpl, ok := py.Clone(dig(v, "prefect-kubernetes", "kubernetes", "default_base_job_configuration")).(*py.Map)
	if !ok {
		t.Fatalf("the server's worker registry has no Kubernetes template")
	}
	props := dig(tmpl, "variables", "properties").(*py.Map)
	props.Set("cpu_request", py.MapOf("title", "CPU Request", "description", "The CPU allocation to request for this pod.",
		"default", "default", "type", "string"))
	containers := dig(tmpl, "job_configuration", "job_manifest", "spec", "template", "spec", "containers").([]any)
	container := containers[0].(*py.Map)
	resources, _ := get(container, "resources").(*py.Map)
	if resources == nil {
		resources = py.NewMap()
		container.Set("resources", resources)
	}
	resources.Set("requests", py.MapOf("cpu", "{{ cpu_request }}"))
	if _, err := s.c.CreateWorkPool(ctx, py.MapOf("name", "kubernetes", "type", "kubernetes", "base_job_template", tmpl)); err != nil {
		t.Fatal(err)
	}
	return tmpl
}

func dig(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(*py.Map)
		if !ok {
			return nil
		}
		v = get(m, k)
	}
	return v
}

func guideDir(t *testing.T) string {
	t.Helper()
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(root, "testdata", "projects", "guide-nodocker")
}

// inspect reads a deployment back with the real Prefect CLI.
func inspect(ctx context.Context, t *testing.T, s *server, dir string, env []string, name string) *py.Map {
	t.Helper()
	cmd := exec.CommandContext(ctx, s.cli, "--no-prompt", "deployment", "inspect", name, "-o", "json")
	cmd.Dir, cmd.Env = dir, env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("prefect deployment inspect %s: %v\n%s%s", name, err, stdout.String(), stderr.String())
	}
	v, err := py.DecodeJSON(stdout.Bytes())
	if err != nil {
		t.Fatalf("prefect deployment inspect %s -o json: %v\n%s", name, err, stdout.String())
	}
	m, ok := v.(*py.Map)
	if !ok {
		t.Fatalf("prefect deployment inspect %s: not an object: %s", name, stdout.String())
	}
	return m
}

func TestGuideAcceptance(t *testing.T) {
	s := privateServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	bin := prefectctlBinary(t)
	createGuidePool(ctx, t, s)

	work := filepath.Join(t.TempDir(), "flows")
	copyTree(t, guideDir(t), work)
	gitInit(ctx, t, work)
	sha, err := run(ctx, t, work, os.Environ(), "git", "rev-parse", "--short", "HEAD")
	if err != nil {
		t.Fatal(err)
	}
	sha = strings.TrimSpace(sha)
	env := toolEnv(s.api, t.TempDir(), map[string]string{"PREFECT_IMAGE_NAME": "registry.example.com/acme/flows"})

	t.Run("guide registers as prefect deploy does", func(t *testing.T) {
		cc := &conformanceCase{Expect: []string{"hello/default", "hello/arthur"}}
		start := time.Now()
		if out, err := run(ctx, t, work, env, s.cli, "--no-prompt", "deploy", "--all"); err != nil {
			t.Fatalf("prefect deploy --all: %v\n%s", err, out)
		}
		want := s.read(ctx, t, cc, start)
		s.wipe(ctx, t, cc)
		if out, err := run(ctx, t, work, env, bin, "deploy", "--all"); err != nil {
			t.Fatalf("prefectctl deploy --all: %v\n%s", err, out)
		}
		got := s.read(ctx, t, cc, start)
		compareSnapshots(t, "first deploy", "guide-nodocker", work, cc, want, got)
		s.wipe(ctx, t, cc)
	})

	t.Run("guide deploys and reads back with prefect deployment inspect", func(t *testing.T) {
		if out, err := run(ctx, t, work, env, bin, "deploy", "--all"); err != nil {
			t.Fatalf("prefectctl deploy --all: %v\n%s", err, out)
		}
		pull := `[{"prefect.deployments.steps.set_working_directory": {"directory": "/opt/prefect/flows"}}]`
		for _, c := range []struct{ name, params string }{
			{"hello/default", `{}`},
			{"hello/arthur", `{"name": "Arthur"}`},
		} {
			d := inspect(ctx, t, s, work, env, c.name)
			want := map[string]string{
				"name":            fmt.Sprintf("%q", strings.TrimPrefix(c.name, "hello/")),
				"parameters":      c.params,
				"work_pool_name":  `"kubernetes"`,
				"tags":            fmt.Sprintf(`["eks", %q]`, sha),
				"job_variables":   fmt.Sprintf(`{"image": "registry.example.com/acme/flows:%s"}`, sha),
				"pull_steps":      pull,
				"entrypoint":      `"flows/hello.py:hello"`,
				"work_queue_name": `"default"`,
			}
			for field, w := range want {
				wv, err := py.DecodeJSON([]byte(w))
				if err != nil {
					t.Fatal(err)
				}
				if got, _ := d.Get(field); !py.Equal(got, wv) {
					t.Errorf("%s: %s = %s, want %s", c.name, field, mustJSON(got), w)
				}
			}
		}
	})

	t.Run("cpu_request of the right type is accepted", func(t *testing.T) {
		marker := filepath.Join(work, "build-step-ran.marker")
		os.Remove(marker)
		out, err := run(ctx, t, work, env, bin, "deploy", "--prefect-file", "cpu-request.yaml", "--all")
		if err != nil {
			t.Fatalf("prefectctl deploy: %v\n%s", err, out)
		}
		if _, err := os.Stat(marker); err != nil {
			t.Errorf("the build step did not run: %v", err)
		}
		d := inspect(ctx, t, s, work, env, "hello/cpu")
		if jv, _ := d.Get("job_variables"); !py.Equal(jv, py.MapOf("cpu_request", "500m")) {
			t.Errorf("job_variables = %s", mustJSON(jv))
		}
	})

	t.Run("cpu_request of the wrong type is rejected before any build step", func(t *testing.T) {
		marker := filepath.Join(work, "build-step-ran.marker")
		os.Remove(marker)
		if err := s.deleteByName(ctx, "hello", "cpu"); err != nil {
			t.Fatal(err)
		}
		out, err := run(ctx, t, work, env, bin, "deploy", "--prefect-file", "cpu-request-wrong-type.yaml", "--all")
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 2 {
			t.Fatalf("prefectctl deploy: want exit status 2 (invalid configuration), got %v\n%s", err, out)
		}
		for _, frag := range []string{"cpu_request", "string", "hello/cpu"} {
			if !strings.Contains(out, frag) {
				t.Errorf("the error does not mention %q:\n%s", frag, out)
			}
		}
		if _, err := os.Stat(marker); err == nil {
			t.Errorf("the build step ran although the job variables were invalid")
		}
		if _, err := s.c.ReadDeploymentByName(ctx, "hello", "cpu"); !errors.Is(err, cloudapi.ErrNotFound) {
			t.Errorf("hello/cpu was registered: %v", err)
		}
		// Prefect itself gets the same outcome from the server (after
		// running the build step): the deployment is refused.
		if out, err := run(ctx, t, work, env, s.cli, "--no-prompt", "deploy", "--prefect-file", "cpu-request-wrong-type.yaml", "--all"); err == nil {
			t.Errorf("prefect deploy accepted cpu_request {a: 1}:\n%s", out)
		}
		if _, err := s.c.ReadDeploymentByName(ctx, "hello", "cpu"); !errors.Is(err, cloudapi.ErrNotFound) {
			t.Errorf("prefect deploy registered hello/cpu: %v", err)
		}
	})
}

func (s *server) deleteByName(ctx context.Context, flow, name string) error {
	d, err := s.c.ReadDeploymentByName(ctx, flow, name)
	if errors.Is(err, cloudapi.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	return s.c.DeleteDeployment(ctx, d.ID)
}
