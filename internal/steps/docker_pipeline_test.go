package steps

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prefectctl/prefectctl/internal/diag"
	"github.com/prefectctl/prefectctl/internal/py"
	"github.com/prefectctl/prefectctl/internal/template"
	"github.com/prefectctl/prefectctl/internal/testenv"
)

// copyProject copies the Docker steps' test project into dir/flows.
func copyProject(t *testing.T) string {
	t.Helper()
	src := filepath.Join("docker", "testdata", "flows")
	dst := filepath.Join(t.TempDir(), "flows")
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

func dockerEnv(t *testing.T, dir string, vars map[string]string) (*Env, *bytes.Buffer) {
	t.Helper()
	all := map[string]string{"DOCKER_HOST": testenv.Docker(t), "DOCKER_CONFIG": t.TempDir()}
	for k, v := range vars {
		all[k] = v
	}
	var log bytes.Buffer
	return &Env{
		Dir: dir,
		Environ: func(k string) (string, bool) {
			if v, ok := all[k]; ok {
				return v, true
			}
			return os.LookupEnv(k)
		},
		Python: testenv.Python(t),
		Stdout: &log, Stderr: &log,
	}, &log
}

func TestDockerPipeline(t *testing.T) {
	reg := testenv.Registry(t)
	dir := copyProject(t)
	env, log := dockerEnv(t, dir, nil)
	r := NewRunner(env)
	defer r.Close()
	build := mustParse(t, "build", `[
	  {"prefect.deployments.steps.run_shell_script": {"id": "get-tag", "script": "echo pipeline-1", "stream_output": false}},
	  {"prefect_docker.deployments.steps.build_docker_image": {"id": "build-image", "requires": "prefect-docker>=0.3.1",
	    "image_name": "`+reg+`/prefectctl-runner/flows", "tag": "{{ get-tag.stdout }}", "dockerfile": "auto", "platform": "linux/amd64", "pull": false}}]`)
	push := mustParse(t, "push", `[
	  {"prefect_docker.deployments.steps.push_docker_image": {"requires": "prefect-docker", "image_name": "{{ build-image.image_name }}", "tag": "{{ build-image.tag }}"}}]`)
	ctx := context.Background()
	out, err := r.Run(ctx, build, nil)
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	out, err = r.Run(ctx, push, out)
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	want := reg + "/prefectctl-runner/flows:pipeline-1"
	if got, _ := template.GetFromDict(out, "build-image.image"); got != want {
		t.Fatalf("build-image.image = %v", got)
	}
	if got, _ := out.Get("image"); got != want {
		t.Fatalf("flat image = %v", got)
	}
	if id, _ := out.Get("image_id"); !strings.HasPrefix(py.Str(id), "sha256:") {
		t.Fatalf("image_id = %v (push outputs must not clobber it)", id)
	}
	p := r.Pushed()
	if len(p) != 1 || p[0].Image != want || p[0].Platform != "linux/amd64" {
		t.Fatalf("pushed = %+v", p)
	}
}

// Each failure must stop the run before the marker step.
func TestDockerFailuresStopTheRun(t *testing.T) {
	dir := copyProject(t)
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile.broken"), []byte("FROM "+testenv.BaseImage(t)+"\nRUN exit 7\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	marker := filepath.Join(t.TempDir(), "later-step-ran")
	after := `{"prefect.deployments.steps.run_shell_script": {"script": "touch ` + marker + `"}}`
	cases := []struct {
		name, section, step string
		vars                map[string]string
		msg, hint           string
	}{
		{"failing build", "build", `{"prefect_docker.deployments.steps.build_docker_image": {"id": "img", "image_name": "prefectctl-broken", "dockerfile": "Dockerfile.broken", "pull": false}}`,
			nil, "returned a non-zero code: 7", ""},
		{"daemon not running", "build", `{"prefect_docker.deployments.steps.build_docker_image": {"id": "img", "image_name": "x", "dockerfile": "auto"}}`,
			map[string]string{"DOCKER_HOST": "unix://" + filepath.Join(t.TempDir(), "no.sock")}, "cannot connect to the Docker daemon", "start Docker"},
		{"unreachable registry", "push", `{"prefect_docker.deployments.steps.push_docker_image": {"id": "img", "image_name": "127.0.0.1:1/nowhere/flows", "tag": "latest"}}`,
			nil, "pushing 127.0.0.1:1/nowhere/flows:latest failed", "not reachable"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env, log := dockerEnv(t, dir, c.vars)
			r := NewRunner(env)
			defer r.Close()
			if c.section == "push" {
				// Something to push: a local image under the unreachable name.
				pre := mustParse(t, "build", `[{"prefect_docker.deployments.steps.build_docker_image": {"image_name": "127.0.0.1:1/nowhere/flows", "tag": "latest", "dockerfile": "auto", "pull": false}}]`)
				if _, err := r.Run(context.Background(), pre, nil); err != nil {
					t.Fatalf("%v\n%s", err, log)
				}
			}
			_, err := r.Run(context.Background(), mustParse(t, c.section, "["+c.step+","+after+"]"), nil)
			var de *diag.Error
			if !errors.As(err, &de) {
				t.Fatalf("err = %v", err)
			}
			t.Logf("error: %v\nhint: %s", err, de.Hint)
			if de.Path != c.section+"[0]" || !strings.Contains(de.Msg, "id img") || !strings.Contains(de.Msg, c.msg) || !strings.Contains(de.Hint, c.hint) {
				t.Fatalf("error = %v (path %s, hint %q)", err, de.Path, de.Hint)
			}
			if _, err := os.Stat(marker); err == nil {
				t.Fatal("the step after the failure ran")
			}
			if _, err := os.Stat(filepath.Join(dir, "Dockerfile")); err == nil {
				t.Fatal("generated Dockerfile left behind")
			}
		})
	}
}
