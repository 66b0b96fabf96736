package docker

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/distribution/reference"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/registry"
	"github.com/moby/moby/client"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/prefectctl/prefectctl/internal/diag"
	reg "github.com/prefectctl/prefectctl/internal/registry"
	"github.com/prefectctl/prefectctl/internal/value"
)

// Options configure the Docker steps for one prefectctl invocation.
type Options struct {
	// Dir is the directory the steps run in (Prefect's CWD): the default
	// build context and where `dockerfile: auto` writes its Dockerfile.
	Dir string
	// Environ looks up environment variables (DOCKER_HOST, DOCKER_CONTEXT,
	// DOCKER_CONFIG, PREFECT_DEFAULT_DOCKER_BUILD_NAMESPACE, the
	// PREFECTCTL_*_VERSION pins). Nil means no variables.
	Environ func(string) (string, bool)
	// Stderr receives build output and push progress.
	Stderr io.Writer
	// Python is the user's interpreter asked for the installed Prefect
	// and Python versions; empty means python3 on PATH.
	Python string
	// PrefectVersion and PythonVersion pin the auto base image (flags).
	PrefectVersion, PythonVersion string
	// ProjectPrefectVersion is prefect.yaml's prefect-version.
	ProjectPrefectVersion string
	// DefaultNamespace overrides PREFECT_DEFAULT_DOCKER_BUILD_NAMESPACE
	// (the integrator passes the resolved Prefect setting).
	DefaultNamespace string
	// Client, when set, is used instead of connecting to the daemon.
	Client API
	// Registry configures the post-push check; its Keychain (nil: the
	// Docker config's, authn.DefaultKeychain) also supplies push
	// credentials when the step has no credentials mapping.
	Registry reg.Options
	// SkipVerify turns off the registry check after a push.
	SkipVerify bool
	// Now is the clock for default tags.
	Now func() time.Time
}

// Pushed records one push.
type Pushed struct {
	Image    string // name:tag as pushed
	Digest   string // manifest digest the registry serves; empty when it could not be checked from here
	Platform string // os/arch[/variant] of the local image
}

// Steps runs build_docker_image and push_docker_image. One value lives for
// one prefectctl invocation: identical calls (after templating) run once
// and return the first result, like prefect-docker's @cacheable.
type Steps struct {
	opts Options

	mu       sync.Mutex
	memo     map[string]*memoCall
	dirLocks map[string]*sync.Mutex
	api      API
	own      bool
	pushed   []Pushed
}

// New returns the Docker steps for opts.
func New(opts Options) *Steps {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Stderr == nil {
		opts.Stderr = io.Discard
	}
	return &Steps{opts: opts, memo: map[string]*memoCall{}, api: opts.Client}
}

// Close releases the daemon connection the steps opened.
func (s *Steps) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.own && s.api != nil {
		err := s.api.Close()
		s.api = nil
		return err
	}
	return nil
}

// Pushed lists the images pushed so far with their registry digests.
func (s *Steps) Pushed() []Pushed {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Pushed(nil), s.pushed...)
}

func (s *Steps) env(k string) string {
	if s.opts.Environ == nil {
		return ""
	}
	v, _ := s.opts.Environ(k)
	return v
}

func (s *Steps) namespace() string {
	if s.opts.DefaultNamespace != "" {
		return s.opts.DefaultNamespace
	}
	if v := s.env("PREFECT_DEFAULT_DOCKER_BUILD_NAMESPACE"); v != "" {
		return v
	}
	return s.env("PREFECT_DEPLOYMENTS_DEFAULT_DOCKER_BUILD_NAMESPACE")
}

// DaemonError means the Docker daemon could not be reached.
type DaemonError struct {
	Host string
	Err  error
}

func (e *DaemonError) Error() string {
	return fmt.Sprintf("cannot connect to the Docker daemon at %s: %v", e.Host, e.Err)
}
func (e *DaemonError) Unwrap() error { return e.Err }

// Hint says what to do about it.
func (e *DaemonError) Hint() string {
	return "start Docker, or point DOCKER_HOST (or `docker context use`) at a running daemon"
}

