package docker

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/moby/moby/client"

	"github.com/prefectctl/prefectctl/internal/codelayer"
	"github.com/prefectctl/prefectctl/internal/memo"
	"github.com/prefectctl/prefectctl/internal/py"
	reg "github.com/prefectctl/prefectctl/internal/registry"
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
	// Registry configures the post-push check; its Keychain (nil: the
	// Docker config's, authn.DefaultKeychain) also supplies push
	// credentials when the step has no credentials mapping.
	Registry reg.Options
	// SkipVerify turns off the registry check after a push.
	SkipVerify bool
}

// Deps are what the Docker steps talk to, when not the defaults.
type Deps struct {
	// Client is used instead of connecting to the daemon DOCKER_HOST (or
	// the Docker context) names.
	Client API
	// Now is the clock for default tags; nil means time.Now.
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
	now  func() time.Time

	memo memo.Cache[string, *py.Map]

	// Code layers: what was read from registries, and the images built
	// but not pushed yet (by name:tag) with their layer files.
	images      memo.Cache[string, *codelayer.Image]
	bases       memo.Cache[string, *codelayer.BaseConfig]
	versionMemo memo.Cache[string, Versions]

	mu       sync.Mutex
	dirLocks map[string]*sync.Mutex
	api      API
	own      bool
	pushed   []Pushed
	appended map[string]*pendingImage
	layers   []*codelayer.Layer
}

// New returns the Docker steps for opts, talking to deps.
func New(opts Options, deps Deps) *Steps {
	if deps.Now == nil {
		deps.Now = time.Now
	}
	if opts.Stderr == nil {
		opts.Stderr = io.Discard
	}
	return &Steps{opts: opts, now: deps.Now, api: deps.Client}
}

// Close releases the daemon connection the steps opened and removes the
// code layers' temporary files.
func (s *Steps) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, l := range s.layers {
		_ = l.Remove()
	}
	s.layers = nil
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

// QualifyImageName is name with the default namespace applied, as the
// steps name images.
func (s *Steps) QualifyImageName(name string) string { return QualifyImageName(name, s.namespace()) }

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

// CheckDaemon connects to the Docker daemon and pings it, so a deploy can
// report an unreachable daemon before anything is built or registered.
func (s *Steps) CheckDaemon(ctx context.Context) error {
	_, err := s.client(ctx)
	return err
}
