package docker

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/prefectctl/prefectctl/internal/codelayer"
)

// buildTree is what a build step's image depends on, read from the working
// tree without Docker: the Dockerfile, what it reads before the project
// copy, and the project files as its final `COPY . <dest>` puts them in
// the image.
type buildTree struct {
	b              *buildSpec
	text           string
	auto           bool
	prefectVersion string
	an             *codelayer.Analysis
	fp             *codelayer.Fingerprint
	entries        []codelayer.Entry
	uid, gid       int
}

// readProject reads b's project for a code layer; why says why its image
// cannot take one ("" when it can). dockerfileOnDisk is set during a
// full build, when the generated Dockerfile (and Dockerfile.generated)
// were written into the context; otherwise they are synthesised exactly
// as that write makes them.
func (s *Steps) readProject(ctx context.Context, dir string, b *buildSpec, dockerfileOnDisk bool) (p *buildTree, why string, err error) {
	buildkit := useBuildKit(s.opts.Environ)
	if b.opts.Squash {
		return nil, "squash: true merges the layers, so the project layer cannot be replaced", nil
	}
	if st, err := os.Stat(b.contextDir); err != nil || !st.IsDir() {
		return nil, "", fmt.Errorf("build context %s is not a directory", b.contextDir)
	}
	ig, err := readIgnore(b.contextDir)
	if err != nil {
		return nil, "", err
	}
	p = &buildTree{b: b}
	v := s.versions(ctx, dir)
	p.prefectVersion = v.Prefect
	// dockerfile is the Dockerfile's context-relative path ("" outside).
	dockerfile := ""
	if b.dockerfile == "auto" {
		p.auto = true
		p.text = AutoDockerfile(BaseImage(ctx, v, dir), dir, fileExists(filepath.Join(dir, "requirements.txt")))
		if !dockerfileOnDisk && fileExists(filepath.Join(dir, "Dockerfile")) {
			return nil, "", hintErr("Dockerfile already exists.", "remove "+filepath.Join(dir, "Dockerfile")+" or set `dockerfile:` to its name instead of auto", nil)
		}
		if rel, ok := within(b.contextDir, filepath.Join(dir, "Dockerfile")); ok {
			dockerfile = rel
		}
	} else {
		full := b.dockerfile
		if !filepath.IsAbs(full) {
			full = filepath.Join(b.contextDir, full)
		}
		rel, ok := within(b.contextDir, full)
		if !ok {
			return nil, "the Dockerfile lies outside the build context", nil
		}
		dockerfile = rel
		data, err := os.ReadFile(full)
		if err != nil {
			return nil, "", fmt.Errorf("reading Dockerfile: %w", err)
		}
		p.text = string(data)
	}
	p.an = codelayer.AnalyzeDockerfile(p.text, b.opts.BuildArgs, b.opts.Target, buildkit)
	if p.an.Ineligible != "" {
		if p.an.Line > 0 {
			return nil, fmt.Sprintf("Dockerfile line %d: %s", p.an.Line, p.an.Ineligible), nil
		}
		return nil, p.an.Ineligible, nil
	}

	// The files COPY copies: the context as the daemon keeps it. The
	// legacy builder drops the Dockerfile and .dockerignore when
	// .dockerignore excludes them; BuildKit, fed the context as a tar,
	// copies what it is sent, and prefectctl always sends both.
	var keep []string
	if buildkit {
		keep = []string{dockerfile, ".dockerignore"}
	}
	files, err := contextFiles(b.contextDir, ig, keep...)
	if err != nil {
		return nil, "", fmt.Errorf("reading build context %s: %w", b.contextDir, err)
	}
	synth := map[string]codelayer.Entry{}
	if p.auto && !dockerfileOnDisk {
		if dockerfile != "" && (buildkit || !ig.Excluded(dockerfile)) {
			synth[dockerfile] = codelayer.Entry{Path: dockerfile, Type: tar.TypeReg, Mode: int64(0o644 &^ umask()), Data: []byte(p.text)}
		}
		if b.persist {
			out := b.outputPath
			if !filepath.IsAbs(out) {
				out = filepath.Join(dir, out)
			}
			if rel, ok := within(b.contextDir, out); ok && !ig.Excluded(rel) {
				mode := int64(0o644 &^ umask())
				if st, err := os.Stat(out); err == nil {
					mode = int64(st.Mode().Perm()) // os.WriteFile keeps an existing file's mode
				}
				synth[rel] = codelayer.Entry{Path: rel, Type: tar.TypeReg, Mode: mode, Data: []byte(p.text)}
			}
		}
	}
	paths := make([]string, 0, len(files)+len(synth))
	for _, rel := range files {
		if e, ok := synth[rel]; ok {
			p.entries = append(p.entries, e)
			delete(synth, rel)
			paths = append(paths, rel)
			continue
		}
		e, ok, err := codelayer.EntryFor(b.contextDir, rel)
		if err != nil {
			return nil, "", fmt.Errorf("reading build context %s: %w", b.contextDir, err)
		}
		if ok {
			p.entries = append(p.entries, e)
			paths = append(paths, rel)
		}
	}
	for rel, e := range synth {
		p.entries = append(p.entries, e)
		paths = append(paths, rel)
	}
	sort.Strings(paths)

	pre := map[string]string{}
	byPath := map[string]codelayer.Entry{}
	for _, e := range p.entries {
		byPath[e.Path] = e
	}
	for _, rel := range codelayer.PreFiles(p.an.Sources, paths) {
		sum, err := preHash(byPath[rel])
		if err != nil {
			return nil, "", err
		}
		if sum != "" {
			pre[rel] = sum
		}
	}
	if uid, gid, ok := chownIDs(p.an.Copy.Chown); ok {
		p.uid, p.gid = uid, gid
	}
	p.fp = &codelayer.Fingerprint{
		V: codelayer.FingerprintVersion, Kind: "dockerfile", Builder: "legacy",
		Dockerfile: sha256Hex([]byte(p.text)), Platform: normPlatform(b.platform), Pre: pre,
		Args: argsHash(b, p.prefectVersion), Copy: p.an.Copy,
	}
	if p.auto {
		p.fp.Kind = "auto"
	}
	if buildkit {
		p.fp.Builder = "buildkit"
	}
	for _, ref := range p.an.Bases {
		p.fp.Bases = append(p.fp.Bases, codelayer.Base{Ref: ref})
	}
	return p, "", nil
}

