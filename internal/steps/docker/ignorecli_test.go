package docker

import (
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/prefectctl/prefectctl/internal/py"
)

// TestDockerignoreMatchesDockerCLI builds one context with tricky
// .dockerignore patterns through the docker CLI and through prefectctl, and
// compares the files each image received.
func TestDockerignoreMatchesDockerCLI(t *testing.T) {
	e := newRealEnv(t)
	dir := filepath.Join(t.TempDir(), "ctx")
	files := []string{"a.log", "important.log", "sub/b.log", "x/__pycache__/c.pyc", "x/y.py", "build/out.bin", "docs/a.md",
		"docs/g/b.md", "docs/keep/k.md", "docs/keep/deeper/z.md", "abs-ish", "tmp1", "tmp12", "ax.txt", "cx.txt", "dir/q/deep",
		"dir/q/r/deep", "keep.txt", "sp ace.txt", "data/skip.bin", "data/keep/me.txt", "nested/data/x"}
	for _, f := range files {
		p := filepath.Join(dir, filepath.FromSlash(f))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(f), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ignore := "# comment\n*.log\n!important.log\n**/__pycache__\nbuild/\ndocs/**/*.md\n!docs/keep/**\n/abs-ish\ntmp?\n[ab]x.txt\ndir/*/deep\n  sp ace.txt  \ndata\n!data/keep\nDockerfile.cli\n"
	if err := os.WriteFile(filepath.Join(dir, ".dockerignore"), []byte(ignore), 0o644); err != nil {
		t.Fatal(err)
	}
	// FROM scratch needs no base image and no RUN.
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile.cli"), []byte("FROM scratch\nCOPY . /ctx/\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("docker", "build", "-q", "-f", "Dockerfile.cli", "-t", "prefectctl-ignore:cli", ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "DOCKER_HOST="+e.host, "DOCKER_BUILDKIT=0", "DOCKER_CONFIG="+e.vars["DOCKER_CONFIG"])
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("docker build: %v\n%s", err, stderr.String())
	}
	s, _ := e.steps(t, io.Discard)
	if _, err := s.BuildImage(context.Background(), dir, py.MapOf("image_name", "prefectctl-ignore", "tag", "go", "dockerfile", "Dockerfile.cli", "pull", false)); err != nil {
		t.Fatal(err)
	}
	c, err := Connect(e.host, "")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cli := codeLayer(t, savedImage(t, c, "prefectctl-ignore:cli"))
	ours := codeLayer(t, savedImage(t, c, "prefectctl-ignore:go"))
	if !reflect.DeepEqual(cli, ours) {
		t.Fatalf("contexts differ\ndocker CLI: %q\nprefectctl: %q", cli, ours)
	}
	if len(ours) < 8 {
		t.Fatalf("suspiciously few files: %q", ours)
	}
	t.Logf("files both sent: %q", ours)
}
