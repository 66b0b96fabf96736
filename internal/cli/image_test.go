package cli

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

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

// TestReleaseConfig checks what goreleaser.yaml promises without running
// goreleaser (make release-snapshot does): the six targets, static
// binaries and the version stamped where `prefectctl version` reads it.
func TestReleaseConfig(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "goreleaser.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Version int
		Builds  []struct {
			Main    string
			Env     []string
			Ldflags []string
			Goos    []string
			Goarch  []string
		}
	}
	if err := yaml.Unmarshal(raw, &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.Version != 2 || len(cfg.Builds) != 1 {
		t.Fatalf("want one goreleaser v2 build, got %+v", cfg)
	}
	b := cfg.Builds[0]
	if b.Main != "./cmd/prefectctl" {
		t.Errorf("main %q", b.Main)
	}
	if strings.Join(b.Goos, ",") != "linux,darwin,windows" || strings.Join(b.Goarch, ",") != "amd64,arm64" {
		t.Errorf("targets %v × %v", b.Goos, b.Goarch)
	}
	if !slices.Contains(b.Env, "CGO_ENABLED=0") {
		t.Errorf("not static: env %v", b.Env)
	}
	ld := strings.Join(b.Ldflags, " ")
	for _, v := range []string{"Version={{ .Version }}", `Commit={{ envOrDefault "PREFECTCTL_COMMIT" .ShortCommit }}`, "Date={{ .Date }}"} {
		if !strings.Contains(ld, "github.com/prefectctl/prefectctl/internal/buildinfo."+v) {
			t.Errorf("ldflags do not stamp %s: %s", v, ld)
		}
	}
}
