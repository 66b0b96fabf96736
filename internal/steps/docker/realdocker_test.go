package docker

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/moby/moby/client"

	"github.com/prefectctl/prefectctl/internal/diag"
	"github.com/prefectctl/prefectctl/internal/py"
	reg "github.com/prefectctl/prefectctl/internal/registry"
	"github.com/prefectctl/prefectctl/internal/testenv"
)

// project copies testdata/flows into a fresh directory named flows (the
// generated Dockerfile is named after it) and adds the files git does not
// keep.
func project(t *testing.T) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "flows")
	err := filepath.WalkDir("testdata/flows", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel("testdata/flows", p)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	pyc := filepath.Join(dst, "flows", "__pycache__", "hello.cpython-311.pyc")
	if err := os.MkdirAll(filepath.Dir(pyc), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pyc, []byte("bytecode"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dst
}

// TestAutoDockerfileMatchesPrefectDocker asks prefect-docker 0.7.4 for the
// Dockerfile it generates and compares it byte for byte with ours, with
// and without requirements.txt.
func TestAutoDockerfileMatchesPrefectDocker(t *testing.T) {
	py := testenv.Python(t)
	script, _ := filepath.Abs("testdata/prefect_dockerfile.py")
	for _, reqs := range []bool{false, true} {
		dir := project(t)
		if reqs {
			if err := os.WriteFile(filepath.Join(dir, "requirements.txt"), []byte("httpx\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		cmd := exec.Command(py, script)
		cmd.Dir = dir
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		want, err := cmd.Output()
		if err != nil || len(want) == 0 {
			t.Fatalf("prefect-docker: %v\n%s", err, stderr.String())
		}
		os.Remove(filepath.Join(dir, "Dockerfile"))
		o := &Options{Python: py}
		got := AutoDockerfile(BaseImage(context.Background(), ResolveVersions(context.Background(), o, dir), dir), dir, reqs)
		if got != string(want) {
			t.Errorf("requirements=%v: Dockerfile differs\nprefectctl:\n%s\nprefect-docker:\n%s", reqs, got, want)
		}
	}
}

type realEnv struct {
	host, registry, python, base string
	vars                         map[string]string
}

func newRealEnv(t *testing.T) *realEnv {
	t.Helper()
	e := &realEnv{host: testenv.Docker(t), registry: testenv.Registry(t), python: testenv.Python(t), base: testenv.BaseImage(t)}
	e.vars = map[string]string{"DOCKER_HOST": e.host, "DOCKER_CONFIG": t.TempDir(), "HOME": t.TempDir()}
	return e
}

func (e *realEnv) environ(k string) (string, bool) { v, ok := e.vars[k]; return v, ok }

// countingAPI counts builds and pushes to observe the memo.
type countingAPI struct {
	API
	builds, pushes atomic.Int32
}

func (c *countingAPI) ImageBuild(ctx context.Context, r io.Reader, o client.ImageBuildOptions) (client.ImageBuildResult, error) {
	c.builds.Add(1)
	return c.API.ImageBuild(ctx, r, o)
}

func (c *countingAPI) ImagePush(ctx context.Context, ref string, o client.ImagePushOptions) (client.ImagePushResponse, error) {
	c.pushes.Add(1)
	return c.API.ImagePush(ctx, ref, o)
}

func (e *realEnv) steps(t *testing.T, stderr io.Writer) (*Steps, *countingAPI) {
	t.Helper()
	c, err := Connect(e.host, "")
	if err != nil {
		t.Fatal(err)
	}
	api := &countingAPI{API: c}
	s := New(Options{Environ: e.environ, Stderr: stderr, Python: e.python}, Deps{Client: api})
	t.Cleanup(func() { c.Close() })
	return s, api
}

func get(t *testing.T, m *py.Map, k string) any {
	t.Helper()
	v, ok := m.Get(k)
	if !ok {
		t.Fatalf("output %s missing from %v", k, m)
	}
	return v
}

func TestBuildAutoPushAndVerify(t *testing.T) {
	e := newRealEnv(t)
	dir := project(t)
	var log bytes.Buffer
	s, api := e.steps(t, &log)
	ctx := context.Background()
	repo := e.registry + "/prefectctl-steps/flows"
	in := py.MapOf(
		"image_name", repo, "tag", "t1", "dockerfile", "auto", "platform", "linux/amd64", "pull", false,
		"additional_tags", []any{"extra"}, "persist_dockerfile", true,
		"labels", py.MapOf("io.prefect.version", "user-value", "team", "data"),
	)
	out, err := s.BuildImage(ctx, dir, in)
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	id, _ := get(t, out, "image_id").(string)
	if !strings.HasPrefix(id, "sha256:") || get(t, out, "image") != repo+":t1" || get(t, out, "image_name") != repo || get(t, out, "tag") != "t1" ||
		!py.Equal(get(t, out, "additional_tags"), []any{"extra"}) || strings.Join(out.Keys(), ",") != "image_name,tag,image,image_id,additional_tags" {
		t.Fatalf("outputs = %v", out)
	}
	if _, err := os.Stat(filepath.Join(dir, "Dockerfile")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("generated Dockerfile left behind: %v", err)
	}
	persisted, err := os.ReadFile(filepath.Join(dir, "Dockerfile.generated"))
	if err != nil || string(persisted) != AutoDockerfile(e.base, dir, false) {
		t.Fatalf("persisted Dockerfile = %q, %v", persisted, err)
	}
	if !strings.Contains(log.String(), "Step 1/5 : FROM "+e.base) || !strings.Contains(log.String(), "LABEL io.prefect.version=3.9.1") {
		t.Errorf("build output not streamed: %q", log.String())
	}

	// The memo: the same inputs do not build again; ignore_cache does.
	again, err := s.BuildImage(ctx, dir, py.Clone(in).(*py.Map))
	if err != nil || !py.Equal(again, out) || api.builds.Load() != 1 {
		t.Fatalf("memoised build: %v, %v, builds=%d", again, err, api.builds.Load())
	}
	in2 := py.Clone(in).(*py.Map)
	in2.Set("ignore_cache", true)
	if _, err := s.BuildImage(ctx, dir, in2); err != nil || api.builds.Load() != 2 {
		t.Fatalf("ignore_cache build: %v, builds=%d", err, api.builds.Load())
	}

	pushIn := py.MapOf("image_name", repo, "tag", "t1", "additional_tags", []any{"extra"})
	pout, err := s.PushImage(ctx, dir, pushIn)
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	want := py.MapOf("image_name", repo, "tag", "t1", "image", repo+":t1", "additional_tags", []any{"extra"})
	if !py.Equal(pout, want) {
		t.Fatalf("push outputs = %v", pout)
	}
	if _, err := s.PushImage(ctx, dir, py.Clone(pushIn).(*py.Map)); err != nil || api.pushes.Load() != 2 {
		t.Fatalf("memoised push: %v, pushes=%d (want 2: tag and extra)", err, api.pushes.Load())
	}
	if !regexp.MustCompile(`(?m)^[0-9a-f]{12}: (Pushed|Layer already exists)$`).MatchString(log.String()) || !strings.Contains(log.String(), "Pushed "+repo+":t1 (sha256:") {
		t.Errorf("push progress missing from the log:\n%s", log.String())
	}
	pushed := s.Pushed()
	if len(pushed) != 2 || pushed[0].Platform != "linux/amd64" || !strings.HasPrefix(pushed[0].Digest, "sha256:") || pushed[0].Digest != pushed[1].Digest {
		t.Fatalf("pushed = %+v", pushed)
	}

	// What the registry serves: amd64, WORKDIR, labels, and the files.
	ref, err := name.ParseReference(repo + ":t1")
	if err != nil {
		t.Fatal(err)
	}
	img, err := remote.Image(ref, remote.WithAuthFromKeychain(authn.NewMultiKeychain()))
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if cf.Architecture != "amd64" || cf.OS != "linux" || cf.Config.WorkingDir != "/opt/prefect/flows/" {
		t.Fatalf("config: %s/%s workdir %q", cf.OS, cf.Architecture, cf.Config.WorkingDir)
	}
	if cf.Config.Labels["io.prefect.version"] != "3.9.1" || cf.Config.Labels["team"] != "data" {
		t.Fatalf("labels = %v", cf.Config.Labels)
	}
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	files := layerFiles(t, layers[len(layers)-1])
	// Like prefect-docker (docker-py sends the whole directory), the
	// generated Dockerfile is part of the context and so of COPY . .
	for _, f := range []string{"opt/prefect/flows/flows/hello.py", "opt/prefect/flows/.dockerignore", "opt/prefect/flows/Dockerfile.generated", "opt/prefect/flows/Dockerfile"} {
		if !files[f] {
			t.Errorf("%s missing from the code layer %v", f, files)
		}
	}
	for _, f := range []string{"opt/prefect/flows/local.secret", "opt/prefect/flows/build.log", "opt/prefect/flows/flows/__pycache__/hello.cpython-311.pyc"} {
		if files[f] {
			t.Errorf("%s is in the image but .dockerignore excludes it", f)
		}
	}
}

func layerFiles(t *testing.T, l interface{ Uncompressed() (io.ReadCloser, error) }) map[string]bool {
	t.Helper()
	rc, err := l.Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	files := map[string]bool{}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return files
		}
		if err != nil {
			t.Fatal(err)
		}
		files[strings.TrimSuffix(h.Name, "/")] = true
	}
}

func TestPushAuthRegistry(t *testing.T) {
	e := newRealEnv(t)
	addr, user, pass := testenv.AuthRegistry(t)
	dir := project(t)
	s, _ := e.steps(t, io.Discard)
	ctx := context.Background()
	repo := addr + "/private/flows"
	if _, err := s.BuildImage(ctx, dir, py.MapOf("image_name", repo, "tag", "v1", "dockerfile", "auto", "pull", false)); err != nil {
		t.Fatal(err)
	}
	// No credentials: denied, with the login command to run.
	_, err := s.PushImage(ctx, dir, py.MapOf("image_name", repo, "tag", "v1"))
	var de *diag.Error
	if !errors.As(err, &de) || !strings.Contains(de.Hint, "docker login "+addr) {
		t.Fatalf("push without credentials: %v (hint %q)", err, hintOf(err))
	}
	if strings.Contains(err.Error(), pass) {
		t.Fatalf("error shows the password: %v", err)
	}
	// A credentials mapping, as the docker-registry-credentials block gives.
	creds := py.MapOf("username", user, "password", pass, "registry_url", addr, "reauth", true)
	if _, err := s.PushImage(ctx, dir, py.MapOf("image_name", repo, "tag", "v1", "credentials", creds)); err != nil {
		t.Fatalf("push with credentials: %v", err)
	}
	// Wrong password: a login failure that does not echo the password.
	badCreds := py.MapOf("username", user, "password", "wrong-"+pass, "registry_url", addr)
	_, err = s.PushImage(ctx, dir, py.MapOf("image_name", repo, "tag", "v1", "credentials", badCreds, "ignore_cache", true))
	if err == nil || strings.Contains(err.Error(), "wrong-"+pass) || !strings.Contains(err.Error(), "logging in to "+addr) {
		t.Fatalf("bad credentials: %v", err)
	}
	// After `docker login` into DOCKER_CONFIG, the keychain finds them.
	login := exec.Command("docker", "login", addr, "--username", user, "--password-stdin")
	login.Env = append(os.Environ(), "DOCKER_HOST="+e.host, "DOCKER_CONFIG="+e.vars["DOCKER_CONFIG"])
	login.Stdin = strings.NewReader(pass)
	if out, err := login.CombinedOutput(); err != nil {
		t.Fatalf("docker login: %v\n%s", err, out)
	}
	t.Setenv("DOCKER_CONFIG", e.vars["DOCKER_CONFIG"]) // authn.DefaultKeychain reads the process env
	s2, _ := e.steps(t, io.Discard)
	if _, err := s2.PushImage(ctx, dir, py.MapOf("image_name", repo, "tag", "v1")); err != nil {
		t.Fatalf("push after docker login: %v", err)
	}
}

func sha256hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func hintOf(err error) string {
	var de *diag.Error
	if errors.As(err, &de) {
		return de.Hint
	}
	return ""
}

func TestBuildFailuresCleanUp(t *testing.T) {
	e := newRealEnv(t)
	ctx := context.Background()
	s, _ := e.steps(t, io.Discard)

	// A failing RUN: the daemon's message and the build output's tail.
	dir := project(t)
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile.fail"), []byte("FROM "+e.base+"\nRUN echo about to fail && false\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := s.BuildImage(ctx, dir, py.MapOf("image_name", "prefectctl-fail", "dockerfile", "Dockerfile.fail", "pull", false, "network_mode", "host"))
	if err == nil || !strings.Contains(err.Error(), "returned a non-zero code: 1") || !strings.Contains(err.Error(), "about to fail") {
		t.Fatalf("failing build: %v", err)
	}

	// dockerfile: auto with a base image that does not exist: the
	// temporary Dockerfile is removed anyway.
	vars := map[string]string{EnvPrefectImageVersion: "0.0.0-missing"}
	for k, v := range e.vars {
		vars[k] = v
	}
	c, _ := Connect(e.host, "")
	defer c.Close()
	s2 := New(Options{Environ: func(k string) (string, bool) { v, ok := vars[k]; return v, ok }, Python: e.python}, Deps{Client: c})
	_, err = s2.BuildImage(ctx, dir, py.MapOf("image_name", "prefectctl-missing-base", "dockerfile", "auto", "pull", false))
	if err == nil || !strings.Contains(err.Error(), "prefecthq/prefect:0.0.0-missing-python3.11") {
		t.Fatalf("missing base image: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "Dockerfile")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatal("generated Dockerfile left behind after a failed build")
	}

	// An existing Dockerfile is never overwritten by auto.
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM mine\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = s.BuildImage(ctx, dir, py.MapOf("image_name", "x", "dockerfile", "auto"))
	if b, _ := os.ReadFile(filepath.Join(dir, "Dockerfile")); err == nil || !strings.Contains(err.Error(), "Dockerfile already exists.") || string(b) != "FROM mine\n" {
		t.Fatalf("existing Dockerfile: %v, content %q", err, b)
	}
	os.Remove(filepath.Join(dir, "Dockerfile"))

	// Cancellation mid-build: the Dockerfile goes too.
	slow := project(t)
	if err := os.WriteFile(filepath.Join(slow, "requirements.txt"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	_, err = s.BuildImage(cctx, slow, py.MapOf("image_name", "prefectctl-cancel", "dockerfile", "auto", "pull", false, "nocache", true, "ignore_cache", true))
	if err == nil {
		t.Log("build finished before the deadline; cancellation not exercised")
	}
	if _, err := os.Stat(filepath.Join(slow, "Dockerfile")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatal("generated Dockerfile left behind after cancellation")
	}
}

func TestDaemonAndRegistryDown(t *testing.T) {
	dir := project(t)
	dead := filepath.Join(t.TempDir(), "dead.sock")
	s := New(Options{Environ: func(k string) (string, bool) {
		if k == "DOCKER_HOST" {
			return "unix://" + dead, true
		}
		return "", false
	}, Python: "/nonexistent"}, Deps{})
	defer s.Close()
	_, err := s.BuildImage(context.Background(), dir, py.MapOf("image_name", "x", "tag", "t", "dockerfile", "auto"))
	var de *DaemonError
	if !errors.As(err, &de) || !strings.Contains(err.Error(), "cannot connect to the Docker daemon at unix://"+dead) || de.Hint() == "" {
		t.Fatalf("dead daemon: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "Dockerfile")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatal("generated Dockerfile left behind when the daemon is down")
	}

	e := newRealEnv(t)
	rs, _ := e.steps(t, io.Discard)
	if _, err := rs.BuildImage(context.Background(), dir, py.MapOf("image_name", "127.0.0.1:1/nowhere/flows", "tag", "t", "dockerfile", "auto", "pull", false)); err != nil {
		t.Fatal(err)
	}
	_, err = rs.PushImage(context.Background(), dir, py.MapOf("image_name", "127.0.0.1:1/nowhere/flows", "tag", "t"))
	if err == nil || !strings.Contains(err.Error(), "pushing 127.0.0.1:1/nowhere/flows:t failed") || !strings.Contains(hintOf(err), "not reachable") {
		t.Fatalf("unreachable registry: %v (hint %q)", err, hintOf(err))
	}
}

func TestDaemonHostFromContext(t *testing.T) {
	cfg := t.TempDir()
	env := map[string]string{"DOCKER_CONFIG": cfg}
	look := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	if h, _, err := DaemonHost(look); err != nil || h != client.DefaultDockerHost {
		t.Fatalf("default: %q %v", h, err)
	}
	// `docker context create remote --docker host=tcp://10.1.2.3:2375` stores this.
	sumDir := filepath.Join(cfg, "contexts", "meta", sha256hex("remote"))
	if err := os.MkdirAll(sumDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(sumDir, "meta.json"), []byte(`{"Name":"remote","Endpoints":{"docker":{"Host":"tcp://10.1.2.3:2375","SkipTLSVerify":false}}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(cfg, "config.json"), []byte(`{"currentContext":"remote"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if h, _, err := DaemonHost(look); err != nil || h != "tcp://10.1.2.3:2375" {
		t.Fatalf("currentContext: %q %v", h, err)
	}
	env["DOCKER_CONTEXT"] = "missing"
	if _, _, err := DaemonHost(look); err == nil || !strings.Contains(err.Error(), `docker context "missing" not found`) {
		t.Fatalf("missing context: %v", err)
	}
	env["DOCKER_HOST"] = "unix:///x.sock"
	if h, _, _ := DaemonHost(look); h != "unix:///x.sock" {
		t.Fatalf("DOCKER_HOST does not win: %q", h)
	}
}

// TestBuildKit builds with DOCKER_BUILDKIT=1: the image is the same as the
// legacy builder's where it matters, progress is rendered from BuildKit's
// trace, and a failing RUN shows its output in the error.
func TestBuildKit(t *testing.T) {
	e := newRealEnv(t)
	e.vars["DOCKER_BUILDKIT"] = "1"
	var log bytes.Buffer
	s, _ := e.steps(t, &log)
	ctx := context.Background()
	dir := project(t)
	out, err := s.BuildImage(ctx, dir, py.MapOf("image_name", "prefectctl-buildkit/flows", "tag", "bk", "dockerfile", "auto", "pull", false, "platform", "linux/amd64", "nocache", true))
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	c, err := Connect(e.host, "")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ii, err := c.ImageInspect(ctx, py.Str(get(t, out, "image_id")))
	if err != nil {
		t.Fatal(err)
	}
	if ii.Config.WorkingDir != "/opt/prefect/flows/" || ii.Config.Labels["io.prefect.version"] != "3.9.1" || ii.Architecture != "amd64" {
		t.Fatalf("image config: %+v", ii.Config)
	}
	t.Logf("BuildKit output:\n%s", log.String())
	if !regexp.MustCompile(`(?m)^#\d+ \[2/3\] COPY \. /opt/prefect/flows/$`).MatchString(log.String()) || !regexp.MustCompile(`(?m)^#\d+ DONE `).MatchString(log.String()) {
		t.Fatalf("BuildKit progress not rendered:\n%s", log.String())
	}

	if err := os.WriteFile(filepath.Join(dir, "Dockerfile.fail"), []byte("FROM "+e.base+"\nRUN echo visible-output && exit 5\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = s.BuildImage(ctx, dir, py.MapOf("image_name", "prefectctl-buildkit/fail", "dockerfile", "Dockerfile.fail", "pull", false, "network_mode", "host"))
	if err == nil || !strings.Contains(err.Error(), "exit code: 5") || !strings.Contains(err.Error(), "visible-output") {
		t.Fatalf("failing BuildKit build: %v", err)
	}
}

type failingTransport struct{}

func (failingTransport) RoundTrip(*http.Request) (*http.Response, error) {
	return nil, errors.New("no route from this machine")
}

// A registry the daemon reaches but this machine does not: the push
// stands, with a warning instead of a verified digest.
func TestPushUnverifiableFromHere(t *testing.T) {
	e := newRealEnv(t)
	c, err := Connect(e.host, "")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var log bytes.Buffer
	s := New(Options{Environ: e.environ, Stderr: &log, Python: e.python, Registry: reg.Options{Transport: failingTransport{}}}, Deps{Client: c})
	dir := project(t)
	repo := e.registry + "/prefectctl-steps/unverified"
	ctx := context.Background()
	if _, err := s.BuildImage(ctx, dir, py.MapOf("image_name", repo, "tag", "u1", "dockerfile", "auto", "pull", false)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PushImage(ctx, dir, py.MapOf("image_name", repo, "tag", "u1")); err != nil {
		t.Fatal(err)
	}
	if p := s.Pushed(); len(p) != 1 || p[0].Digest != "" || !strings.Contains(log.String(), "Warning: pushed "+repo+":u1 but could not verify it from this machine") {
		t.Fatalf("pushed %+v\n%s", p, log.String())
	}
}

// The default namespace setting applies to a bare image name, and a push
// without a tag pushes every tag of the repository, reporting tag None as
// prefect-docker does.
func TestNamespaceAndPushWithoutTag(t *testing.T) {
	e := newRealEnv(t)
	e.vars["PREFECT_DEFAULT_DOCKER_BUILD_NAMESPACE"] = e.registry + "/prefectctl-ns"
	s, _ := e.steps(t, io.Discard)
	ctx := context.Background()
	dir := project(t)
	out, err := s.BuildImage(ctx, dir, py.MapOf("image_name", "notag", "tag", "a", "additional_tags", []any{"b"}, "dockerfile", "auto", "pull", false))
	if err != nil {
		t.Fatal(err)
	}
	repo := e.registry + "/prefectctl-ns/notag"
	if get(t, out, "image_name") != repo {
		t.Fatalf("image_name = %v", get(t, out, "image_name"))
	}
	pout, err := s.PushImage(ctx, dir, py.MapOf("image_name", "notag"))
	if err != nil {
		t.Fatal(err)
	}
	if !py.Equal(pout, py.MapOf("image_name", repo, "tag", nil, "image", repo+":None", "additional_tags", []any{})) {
		t.Fatalf("push outputs = %v", pout)
	}
	for _, tag := range []string{"a", "b"} {
		ref, _ := name.ParseReference(repo + ":" + tag)
		if _, err := remote.Head(ref); err != nil {
			t.Errorf("tag %s not in the registry: %v", tag, err)
		}
	}
}
