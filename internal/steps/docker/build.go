package docker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/distribution/reference"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/prefectctl/prefectctl/internal/diag"
	"github.com/prefectctl/prefectctl/internal/py"
)

// buildKwargs are the docker-py build() arguments prefectctl maps onto
// the Engine API.
var buildKwargs = []string{"path", "pull", "nocache", "rm", "forcerm", "buildargs", "labels", "target", "platform",
	"network_mode", "extra_hosts", "shmsize", "cache_from", "squash", "isolation", "container_limits", "quiet"}

// buildSignature is build_docker_image's, with the **build_kwargs that
// prefect-docker hands to docker-py spelled out as prefectctl supports them.
var buildSignature = py.Signature{Name: "build_docker_image", Required: []string{"image_name"},
	Optional: append([]string{"dockerfile", "tag", "additional_tags", "ignore_cache", "persist_dockerfile", "dockerfile_output_path", "build_backend"}, buildKwargs...)}

// BuildImage is prefect_docker.deployments.steps.build_docker_image,
// always through Docker. dir is the current working directory
// (set_working_directory may have moved it since New).
func (s *Steps) BuildImage(ctx context.Context, dir string, in *py.Map) (*py.Map, error) {
	return s.BuildImageWith(ctx, dir, in, nil)
}

// BuildImageWith is BuildImage in a deployment described by h: when h
// allows it and only project files changed since the previous image, the
// image is a code layer appended to it (see Decide) instead of a Docker
// build. A nil h always builds with Docker.
func (s *Steps) BuildImageWith(ctx context.Context, dir string, in *py.Map, h *Hints) (*py.Map, error) {
	return s.memoized("build_docker_image", dir, in, func() (*py.Map, error) { return s.build(ctx, dir, in, h) })
}

type buildSpec struct {
	imageName, dockerfile, tag string
	additional                 []string
	persist                    bool
	outputPath                 string
	contextDir                 string
	opts                       client.ImageBuildOptions
	platform                   string
	quiet                      bool
}

// output is what build_docker_image returns for the image imageID, built
// by Docker or assembled from a code layer alike.
func (b *buildSpec) output(imageID string) *py.Map {
	extra := make([]any, len(b.additional))
	for i, t := range b.additional {
		extra[i] = t
	}
	return py.MapOf(
		"image_name", b.imageName,
		"tag", b.tag,
		"image", b.imageName+":"+b.tag,
		"image_id", imageID,
		"additional_tags", extra,
	)
}

