package cli

// Interrupts: SIGTERM or SIGINT during a slow build step ends prefectctl
// with exit 130 and a summary, kills the step's child process, leaves no
// generated Dockerfile and registers nothing.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prefectctl/prefectctl/internal/cloudapi"
	"github.com/prefectctl/prefectctl/internal/testenv"
	"github.com/prefectctl/prefectctl/internal/value"
)

func TestInterruptDuringBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the real Prefect server and dockerd")
	}
	api := testenv.Prefect(t)
	dockerHost := testenv.Docker(t)
	base := testenv.BaseImage(t)
	ctx := context.Background()
	c, err := cloudapi.New(cloudapi.Options{BaseURL: api})
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "prefectctl")
	root, _ := filepath.Abs(filepath.Join("..", ".."))
	build := exec.Command("go", "build", "-o", bin, "./cmd/prefectctl")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			prefix := uniquePrefix("intr")
			pool := prefix + "-pool"
			if _, err := c.CreateWorkPool(ctx, value.MapOf("name", pool, "type", "docker")); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { cleanupPrefix(c, prefix, pool) })
			dir := t.TempDir()
			pidFile := filepath.Join(dir, "sleep.pid")
			must(t, os.MkdirAll(filepath.Join(dir, "flows"), 0o755))
			must(t, os.WriteFile(filepath.Join(dir, "flows", "f.py"), []byte(fmt.Sprintf("from prefect import flow\n\n\n@flow(name=%q)\ndef f():\n    pass\n", prefix+"-flow")), 0o644))
			// The slow step records its PID (exec keeps it) so the test
			// can check that the child is gone. The Docker build with an
			// auto Dockerfile comes after it and must never leave one.
			must(t, os.WriteFile(filepath.Join(dir, "prefect.yaml"), []byte(fmt.Sprintf(`build:
- prefect.deployments.steps.run_shell_script:
    script: sh -c 'echo $$ > %s; exec sleep 30'
- prefect_docker.deployments.steps.build_docker_image:
    id: img
    image_name: %s/intr
    tag: t1
    dockerfile: auto
pull: []
deployments:
- name: d
  entrypoint: flows/f.py:f
  work_pool: {name: %s, job_variables: {image: "{{ img.image }}"}}
- name: e
  entrypoint: flows/f.py:f
  work_pool: {name: %s, job_variables: {image: "{{ img.image }}"}}
`, pidFile, strings.ToLower(prefix), pool, pool)), 0o644))
			cmd := exec.Command(bin, "deploy", "--all")
			cmd.Dir = dir
			cmd.Env = append(cleanEnv(), "PREFECT_API_URL="+api, "DOCKER_HOST="+dockerHost, "HOME="+dir,
				"PREFECT_HOME="+filepath.Join(dir, ".prefect"), "PREFECTCTL_BASE_IMAGE="+base)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer cmd.Process.Kill() //nolint:errcheck // only if the test failed early
			var pid int
			deadline := time.Now().Add(60 * time.Second)
			for pid == 0 {
				if b, err := os.ReadFile(pidFile); err == nil {
					pid, _ = strconv.Atoi(strings.TrimSpace(string(b)))
				}
				if time.Now().After(deadline) {
					t.Fatalf("the build step never started:\n%s", stderr.String())
				}
				time.Sleep(50 * time.Millisecond)
			}
			time.Sleep(200 * time.Millisecond) // let sh exec sleep
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			var werr error
			select {
			case werr = <-done:
			case <-time.After(15 * time.Second):
				t.Fatalf("prefectctl did not stop within 15s of %s:\n%s", sig, stderr.String())
			}
			var ee *exec.ExitError
			if !errors.As(werr, &ee) || ee.ExitCode() != 130 {
				t.Fatalf("exit: %v, want 130\nstderr:\n%s", werr, stderr.String())
			}
			// The summary: every deployment named with its outcome, then the
			// interrupt as the error.
			if !strings.Contains(stderr.String(), "Error: interrupted") ||
				!strings.Contains(stdout.String(), "Deployment '"+prefix+"-flow/d'") || !strings.Contains(stdout.String(), "Deployment '"+prefix+"-flow/e'") {
				t.Errorf("no summary of the interrupt:\nstdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
			}
			// The step's child: gone (not even a zombie of ours, since
			// prefectctl reaped it before exiting).
			time.Sleep(100 * time.Millisecond)
			if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
				syscall.Kill(pid, syscall.SIGKILL) //nolint:errcheck // the test's own leftover
				t.Errorf("the build step's process %d outlived prefectctl (kill -0: %v)", pid, err)
			}
			if _, err := os.Stat(filepath.Join(dir, "Dockerfile")); !os.IsNotExist(err) {
				t.Errorf("a Dockerfile was left behind: %v", err)
			}
			for _, name := range []string{"d", "e"} {
				if d, err := c.ReadDeploymentByName(ctx, prefix+"-flow", name); err == nil {
					t.Errorf("deployment %s registered despite the interrupt", d.ID)
				}
			}
		})
	}
}

// cleanEnv is the test process's environment without Prefect or Docker
// settings.
func cleanEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "PREFECT_") || strings.HasPrefix(k, "DOCKER_") || k == "HOME" {
			continue
		}
		out = append(out, kv)
	}
	return out
}