func (s *Steps) client(ctx context.Context) (API, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	host := "(injected client)"
	if s.api == nil {
		h, tlsDir, err := DaemonHost(s.opts.Environ)
		if err != nil {
			return nil, &DaemonError{Host: "(docker context)", Err: err}
		}
		host = h
		c, err := Connect(h, tlsDir)
		if err != nil {
			return nil, &DaemonError{Host: h, Err: err}
		}
		s.api, s.own = c, true
	}
	pctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := s.api.Ping(pctx, client.PingOptions{NegotiateAPIVersion: true}); err != nil {
		if c, ok := s.api.(*client.Client); ok {
			host = c.DaemonHost()
		}
		return nil, &DaemonError{Host: host, Err: err}
	}
	return s.api, nil
}

// memoKey is the step name plus its inputs as sorted JSON, without
// ignore_cache, like prefect-docker's cache key.
func memoKey(fn string, in *value.Map) string {
	c := value.Clone(in).(*value.Map)
	c.Delete("ignore_cache")
	b, err := value.EncodeJSON(sortedClone(c))
	if err != nil {
		return ""
	}
	return fn + "\x00" + string(b)
}

func sortedClone(v any) any {
	switch t := v.(type) {
	case *value.Map:
		out := value.NewMap()
		for _, k := range t.SortedKeys() {
			x, _ := t.Get(k)
			out.Set(k, sortedClone(x))
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = sortedClone(x)
		}
		return out
	}
	return v
}

func (s *Steps) memoized(fn, dir string, in *value.Map, run func() (*value.Map, error)) (*value.Map, error) {
	ignore := false
	if v, ok := in.Get("ignore_cache"); ok {
		ignore = truthy(v)
	}
	// The directory is part of the key: the same inputs in another
	// directory build another context.
	key := memoKey(fn+"\x00"+dir, in)
	if key == "" {
		return run()
	}
	for {
		s.mu.Lock()
		c, ok := s.memo[key]
		if ok && (ignore || c.done && c.err != nil) {
			ok = false
		}
		if !ok {
			c = &memoCall{ready: make(chan struct{})}
			s.memo[key] = c
			s.mu.Unlock()
			c.out, c.err = run()
			s.mu.Lock()
			c.done = true
			if c.err != nil {
				// Failures are not remembered: the next call tries again.
				delete(s.memo, key)
			}
			s.mu.Unlock()
			close(c.ready)
			if c.err != nil {
				return nil, c.err
			}
			return value.Clone(c.out).(*value.Map), nil
		}
		s.mu.Unlock()
		// An identical step is running or has run: share its result.
		<-c.ready
		if c.err == nil {
			return value.Clone(c.out).(*value.Map), nil
		}
		// It failed; run it ourselves (loop to take the slot).
	}
}

// memoCall is one memoised step run; ready closes when it ends.
type memoCall struct {
	ready chan struct{}
	done  bool
	out   *value.Map
	err   error
}

// dirLock serialises `dockerfile: auto` builds per directory: each writes
// its own Dockerfile there.
func (s *Steps) dirLock(dir string) *sync.Mutex {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dirLocks == nil {
		s.dirLocks = map[string]*sync.Mutex{}
	}
	m, ok := s.dirLocks[dir]
	if !ok {
		m = &sync.Mutex{}
		s.dirLocks[dir] = m
	}
	return m
}

// truthy is Python's bool(); see value.Truthy.
func truthy(v any) bool { return value.Truthy(v) }

// args reads step inputs with Python's keyword-argument rules.
type args struct {
	fn   string
	in   *value.Map
	used map[string]bool
	err  error
}

func newArgs(fn string, in *value.Map) *args {
	if in == nil {
		in = value.NewMap()
	}
	return &args{fn: fn, in: in, used: map[string]bool{}}
}

func (a *args) fail(format string, x ...any) {
	if a.err == nil {
		a.err = fmt.Errorf(format, x...)
	}
}

func (a *args) raw(k string) (any, bool) {
	a.used[k] = true
	return a.in.Get(k)
}

