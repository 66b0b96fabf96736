package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prefectctl/prefectctl/internal/cloudapi"
	"github.com/prefectctl/prefectctl/internal/py"
	"github.com/prefectctl/prefectctl/internal/testenv"
)

// serverProject is a temporary project on the real Prefect server: an
// isolated Prefect home, a work pool of its own and a flow file whose flow
// name is unique, all removed when the test ends.
type serverProject struct {
	ctx        context.Context
	c          *cloudapi.Client
	work       string
	pool, flow string
}

func newServerProject(t *testing.T, prefix, poolType string) *serverProject {
	t.Helper()
	api := testenv.Prefect(t)
	isolate(t)
	t.Setenv("PREFECT_API_URL", api)
	sp := &serverProject{ctx: context.Background()}
	c, err := cloudapi.New(cloudapi.Options{BaseURL: api})
	if err != nil {
		t.Fatal(err)
	}
	sp.c = c
	id := strconv.FormatInt(time.Now().UnixNano(), 36)
	sp.pool, sp.flow = prefix+"-"+id, prefix+"-flow-"+id
	if _, err := c.CreateWorkPool(sp.ctx, py.MapOf("name", sp.pool, "type", poolType)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.DeleteWorkPool(context.Background(), sp.pool) })
	sp.work, _ = os.Getwd()
	os.MkdirAll(filepath.Join(sp.work, "flows"), 0o755)
	os.WriteFile(filepath.Join(sp.work, "flows", "f.py"), []byte(fmt.Sprintf("from prefect import flow\n\n\n@flow(name=%q)\ndef f(x: int = 1):\n    return x\n", sp.flow)), 0o644)
	return sp
}

// write writes prefect.yaml.
func (sp *serverProject) write(yaml string) {
	os.WriteFile(filepath.Join(sp.work, "prefect.yaml"), []byte(yaml), 0o644)
}

// registered reports whether deployment d of the project's flow exists.
func (sp *serverProject) registered(d string) bool {
	_, err := sp.c.ReadDeploymentByName(sp.ctx, sp.flow, d)
	return err == nil
}

// TestPlanAndUnchangedAgainstPrefect: --plan reads only; a deploy that
// changes nothing is not re-sent (so schedules keep their ids); a changed
// field is planned and applied; --force re-sends.
func TestPlanAndUnchangedAgainstPrefect(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the real Prefect server")
	}
	sp := newServerProject(t, "pctl-plan", "process")
	ctx, c := sp.ctx, sp.c
	write := func(tags string) {
		sp.write(fmt.Sprintf(`pull: []
deployments:
- name: d
  entrypoint: flows/f.py:f
  tags: %s
  schedules: [{cron: "0 9 * * *", timezone: Europe/Berlin}]
  work_pool: {name: %s}
`, tags, sp.pool))
	}
	write("[a]")
	type planOut struct {
		Plan []struct {
			Action  string `json:"action"`
			Changes []struct {
				Field string `json:"field"`
			} `json:"changes"`
		} `json:"plan"`
	}
	plan := func() planOut {
		t.Helper()
		code, out, errOut := run("deploy", "--all", "--plan", "-o", "json")
		var p planOut
		if code != 0 || json.Unmarshal([]byte(out), &p) != nil || len(p.Plan) != 1 {
			t.Fatalf("plan: %d\n%s\n%s", code, out, errOut)
		}
		return p
	}
	if p := plan(); p.Plan[0].Action != "create" {
		t.Fatalf("first plan: %+v", p)
	}
	if sp.registered("d") {
		t.Fatal("--plan created the deployment")
	}
	deploy := func(args ...string) string {
		t.Helper()
		code, out, errOut := run(append([]string{"deploy", "--all"}, args...)...)
		if code != 0 {
			t.Fatalf("deploy: %d\n%s\n%s", code, out, errOut)
		}
		return out
	}
	if out := deploy(); !strings.Contains(out, "created") {
		t.Fatalf("first deploy: %s", out)
	}
	d, err := c.ReadDeploymentByName(ctx, sp.flow, "d")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.DeleteDeployment(context.Background(), d.ID) })
	scheduleID := d.Schedules[0].ID

	if p := plan(); p.Plan[0].Action != "unchanged" {
		t.Fatalf("plan after deploy: %+v", p)
	}
	if out := deploy(); !strings.Contains(out, "unchanged") {
		t.Fatalf("second deploy should skip: %s", out)
	}
	if d2, _ := c.ReadDeploymentByName(ctx, sp.flow, "d"); d2.Schedules[0].ID != scheduleID {
		t.Fatal("an unchanged deploy recreated the schedule")
	}

	write("[a, b]")
	if p := plan(); p.Plan[0].Action != "update" || len(p.Plan[0].Changes) != 1 || p.Plan[0].Changes[0].Field != "tags" {
		t.Fatalf("plan after a tag change: %+v", p)
	}
	if out := deploy(); !strings.Contains(out, "updated") {
		t.Fatalf("deploy after change: %s", out)
	}
	if d3, _ := c.ReadDeploymentByName(ctx, sp.flow, "d"); strings.Join(d3.Tags, ",") != "a,b" {
		t.Fatalf("tags = %v", d3.Tags)
	}
	if out := deploy("--force"); !strings.Contains(out, "updated") {
		t.Fatalf("--force should re-send: %s", out)
	}
}

// dockerProject is a prefect.yaml whose build step builds an image and whose
// deployment uses it; pre is prepended to the build steps, push is the push
// section (or "").
func dockerProject(pool, imageName, pre, push string) string {
	return fmt.Sprintf(`build:
%s- prefect_docker.deployments.steps.build_docker_image:
    id: build-image
    image_name: %s
    dockerfile: auto
%sdeployments:
- name: d
  entrypoint: flows/f.py:f
  work_pool: {name: %s, job_variables: {image: "{{ build-image.image }}"}}
`, pre, imageName, push, pool)
}

