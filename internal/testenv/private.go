package testenv

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// PrivatePrefect starts a Prefect 3.9.1 server (API only, no background
// services) of the test's own on a free loopback port, with its own home,
// for tests that need settings the shared server lacks or a server no other
// test writes to. extraEnv ("KEY=value") configures it. It returns the API
// URL and stops the server, by the process group of the PID it started,
// when the test ends.
func PrivatePrefect(t testing.TB, extraEnv ...string) string {
	t.Helper()
	cli := PrefectCLI(t)
	home := t.TempDir()
	// scripts/testenv.sh keeps a migrated empty database next to the venv:
	// starting from a copy skips the migrations.
	tmpl := filepath.Join(filepath.Dir(filepath.Dir(filepath.Dir(cli))), "prefect-3.9.1-db", "prefect.db")
	if b, err := os.ReadFile(tmpl); err == nil {
		if err := os.WriteFile(filepath.Join(home, "prefect.db"), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	api := fmt.Sprintf("http://127.0.0.1:%d/api", port)
	var env []string
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); !strings.HasPrefix(k, "PREFECT_") {
			env = append(env, kv)
		}
	}
	env = append(env, "PREFECT_HOME="+home, "PREFECT_API_URL="+api, "PREFECT_SERVER_UI_ENABLED=false",
		"PREFECT_SERVER_ANALYTICS_ENABLED=false", "DO_NOT_TRACK=1")
	cmd := exec.Command(cli, "server", "start", "--host", "127.0.0.1", "--port", strconv.Itoa(port), "--no-services")
	cmd.Env = append(env, extraEnv...)
	cmd.Dir = home
	logf, err := os.Create(filepath.Join(home, "server.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	t.Cleanup(func() {
		_ = syscall.Kill(-pid, syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = syscall.Kill(-pid, syscall.SIGKILL)
			<-done
		}
		logf.Close()
	})
	deadline := time.Now().Add(3 * time.Minute)
	for {
		if resp, err := http.Get(api + "/health"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return api
			}
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(home, "server.log"))
			t.Fatalf("private Prefect server on %s not healthy after 3 minutes:\n%s", api, log)
		}
		time.Sleep(300 * time.Millisecond)
	}
}
