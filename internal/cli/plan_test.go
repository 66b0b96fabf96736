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
	"github.com/prefectctl/prefectctl/internal/testenv"
	"github.com/prefectctl/prefectctl/internal/value"
)

// TestPlanAndUnchangedAgainstPrefect: --plan reads only; a deploy that
// changes nothing is not re-sent (so schedules keep their ids); a changed
// field is planned and applied; --force re-sends.
func TestPlanAndUnchangedAgainstPrefect(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the real Prefect server")
	}
	api := testenv.Prefect(t)
	isolate(t)
	t.Setenv("PREFECT_API_URL", api)
	ctx := context.Background()
	c, err := cloudapi.New(cloudapi.Options{BaseURL: api})
	if err != nil {
		t.Fatal(err)
	}
	id := strconv.FormatInt(time.Now().UnixNano(), 36)
	pool, flow := "pctl-plan-"+id, "pctl-plan-flow-"+id
	if _, err := c.CreateWorkPool(ctx, value.MapOf("name", pool, "type", "process")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.DeleteWorkPool(context.Background(), pool) })
	work, _ := os.Getwd()
	os.MkdirAll(filepath.Join(work, "flows"), 0o755)
	os.WriteFile(filepath.Join(work, "flows", "f.py"), []byte(fmt.Sprintf("from prefect import flow\n\n\n@flow(name=%q)\ndef f(x: int = 1):\n    return x\n", flow)), 0o644)
	write := func(tags string) {
		os.WriteFile(filepath.Join(work, "prefect.yaml"), []byte(fmt.Sprintf(`pull: []
deployments:
- name: d
  entrypoint: flows/f.py:f
  tags: %s
  schedules: [{cron: "0 9 * * *", timezone: Europe/Berlin}]
  work_pool: {name: %s}
`, tags, pool)), 0o644)
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
	if _, err := c.ReadDeploymentByName(ctx, flow, "d"); err == nil {
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
	d, err := c.ReadDeploymentByName(ctx, flow, "d")
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
	if d2, _ := c.ReadDeploymentByName(ctx, flow, "d"); d2.Schedules[0].ID != scheduleID {
		t.Fatal("an unchanged deploy recreated the schedule")
	}

	write("[a, b]")
	if p := plan(); p.Plan[0].Action != "update" || len(p.Plan[0].Changes) != 1 || p.Plan[0].Changes[0].Field != "tags" {
		t.Fatalf("plan after a tag change: %+v", p)
	}
	if out := deploy(); !strings.Contains(out, "updated") {
		t.Fatalf("deploy after change: %s", out)
	}
	if d3, _ := c.ReadDeploymentByName(ctx, flow, "d"); strings.Join(d3.Tags, ",") != "a,b" {
		t.Fatalf("tags = %v", d3.Tags)
	}
	if out := deploy("--force"); !strings.Contains(out, "updated") {
		t.Fatalf("--force should re-send: %s", out)
	}
}

// TestImageOverrideSkipsBuild: --image stands in for the build step's image
// and --skip-push skips the push, so a Docker project deploys with no
// Docker engine at all.
func TestImageOverrideSkipsBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the real Prefect server")
	}
	api := testenv.Prefect(t)
	isolate(t)
	t.Setenv("PREFECT_API_URL", api)
	t.Setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock") // any use of Docker would fail
	ctx := context.Background()
	c, err := cloudapi.New(cloudapi.Options{BaseURL: api})
	if err != nil {
		t.Fatal(err)
	}
	id := strconv.FormatInt(time.Now().UnixNano(), 36)
	pool, flow := "pctl-img-"+id, "pctl-img-flow-"+id
	if _, err := c.CreateWorkPool(ctx, value.MapOf("name", pool, "type", "docker")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.DeleteWorkPool(context.Background(), pool) })
	work, _ := os.Getwd()
	os.MkdirAll(filepath.Join(work, "flows"), 0o755)
	os.WriteFile(filepath.Join(work, "flows", "f.py"), []byte(fmt.Sprintf("from prefect import flow\n\n\n@flow(name=%q)\ndef f():\n    pass\n", flow)), 0o644)
	os.WriteFile(filepath.Join(work, "prefect.yaml"), []byte(fmt.Sprintf(`build:
- prefect_docker.deployments.steps.build_docker_image:
    id: build-image
    image_name: registry.invalid/never-built
    dockerfile: auto
push:
- prefect_docker.deployments.steps.push_docker_image:
    image_name: "{{ build-image.image_name }}"
    tag: "{{ build-image.tag }}"
deployments:
- name: d
  entrypoint: flows/f.py:f
  work_pool: {name: %s, job_variables: {image: "{{ build-image.image }}"}}
`, pool)), 0o644)
	code, out, errOut := run("deploy", "--all", "--image", "127.0.0.1:5000/prebuilt:v7", "--skip-push", "-o", "json")
	if code != 0 {
		t.Fatalf("deploy: %d\n%s\n%s", code, out, errOut)
	}
	d, err := c.ReadDeploymentByName(ctx, flow, "d")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.DeleteDeployment(context.Background(), d.ID) })
	if img, _ := d.JobVariables.Get("image"); img != "127.0.0.1:5000/prebuilt:v7" {
		t.Fatalf("job_variables.image = %v", img)
	}
	// The default pull step of an auto Dockerfile is stored as Prefect would.
	if len(d.PullSteps) != 1 || !strings.Contains(value.Repr(d.PullSteps[0]), "/opt/prefect/") {
		t.Fatalf("pull steps = %v", d.PullSteps)
	}
	// Without --skip-push the push step needs the engine: the preflight
	// says so before anything runs, and nothing changes on the server.
	code, _, errOut = run("deploy", "--all", "--image", "127.0.0.1:5000/prebuilt:v8")
	if code == 0 || !strings.Contains(errOut, "need Docker") || !strings.Contains(errOut, "hint:") {
		t.Fatalf("push without an engine: %d\n%s", code, errOut)
	}
	if d2, _ := c.ReadDeploymentByName(ctx, flow, "d"); d2 != nil {
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
	api := testenv.Prefect(t)
	isolate(t)
	t.Setenv("PREFECT_API_URL", api)
	t.Setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
	ctx := context.Background()
	c, err := cloudapi.New(cloudapi.Options{BaseURL: api})
	if err != nil {
		t.Fatal(err)
	}
	id := strconv.FormatInt(time.Now().UnixNano(), 36)
	pool, flow := "pctl-pre-"+id, "pctl-pre-flow-"+id
	if _, err := c.CreateWorkPool(ctx, value.MapOf("name", pool, "type", "docker")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.DeleteWorkPool(context.Background(), pool) })
	work, _ := os.Getwd()
	marker := filepath.Join(work, "marker")
	os.MkdirAll(filepath.Join(work, "flows"), 0o755)
	os.WriteFile(filepath.Join(work, "flows", "f.py"), []byte(fmt.Sprintf("from prefect import flow\n\n\n@flow(name=%q)\ndef f():\n    pass\n", flow)), 0o644)
	os.WriteFile(filepath.Join(work, "prefect.yaml"), []byte(fmt.Sprintf(`build:
- prefect.deployments.steps.run_shell_script:
    script: touch %s
- prefect_docker.deployments.steps.build_docker_image:
    id: build-image
    image_name: 127.0.0.1:1/never
    dockerfile: auto
deployments:
- name: d
  entrypoint: flows/f.py:f
  work_pool: {name: %s, job_variables: {image: "{{ build-image.image }}"}}
`, marker, pool)), 0o644)
	code, out, errOut := run("deploy", "--all")
	if code != ExitFailure || !strings.Contains(errOut, "need Docker") {
		t.Fatalf("deploy without Docker: %d\n%s\n%s", code, out, errOut)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("a build step ran although the preflight failed")
	}
	if _, err := c.ReadDeploymentByName(ctx, flow, "d"); err == nil {
		t.Fatal("a deployment was registered although the preflight failed")
	}
}