func (s *Steps) parseBuild(dir string, in *py.Map) (*buildSpec, error) {
	if err := buildSignature.Bind(in); err != nil {
		var ae *py.ArgumentError
		if errors.As(err, &ae) && ae.Unexpected != "" {
			return nil, fmt.Errorf("%w (prefectctl supports %s)", err, strings.Join(buildKwargs, ", "))
		}
		return nil, err
	}
	a := newArgs("build_docker_image", in)
	b := &buildSpec{}
	b.imageName = a.str("image_name", "", true)
	b.dockerfile = a.str("dockerfile", "Dockerfile", false)
	if t := a.optStr("tag"); t != nil {
		b.tag = *t
	}
	b.additional = a.strList("additional_tags")
	b.persist = a.boolean("persist_dockerfile", false)
	b.outputPath = a.str("dockerfile_output_path", "Dockerfile.generated", false)
	if b.outputPath == "" {
		b.outputPath = "Dockerfile.generated"
	}
	backend := a.str("build_backend", "docker-py", false)
	b.contextDir = a.str("path", dir, false)
	o := &b.opts
	o.PullParent = a.boolean("pull", true)
	o.NoCache = a.boolean("nocache", false)
	// docker-py's default is rm=False, which leaves the legacy builder's
	// intermediate containers behind; prefectctl cleans up unless asked.
	o.Remove = a.boolean("rm", true)
	o.ForceRemove = a.boolean("forcerm", false)
	o.Squash = a.boolean("squash", false)
	b.quiet = a.boolean("quiet", false)
	o.SuppressOutput = b.quiet
	if m := a.strMap("buildargs"); m != nil {
		o.BuildArgs = map[string]*string{}
		for k, v := range m {
			o.BuildArgs[k] = &v
		}
	}
	o.Labels = a.strMap("labels")
	o.Target = a.str("target", "", false)
	o.NetworkMode = a.str("network_mode", "", false)
	o.Isolation = container.Isolation(a.str("isolation", "", false))
	o.CacheFrom = a.strList("cache_from")
	if v, ok := a.raw("extra_hosts"); ok && v != nil {
		switch t := v.(type) {
		case *py.Map:
			for _, k := range t.Keys() {
				x, _ := t.Get(k)
				o.ExtraHosts = append(o.ExtraHosts, k+":"+py.Str(x))
			}
		case []any:
			o.ExtraHosts = a.strList("extra_hosts")
		default:
			a.fail("build_docker_image: extra_hosts must be a mapping or a list")
		}
	}
	if v, ok := a.raw("shmsize"); ok && v != nil {
		n, isInt := v.(int64)
		if !isInt {
			a.fail("build_docker_image: shmsize must be an integer number of bytes")
		}
		o.ShmSize = n
	}
	if v, ok := a.raw("container_limits"); ok && v != nil {
		m, isMap := v.(*py.Map)
		if !isMap {
			a.fail("build_docker_image: container_limits must be a mapping")
		} else {
			for _, k := range m.Keys() {
				x, _ := m.Get(k)
				n, _ := x.(int64)
				switch k {
				case "memory":
					o.Memory = n
				case "memswap":
					o.MemorySwap = n
				case "cpushares":
					o.CPUShares = n
				case "cpusetcpus":
					o.CPUSetCPUs = py.Str(x)
				default:
					a.fail("build_docker_image: unknown container_limits key %q (expected memory, memswap, cpushares, cpusetcpus)", k)
				}
			}
		}
	}
	b.platform = a.str("platform", "", false)
	if b.platform != "" {
		p, err := ParsePlatform(b.platform)
		if err != nil {
			a.fail("build_docker_image: %v", err)
		}
		o.Platforms = []ocispec.Platform{p}
	}
	if a.err != nil {
		return nil, a.err
	}
	if err := checkBackend("build_docker_image", "build", backend); err != nil {
		return nil, err
	}
	if err := ValidateImageName(b.imageName); err != nil {
		return nil, err
	}
	b.imageName = QualifyImageName(b.imageName, s.namespace())
	if !filepath.IsAbs(b.contextDir) {
		b.contextDir = filepath.Join(dir, b.contextDir)
	}
	return b, nil
}