func (a *args) str(k string, def string, required bool) string {
	v, ok := a.raw(k)
	if !ok {
		if required {
			a.fail("%s() missing 1 required argument: '%s'", a.fn, k)
		}
		return def
	}
	switch t := v.(type) {
	case string:
		return t
	case nil:
		if required {
			a.fail("%s: %s must be a string, got None", a.fn, k)
		}
		return def
	case int64, float64:
		// YAML turns `tag: 1.0` into a number; Python formats it with str().
		return value.Str(t)
	}
	a.fail("%s: %s must be a string, got %s", a.fn, k, value.TypeName(v))
	return def
}

func (a *args) optStr(k string) *string {
	v, ok := a.raw(k)
	if !ok || v == nil {
		return nil
	}
	s := a.str(k, "", false)
	return &s
}

func (a *args) boolean(k string, def bool) bool {
	v, ok := a.raw(k)
	if !ok {
		return def
	}
	return truthy(v)
}

func (a *args) strList(k string) []string {
	v, ok := a.raw(k)
	if !ok || v == nil {
		return []string{}
	}
	l, isList := v.([]any)
	if !isList {
		if s, isStr := v.(string); isStr && s == "" {
			return []string{}
		}
		a.fail("%s: %s must be a list of strings, got %s", a.fn, k, value.TypeName(v))
		return nil
	}
	out := make([]string, 0, len(l))
	for _, x := range l {
		switch t := x.(type) {
		case string:
			out = append(out, t)
		case int64, float64:
			out = append(out, value.Str(t))
		default:
			a.fail("%s: %s must be a list of strings, got an item of type %s", a.fn, k, value.TypeName(x))
		}
	}
	return out
}

func (a *args) strMap(k string) map[string]string {
	v, ok := a.raw(k)
	if !ok || v == nil {
		return nil
	}
	m, isMap := v.(*value.Map)
	if !isMap {
		a.fail("%s: %s must be a mapping, got %s", a.fn, k, value.TypeName(v))
		return nil
	}
	out := map[string]string{}
	for _, key := range m.Keys() {
		x, _ := m.Get(key)
		if x == nil {
			out[key] = ""
			continue
		}
		out[key] = value.Str(x)
	}
	return out
}

func (a *args) unknown() []string {
	var out []string
	for _, k := range a.in.Keys() {
		if !a.used[k] {
			out = append(out, k)
		}
	}
	return out
}

// buildKwargs are the docker-py build() arguments prefectctl maps onto
// the Engine API.
var buildKwargs = []string{"path", "pull", "nocache", "rm", "forcerm", "buildargs", "labels", "target", "platform",
	"network_mode", "extra_hosts", "shmsize", "cache_from", "squash", "isolation", "container_limits", "quiet"}