const pushStep = `push:
- prefect_docker.deployments.steps.push_docker_image:
    image_name: "{{ build-image.image_name }}"
    tag: "{{ build-image.tag }}"
`

// markerStep is a shell step that creates path: if the file exists, a step
// ran.
func markerStep(path string) string {
	return fmt.Sprintf("- prefect.deployments.steps.run_shell_script:\n    script: touch %s\n", path)
}

// assertNothingRan fails if the marker exists or deployment d was registered.
func (sp *serverProject) assertNothingRan(t *testing.T, marker string) {
	t.Helper()
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("a build step ran although the preflight failed")
	}
	if sp.registered("d") {
		t.Fatal("a deployment was registered although the preflight failed")
	}
}

// TestImageOverrideSkipsBuild: --image stands in for the build step's image
// and --skip-push skips the push, so a Docker project deploys with no
// Docker engine at all.
func TestImageOverrideSkipsBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the real Prefect server")
	}
	sp := newServerProject(t, "pctl-img", "docker")
	t.Setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock") // any use of Docker would fail
	sp.write(dockerProject(sp.pool, "registry.invalid/never-built", "", pushStep))
	code, out, errOut := run("deploy", "--all", "--image", "127.0.0.1:5000/prebuilt:v7", "--skip-push", "-o", "json")
	if code != 0 {
		t.Fatalf("deploy: %d\n%s\n%s", code, out, errOut)
	}
	d, err := sp.c.ReadDeploymentByName(sp.ctx, sp.flow, "d")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sp.c.DeleteDeployment(context.Background(), d.ID) })
	if img, _ := d.JobVariables.Get("image"); img != "127.0.0.1:5000/prebuilt:v7" {
		t.Fatalf("job_variables.image = %v", img)
	}
	// The default pull step of an auto Dockerfile is stored as Prefect would.
	if len(d.PullSteps) != 1 || !strings.Contains(py.Repr(d.PullSteps[0]), "/opt/prefect/") {
		t.Fatalf("pull steps = %v", d.PullSteps)
	}
	// Without --skip-push the push step needs the engine: the preflight
	// says so before anything runs, and nothing changes on the server.
	code, _, errOut = run("deploy", "--all", "--image", "127.0.0.1:5000/prebuilt:v8")
	if code == 0 || !strings.Contains(errOut, "need Docker") || !strings.Contains(errOut, "hint:") {
		t.Fatalf("push without an engine: %d\n%s", code, errOut)
	}
	if d2, _ := sp.c.ReadDeploymentByName(sp.ctx, sp.flow, "d"); d2 != nil {
		if img, _ := d2.JobVariables.Get("image"); img != "127.0.0.1:5000/prebuilt:v7" {
			t.Fatalf("a failed push still changed the deployment: %v", img)
		}
	}
}

// TestPreflightDockerBeforeAnyStep: a project that builds an image, with no
// Docker daemon reachable, fails in the preflight — the shell step before
// the build never runs and nothing is registered.
func TestPreflightDockerBeforeAnyStep(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the real Prefect server")
	}
	sp := newServerProject(t, "pctl-pre", "docker")
	t.Setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
	marker := filepath.Join(sp.work, "marker")
	sp.write(dockerProject(sp.pool, "127.0.0.1:1/never", markerStep(marker), ""))
	code, out, errOut := run("deploy", "--all")
	if code != ExitFailure || !strings.Contains(errOut, "need Docker") {
		t.Fatalf("deploy without Docker: %d\n%s\n%s", code, out, errOut)
	}
	sp.assertNothingRan(t, marker)
}

// TestPreflightUnreachableRegistry: with a running Docker engine but a push
// to a registry nobody listens on, the preflight stops the deploy before
// the build.
func TestPreflightUnreachableRegistry(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the real Prefect server and Docker engine")
	}
	dockerHost := testenv.Docker(t)
	sp := newServerProject(t, "pctl-reg", "docker")
	t.Setenv("DOCKER_HOST", dockerHost)
	t.Setenv("PCTL_IMAGE", "127.0.0.1:1/nobody-listens")
	marker := filepath.Join(sp.work, "marker")
	sp.write(dockerProject(sp.pool, `"{{ $PCTL_IMAGE }}"`, markerStep(marker), pushStep))
	code, out, errOut := run("deploy", "--all")
	if code != ExitFailure || !strings.Contains(errOut, "registry 127.0.0.1:1 is not reachable") {
		t.Fatalf("deploy to a dead registry: %d\n%s\n%s", code, out, errOut)
	}
	sp.assertNothingRan(t, marker)
}

// TestUnknownWorkPool: a pool that does not exist is reported with the
// pools that do, before any step runs, with exit code 2.
func TestUnknownWorkPool(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the real Prefect server")
	}
	sp := newServerProject(t, "pctl-exists", "process")
	marker := filepath.Join(sp.work, "marker")
	missing := strings.Replace(sp.pool, "pctl-exists", "pctl-missing", 1) // must not contain the existing name
	sp.write(fmt.Sprintf("build:\n%sdeployments:\n- name: d\n  entrypoint: flows/f.py:f\n  work_pool: {name: %s}\n", markerStep(marker), missing))
	code, out, errOut := run("deploy", "--all")
	if code != ExitUsage || !strings.Contains(errOut, "work pool \""+missing+"\" does not exist") || !strings.Contains(errOut, sp.pool) {
		t.Fatalf("unknown pool: %d\n%s\n%s", code, out, errOut)
	}
	sp.assertNothingRan(t, marker)
}