func (s *Steps) build(ctx context.Context, dir string, in *py.Map, h *Hints) (*py.Map, error) {
	if dir == "" {
		dir = s.opts.Dir
	}
	b, err := s.parseBuild(dir, in)
	if err != nil {
		return nil, err
	}
	fullBuildReason := ""
	if h != nil {
		var d *Decision
		if b.dockerfile == "auto" {
			l := s.dirLock(dir)
			l.Lock()
			d, err = s.decide(ctx, dir, b, h)
			l.Unlock()
		} else {
			d, err = s.decide(ctx, dir, b, h)
		}
		if err != nil {
			return nil, err
		}
		if d.Mode == ModeCodeLayer {
			if b.tag == "" {
				b.tag = DefaultTag(s.now())
			}
			if err := checkTags(b); err != nil {
				return nil, err
			}
			return s.appendLayer(ctx, dir, b, d)
		}
		fullBuildReason = d.Reason
		if fullBuildReason != "" {
			fmt.Fprintf(s.opts.Stderr, "Full build of %s: %s\n", b.imageName, fullBuildReason)
		}
	}
	var prefectVersion string
	if b.dockerfile == "auto" {
		l := s.dirLock(dir)
		l.Lock()
		defer l.Unlock()
		v := s.versions(ctx, dir)
		prefectVersion = v.Prefect
		text := AutoDockerfile(BaseImage(ctx, v, dir), dir, fileExists(filepath.Join(dir, "requirements.txt")))
		tmp := filepath.Join(dir, "Dockerfile")
		// O_EXCL: never clobber a Dockerfile the user has, even one that
		// appears between a check and the write.
		f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			if errors.Is(err, os.ErrExist) {
				return nil, hintErr("Dockerfile already exists.", "remove "+tmp+" or set `dockerfile:` to its name instead of auto", nil)
			}
			return nil, fmt.Errorf("writing the generated Dockerfile: %w", err)
		}
		// Removed whatever happens next, including cancellation.
		defer os.Remove(tmp)
		if _, err := f.WriteString(text); err != nil {
			f.Close()
			return nil, fmt.Errorf("writing the generated Dockerfile: %w", err)
		}
		if err := f.Close(); err != nil {
			return nil, fmt.Errorf("writing the generated Dockerfile: %w", err)
		}
		if b.persist {
			if err := s.persistDockerfile(dir, b, text); err != nil {
				return nil, err
			}
		}
	} else {
		prefectVersion = s.versions(ctx, dir).Prefect
	}
	if b.tag == "" {
		b.tag = DefaultTag(s.now())
	}
	if err := checkTags(b); err != nil {
		return nil, err
	}
	api, err := s.client(ctx)
	if err != nil {
		var de *DaemonError
		if fullBuildReason != "" && errors.As(err, &de) {
			return nil, hintErr(fmt.Sprintf("%s needs a full build with Docker (%s), but %v", b.imageName, fullBuildReason, err),
				de.Hint()+"; a code-only change needs no Docker once an image built by prefectctl is in the registry", err)
		}
		return nil, err
	}
	// The fingerprint labels let a later deploy append a code layer
	// instead of building (after the Dockerfile is written: it is part
	// of the context). Only a pushed image can be appended to later.
	var labels map[string]string
	if h != nil && h.Pushed {
		if labels, err = s.codeLabels(ctx, api, dir, b); err != nil {
			return nil, err
		}
	}
	if b.dockerfile == "auto" {
		b.dockerfile = "Dockerfile"
	}
	id, err := s.runBuild(ctx, api, b, prefectVersion, labels)
	if err != nil {
		return nil, err
	}
	for _, t := range append([]string{b.tag}, b.additional...) {
		if _, err := api.ImageTag(ctx, client.ImageTagOptions{Source: id, Target: b.imageName + ":" + t}); err != nil {
			return nil, fmt.Errorf("tagging %s as %s:%s: %w", id, b.imageName, t, err)
		}
	}
	return b.output(id), nil
}

// hintErr is a step failure that says how to fix it.
func hintErr(msg, hint string, cause error) *diag.Error {
	return &diag.Error{Kind: diag.Runtime, Msg: msg, Hint: hint, Err: cause}
}

const deniedHint = "Docker reported access denied. This can happen if the base image requires authentication, if you are not logged in to the registry, or if the image name is invalid. Check your image name (no spaces) and run `docker login` for the registry you are using."

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

// checkTags rejects a bad image reference before anything is built:
// prefect-docker only finds one when tagging after the build.
func checkTags(b *buildSpec) error {
	for _, t := range append([]string{b.tag}, b.additional...) {
		if _, err := reference.ParseNormalizedNamed(b.imageName + ":" + t); err != nil {
			return hintErr(fmt.Sprintf("invalid image reference %q: %v", b.imageName+":"+t, err),
				"image names are lowercase letters, digits and . _ - / separators (with an optional registry host:port); tags are up to 128 of [A-Za-z0-9_.-]", nil)
		}
	}
	return nil
}

// persistDockerfile writes the generated Dockerfile where
// persist_dockerfile asks for it.
func (s *Steps) persistDockerfile(dir string, b *buildSpec, text string) error {
	out := b.outputPath
	if !filepath.IsAbs(out) {
		out = filepath.Join(dir, out)
	}
	if err := os.WriteFile(out, []byte(text), 0o644); err != nil {
		return fmt.Errorf("persisting the generated Dockerfile: %w", err)
	}
	return nil
}