// BuildImage is prefect_docker.deployments.steps.build_docker_image.
// dir is the current working directory (set_working_directory may have
// moved it since New).
func (s *Steps) BuildImage(ctx context.Context, dir string, in *value.Map) (*value.Map, error) {
	return s.memoized("build_docker_image", dir, in, func() (*value.Map, error) { return s.build(ctx, dir, in) })
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

func (s *Steps) parseBuild(dir string, in *value.Map) (*buildSpec, error) {
	a := newArgs("build_docker_image", in)
	b := &buildSpec{}
	b.imageName = a.str("image_name", "", true)
	b.dockerfile = a.str("dockerfile", "Dockerfile", false)
	if t := a.optStr("tag"); t != nil {
		b.tag = *t
	}
	b.additional = a.strList("additional_tags")
	a.boolean("ignore_cache", false)
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
		case *value.Map:
			for _, k := range t.Keys() {
				x, _ := t.Get(k)
				o.ExtraHosts = append(o.ExtraHosts, k+":"+value.Str(x))
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
		m, isMap := v.(*value.Map)
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
					o.CPUSetCPUs = value.Str(x)
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
	if u := a.unknown(); len(u) > 0 {
		return nil, fmt.Errorf("build_docker_image() got an unexpected keyword argument '%s' (prefectctl supports %s)", u[0], strings.Join(buildKwargs, ", "))
	}
	switch backend {
	case "docker-py":
	case "buildx":
		return nil, errors.New("build_docker_image: build_backend 'buildx' is not supported by prefectctl; remove it to build through the Docker Engine API")
	default:
		return nil, fmt.Errorf("invalid build_backend %q: expected 'docker-py' or 'buildx'", backend)
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

func (s *Steps) build(ctx context.Context, dir string, in *value.Map) (*value.Map, error) {
	if dir == "" {
		dir = s.opts.Dir
	}
	b, err := s.parseBuild(dir, in)
	if err != nil {
		return nil, err
	}
	var prefectVersion string
	if b.dockerfile == "auto" {
		l := s.dirLock(dir)
		l.Lock()
		defer l.Unlock()
		v := ResolveVersions(ctx, &s.opts, dir)
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
			out := b.outputPath
			if !filepath.IsAbs(out) {
				out = filepath.Join(dir, out)
			}
			if err := os.WriteFile(out, []byte(text), 0o644); err != nil {
				return nil, fmt.Errorf("persisting the generated Dockerfile: %w", err)
			}
		}
		b.dockerfile = "Dockerfile"
	} else {
		prefectVersion = ResolveVersions(ctx, &s.opts, dir).Prefect
	}
	if b.tag == "" {
		b.tag = DefaultTag(s.opts.Now())
	}
	// prefect-docker only finds a bad name when tagging after the build;
	// checking first saves the build.
	for _, t := range append([]string{b.tag}, b.additional...) {
		if _, err := reference.ParseNormalizedNamed(b.imageName + ":" + t); err != nil {
			return nil, hintErr(fmt.Sprintf("invalid image reference %q: %v", b.imageName+":"+t, err),
				"image names are lowercase letters, digits and . _ - / separators (with an optional registry host:port); tags are up to 128 of [A-Za-z0-9_.-]", nil)
		}
	}
	api, err := s.client(ctx)
	if err != nil {
		return nil, err
	}
	id, err := s.runBuild(ctx, api, b, prefectVersion)
	if err != nil {
		return nil, err
	}
	for _, t := range append([]string{b.tag}, b.additional...) {
		if _, err := api.ImageTag(ctx, client.ImageTagOptions{Source: id, Target: b.imageName + ":" + t}); err != nil {
			return nil, fmt.Errorf("tagging %s as %s:%s: %w", id, b.imageName, t, err)
		}
	}
	extra := make([]any, len(b.additional))
	for i, t := range b.additional {
		extra[i] = t
	}
	return value.MapOf(
		"image_name", b.imageName,
		"tag", b.tag,
		"image", b.imageName+":"+b.tag,
		"image_id", id,
		"additional_tags", extra,
	), nil
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

func (s *Steps) runBuild(ctx context.Context, api API, b *buildSpec, prefectVersion string) (string, error) {
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

// PushImage is prefect_docker.deployments.steps.push_docker_image.
func (s *Steps) PushImage(ctx context.Context, dir string, in *value.Map) (*value.Map, error) {
	return s.memoized("push_docker_image", dir, in, func() (*value.Map, error) { return s.push(ctx, in) })
}

func (s *Steps) push(ctx context.Context, in *value.Map) (*value.Map, error) {
	a := newArgs("push_docker_image", in)
	imageName := a.str("image_name", "", true)
	tag := a.optStr("tag")
	additional := a.strList("additional_tags")
	a.boolean("ignore_cache", false)
	backend := a.str("build_backend", "docker-py", false)
	var creds *reg.Credentials
	if v, ok := a.raw("credentials"); ok && v != nil {
		m, isMap := v.(*value.Map)
		if !isMap {
			return nil, fmt.Errorf("push_docker_image: credentials must be a mapping with username, password and registry_url, got %s", value.TypeName(v))
		}
		ca := newArgs("credentials", m)
		creds = &reg.Credentials{Username: ca.str("username", "", false), Password: ca.str("password", "", false), RegistryURL: ca.str("registry_url", "", false)}
		// reauth only decides whether docker-py reuses a cached login;
		// every prefectctl push sends the credentials, so it is accepted
		// and has nothing to change.
		ca.boolean("reauth", true)
		if ca.err != nil {
			return nil, ca.err
		}
	}
	if a.err != nil {
		return nil, a.err
	}
	if u := a.unknown(); len(u) > 0 {
		return nil, fmt.Errorf("push_docker_image() got an unexpected keyword argument '%s'", u[0])
	}
	switch backend {
	case "docker-py":
	case "buildx":
		return nil, errors.New("push_docker_image: build_backend 'buildx' is not supported by prefectctl; remove it to push through the Docker Engine API")
	default:
		return nil, fmt.Errorf("invalid build_backend %q: expected 'docker-py' or 'buildx'", backend)
	}
	if err := ValidateImageName(imageName); err != nil {
		return nil, err
	}
	imageName = QualifyImageName(imageName, s.namespace())
	api, err := s.client(ctx)
	if err != nil {
		return nil, err
	}
	registryHost, err := reg.RegistryOf(imageName)
	if err != nil {
		return nil, fmt.Errorf("invalid image name %q: %w", imageName, err)
	}
	ropts := s.opts.Registry
	if creds != nil {
		ropts.Credentials = creds
		server := creds.RegistryURL
		if _, err := api.RegistryLogin(ctx, client.RegistryLoginOptions{Username: creds.Username, Password: creds.Password, ServerAddress: server}); err != nil {
			return nil, hintErr(fmt.Sprintf("logging in to %s as %s failed", displayRegistry(server), creds.Username),
				"check the username, password and registry_url of the credentials", err)
		}
	}
	auth, err := reg.AuthFor(ctx, registryHost, ropts)
	if err != nil {
		return nil, err
	}
	encoded, err := encodeAuth(auth.Username, auth.Password, auth.IdentityToken, auth.RegistryToken, registryHost)
	if err != nil {
		return nil, err
	}
	var tags []*string
	tags = append(tags, tag)
	for _, t := range additional {
		tags = append(tags, &t)
	}
	platform := ""
	for _, t := range tags {
		ref := imageName
		if t != nil {
			ref += ":" + *t
		}
		if err := s.pushOne(ctx, api, ref, t == nil, encoded, registryHost); err != nil {
			return nil, err
		}
		if s.opts.SkipVerify || t == nil {
			continue
		}
		if platform == "" {
			if ii, err := api.ImageInspect(ctx, ref); err == nil {
				platform = ii.Os + "/" + ii.Architecture
				if ii.Variant != "" {
					platform += "/" + ii.Variant
				}
			}
		}
		img, err := s.verify(ctx, ref, platform, ropts)
		if err != nil {
			var re *reg.Error
			if errors.As(err, &re) && re.Unreachable {
				// The daemon reached the registry but this machine cannot
				// (a remote builder, a registry only its network sees):
				// the push stands, unverified.
				fmt.Fprintf(s.opts.Stderr, "Warning: pushed %s but could not verify it from this machine: %v\n", ref, err)
				s.mu.Lock()
				s.pushed = append(s.pushed, Pushed{Image: ref, Platform: platform})
				s.mu.Unlock()
				continue
			}
			if re != nil {
				return nil, hintErr("verifying the push: "+re.Msg, re.Hint, err)
			}
			return nil, fmt.Errorf("verifying the push: %w", err)
		}
		s.mu.Lock()
		s.pushed = append(s.pushed, Pushed{Image: ref, Digest: img.Digest, Platform: platform})
		s.mu.Unlock()
		fmt.Fprintf(s.opts.Stderr, "Pushed %s (%s)\n", ref, img.Digest)
	}
	extra := make([]any, len(additional))
	for i, t := range additional {
		extra[i] = t
	}
	var tagOut any
	imageOut := imageName + ":None" // Python formats a missing tag as None
	if tag != nil {
		tagOut = *tag
		imageOut = imageName + ":" + *tag
	}
	return value.MapOf("image_name", imageName, "tag", tagOut, "image", imageOut, "additional_tags", extra), nil
}

// verify checks the push in the registry. A registry the daemon pushed to
// over plain HTTP (its insecure-registries) is retried without TLS.
func (s *Steps) verify(ctx context.Context, ref, platform string, o reg.Options) (*reg.Image, error) {
	img, err := reg.Verify(ctx, ref, platform, "", o)
	var re *reg.Error
	if err != nil && !o.Insecure && errors.As(err, &re) && re.Unreachable {
		o.Insecure = true
		if img2, err2 := reg.Verify(ctx, ref, platform, "", o); err2 == nil {
			return img2, nil
		}
	}
	return img, err
}

func displayRegistry(s string) string {
	if s == "" {
		return "Docker Hub"
	}
	return s
}

// encodeAuth builds the X-Registry-Auth header; with no credentials it is
// the base64 of "{}", which the daemon accepts for anonymous pushes.
func encodeAuth(user, pass, identity, token, server string) (string, error) {
	ac := registry.AuthConfig{}
	if user != "" || pass != "" || identity != "" || token != "" {
		ac = registry.AuthConfig{Username: user, Password: pass, IdentityToken: identity, RegistryToken: token, ServerAddress: server}
	}
	b, err := json.Marshal(ac)
	if err != nil {
		return "", err
	}
	return base64.URLEncoding.EncodeToString(b), nil
}

func (s *Steps) pushOne(ctx context.Context, api API, ref string, all bool, auth, registryHost string) error {
	resp, err := api.ImagePush(ctx, ref, client.ImagePushOptions{RegistryAuth: auth, All: all})
	if err != nil {
		return s.pushError(ref, registryHost, err.Error(), err)
	}
	defer resp.Close()
	prog := newProgress(s.opts.Stderr)
	err = readMessages(resp, func(m *message) error {
		if e := m.err(); e != "" {
			return s.pushError(ref, registryHost, e, nil)
		}
		prog.update(m)
		return nil
	})
	if err != nil && ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

func (s *Steps) pushError(ref, registryHost, msg string, cause error) error {
	e := hintErr(fmt.Sprintf("pushing %s failed: %s", ref, strings.TrimSpace(msg)), "", cause)
	low := strings.ToLower(msg)
	switch {
	case strings.Contains(low, "denied") || strings.Contains(low, "unauthorized") || strings.Contains(low, "authentication required") || strings.Contains(low, "no basic auth credentials"):
		e.Hint = fmt.Sprintf("log in with `docker login %s`, or give push_docker_image a credentials mapping (username, password, registry_url)", registryHost)
	case strings.Contains(low, "connection refused") || strings.Contains(low, "no such host") || strings.Contains(low, "i/o timeout") || strings.Contains(low, "dial tcp"):
		e.Hint = fmt.Sprintf("the registry %s is not reachable from the Docker daemon; check the address and that it is running", registryHost)
	case strings.Contains(low, "does not exist") || strings.Contains(low, "no such image"):
		e.Hint = "build the image first (build_docker_image) or check image_name and tag"
	}
	return e
}

// progress prints push progress per layer: every status change, and
// upload progress only at quarter steps so logs stay readable.
type progress struct {
	w     io.Writer
	last  map[string]string
	quart map[string]int64
}

func newProgress(w io.Writer) *progress {
	return &progress{w: w, last: map[string]string{}, quart: map[string]int64{}}
}

func (p *progress) update(m *message) {
	if m.Status == "" {
		return
	}
	if m.ID == "" {
		fmt.Fprintln(p.w, m.Status)
		return
	}
	if m.Status == "Pushing" && m.ProgressDetail != nil && m.ProgressDetail.Total > 0 {
		q := m.ProgressDetail.Current * 4 / m.ProgressDetail.Total
		if q <= p.quart[m.ID] {
			return
		}
		p.quart[m.ID] = q
		fmt.Fprintf(p.w, "%s: Pushing %d%% of %s\n", m.ID, q*25, humanBytes(m.ProgressDetail.Total))
		return
	}
	if p.last[m.ID] == m.Status {
		return
	}
	p.last[m.ID] = m.Status
	fmt.Fprintf(p.w, "%s: %s\n", m.ID, m.Status)
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for x := n / unit; x >= unit; x /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// CheckDaemon connects to the Docker daemon and pings it, so a deploy can
// report an unreachable daemon before anything is built or registered.
func (s *Steps) CheckDaemon(ctx context.Context) error {
	_, err := s.client(ctx)
	return err
}
