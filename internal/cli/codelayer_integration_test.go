package cli

// Code-only redeploys end to end (issue 14): after one full build, a
// deploy whose change is only in the project files appends a layer in the
// registry with no Docker daemon and no docker binary, says so in --plan
// and in its progress, pins digests on request, explains a needed full
// build it cannot do, and leaves the old tag and the server untouched when
// the registry fails half-way.

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/prefectctl/prefectctl/internal/cloudapi"
	"github.com/prefectctl/prefectctl/internal/py"
	"github.com/prefectctl/prefectctl/internal/testenv"
	"github.com/prefectctl/prefectctl/internal/testenv/faultproxy"
)

// codeProject is a git checkout of a guide-like project: the generated
// Dockerfile, the image tagged with the commit (or with tag, when given),
// pushed, and run by the deployment.
type codeProject struct {
	t                  *testing.T
	c                  *cloudapi.Client
	work, prefix, pool string
	image              string
}

func newCodeProject(t *testing.T, api, image, tag, pushExtra string) *codeProject {
	return newCodeProjectWith(t, api, image, tag, pushExtra, "auto")
}

// newCodeProjectWith is newCodeProject with a dockerfile of the project's
// ("auto" for the generated one).
func newCodeProjectWith(t *testing.T, api, image, tag, pushExtra, dockerfile string) *codeProject {
	t.Helper()
	isolate(t)
	work, _ := os.Getwd()
	c, err := cloudapi.New(cloudapi.Options{BaseURL: api, MaxRetries: 5})
	if err != nil {
		t.Fatal(err)
	}
	p := &codeProject{t: t, c: c, work: work, prefix: uniquePrefix("codelayer"), image: image}
	p.pool = p.prefix + "-pool"
	if _, err := c.CreateWorkPool(context.Background(), py.MapOf("name", p.pool, "type", "docker")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cleanupPrefix(c, p.prefix, p.pool) })
	if tag == "" {
		tag = "{{ get-commit-hash.stdout }}"
	}
	if pushExtra != "" {
		pushExtra = "\n    " + pushExtra
	}
	must(t, os.MkdirAll(filepath.Join(work, "flows"), 0o755))
	p.writeFlow("Hello")
	must(t, os.WriteFile(filepath.Join(work, "prefect.yaml"), []byte(fmt.Sprintf(`name: flows
build:
- prefect.deployments.steps.run_shell_script:
    id: get-commit-hash
    script: git rev-parse --short HEAD
    stream_output: false
- prefect_docker.deployments.steps.build_docker_image:
    id: build-image
    image_name: %s
    tag: "%s"
    dockerfile: %s
    pull: false
push:
- prefect_docker.deployments.steps.push_docker_image:
    image_name: "{{ build-image.image_name }}"
    tag: "{{ build-image.tag }}"%s
pull:
- prefect.deployments.steps.set_working_directory:
    directory: /opt/prefect/flows
deployments:
- name: a
  entrypoint: flows/hello.py:hello
  work_pool: {name: %s, job_variables: {image: "{{ build-image.image }}"}}
`, image, tag, dockerfileName(dockerfile), pushExtra, p.pool)), 0o644))
	if dockerfile != "auto" {
		must(t, os.WriteFile(filepath.Join(work, "Dockerfile"), []byte(dockerfile), 0o644))
	}
	t.Setenv("PREFECT_API_URL", api)
	t.Setenv("PREFECTCTL_PREFECT_IMAGE_VERSION", "3.9.1")
	t.Setenv("PREFECTCTL_PYTHON_VERSION", "3.11")
	p.git("init", "-q")
	p.commit("guide project")
	return p
}

func dockerfileName(dockerfile string) string {
	if dockerfile == "auto" {
		return "auto"
	}
	return "Dockerfile"
}

