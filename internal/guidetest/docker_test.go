package guidetest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prefectctl/prefectctl/internal/cloudapi"
	"github.com/prefectctl/prefectctl/internal/py"
	"github.com/prefectctl/prefectctl/internal/testenv"
)

// dockerProject is a flow deployed to a Docker pool without building an
// image: the base image runs it from the project, bind-mounted at the
// directory its pull step makes the working directory.
const dockerProject = `name: docker-e2e
prefect-version: 3.9.1
pull:
- prefect.deployments.steps.set_working_directory:
    directory: /opt/prefect/flows
deployments:
- name: docker
  entrypoint: flows/hello.py:hello
  parameters:
    name: Docker
  work_pool:
    name: %s
    job_variables:
      image: %s
      volumes:
      - %s:/opt/prefect/flows:ro
      env:
        TEAM: data
        ATTEMPT: "1"
      labels:
        team: data
      auto_remove: false
`

// TestInspectJobMatchesDockerWorker runs a flow through Prefect's Docker
// worker (prefect-docker, on the host, pool from its default template) and
// compares the container it created with deployment inspect --job's render.
func TestInspectJobMatchesDockerWorker(t *testing.T) {
	dockerHost := testenv.Docker(t)
	baseImage := testenv.BaseImage(t)
	prefect := testenv.PrefectCLI(t)
	python := testenv.Python(t)
	api := testenv.PrivatePrefect(t)
	ctx := context.Background()
	suffix := randomSuffix(t)
	pool, workerName := "docker-e2e-"+suffix, "docker-worker-"+suffix

	// The pool: prefect-docker's default template, unchanged.
	tmpl := decode(t, run(t, "", nil, python, "-c",
		"import json; from prefect_docker.worker import DockerWorker; print(json.dumps(DockerWorker.get_default_base_job_template()))"))
	c, err := cloudapi.New(cloudapi.Options{BaseURL: api, MaxRetries: 6, Timeout: 60 * time.Second, BackoffBase: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateWorkPool(ctx, py.MapOf("name", pool, "type", "docker", "base_job_template", tmpl)); err != nil {
		t.Fatal(err)
	}

	// The project: the guide's flow, mounted into the base image.
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "flows"), 0o755); err != nil {
		t.Fatal(err)
	}
	run(t, "", nil, "cp", filepath.Join(repoRoot(t), "examples", "flows", "flows", "hello.py"), filepath.Join(dir, "flows"))
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	y := fmt.Sprintf(dockerProject, pool, baseImage, dir)
	if err := os.WriteFile(filepath.Join(dir, "prefect.yaml"), []byte(y), 0o644); err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	env := []string{"PREFECT_API_URL=" + api, "DOCKER_HOST=" + dockerHost, "PREFECT_HOME=" + home,
		"PREFECT_PROFILES_PATH=" + filepath.Join(home, "profiles.toml")}
	must(t, prefectctl(t, dir, env, "deploy", "--all"), "prefectctl deploy --all")

	// The worker: prefect worker start, in a clean environment of its own.
	workerEnv := append(cleanEnv(), env...)
	worker := exec.Command(prefect, "worker", "start", "--pool", pool, "--type", "docker", "--name", workerName)
	worker.Env = workerEnv
	worker.Dir = home
	var wlog bytes.Buffer
	worker.Stdout, worker.Stderr = &wlog, &wlog
	worker.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := worker.Start(); err != nil {
		t.Fatal(err)
	}
	pid := worker.Process.Pid
	t.Cleanup(func() {
		_ = syscall.Kill(-pid, syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = worker.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			_ = syscall.Kill(-pid, syscall.SIGKILL)
			<-done
		}
	})

	r := prefectctl(t, dir, env, "deployment", "run", "hello/docker", "--job-variable", "env={\"ATTEMPT\": \"2\", \"RUN\": \"x\"}",
		"--watch", "--timeout", "5m", "-o", "json")
	if r.code != 0 || !strings.Contains(r.stderr, "Hello, Docker!") {
		t.Fatalf("run of hello/docker: exit %d\n%s\nworker log:\n%s", r.code, r.stderr, wlog.String())
	}
	id := str(at(decode(t, r.stdout), "flow_run", "id"))

	// The container the worker created (auto_remove is off, so it is still there).
	docker := []string{"DOCKER_HOST=" + dockerHost}
	cid := strings.TrimSpace(run(t, "", docker, "docker", "ps", "-aq", "--filter", "label=io.prefect.flow-run-id="+id))
	if cid == "" || strings.Contains(cid, "\n") {
		t.Fatalf("want one container for flow run %s, got %q", id, cid)
	}
	t.Cleanup(func() { _ = exec.Command("docker", "-H", dockerHost, "rm", "-f", cid).Run() })
	var inspect []struct {
		Name   string
		Config struct {
			Image  string
			Cmd    []string
			Env    []string
			Labels map[string]string
		}
		HostConfig struct {
			NetworkMode string
			AutoRemove  bool
			Privileged  bool
			ExtraHosts  []string
			Binds       []string
			Memory      int64
		}
	}
	if err := json.Unmarshal([]byte(run(t, "", docker, "docker", "inspect", cid)), &inspect); err != nil || len(inspect) != 1 {
		t.Fatalf("docker inspect %s: %v", cid, err)
	}
	var image []struct {
		Config struct {
			Env    []string
			Labels map[string]string
		}
	}
	if err := json.Unmarshal([]byte(run(t, "", docker, "docker", "image", "inspect", baseImage)), &image); err != nil || len(image) != 1 {
		t.Fatalf("docker image inspect: %v", err)
	}

	// The render, for the same run and worker (its settings as Prefect computes them from its env).
	settings := workerSettings(t, workerEnv, python)
	args := append([]string{"deployment", "inspect", "hello/docker", "--job", "--flow-run", id, "--worker-name", workerName, "-o", "json"}, settings...)
	doc := at(decode(t, must(t, prefectctl(t, dir, env, args...), "inspect --job").stdout), "document").(*py.Map)

	// Field by field, in the Docker Engine's terms. Normalised: the image's own Env and
	// Labels, which the engine merges into the container's, are left out; docker-py splits
	// the command string as shlex does and sends the env mapping as KEY=VALUE in order.
	ct := inspect[0]
	imageEnv := map[string]bool{}
	for _, e := range image[0].Config.Env {
		imageEnv[e] = true
	}
	var gotEnv []string
	for _, e := range ct.Config.Env {
		if !imageEnv[e] {
			gotEnv = append(gotEnv, e)
		}
	}
	var wantEnv []string
	envMap := at(doc, "environment").(*py.Map)
	for _, k := range envMap.Keys() {
		v, _ := envMap.Get(k)
		wantEnv = append(wantEnv, k+"="+str(v))
	}
	gotLabels := map[string]string{}
	for k, v := range ct.Config.Labels {
		if iv, ok := image[0].Config.Labels[k]; !ok || iv != v {
			gotLabels[k] = v
		}
	}
	wantLabels := map[string]string{}
	lm := at(doc, "labels").(*py.Map)
	for _, k := range lm.Keys() {
		v, _ := lm.Get(k)
		wantLabels[k] = str(v)
	}
	var wantBinds []string
	for _, b := range at(doc, "volumes").([]any) {
		wantBinds = append(wantBinds, str(b))
	}
	var wantHosts []string
	if eh, ok := at(doc, "extra_hosts").(*py.Map); ok {
		for _, k := range eh.Keys() {
			v, _ := eh.Get(k)
			wantHosts = append(wantHosts, k+":"+str(v))
		}
	}
	checks := []struct {
		field     string
		got, want any
	}{
		{"Config.Image (image)", ct.Config.Image, str(at(doc, "image"))},
		{"Config.Cmd (command)", strings.Join(ct.Config.Cmd, " "), str(at(doc, "command"))},
		{"Config.Env (environment)", strings.Join(gotEnv, "\n"), strings.Join(wantEnv, "\n")},
		{"Config.Labels (labels)", mustJSON(toValue(t, gotLabels)), mustJSON(toValue(t, wantLabels))},
		{"Name (name)", strings.TrimPrefix(ct.Name, "/"), str(at(doc, "name"))},
		{"HostConfig.NetworkMode (network_mode)", ct.HostConfig.NetworkMode, str(at(doc, "network_mode"))},
		{"HostConfig.AutoRemove (auto_remove)", ct.HostConfig.AutoRemove, at(doc, "auto_remove")},
		{"HostConfig.Privileged (privileged)", ct.HostConfig.Privileged, at(doc, "privileged")},
		{"HostConfig.ExtraHosts (extra_hosts)", strings.Join(ct.HostConfig.ExtraHosts, ","), strings.Join(wantHosts, ",")},
		{"HostConfig.Binds (volumes)", strings.Join(ct.HostConfig.Binds, ","), strings.Join(wantBinds, ",")},
		{"HostConfig.Memory (mem_limit)", ct.HostConfig.Memory, int64(0)},
	}
	for _, c := range checks {
		if fmt.Sprint(c.got) != fmt.Sprint(c.want) {
			t.Errorf("%s: container has\n%v\nrender says\n%v", c.field, c.got, c.want)
		}
	}
	if at(doc, "mem_limit") != nil {
		t.Errorf("mem_limit: the render says %v, the pool sets none", at(doc, "mem_limit"))
	}
	if len(wantEnv) < 10 || !strings.Contains(strings.Join(wantEnv, " "), "ATTEMPT=2") {
		t.Errorf("the render's env lacks the worker's additions or the run's override: %v", wantEnv)
	}
}