// placement is where the project files go: dest from the Dockerfile, or
// the recorded one when it is relative to the base image's WORKDIR.
func (p *buildTree) placement(dest string, dirs []codelayer.Dir, env func(string) (string, bool)) (codelayer.Placement, error) {
	mt, err := codelayer.MTime(env)
	if err != nil {
		return codelayer.Placement{}, err
	}
	return codelayer.Placement{Dest: dest, Dirs: dirs, UID: p.uid, GID: p.gid, MTime: mt}, nil
}

// readIgnore reads the context's .dockerignore (nil when there is none).
func readIgnore(contextDir string) (*Ignore, error) {
	data, err := os.ReadFile(filepath.Join(contextDir, ".dockerignore"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading .dockerignore: %w", err)
	}
	ig, err := readIgnoreBytes(data)
	if err != nil {
		return nil, hintErr("reading .dockerignore", "fix the pattern in "+filepath.Join(contextDir, ".dockerignore"), err)
	}
	return ig, nil
}

// within returns target relative to root, slash separated, when it lies
// inside root.
func within(root, target string) (string, bool) {
	rel, err := filepath.Rel(root, target)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || filepath.IsAbs(rel) {
		return "", false
	}
	return filepath.ToSlash(rel), true
}

// preHash is the identity of a file the build reads before the project
// copy: its mode and content (a symlink's target); "" for a directory.
func preHash(e codelayer.Entry) (string, error) {
	h := sha256.New()
	switch e.Type {
	case tar.TypeDir:
		return "", nil
	case tar.TypeSymlink:
		fmt.Fprintf(h, "link %s", e.Link)
	default:
		fmt.Fprintf(h, "file %o\n", e.Mode)
		if e.File == "" {
			h.Write(e.Data)
		} else {
			f, err := os.Open(e.File)
			if err != nil {
				return "", fmt.Errorf("reading %s: %w", e.Path, err)
			}
			_, err = io.Copy(h, f)
			f.Close()
			if err != nil {
				return "", fmt.Errorf("reading %s: %w", e.Path, err)
			}
		}
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(s[:])
}

// argsHash is the identity of the build options that change the lower
// layers or the config (which a code layer keeps as it was): build args,
// the labels the build sets (prefectctl's own fingerprint labels aside),
// target, network mode and extra hosts.
func argsHash(b *buildSpec, prefectVersion string) string {
	args := map[string]*string{}
	for k, v := range b.opts.BuildArgs {
		args[k] = v
	}
	labels := map[string]string{}
	for k, v := range b.opts.Labels {
		labels[k] = v
	}
	labels["io.prefect.version"] = prefectVersion
	hosts := append([]string(nil), b.opts.ExtraHosts...)
	sort.Strings(hosts)
	raw, _ := json.Marshal(map[string]any{
		"buildargs": args, "labels": labels, "target": b.opts.Target, "network_mode": b.opts.NetworkMode, "extra_hosts": hosts,
	})
	return sha256Hex(raw)
}

// normPlatform is os/arch[/variant] in lower case; "" stays "".
func normPlatform(s string) string {
	if s == "" {
		return ""
	}
	p, err := ParsePlatform(s)
	if err != nil {
		return s
	}
	out := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		out += "/" + p.Variant
	}
	return out
}

func chownIDs(s string) (uid, gid int, ok bool) {
	if s == "" {
		return 0, 0, false
	}
	u, g, _ := strings.Cut(s, ":")
	uid, err1 := strconv.Atoi(u)
	gid, err2 := strconv.Atoi(g)
	return uid, gid, err1 == nil && err2 == nil
}

// umask is the process's file-creation mask, which the generated
// Dockerfile's mode depends on (the build creates it 0644 minus the
// mask): found once by creating such a file.
var umask = sync.OnceValue(func() os.FileMode {
	f, err := os.CreateTemp("", "prefectctl-umask-*")
	if err != nil {
		return 0o022
	}
	name := f.Name()
	f.Close()
	os.Remove(name)
	g, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return 0o022
	}
	defer os.Remove(name)
	defer g.Close()
	st, err := g.Stat()
	if err != nil {
		return 0o022
	}
	return 0o644 &^ st.Mode().Perm()
})
