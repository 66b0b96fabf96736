package docker

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/moby/moby/client"

	"github.com/prefectctl/prefectctl/internal/py"
)

// TestImageMatchesPrefectDocker builds the same project with prefect-docker
// (Python, docker-py) and with prefectctl on the same engine, and compares
// the image configs and the file tree of the code layer.
func TestImageMatchesPrefectDocker(t *testing.T) {
	for _, reqs := range []bool{false, true} {
		name := "plain"
		if reqs {
			// requirements.txt adds the `RUN uv pip install` layer; its
			// requirement is already in the base image, so no index is needed.
			name = "requirements"
		}
		t.Run(name, func(t *testing.T) { compareWithPrefectDocker(t, reqs) })
	}
}

func compareWithPrefectDocker(t *testing.T, reqs bool) {
	e := newRealEnv(t)
	ctx := context.Background()
	script, _ := filepath.Abs("testdata/prefect_build.py")
	tag := map[bool]string{false: "plain", true: "reqs"}[reqs]
	addReqs := func(dir string) {
		if reqs {
			if err := os.WriteFile(filepath.Join(dir, "requirements.txt"), []byte("prefect\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}

	pyDir := project(t)
	addReqs(pyDir)
	cmd := exec.Command(e.python, script, "prefectctl-compare/flows", "python-"+tag)
	cmd.Dir = pyDir
	cmd.Env = append(os.Environ(), "DOCKER_HOST="+e.host)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("prefect-docker build: %v\n%s", err, stderr.String())
	}
	i := strings.LastIndex(string(out), "IMAGE_ID=")
	if i < 0 {
		t.Fatalf("no image id from prefect-docker: %s", out)
	}
	pyID := strings.TrimSpace(string(out)[i+len("IMAGE_ID="):])

	goDir := project(t)
	addReqs(goDir)
	s, _ := e.steps(t, io.Discard)
	res, err := s.BuildImage(ctx, goDir, py.MapOf("image_name", "prefectctl-compare/flows", "tag", "go-"+tag, "dockerfile", "auto", "pull", false, "platform", "linux/amd64"))
	if err != nil {
		t.Fatal(err)
	}
	goID := py.Str(get(t, res, "image_id"))

	c, err := Connect(e.host, "")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	pyImg := savedImage(t, c, "prefectctl-compare/flows:python-"+tag)
	goImg := savedImage(t, c, "prefectctl-compare/flows:go-"+tag)
	pyCfg, _ := pyImg.ConfigFile()
	goCfg, _ := goImg.ConfigFile()
	if pyCfg.Config.WorkingDir != goCfg.Config.WorkingDir || !reflect.DeepEqual(pyCfg.Config.Env, goCfg.Config.Env) ||
		!reflect.DeepEqual(pyCfg.Config.Labels, goCfg.Config.Labels) || !reflect.DeepEqual(pyCfg.Config.Cmd, goCfg.Config.Cmd) ||
		!reflect.DeepEqual(pyCfg.Config.Entrypoint, goCfg.Config.Entrypoint) || pyCfg.Architecture != goCfg.Architecture || pyCfg.OS != goCfg.OS {
		t.Fatalf("configs differ (%s vs %s)\nprefect-docker: %+v\nprefectctl:     %+v", pyID, goID, pyCfg.Config, goCfg.Config)
	}
	pyLayers, _ := pyImg.Layers()
	goLayers, _ := goImg.Layers()
	if len(pyLayers) != len(goLayers) {
		t.Fatalf("prefect-docker image has %d layers, prefectctl's %d", len(pyLayers), len(goLayers))
	}
	pyTree, goTree := codeLayer(t, pyImg), codeLayer(t, goImg)
	if !reflect.DeepEqual(pyTree, goTree) {
		t.Fatalf("code layers differ\nprefect-docker: %v\nprefectctl:     %v", pyTree, goTree)
	}
	if len(pyTree) < 5 {
		t.Fatalf("code layer suspiciously small: %v", pyTree)
	}
}

func savedImage(t *testing.T, c *client.Client, ref string) v1.Image {
	t.Helper()
	rc, err := c.ImageSave(context.Background(), []string{ref})
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "image.tar")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(f, rc); err != nil {
		t.Fatal(err)
	}
	rc.Close()
	f.Close()
	tag, err := name.NewTag(ref)
	if err != nil {
		t.Fatal(err)
	}
	img, err := tarball.ImageFromPath(p, &tag)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// codeLayer lists the COPY . layer (the last one that has files) as
// "name mode size sha" lines, leaving out times and owners.
func codeLayer(t *testing.T, img v1.Image) []string {
	t.Helper()
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	for i := len(layers) - 1; i >= 0; i-- {
		rc, err := layers[i].Uncompressed()
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		tr := tar.NewReader(rc)
		for {
			h, err := tr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			sum := sha256.New()
			if _, err := io.Copy(sum, tr); err != nil {
				t.Fatal(err)
			}
			out = append(out, strings.Join([]string{h.Name, os.FileMode(h.Mode).String(), h.Linkname, hex.EncodeToString(sum.Sum(nil))[:12]}, " "))
		}
		rc.Close()
		if len(out) > 0 {
			sort.Strings(out)
			return out
		}
	}
	return nil
}