// TestPreflightUnreachableRegistry: with a running Docker engine but a push
// to a registry nobody listens on, the preflight stops the deploy before
// the build.
func TestPreflightUnreachableRegistry(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the real Prefect server and Docker engine")
	}
	api := testenv.Prefect(t)
	dockerHost := testenv.Docker(t)
	isolate(t)
	t.Setenv("PREFECT_API_URL", api)
	t.Setenv("DOCKER_HOST", dockerHost)
	ctx := context.Background()
	c, err := cloudapi.New(cloudapi.Options{BaseURL: api})
	if err != nil {
		t.Fatal(err)
	}
	id := strconv.FormatInt(time.Now().UnixNano(), 36)
	pool, flow := "pctl-reg-"+id, "pctl-reg-flow-"+id
	if _, err := c.CreateWorkPool(ctx, value.MapOf("name", pool, "type", "docker")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.DeleteWorkPool(context.Background(), pool) })
	work, _ := os.Getwd()
	marker := filepath.Join(work, "marker")
	os.MkdirAll(filepath.Join(work, "flows"), 0o755)
	os.WriteFile(filepath.Join(work, "flows", "f.py"), []byte(fmt.Sprintf("from prefect import flow\n\n\n@flow(name=%q)\ndef f():\n    pass\n", flow)), 0o644)
	t.Setenv("PCTL_IMAGE", "127.0.0.1:1/nobody-listens")
	os.WriteFile(filepath.Join(work, "prefect.yaml"), []byte(fmt.Sprintf(`build:
- prefect.deployments.steps.run_shell_script:
    script: touch %s
- prefect_docker.deployments.steps.build_docker_image:
    id: build-image
    image_name: "{{ $PCTL_IMAGE }}"
    dockerfile: auto
push:
- prefect_docker.deployments.steps.push_docker_image:
    image_name: "{{ build-image.image_name }}"
    tag: "{{ build-image.tag }}"
deployments:
- name: d
  entrypoint: flows/f.py:f
  work_pool: {name: %s, job_variables: {image: "{{ build-image.image }}"}}
`, marker, pool)), 0o644)
	code, out, errOut := run("deploy", "--all")
	if code != ExitFailure || !strings.Contains(errOut, "registry 127.0.0.1:1 is not reachable") {
		t.Fatalf("deploy to a dead registry: %d\n%s\n%s", code, out, errOut)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("a build step ran although the preflight failed")
	}
	if _, err := c.ReadDeploymentByName(ctx, flow, "d"); err == nil {
		t.Fatal("a deployment was registered although the preflight failed")
	}
}

