package cloudapi

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prefectctl/prefectctl/internal/testenv"
)

// startGuardedServer starts a private Prefect 3.9.1 server with CSRF
// protection and basic auth on, which the shared test server does not
// have, and stops it (by its process group) when the test ends.
func startGuardedServer(t *testing.T, auth string) string {
	t.Helper()
	prefect := testenv.PrefectCLI(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	dir := t.TempDir()
	logf, err := os.Create(filepath.Join(dir, "server.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(prefect, "server", "start", "--host", "127.0.0.1", "--port", fmt.Sprint(port))
	cmd.Env = append(os.Environ(),
		"PREFECT_HOME="+filepath.Join(dir, "home"),
		"PREFECT_SERVER_CSRF_PROTECTION_ENABLED=true",
		"PREFECT_SERVER_API_AUTH_STRING="+auth,
		"PREFECT_SERVER_ANALYTICS_ENABLED=false",
		"PREFECT_SERVER_UI_ENABLED=false",
		"PREFECT_API_URL=",
	)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
		logf.Close()
	})
	api := fmt.Sprintf("http://127.0.0.1:%d/api", port)
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(api + "/health"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return api
			}
		}
		time.Sleep(300 * time.Millisecond)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "server.log"))
	t.Fatalf("guarded Prefect server did not start:\n%s", b)
	return ""
}

func TestRealServerCSRFAndBasicAuth(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Prefect server")
	}
	api := startGuardedServer(t, "admin:pa55word")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	var log strings.Builder
	c, err := New(Options{BaseURL: api, AuthString: "admin:pa55word", CSRF: true, MaxRetries: 1,
		Debug: func(f string, a ...any) { fmt.Fprintf(&log, f+"\n", a...) }})
	if err != nil {
		t.Fatal(err)
	}
	f, err := c.CreateFlow(ctx, "guarded")
	if err != nil {
		t.Fatalf("with token and auth: %v\n%s", err, log.String())
	}
	if _, err := c.ReadFlow(ctx, f.ID); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "/csrf-token?client=") || strings.Contains(log.String(), "pa55word") {
		t.Errorf("debug log:\n%s", log.String())
	}

	wrong, _ := New(Options{BaseURL: api, AuthString: "admin:nope", CSRF: true})
	_, err = wrong.ReadFlow(ctx, f.ID)
	if !errors.Is(err, ErrUnauthorized) || strings.Contains(err.Error(), "nope") {
		t.Fatalf("wrong password: %v", err)
	}

	noCSRF, _ := New(Options{BaseURL: api, AuthString: "admin:pa55word", CSRF: false})
	_, err = noCSRF.CreateFlow(ctx, "x")
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != 403 || !strings.Contains(ae.Hint, "CSRF") {
		t.Fatalf("without CSRF: %v", err)
	}
	if err := noCSRF.Health(ctx); err != nil {
		t.Fatalf("health needs neither: %v", err)
	}
}
