package cli

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prefectctl/prefectctl/internal/cloudapi"
	"github.com/prefectctl/prefectctl/internal/py"
	"github.com/prefectctl/prefectctl/internal/testenv"
)

// socketProxy forwards a unix socket to the Docker daemon's until cut() is
// called, which then drops every connection: to prefectctl the daemon has
// gone away mid-build.
type socketProxy struct {
	ln       net.Listener
	mu       sync.Mutex
	conns    []net.Conn
	requests int
}

func startSocketProxy(t *testing.T, upstream string) (*socketProxy, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "docker.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	p := &socketProxy{ln: ln}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			u, err := net.Dial("unix", upstream)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, u)
			p.requests++
			p.mu.Unlock()
			go func() { io.Copy(u, c); u.Close() }()
			go func() { io.Copy(c, u); c.Close() }()
		}
	}()
	t.Cleanup(p.cut)
	return p, "unix://" + path
}

func (p *socketProxy) cut() {
	p.ln.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
}

// TestDaemonGoneMidBuild: the Docker daemon disappears while an image is
// building: a clear error, no later step, nothing registered.
func TestDaemonGoneMidBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the real Prefect server and Docker engine")
	}
	api := testenv.Prefect(t)
	dockerHost := testenv.Docker(t)
	base := testenv.BaseImage(t)
	isolate(t)
	t.Setenv("PREFECT_API_URL", api)
	proxy, host := startSocketProxy(t, strings.TrimPrefix(dockerHost, "unix://"))
	t.Setenv("DOCKER_HOST", host)
	ctx := context.Background()
	c, err := cloudapi.New(cloudapi.Options{BaseURL: api})
	if err != nil {
		t.Fatal(err)
	}
	id := strconv.FormatInt(time.Now().UnixNano(), 36)
	pool, flow := "pctl-gone-"+id, "pctl-gone-flow-"+id
	if _, err := c.CreateWorkPool(ctx, py.MapOf("name", pool, "type", "docker")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.DeleteWorkPool(context.Background(), pool) })
	work, _ := os.Getwd()
	marker := filepath.Join(work, "after-build")
	os.MkdirAll(filepath.Join(work, "flows"), 0o755)
	os.WriteFile(filepath.Join(work, "flows", "f.py"), []byte(fmt.Sprintf("from prefect import flow\n\n\n@flow(name=%q)\ndef f():\n    pass\n", flow)), 0o644)
	os.WriteFile(filepath.Join(work, "Dockerfile.slow"), []byte("FROM "+base+"\nRUN echo "+id+" && sleep 20\n"), 0o644) // unique: no layer cache
	os.WriteFile(filepath.Join(work, "prefect.yaml"), []byte(fmt.Sprintf(`build:
- prefect_docker.deployments.steps.build_docker_image:
    id: build-image
    image_name: pctl-gone-%s
    tag: t
    dockerfile: Dockerfile.slow
    pull: false
- prefect.deployments.steps.run_shell_script:
    script: touch %s
deployments:
- name: d
  entrypoint: flows/f.py:f
  work_pool: {name: %s, job_variables: {image: "{{ build-image.image }}"}}
`, id, marker, pool)), 0o644)
	go func() {
		// Cut a few seconds after the first connection: the preflight ping
		// and the build start within milliseconds, and the build then runs
		// for 20 s.
		deadline := time.Now().Add(60 * time.Second)
		for time.Now().Before(deadline) {
			proxy.mu.Lock()
			n := proxy.requests
			proxy.mu.Unlock()
			if n >= 1 {
				time.Sleep(5 * time.Second)
				proxy.cut()
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	}()
	code, out, errOut := run("deploy", "--all")
	if code != ExitFailure || !strings.Contains(errOut, "build_docker_image") {
		t.Fatalf("daemon gone mid-build: %d\n%s\n%s", code, out, errOut)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("a step after the failed build ran")
	}
	if _, err := os.Stat(filepath.Join(work, "Dockerfile")); err == nil {
		t.Fatal("a generated Dockerfile was left behind")
	}
	if _, err := c.ReadDeploymentByName(ctx, flow, "d"); err == nil {
		t.Fatal("a deployment was registered although its build failed")
	}
}