// TestUnknownWorkPool: a pool that does not exist is reported with the
// pools that do, before any step runs, with exit code 2.
func TestUnknownWorkPool(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the real Prefect server")
	}
	api := testenv.Prefect(t)
	isolate(t)
	t.Setenv("PREFECT_API_URL", api)
	ctx := context.Background()
	c, err := cloudapi.New(cloudapi.Options{BaseURL: api})
	if err != nil {
		t.Fatal(err)
	}
	id := strconv.FormatInt(time.Now().UnixNano(), 36)
	existing := "pctl-exists-" + id
	if _, err := c.CreateWorkPool(ctx, value.MapOf("name", existing, "type", "process")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.DeleteWorkPool(context.Background(), existing) })
	work, _ := os.Getwd()
	marker := filepath.Join(work, "marker")
	os.MkdirAll(filepath.Join(work, "flows"), 0o755)
	os.WriteFile(filepath.Join(work, "flows", "f.py"), []byte("from prefect import flow\n\n\n@flow\ndef f():\n    pass\n"), 0o644)
	os.WriteFile(filepath.Join(work, "prefect.yaml"), []byte(fmt.Sprintf(`build:
- prefect.deployments.steps.run_shell_script:
    script: touch %s
deployments:
- name: d
  entrypoint: flows/f.py:f
  work_pool: {name: pctl-missing-%s}
`, marker, id)), 0o644)
	code, out, errOut := run("deploy", "--all")
	if code != ExitUsage || !strings.Contains(errOut, "work pool \"pctl-missing-"+id+"\" does not exist") || !strings.Contains(errOut, existing) {
		t.Fatalf("unknown pool: %d\n%s\n%s", code, out, errOut)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("a build step ran although the work pool is missing")
	}
}
