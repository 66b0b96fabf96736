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
)

func TestInterruptDuringBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the real Prefect server and dockerd")
	}
	api := testenv.Prefect(t)
	dockerHost := testenv.Docker(t)
	testenv.BaseImage(t) // the auto Dockerfile's FROM, prefecthq/prefect:3.9.1-python3.11
	ctx := context.Background()
	c, err := cloudapi.New(cloudapi.Options{BaseURL: api, MaxRetries: 5})
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
	for _, tc := range []struct {
		sig syscall.Signal
		// dockerFirst: the Docker build with an auto Dockerfile runs first
		// and the signal comes while it builds (the Dockerfile exists).
		dockerFirst bool
	}{{syscall.SIGTERM, false}, {syscall.SIGINT, false}, {syscall.SIGTERM, true}} {
		sig := tc.sig
		name := sig.String()
		if tc.dockerFirst {
			name += " during docker build"
		}
		t.Run(name, func(t *testing.T) {
			prefix, pool := scratchPool(t, c, "intr", "docker")
			dir := t.TempDir()
			pidFile := filepath.Join(dir, "sleep.pid")
			must(t, os.MkdirAll(filepath.Join(dir, "flows"), 0o755))
			must(t, os.WriteFile(filepath.Join(dir, "flows", "f.py"), []byte(fmt.Sprintf("from prefect import flow\n\n\n@flow(name=%q)\ndef f():\n    pass\n", prefix+"-flow")), 0o644))
			// The slow step records its PID (exec keeps it) so the test
			// can check that the child is gone. The Docker build with an
			// auto Dockerfile comes after it and must never leave one.
			shell := fmt.Sprintf(`- prefect.deployments.steps.run_shell_script:
    script: sh -c 'echo $$ > %s; exec sleep 30'
`, pidFile)
			dockerStep := fmt.Sprintf(`- prefect_docker.deployments.steps.build_docker_image:
    id: img
    image_name: %s/intr
    tag: t1
    dockerfile: auto
    pull: false
    nocache: true
`, strings.ToLower(prefix))
			steps := shell + dockerStep
			if tc.dockerFirst {
				steps = dockerStep + shell
				// An (empty) requirements.txt adds a RUN pip install: the
				// build lasts long enough to be interrupted.
				must(t, os.WriteFile(filepath.Join(dir, "requirements.txt"), nil, 0o644))
			}
			must(t, os.WriteFile(filepath.Join(dir, "prefect.yaml"), []byte(fmt.Sprintf(`build:
%spull: []
deployments:
- name: d
  entrypoint: flows/f.py:f
  work_pool: {name: %s, job_variables: {image: "{{ img.image }}"}}
- name: e
  entrypoint: flows/f.py:f
  work_pool: {name: %s, job_variables: {image: "{{ img.image }}"}}
`, steps, pool, pool)), 0o644))
			cmd := exec.Command(bin, "deploy", "--all")
			cmd.Dir = dir
			cmd.Env = append(cleanEnv(), "PREFECT_API_URL="+api, "DOCKER_HOST="+dockerHost, "HOME="+dir,
				"PREFECT_HOME="+filepath.Join(dir, ".prefect"), "PREFECTCTL_PREFECT_IMAGE_VERSION=3.9.1", "PREFECTCTL_PYTHON_VERSION=3.11")
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer cmd.Process.Kill() //nolint:errcheck // only if the test failed early
			var pid int
			deadline := time.Now().Add(60 * time.Second)
			for {
				if tc.dockerFirst {
					if _, err := os.Stat(filepath.Join(dir, "Dockerfile")); err == nil {
						break
					}
				} else if b, err := os.ReadFile(pidFile); err == nil {
					if pid, _ = strconv.Atoi(strings.TrimSpace(string(b))); pid != 0 {
						break
					}
				}
				if time.Now().After(deadline) {
					t.Fatalf("the slow step never started:\n%s", stderr.String())
				}
				time.Sleep(10 * time.Millisecond)
			}
			time.Sleep(200 * time.Millisecond) // let sh exec sleep, or docker start building
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
			if tc.dockerFirst {
				if _, err := os.Stat(pidFile); err == nil {
					t.Error("the step after the interrupted build ran")
				}
			} else if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
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