func (p *codeProject) git(args ...string) string {
	p.t.Helper()
	cmd := exec.Command("git", append([]string{"-c", "user.name=t", "-c", "user.email=t@localhost"}, args...)...)
	cmd.Dir = p.work
	out, err := cmd.CombinedOutput()
	if err != nil {
		p.t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

func (p *codeProject) commit(msg string) string {
	p.git("add", "-A")
	p.git("commit", "-qm", msg)
	return p.git("rev-parse", "--short", "HEAD")
}

func (p *codeProject) writeFlow(greeting string) {
	must(p.t, os.WriteFile(filepath.Join(p.work, "flows", "hello.py"), []byte(fmt.Sprintf(
		"from prefect import flow\n\n\n@flow(name=%q)\ndef hello():\n    print(%q)\n", p.prefix+"-flow", greeting)), 0o644))
}

// serverImage is job_variables.image of the deployment on the server, and
// when it was last updated.
func (p *codeProject) serverImage() (image, updated string) {
	p.t.Helper()
	d, err := p.c.ReadDeploymentByName(context.Background(), p.prefix+"-flow", "a")
	if err != nil {
		p.t.Fatal(err)
	}
	var raw struct {
		Updated      string         `json:"updated"`
		JobVariables map[string]any `json:"job_variables"`
	}
	if err := json.Unmarshal(d.Raw, &raw); err != nil {
		p.t.Fatal(err)
	}
	img, _ := raw.JobVariables["image"].(string)
	return img, raw.Updated
}

// deployResult is deploy -o json with the image decisions.
type deployResult struct {
	OK          bool `json:"ok"`
	Deployments []struct {
		Action string `json:"action"`
		Image  string `json:"image"`
		Images []struct {
			Image, Mode, Reason, Previous string
			Unchanged                     bool
		} `json:"images"`
	} `json:"deployments"`
}

func (p *codeProject) deploy(args ...string) (code int, res deployResult, stderr string) {
	p.t.Helper()
	code, out, errOut := run(append([]string{"deploy", "--all", "-o", "json"}, args...)...)
	if strings.Contains(errOut, "panic") {
		p.t.Fatal(errOut)
	}
	if out != "" {
		if err := json.Unmarshal([]byte(out), &res); err != nil {
			p.t.Fatalf("deploy -o json: %v\n%s", err, out)
		}
	}
	return code, res, errOut
}

// noDocker makes the rest of the test a CI runner without Docker: no
// daemon behind DOCKER_HOST and no docker binary on PATH (git stays, for
// the project's shell step).
func noDocker(t *testing.T) {
	t.Helper()
	bin := t.TempDir()
	gitPath, err := exec.LookPath("git")
	if err != nil {
		t.Fatal(err)
	}
	must(t, os.Symlink(gitPath, filepath.Join(bin, "git")))
	t.Setenv("PATH", bin)
	t.Setenv("DOCKER_HOST", "unix://"+filepath.Join(t.TempDir(), "docker.sock"))
	if p, err := exec.LookPath("docker"); err == nil {
		t.Fatalf("docker is still on PATH: %s", p)
	}
}

func registryDigest(t *testing.T, ref string) string {
	t.Helper()
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	d, err := remote.Head(r)
	if err != nil {
		return ""
	}
	return d.Digest.String()
}

func TestCodeLayerDeployWithoutDocker(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the real Prefect server, dockerd and a registry")
	}
	api := testenv.Prefect(t)
	dockerHost := testenv.Docker(t)
	registry := testenv.Registry(t)
	image := registry + "/" + uniquePrefix("codelayer") + "/flows"
	p := newCodeProject(t, api, image, "", "")
	t.Setenv("DOCKER_HOST", dockerHost)
	sha1 := p.git("rev-parse", "--short", "HEAD")

	code, res, errOut := p.deploy()
	if code != 0 || len(res.Deployments) != 1 || res.Deployments[0].Images[0].Mode != "full build" {
		t.Fatalf("first deploy (exit %d): %+v\n%s", code, res, lastLines(errOut, 30))
	}

	// A one-line change, committed; from here on there is no Docker.
	p.writeFlow("Hello again")
	sha2 := p.commit("change the greeting")
	noDocker(t)

	code, out, errOut := run("deploy", "--all", "--plan")
	if code != 0 || !strings.Contains(out, "image "+image+": code layer: only project files changed since "+image+":"+sha1) {
		t.Fatalf("plan (exit %d):\n%s\n%s", code, out, errOut)
	}
	code, res, errOut = p.deploy()
	if code != 0 || !res.OK {
		t.Fatalf("code-only deploy without Docker (exit %d): %+v\n%s", code, res, lastLines(errOut, 30))
	}
	dec := res.Deployments[0].Images[0]
	if dec.Mode != "code layer" || dec.Previous != image+":"+sha1 || res.Deployments[0].Image != image+":"+sha2 {
		t.Fatalf("decision: %+v", res.Deployments[0])
	}
	for _, want := range []string{
		"image " + image + ": code layer: only project files changed since " + image + ":" + sha1, // the progress line
		"Pushed " + image + ":" + sha2 + " (sha256:",
	} {
		if !strings.Contains(errOut, want) {
			t.Errorf("progress lacks %q:\n%s", want, errOut)
		}
	}
	if img, _ := p.serverImage(); img != image+":"+sha2 {
		t.Fatalf("registered image %s", img)
	}
	if registryDigest(t, image+":"+sha2) == "" {
		t.Fatal("the new tag is not in the registry")
	}

	// Nothing changed: nothing uploaded, the deployment unchanged.
	code, res, errOut = p.deploy()
	if code != 0 || !res.Deployments[0].Images[0].Unchanged || res.Deployments[0].Action != "unchanged" || !strings.Contains(errOut, "no blob uploaded") {
		t.Fatalf("no-change deploy (exit %d): %+v\n%s", code, res, lastLines(errOut, 20))
	}

	// Digest pinning.
	p.writeFlow("Hello, pinned")
	sha3 := p.commit("pin")
	code, res, errOut = p.deploy("--pin-digest")
	digest := registryDigest(t, image+":"+sha3)
	if code != 0 || digest == "" || res.Deployments[0].Image != image+"@"+digest {
		t.Fatalf("pinned deploy (exit %d, tag digest %s): %+v\n%s", code, digest, res, lastLines(errOut, 20))
	}
	if img, _ := p.serverImage(); img != image+"@"+digest {
		t.Fatalf("registered image %s, want %s@%s", img, image, digest)
	}

	// A change below the project layer needs Docker, and the error says
	// what changed; nothing is registered.
	must(t, os.WriteFile(filepath.Join(p.work, "requirements.txt"), []byte("prefect>=3.0.0\n"), 0o644))
	p.commit("add requirements")
	before, updated := p.serverImage()
	code, _, errOut = p.deploy()
	if code == 0 {
		t.Fatal("a full build without Docker succeeded")
	}
	if !strings.Contains(errOut, "need Docker") || !strings.Contains(errOut, "the generated Dockerfile changed") || !strings.Contains(errOut, "since "+image+"@"+digest) {
		t.Errorf("error does not say what changed:\n%s", lastLines(errOut, 20))
	}
	if img, upd := p.serverImage(); img != before || upd != updated {
		t.Errorf("the deployment changed: %s %s → %s %s", before, updated, img, upd)
	}
}

// TestCodeLayerRegistryFaults: the registry fails half-way through a code
// layer push (a blob upload refused, the config upload failing, the
// manifest rejected, the connection dropped after the layer went up):
// the deploy fails clearly, the tag still serves the old image and the
// deployment on the server is untouched. Once the registry recovers the
// same deploy goes through.
func TestCodeLayerRegistryFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the real Prefect server, dockerd and a registry")
	}
	api := testenv.Prefect(t)
	dockerHost := testenv.Docker(t)
	registry := testenv.Registry(t)
	var armed atomic.Pointer[func(*http.Request) bool]
	proxy, err := faultproxy.Start("http://"+registry, faultproxy.Config{
		Rates: map[faultproxy.Kind]float64{faultproxy.Status500: 1},
		Match: func(r *http.Request) bool {
			m := armed.Load()
			return m != nil && (*m)(r)
		},
		Lifetime: 10 * time.Minute,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	host := strings.TrimPrefix(proxy.URL, "http://")
	repo := uniquePrefix("codelayer") + "/faults"
	image := host + "/" + repo
	// A project Dockerfile FROM scratch: the full build pushes no base
	// layers through the proxy.
	p := newCodeProjectWith(t, api, image, "v1", "", "FROM scratch\nCOPY . /app/\n")
	t.Setenv("DOCKER_HOST", dockerHost)
	if code, res, errOut := p.deploy(); code != 0 {
		t.Fatalf("first deploy (exit %d): %+v\n%s", code, res, lastLines(errOut, 30))
	}
	direct := registry + "/" + repo + ":v1"
	good := registryDigest(t, direct)
	noDocker(t)

	for i, tc := range []struct {
		name  string
		match func(*http.Request) bool
	}{
		{"layer upload refused", func(r *http.Request) bool {
			return r.Method == http.MethodPost && strings.Contains(r.URL.Path, "/blobs/uploads/")
		}},
		// The layer goes up, the config does not. (Uploads continue at the
		// Location the registry names, its own address: the proxy sees
		// only the POST that starts each one.)
		{"config upload refused", func() func(*http.Request) bool {
			var posts atomic.Int32
			return func(r *http.Request) bool {
				return r.Method == http.MethodPost && strings.Contains(r.URL.Path, "/blobs/uploads/") && posts.Add(1) > 1
			}
		}()},
		{"manifest rejected", func(r *http.Request) bool {
			return r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/manifests/")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p.writeFlow(fmt.Sprintf("Hello %d", i))
			before, updated := p.serverImage()
			armed.Store(&tc.match)
			defer armed.Store(nil)
			faultsBefore := proxy.Counts()[faultproxy.Status500]
			code, _, errOut := p.deploy()
			if code == 0 {
				t.Fatalf("deploy succeeded though the registry failed:\n%s", lastLines(errOut, 20))
			}
			if proxy.Counts()[faultproxy.Status500] == faultsBefore {
				t.Fatalf("the fault was never hit:\n%s", lastLines(errOut, 20))
			}
			if !strings.Contains(errOut, "pushing "+image+":v1 failed") || !strings.Contains(errOut, "500") {
				t.Errorf("unclear error:\n%s", lastLines(errOut, 20))
			}
			if d := registryDigest(t, direct); d != good {
				t.Errorf("the tag moved: %s → %s", good, d)
			}
			if img, upd := p.serverImage(); img != before || upd != updated {
				t.Errorf("the deployment changed: %s %s → %s %s", before, updated, img, upd)
			}
		})
	}
	code, res, errOut := p.deploy()
	if code != 0 || res.Deployments[0].Images[0].Mode != "code layer" {
		t.Fatalf("after the registry recovered (exit %d): %+v\n%s", code, res, lastLines(errOut, 20))
	}
	if registryDigest(t, direct) == good {
		t.Fatal("the tag did not move after a successful deploy")
	}
}

// TestCodeLayerAuthRegistry: the registry requires a login; the code
// layer reads and pushes with the Docker config's credentials, or with
// the push step's credentials mapping.
func TestCodeLayerAuthRegistry(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the real Prefect server, dockerd and a registry")
	}
	api := testenv.Prefect(t)
	dockerHost := testenv.Docker(t)
	addr, user, pass := testenv.AuthRegistry(t)
	for _, how := range []string{"docker config", "credentials mapping"} {
		t.Run(how, func(t *testing.T) {
			image := addr + "/" + uniquePrefix("codelayer") + "/auth"
			extra := ""
			if how == "credentials mapping" {
				extra = fmt.Sprintf("credentials: {username: %s, password: %s, registry_url: %s}", user, pass, addr)
			}
			p := newCodeProject(t, api, image, "", extra)
			cfg := t.TempDir()
			if how == "docker config" {
				auth := base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
				must(t, os.WriteFile(filepath.Join(cfg, "config.json"), []byte(`{"auths":{"`+addr+`":{"auth":"`+auth+`"}}}`), 0o600))
			}
			t.Setenv("DOCKER_CONFIG", cfg)
			t.Setenv("DOCKER_HOST", dockerHost)
			if code, res, errOut := p.deploy(); code != 0 {
				t.Fatalf("first deploy (exit %d): %+v\n%s", code, res, lastLines(errOut, 30))
			}
			p.writeFlow("Hello, auth")
			sha := p.commit("change")
			noDocker(t)
			code, res, errOut := p.deploy()
			if code != 0 || res.Deployments[0].Images[0].Mode != "code layer" {
				t.Fatalf("code layer against the auth registry (exit %d): %+v\n%s", code, res, lastLines(errOut, 30))
			}
			if img, _ := p.serverImage(); img != image+":"+sha {
				t.Fatalf("registered %s", img)
			}
		})
	}
}
