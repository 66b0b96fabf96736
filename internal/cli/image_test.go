package cli

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prefectctl/prefectctl/internal/testenv"
)

// TestImage builds the CI image with `make image` on the real Docker
// engine and runs `prefectctl version` in it, without a network: the
// binary must be static and stamped, and the image must carry CA
// certificates and a writable HOME.
func TestImage(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a Docker image")
	}
	host := testenv.Docker(t)
	for _, tool := range []string{"make", "docker"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("TestImage needs %s on PATH: %v", tool, err)
		}
	}
	root, _ := filepath.Abs(filepath.Join("..", ".."))
	suffix := make([]byte, 4)
	_, _ = rand.Read(suffix)
	tag := "prefectctl-imagetest:" + hex.EncodeToString(suffix)
	env := append(os.Environ(), "DOCKER_HOST="+host)
	run := func(dir string, name string, args ...string) string {
		t.Helper()
		cmd := exec.Command(name, args...)
		cmd.Dir, cmd.Env = dir, env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s %v: %v\n%s", name, args, err, out)
		}
		return string(out)
	}
	// A private build context keeps parallel runs and the developer's bin/ apart.
	work := t.TempDir()
	run(root, "make", "--no-print-directory", "image", "IMAGE="+tag, "IMAGE_CONTEXT="+filepath.Join(work, "context"),
		"VERSION=v9.8.7-imagetest", "COMMIT=abc1234")
	t.Cleanup(func() {
		cmd := exec.Command("docker", "rmi", "-f", tag)
		cmd.Env = env
		_ = cmd.Run()
	})

	out := run(work, "docker", "run", "--rm", "--network", "none", tag, "version", "-o", "json")
	var info map[string]string
	if err := json.Unmarshal([]byte(out), &info); err != nil {
		t.Fatalf("version -o json: %v\n%s", err, out)
	}
	if info["version"] != "v9.8.7-imagetest" || info["commit"] != "abc1234" || info["os_arch"] != "linux/amd64" && info["os_arch"] != "linux/arm64" {
		t.Errorf("version info %v", info)
	}

	// The image holds exactly the binary, the CA bundle and /tmp, and
	// runs as a non-root user.
	inspect := run(work, "docker", "image", "inspect", "--format", "{{.Config.User}} {{json .Config.Entrypoint}} {{len .RootFS.Layers}}", tag)
	if got := strings.TrimSpace(inspect); got != `65532:65532 ["/usr/local/bin/prefectctl"] 3` {
		t.Errorf("image config: %s", got)
	}
	// Something that writes to HOME works (init writes into the workdir /tmp).
	out = run(work, "docker", "run", "--rm", "--network", "none", tag, "init", "--recipe", "local")
	if !strings.Contains(out, "prefect.yaml") {
		t.Errorf("init in the image: %s", out)
	}
}