func (s *Steps) runBuild(ctx context.Context, api API, b *buildSpec, prefectVersion string, extraLabels map[string]string) (string, error) {
	var ig *Ignore
	if data, err := os.ReadFile(filepath.Join(b.contextDir, ".dockerignore")); err == nil {
		if ig, err = readIgnoreBytes(data); err != nil {
			return "", hintErr("reading .dockerignore", "fix the pattern in "+filepath.Join(b.contextDir, ".dockerignore"), err)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("reading .dockerignore: %w", err)
	}
	dockerfile := b.dockerfile
	var extra []extraFile
	if filepath.IsAbs(dockerfile) {
		if rel, err := filepath.Rel(b.contextDir, dockerfile); err == nil && !strings.HasPrefix(rel, "..") {
			dockerfile = filepath.ToSlash(rel)
		} else {
			// Outside the context: send it under a private name, as
			// docker-py and the docker CLI do.
			data, err := os.ReadFile(dockerfile)
			if err != nil {
				return "", fmt.Errorf("reading Dockerfile: %w", err)
			}
			dockerfile = fmt.Sprintf(".dockerfile.%x", time.Now().UnixNano())
			extra = append(extra, extraFile{name: dockerfile, data: data})
		}
	} else {
		dockerfile = filepath.ToSlash(filepath.Clean(dockerfile))
		if !fileExists(filepath.Join(b.contextDir, filepath.FromSlash(dockerfile))) {
			return "", hintErr(fmt.Sprintf("Dockerfile %s not found in the build context %s", dockerfile, b.contextDir),
				"set `dockerfile:` to an existing file, or to `auto` to generate one", nil)
		}
	}
	if st, err := os.Stat(b.contextDir); err != nil || !st.IsDir() {
		return "", fmt.Errorf("build context %s is not a directory", b.contextDir)
	}
	files, err := contextFiles(b.contextDir, ig, dockerfile, ".dockerignore")
	if err != nil {
		return "", fmt.Errorf("reading build context %s: %w", b.contextDir, err)
	}
	opts := b.opts
	opts.Dockerfile = dockerfile
	// The Prefect label goes last so it wins over a user label of the same name.
	labels := map[string]string{}
	for k, v := range b.opts.Labels {
		labels[k] = v
	}
	labels["io.prefect.version"] = prefectVersion
	for k, v := range extraLabels {
		labels[k] = v
	}
	opts.Labels = labels
	opts.Version = "1"
	buildkit := useBuildKit(s.opts.Environ)
	if buildkit {
		opts.Version = "2"
	}

	bctx, cancel := context.WithCancel(ctx)
	defer cancel()
	body := contextReader(bctx, b.contextDir, files, extra)
	defer body.Close()
	resp, err := api.ImageBuild(bctx, body, opts)
	if err != nil {
		return "", s.buildError(err.Error(), "", err)
	}
	defer resp.Body.Close()
	out := &tail{n: 40}
	w := io.MultiWriter(s.opts.Stderr, out)
	var id string
	bk := newBKPrinter(w)
	err = readMessages(resp.Body, func(m *message) error {
		switch {
		case m.Stream != "":
			_, _ = io.WriteString(w, m.Stream)
		case m.ID == "moby.buildkit.trace" && len(m.Aux) > 0:
			st, err := decodeBuildKitTrace(m.Aux)
			if err != nil {
				return fmt.Errorf("reading BuildKit progress: %w", err)
			}
			bk.print(st)
		case len(m.Aux) > 0:
			var aux struct {
				ID string `json:"ID"`
			}
			if json.Unmarshal(m.Aux, &aux) == nil && aux.ID != "" {
				id = aux.ID
			}
		case m.err() != "":
			return s.buildError(m.err(), out.String(), nil)
		case m.Status != "":
			// Base image pulls report status lines.
			line := m.Status
			if m.ID != "" {
				line = m.ID + ": " + line
			}
			if m.Progress == "" {
				_, _ = io.WriteString(w, line+"\n")
			}
		}
		return nil
	})
	if err != nil {
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		return "", err
	}
	if id == "" {
		return "", s.buildError("Docker did not return an image ID for built image.", out.String(), nil)
	}
	return id, nil
}

func (s *Steps) buildError(msg, output string, cause error) error {
	e := hintErr("building the image failed: "+strings.TrimSpace(msg), "", cause)
	if output != "" {
		e.Msg += "\nlast build output:\n" + output
	}
	if strings.Contains(strings.ToLower(msg), "denied") {
		e.Hint = deniedHint
	} else if cause != nil && (cerrdefs.IsUnavailable(cause) || isConnErr(cause)) {
		e.Hint = "check that the Docker daemon is running and reachable"
	} else {
		e.Hint = "the build output shows the failing instruction; fix the Dockerfile or the build context and run again"
	}
	return e
}

func isConnErr(err error) bool {
	s := err.Error()
	return strings.Contains(s, "connection refused") || strings.Contains(s, "no such file or directory") || strings.Contains(s, "Cannot connect")
}
