package docker

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prefectctl/prefectctl/internal/py"
	"github.com/prefectctl/prefectctl/internal/testenv"
)

func writeExe(t *testing.T, dir, name, body string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
}

// TestSSHDaemon reaches the daemon through an ssh:// DOCKER_HOST. The
// `ssh` on PATH is a stand-in that records its arguments and runs the
// remote command (`docker system dial-stdio`) locally.
func TestSSHDaemon(t *testing.T) {
	real := testenv.Docker(t)
	bin := t.TempDir()
	argsFile := filepath.Join(bin, "args")
	writeExe(t, bin, "ssh", "#!/bin/sh\necho \"$@\" > "+argsFile+"\nwhile [ \"$1\" != \"--\" ]; do shift; done\nshift 2\nexec \"$@\"\n")
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	t.Setenv("DOCKER_HOST", real) // for the local `docker system dial-stdio`
	s := New(Options{Environ: func(k string) (string, bool) {
		if k == "DOCKER_HOST" {
			return "ssh://builder@build-host:2222", true
		}
		return "", false
	}, Python: testenv.Python(t)}, Deps{})
	defer s.Close()
	out, err := s.BuildImage(context.Background(), project(t), py.MapOf("image_name", "prefectctl-ssh/flows", "tag", "ssh", "dockerfile", "auto", "pull", false))
	if err != nil {
		t.Fatal(err)
	}
	if id := py.Str(get(t, out, "image_id")); !strings.HasPrefix(id, "sha256:") {
		t.Fatalf("image_id = %q", id)
	}
	args, _ := os.ReadFile(argsFile)
	if got := strings.TrimSpace(string(args)); got != "-o ConnectTimeout=30 -l builder -p 2222 -- build-host docker system dial-stdio" {
		t.Fatalf("ssh args = %q", got)
	}
}

// TestPushWithCredentialHelper pushes to the auth registry with
// credentials that only a docker-credential-* helper named in
// config.json's credHelpers knows, as with ECR, GCR or ACR helpers.
func TestPushWithCredentialHelper(t *testing.T) {
	e := newRealEnv(t)
	addr, user, pass := testenv.AuthRegistry(t)
	bin := t.TempDir()
	writeExe(t, bin, "docker-credential-prefectctl-test",
		"#!/bin/sh\n[ \"$1\" = get ] || exit 1\nread server\nprintf '{\"ServerURL\":\"%s\",\"Username\":\""+user+"\",\"Secret\":\""+pass+"\"}' \"$server\"\n")
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	cfg := e.vars["DOCKER_CONFIG"]
	if err := os.WriteFile(filepath.Join(cfg, "config.json"), []byte(`{"credHelpers":{"`+addr+`":"prefectctl-test"}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DOCKER_CONFIG", cfg)
	dir := project(t)
	s, _ := e.steps(t, io.Discard)
	repo := addr + "/helper/flows"
	ctx := context.Background()
	if _, err := s.BuildImage(ctx, dir, py.MapOf("image_name", repo, "tag", "h1", "dockerfile", "auto", "pull", false)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PushImage(ctx, dir, py.MapOf("image_name", repo, "tag", "h1")); err != nil {
		t.Fatalf("push with a credential helper: %v", err)
	}
	if p := s.Pushed(); len(p) != 1 || p[0].Image != repo+":h1" {
		t.Fatalf("pushed = %+v", p)
	}
}
