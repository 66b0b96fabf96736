package docker

// Code layers against the real daemon and registry: a full build records
// the fingerprint, a later build with only project changes appends a layer
// without Docker, and the result is the image Docker builds from the same
// tree.

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/prefectctl/prefectctl/internal/codelayer"
	"github.com/prefectctl/prefectctl/internal/py"
)

// richProject is a project with what Docker's COPY must reproduce: modes,
// symlinks (relative, dangling, absolute), an empty directory, a hardlink,
// long and non-ASCII names, a requirements.txt (so the image has a RUN
// layer below the project) and a .dockerignore with a re-included file in
// an excluded directory; .dockerignore also excludes itself, which the
// legacy builder honours and BuildKit (fed a tar) does not.
func richProject(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "flows")
	write := func(rel, content string, mode os.FileMode) {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
	}
	write("flows/hello.py", "from prefect import flow\n\n\n@flow\ndef hello():\n    print('v1')\n", 0o644)
	write("requirements.txt", "prefect>=3.0.0\n", 0o644)
	write("run.sh", "#!/bin/sh\necho run\n", 0o755)
	write("secret.txt", "s\n", 0o600)
	write("group.txt", "g\n", 0o664)
	write("sub/deeper/b.txt", "b\n", 0o644)
	write("sub/"+strings.Repeat("n", 110)+".txt", "long\n", 0o644)
	write("café.py", "# non-ascii\n", 0o644)
	write("debug.log", "excluded\n", 0o644)
	write("build/out.bin", "excluded\n", 0o644)
	write("build/keep.txt", "kept\n", 0o644)
	write(".dockerignore", "*.log\nbuild/\n!build/keep.txt\n.dockerignore\n", 0o644)
	for _, err := range []error{
		os.Chmod(filepath.Join(dir, "sub"), 0o750),
		os.Mkdir(filepath.Join(dir, "empty"), 0o755),
		os.Symlink("flows/hello.py", filepath.Join(dir, "link.py")),
		os.Symlink("nowhere", filepath.Join(dir, "dangling")),
		os.Symlink("/etc/hostname", filepath.Join(dir, "abslink")),
		os.Link(filepath.Join(dir, "run.sh"), filepath.Join(dir, "hardlink.sh")),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// uniqueRepo is a repository no earlier run used: the registry outlives
// test runs, and an image of the same files pushed before would be found.
func uniqueRepo(e *realEnv, what string) string {
	return fmt.Sprintf("%s/prefectctl-codelayer/%s-%s", e.registry, what, strconv.FormatInt(time.Now().UnixNano(), 36))
}

// versionEnv pins the generated Dockerfile's base to the test
// environment's image.
func versionEnv(e *realEnv) {
	e.vars[EnvPrefectImageVersion] = "3.9.1"
	e.vars[EnvPythonVersion] = "3.11"
}

// daemonless returns steps that cannot reach any Docker daemon: DOCKER_HOST
// names a socket that does not exist.
func daemonless(t *testing.T, e *realEnv, stderr io.Writer) *Steps {
	t.Helper()
	vars := map[string]string{}
	for k, v := range e.vars {
		vars[k] = v
	}
	vars["DOCKER_HOST"] = "unix://" + filepath.Join(t.TempDir(), "no-docker.sock")
	s := New(Options{Environ: func(k string) (string, bool) { v, ok := vars[k]; return v, ok }, Stderr: stderr, Python: e.python}, Deps{})
	t.Cleanup(func() { s.Close() })
	return s
}

// fsEntry is a file of an image's filesystem, mtime aside.
type fsEntry struct {
	typ      byte
	mode     int64
	uid, gid int
	link     string
	sum      string
}

// imagesFS flattens two images in the registry into path → entry,
// reading only what lies under prefix, for comparing them. The layers
// both images start with (the base) are left out: each contributes the
// same entries to both, and reading hundreds of megabytes of base layers
// under the race detector would take minutes. An entry of a shared layer
// that only one image changes still shows up, from that image's upper
// layers.
func imagesFS(t *testing.T, refA, refB, prefix string) (fsA, fsB map[string]fsEntry, cfgA, cfgB *v1.ConfigFile) {
	t.Helper()
	read := func(ref string) (v1.Image, []v1.Layer, *v1.ConfigFile) {
		r, err := name.ParseReference(ref)
		if err != nil {
			t.Fatal(err)
		}
		img, err := remote.Image(r)
		if err != nil {
			t.Fatal(err)
		}
		layers, err := img.Layers()
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := img.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		return img, layers, cfg
	}
	_, la, cfgA := read(refA)
	_, lb, cfgB := read(refB)
	shared := 0
	for shared < len(la) && shared < len(lb) {
		da, err := la[shared].Digest()
		if err != nil {
			t.Fatal(err)
		}
		db, err := lb[shared].Digest()
		if err != nil {
			t.Fatal(err)
		}
		if da != db {
			break
		}
		shared++
	}
	if shared == len(la) || shared == len(lb) {
		t.Fatalf("%s and %s share all their layers", refA, refB)
	}
	return layersFS(t, la[shared:], prefix), layersFS(t, lb[shared:], prefix), cfgA, cfgB
}

// layersFS applies layers in order (whiteouts included) and keeps the
// entries under prefix.
func layersFS(t *testing.T, layers []v1.Layer, prefix string) map[string]fsEntry {
	t.Helper()
	out := map[string]fsEntry{}
	for _, l := range layers {
		rc, err := l.Uncompressed()
		if err != nil {
			t.Fatal(err)
		}
		tr := tar.NewReader(rc)
		for {
			h, err := tr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			nm := "/" + strings.Trim(h.Name, "/")
			dir, base := path.Split(nm)
			if base == ".wh..wh..opq" {
				for p := range out {
					if strings.HasPrefix(p, dir) {
						delete(out, p)
					}
				}
				continue
			}
			if strings.HasPrefix(base, ".wh.") {
				gone := dir + strings.TrimPrefix(base, ".wh.")
				for p := range out {
					if p == gone || strings.HasPrefix(p, gone+"/") {
						delete(out, p)
					}
				}
				continue
			}
			if !strings.HasPrefix(nm, prefix) {
				continue
			}
			e := fsEntry{typ: h.Typeflag, mode: h.Mode & 0o7777, uid: h.Uid, gid: h.Gid, link: h.Linkname}
			if e.typ == tar.TypeRegA {
				e.typ = tar.TypeReg
			}
			if h.Typeflag == tar.TypeReg {
				s := sha256.New()
				if _, err := io.Copy(s, tr); err != nil {
					t.Fatal(err)
				}
				e.sum = hex.EncodeToString(s.Sum(nil))[:12]
			}
			out[nm] = e
		}
		rc.Close()
	}
	return out
}

func diffFS(a, b map[string]fsEntry) []string {
	var out []string
	for p, x := range a {
		if y, ok := b[p]; !ok {
			out = append(out, "only in the code layer image: "+p)
		} else if x != y {
			out = append(out, fmt.Sprintf("%s: code layer %+v, docker %+v", p, x, y))
		}
	}
	for p := range b {
		if _, ok := a[p]; !ok {
			out = append(out, "only in the Docker image: "+p)
		}
	}
	sort.Strings(out)
	return out
}

// TestCodeLayerImageEqualsDockerBuild is the acceptance test of the image
// a code layer makes: after a full build, a code change is appended
// without Docker; Docker then builds the same tree, and both images have
// the same files (names, types, modes, owners, link targets, contents),
// WORKDIR, environment, entrypoint and command. It runs for both builders
// and the code-layer image runs.
func TestCodeLayerImageEqualsDockerBuild(t *testing.T) {
	for _, builder := range []string{"legacy", "buildkit"} {
		t.Run(builder, func(t *testing.T) {
			e := newRealEnv(t)
			versionEnv(e)
			if builder == "buildkit" {
				e.vars["DOCKER_BUILDKIT"] = "1"
			}
			ctx := context.Background()
			dir := richProject(t)
			repo := uniqueRepo(e, builder)
			in := func(tag string) *py.Map {
				m := py.MapOf("image_name", repo, "tag", tag, "dockerfile", "auto", "pull", false, "platform", "linux/amd64")
				if builder == "buildkit" {
					// BuildKit's RUN needs a network; the engine has no bridge.
					m.Set("network_mode", "host")
				}
				return m
			}
			hints := &Hints{Pushed: true}
			var log bytes.Buffer
			full, _ := e.steps(t, &log)
			out, err := full.BuildImageWith(ctx, dir, in("v1"), hints)
			if err != nil {
				t.Fatalf("%v\n%s", err, log.String())
			}
			if _, err := full.PushImage(ctx, dir, py.MapOf("image_name", repo, "tag", "v1")); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(log.String(), "Full build of "+repo+": no earlier image of "+repo+" built by prefectctl") {
				t.Errorf("first build not explained:\n%s", log.String())
			}
			_ = out

			// A code change, a new file and a changed mode.
			if err := os.WriteFile(filepath.Join(dir, "flows", "hello.py"), []byte("from prefect import flow\n\n\n@flow\ndef hello():\n    print('v2')\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "flows", "new.py"), []byte("x = 1\n"), 0o640); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(filepath.Join(dir, "group.txt"), 0o600); err != nil {
				t.Fatal(err)
			}

			log.Reset()
			nd := daemonless(t, e, &log)
			d, err := nd.Decide(ctx, dir, in("v2"), &Hints{Pushed: true, Previous: []string{repo + ":v1"}})
			if err != nil {
				t.Fatal(err)
			}
			if d.Mode != ModeCodeLayer || d.Previous != repo+":v1" || d.Unchanged {
				t.Fatalf("decision: %+v", d)
			}
			out, err = nd.BuildImageWith(ctx, dir, in("v2"), &Hints{Pushed: true, Previous: []string{repo + ":v1"}})
			if err != nil {
				t.Fatalf("code layer without Docker: %v\n%s", err, log.String())
			}
			if _, err := nd.PushImage(ctx, dir, py.MapOf("image_name", repo, "tag", "v2")); err != nil {
				t.Fatalf("push without Docker: %v\n%s", err, log.String())
			}
			if !strings.Contains(log.String(), "Pushed "+repo+":v2 (sha256:") || !strings.Contains(log.String(), "without Docker: 2 blob(s) uploaded") {
				t.Errorf("push report:\n%s", log.String())
			}
			pushed := nd.Pushed()
			if len(pushed) != 1 || pushed[0].Image != repo+":v2" || !strings.HasPrefix(pushed[0].Digest, "sha256:") || pushed[0].Platform != "linux/amd64" {
				t.Fatalf("pushed = %+v", pushed)
			}
			r, _ := name.ParseReference(repo + ":v2")
			img, err := remote.Image(r)
			if err != nil {
				t.Fatal(err)
			}
			cfgName, _ := img.ConfigName()
			if get(t, out, "image_id") != cfgName.String() {
				t.Errorf("image_id %v, config digest %s", get(t, out, "image_id"), cfgName)
			}
			if h, _ := remote.Head(r); h.Digest.String() != pushed[0].Digest {
				t.Errorf("registry serves %s, pushed %s", h.Digest, pushed[0].Digest)
			}

			// Docker builds the same tree (no hints: always Docker).
			log.Reset()
			ds, _ := e.steps(t, &log)
			if _, err := ds.BuildImage(ctx, dir, in("docker")); err != nil {
				t.Fatalf("%v\n%s", err, log.String())
			}
			if _, err := ds.PushImage(ctx, dir, py.MapOf("image_name", repo, "tag", "docker")); err != nil {
				t.Fatal(err)
			}

			ours, theirs, oc, dc := imagesFS(t, repo+":v2", repo+":docker", "/opt/prefect")
			if diffs := diffFS(ours, theirs); len(diffs) > 0 {
				t.Fatalf("the code layer image differs from Docker's build:\n%s", strings.Join(diffs, "\n"))
			}
			if len(ours) < 15 {
				t.Fatalf("suspiciously few files: %v", ours)
			}
			if _, ok := ours["/opt/prefect/flows/.dockerignore"]; ok != (builder == "buildkit") {
				t.Errorf(".dockerignore in the image: %v (builder %s)", ok, builder)
			}
			if _, ok := ours["/opt/prefect/flows/debug.log"]; ok {
				t.Error("an excluded file is in the image")
			}
			same := func(what string, a, b any) {
				if fmt.Sprint(a) != fmt.Sprint(b) {
					t.Errorf("%s: code layer %v, docker %v", what, a, b)
				}
			}
			same("WORKDIR", oc.Config.WorkingDir, dc.Config.WorkingDir)
			same("Env", oc.Config.Env, dc.Config.Env)
			same("Entrypoint", oc.Config.Entrypoint, dc.Config.Entrypoint)
			same("Cmd", oc.Config.Cmd, dc.Config.Cmd)
			same("User", oc.Config.User, dc.Config.User)
			same("platform", oc.OS+"/"+oc.Architecture, dc.OS+"/"+dc.Architecture)
			same("layers", len(oc.RootFS.DiffIDs), len(dc.RootFS.DiffIDs))

			// The image runs, as a worker would run it.
			cmd := exec.Command("docker", "run", "--rm", "--network", "none", "--entrypoint", "sh", repo+":v2", "-c", "pwd && python -c 'import flows.hello' && grep -c v2 flows/hello.py")
			cmd.Env = append(os.Environ(), "DOCKER_HOST="+e.host)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			got, err := cmd.Output()
			if err != nil || strings.TrimSpace(string(got)) != "/opt/prefect/flows\n1" {
				t.Fatalf("docker run: %v\n%s\n%s", err, got, stderr.String())
			}
		})
	}
}

// TestCodeLayerIsReproducible: the same files on the same previous image
// give the same image, whoever builds it; the second push sends no blob,
// and a deploy with nothing changed reuses the image as it is.
func TestCodeLayerIsReproducible(t *testing.T) {
	e := newRealEnv(t)
	versionEnv(e)
	ctx := context.Background()
	dir := richProject(t)
	repo := uniqueRepo(e, "repro")
	in := func(tag string) *py.Map {
		return py.MapOf("image_name", repo, "tag", tag, "dockerfile", "auto", "pull", false)
	}
	full, _ := e.steps(t, io.Discard)
	if _, err := full.BuildImageWith(ctx, dir, in("base"), &Hints{Pushed: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := full.PushImage(ctx, dir, py.MapOf("image_name", repo, "tag", "base")); err != nil {
		t.Fatal(err)
	}
	// Nothing changed since the full build: its tree label matches.
	nd := daemonless(t, e, io.Discard)
	d, err := nd.Decide(ctx, dir, in("base"), &Hints{Pushed: true})
	if err != nil || d.Mode != ModeCodeLayer || !d.Unchanged {
		t.Fatalf("right after the full build: %+v %v", d, err)
	}

	if err := os.WriteFile(filepath.Join(dir, "flows", "hello.py"), []byte("print('changed')\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	digests := map[string]string{}
	var logs []string
	for _, tag := range []string{"a", "b"} {
		var log bytes.Buffer
		s := daemonless(t, e, &log)
		h := &Hints{Pushed: true, Previous: []string{repo + ":base"}}
		if _, err := s.BuildImageWith(ctx, dir, in(tag), h); err != nil {
			t.Fatal(err)
		}
		if _, err := s.PushImage(ctx, dir, py.MapOf("image_name", repo, "tag", tag)); err != nil {
			t.Fatal(err)
		}
		digests[tag] = s.Pushed()[0].Digest
		logs = append(logs, log.String())
	}
	if digests["a"] != digests["b"] {
		t.Fatalf("two builds of the same files: %v", digests)
	}
	if !strings.Contains(logs[0], "2 blob(s) uploaded") || !strings.Contains(logs[1], "no blob uploaded") {
		t.Fatalf("uploads:\n%s\n---\n%s", logs[0], logs[1])
	}

	// Deployed again with no change: the step's own tag is the previous
	// image, and nothing is sent.
	var log bytes.Buffer
	s := daemonless(t, e, &log)
	d, err = s.Decide(ctx, dir, in("a"), &Hints{Pushed: true})
	if err != nil || !d.Unchanged || d.Previous != repo+":a" {
		t.Fatalf("no change: %+v %v", d, err)
	}
	if _, err := s.BuildImageWith(ctx, dir, in("a"), &Hints{Pushed: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PushImage(ctx, dir, py.MapOf("image_name", repo, "tag", "a")); err != nil {
		t.Fatal(err)
	}
	if s.Pushed()[0].Digest != digests["a"] || !strings.Contains(log.String(), "no blob uploaded") {
		t.Fatalf("no-change push: %+v\n%s", s.Pushed(), log.String())
	}
}

// TestCodeLayerDecisions: what rules a code layer out, and the reason
// given, against one full build.
func TestCodeLayerDecisions(t *testing.T) {
	e := newRealEnv(t)
	versionEnv(e)
	ctx := context.Background()
	dir := richProject(t)
	repo := uniqueRepo(e, "decide")
	full, _ := e.steps(t, io.Discard)
	base := py.MapOf("image_name", repo, "tag", "v1", "dockerfile", "auto", "pull", false)
	if _, err := full.BuildImageWith(ctx, dir, base, &Hints{Pushed: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := full.PushImage(ctx, dir, py.MapOf("image_name", repo, "tag", "v1")); err != nil {
		t.Fatal(err)
	}
	since := " since " + repo + ":v1"
	with := func(kv ...any) *py.Map {
		m := py.Clone(base).(*py.Map)
		for i := 0; i < len(kv); i += 2 {
			m.Set(kv[i].(string), kv[i+1])
		}
		return m
	}
	decide := func(t *testing.T, in *py.Map, h *Hints, edit func()) *Decision {
		t.Helper()
		d := t.TempDir()
		// A fresh copy of the project for each case.
		cp := exec.Command("cp", "-a", dir, d)
		if out, err := cp.CombinedOutput(); err != nil {
			t.Fatalf("%v %s", err, out)
		}
		project := filepath.Join(d, filepath.Base(dir))
		if edit != nil {
			old, _ := os.Getwd()
			if err := os.Chdir(project); err != nil {
				t.Fatal(err)
			}
			edit()
			os.Chdir(old)
		}
		dec, err := daemonless(t, e, io.Discard).Decide(ctx, project, in, h)
		if err != nil {
			t.Fatal(err)
		}
		return dec
	}
	pushed := &Hints{Pushed: true}
	for _, tc := range []struct {
		name string
		in   *py.Map
		h    *Hints
		edit func()
		mode ImageMode
		why  string
	}{
		{"code only", base, pushed, func() { os.WriteFile("flows/hello.py", []byte("x"), 0o644) }, ModeCodeLayer, "only project files changed" + since},
		{"nothing", base, pushed, nil, ModeCodeLayer, "no project file changed" + since + "; nothing to upload"},
		{"requirements", base, pushed, func() { os.WriteFile("requirements.txt", []byte("prefect>=3.1\n"), 0o644) }, ModeFullBuild, "requirements.txt changed" + since},
		{"requirements mode", base, pushed, func() { os.Chmod("requirements.txt", 0o600) }, ModeFullBuild, "requirements.txt changed" + since},
		{"requirements removed", base, pushed, func() { os.Remove("requirements.txt") }, ModeFullBuild, "the generated Dockerfile changed"},
		{"platform", with("platform", "linux/arm64"), pushed, nil, ModeFullBuild, "the platform changed (none, now linux/arm64)" + since},
		{"build args", with("buildargs", py.MapOf("X", "1")), pushed, nil, ModeFullBuild, "the build options changed"},
		{"labels", with("labels", py.MapOf("team", "data")), pushed, nil, ModeFullBuild, "the build options changed"},
		{"builder", base, pushed, func() { e.vars["DOCKER_BUILDKIT"] = "1" }, ModeFullBuild, "the builder changed (legacy, now buildkit)" + since},
		{"squash", with("squash", true), pushed, nil, ModeFullBuild, "squash: true merges the layers"},
		{"forced", base, &Hints{Pushed: true, FullBuild: true}, nil, ModeFullBuild, "--full-build"},
		{"not pushed", base, &Hints{}, nil, ModeFullBuild, "no push_docker_image step pushes it"},
		{"other repository, never built", with("image_name", repo+"-new"), pushed, nil, ModeFullBuild, "no earlier image of " + repo + "-new built by prefectctl"},
		{"other repository, the deployment's image", with("image_name", repo+"-renamed"), &Hints{Pushed: true, Previous: []string{repo + ":v1"}}, nil, ModeCodeLayer, "no project file changed" + since},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer delete(e.vars, "DOCKER_BUILDKIT")
			d := decide(t, tc.in, tc.h, tc.edit)
			if d.Mode != tc.mode || !strings.HasPrefix(d.Reason, tc.why) {
				t.Fatalf("%s: %s\nwant %s: %s…", d.Mode, d.Reason, tc.mode, tc.why)
			}
		})
	}

	// The deployment's image lives in another repository of the registry:
	// its layers are mounted, not uploaded.
	var log bytes.Buffer
	s := daemonless(t, e, &log)
	renamed := with("image_name", repo+"-renamed")
	if _, err := s.BuildImageWith(ctx, dir, renamed, &Hints{Pushed: true, Previous: []string{repo + ":v1"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PushImage(ctx, dir, py.MapOf("image_name", repo+"-renamed", "tag", "v1")); err != nil {
		t.Fatalf("cross-repository push: %v\n%s", err, log.String())
	}
	if !strings.Contains(log.String(), "1 blob(s) uploaded") { // the config; every layer mounted
		t.Errorf("cross-repository push:\n%s", log.String())
	}

	// A user Dockerfile whose last file change is not the project copy:
	// the reason names the line.
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile.user"), []byte("FROM "+e.base+"\nCOPY . /app\nRUN python -m compileall /app\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	d, err := daemonless(t, e, io.Discard).Decide(ctx, dir, with("dockerfile", "Dockerfile.user"), pushed)
	if err != nil || d.Mode != ModeFullBuild || !strings.HasPrefix(d.Reason, "Dockerfile line 3: the last instruction that changes files is RUN") {
		t.Fatalf("%+v %v", d, err)
	}
}

// TestCodeLayerUserDockerfile: a project Dockerfile that ends with
// `COPY --chown=1000:1000 . .` under a WORKDIR appends like the generated
// one, with the owner and place Docker gives the files.
func TestCodeLayerUserDockerfile(t *testing.T) {
	e := newRealEnv(t)
	ctx := context.Background()
	dir := richProject(t)
	os.Remove(filepath.Join(dir, "requirements.txt"))
	df := "FROM " + e.base + "\nRUN mkdir -p /srv/app && chown 1000:1000 /srv/app && chmod 0775 /srv/app\nWORKDIR /srv/app\nCOPY --chown=1000:1000 . .\nENV APP_HOME=/srv/app\nUSER 1000\n"
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(df), 0o644); err != nil {
		t.Fatal(err)
	}
	repo := uniqueRepo(e, "userdf")
	in := func(tag string) *py.Map {
		return py.MapOf("image_name", repo, "tag", tag, "dockerfile", "Dockerfile", "pull", false)
	}
	full, _ := e.steps(t, io.Discard)
	if _, err := full.BuildImageWith(ctx, dir, in("v1"), &Hints{Pushed: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := full.PushImage(ctx, dir, py.MapOf("image_name", repo, "tag", "v1")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "flows", "hello.py"), []byte("print('v2')\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	nd := daemonless(t, e, &log)
	h := &Hints{Pushed: true, Previous: []string{repo + ":v1"}}
	if _, err := nd.BuildImageWith(ctx, dir, in("v2"), h); err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	if _, err := nd.PushImage(ctx, dir, py.MapOf("image_name", repo, "tag", "v2")); err != nil {
		t.Fatal(err)
	}
	ds, _ := e.steps(t, io.Discard)
	if _, err := ds.BuildImage(ctx, dir, in("docker")); err != nil {
		t.Fatal(err)
	}
	if _, err := ds.PushImage(ctx, dir, py.MapOf("image_name", repo, "tag", "docker")); err != nil {
		t.Fatal(err)
	}
	ours, theirs, oc, dc := imagesFS(t, repo+":v2", repo+":docker", "/srv")
	if diffs := diffFS(ours, theirs); len(diffs) > 0 {
		t.Fatalf("differs from Docker's build:\n%s", strings.Join(diffs, "\n"))
	}
	if ours["/srv/app"].uid != 1000 || ours["/srv/app"].mode != 0o775 || ours["/srv/app/flows/hello.py"].uid != 1000 {
		t.Fatalf("owners: %+v %+v", ours["/srv/app"], ours["/srv/app/flows/hello.py"])
	}
	if oc.Config.User != dc.Config.User || fmt.Sprint(oc.Config.Env) != fmt.Sprint(dc.Config.Env) {
		t.Fatalf("config: %+v / %+v", oc.Config, dc.Config)
	}
}

// TestBaseImageRecheck: with pull: true a code layer re-reads the base
// image's tag (here through a Docker Hub mirror given by
// PREFECTCTL_REGISTRY_MIRRORS, as CI without a daemon would) and falls
// back to a full build when it moved; an unreachable registry is a
// warning, not a failure.
func TestBaseImageRecheck(t *testing.T) {
	e := newRealEnv(t)
	versionEnv(e)
	ctx := context.Background()
	dir := richProject(t)
	repo := uniqueRepo(e, "pull")
	full, _ := e.steps(t, io.Discard)
	in := py.MapOf("image_name", repo, "tag", "v1", "dockerfile", "auto", "pull", false)
	if _, err := full.BuildImageWith(ctx, dir, in, &Hints{Pushed: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := full.PushImage(ctx, dir, py.MapOf("image_name", repo, "tag", "v1")); err != nil {
		t.Fatal(err)
	}
	// The mirror holds the base under a prefix of this test's own.
	prefix := fmt.Sprintf("mirror-%d", os.Getpid())
	mirrored := e.registry + "/" + prefix + "/" + e.base
	docker := func(args ...string) {
		t.Helper()
		cmd := exec.Command("docker", args...)
		cmd.Env = append(os.Environ(), "DOCKER_HOST="+e.host)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("docker %v: %v\n%s", args, err, out)
		}
	}
	docker("tag", e.base, mirrored)
	docker("push", "-q", mirrored)

	pullIn := py.Clone(in).(*py.Map)
	pullIn.Set("pull", true)
	e.vars[codelayer.EnvMirrors] = "http://" + e.registry + "/" + prefix
	d, err := daemonless(t, e, io.Discard).Decide(ctx, dir, pullIn, &Hints{Pushed: true})
	if err != nil || d.Mode != ModeCodeLayer || len(d.Warnings) > 0 {
		t.Fatalf("base unchanged: %+v %v", d, err)
	}

	// The base tag moves (any other image will do).
	docker("tag", repo+":v1", mirrored)
	docker("push", "-q", mirrored)
	d, err = daemonless(t, e, io.Discard).Decide(ctx, dir, pullIn, &Hints{Pushed: true})
	if err != nil || d.Mode != ModeFullBuild || !strings.HasPrefix(d.Reason, "the base image "+e.base+" changed since "+repo+":v1") {
		t.Fatalf("base moved: %+v %v", d, err)
	}

	// No mirror and no Docker Hub: the base is not re-checked, and says so.
	delete(e.vars, codelayer.EnvMirrors)
	d, err = daemonless(t, e, io.Discard).Decide(ctx, dir, pullIn, &Hints{Pushed: true})
	if err != nil || d.Mode != ModeCodeLayer || len(d.Warnings) != 1 || !strings.Contains(d.Warnings[0], "base image "+e.base+" not re-checked (pull: true)") {
		t.Fatalf("unreachable base registry: %+v %v", d, err)
	}
}
