package docker

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/moby/moby/client"
)

// API is the part of the Docker Engine client the steps use; tests and
// the integrator may substitute it.
type API interface {
	Ping(ctx context.Context, o client.PingOptions) (client.PingResult, error)
	ImageBuild(ctx context.Context, buildContext io.Reader, o client.ImageBuildOptions) (client.ImageBuildResult, error)
	ImageTag(ctx context.Context, o client.ImageTagOptions) (client.ImageTagResult, error)
	ImageInspect(ctx context.Context, image string, o ...client.ImageInspectOption) (client.ImageInspectResult, error)
	ImagePush(ctx context.Context, image string, o client.ImagePushOptions) (client.ImagePushResponse, error)
	ImagePull(ctx context.Context, ref string, o client.ImagePullOptions) (client.ImagePullResponse, error)
	RegistryLogin(ctx context.Context, o client.RegistryLoginOptions) (client.RegistryLoginResult, error)
	Close() error
}

var _ API = (*client.Client)(nil)

// DaemonHost finds the Docker daemon the way the docker CLI does:
// $DOCKER_HOST, else the endpoint of $DOCKER_CONTEXT or of the config's
// currentContext, else the platform default. It returns the host URL and
// the context's TLS directory when the context has one.
func DaemonHost(environ func(string) (string, bool)) (host, tlsDir string, err error) {
	get := func(k string) string {
		if environ == nil {
			return ""
		}
		v, _ := environ(k)
		return v
	}
	if h := get("DOCKER_HOST"); h != "" {
		return h, "", nil
	}
	cfgDir := get("DOCKER_CONFIG")
	if cfgDir == "" {
		home := get("HOME")
		if home == "" {
			home, _ = os.UserHomeDir()
		}
		cfgDir = filepath.Join(home, ".docker")
	}
	name := get("DOCKER_CONTEXT")
	if name == "" {
		var cfg struct {
			CurrentContext string `json:"currentContext"`
		}
		if b, err := os.ReadFile(filepath.Join(cfgDir, "config.json")); err == nil {
			if err := json.Unmarshal(b, &cfg); err != nil {
				return "", "", fmt.Errorf("reading %s: %w", filepath.Join(cfgDir, "config.json"), err)
			}
		}
		name = cfg.CurrentContext
	}
	if name == "" || name == "default" {
		return client.DefaultDockerHost, "", nil
	}
	sum := sha256.Sum256([]byte(name))
	id := hex.EncodeToString(sum[:])
	metaPath := filepath.Join(cfgDir, "contexts", "meta", id, "meta.json")
	b, err := os.ReadFile(metaPath)
	if err != nil {
		return "", "", fmt.Errorf("docker context %q not found (%s): %w", name, metaPath, err)
	}
	var meta struct {
		Endpoints map[string]struct {
			Host string `json:"Host"`
		} `json:"Endpoints"`
	}
	if err := json.Unmarshal(b, &meta); err != nil {
		return "", "", fmt.Errorf("reading docker context %q: %w", name, err)
	}
	ep, ok := meta.Endpoints["docker"]
	if !ok || ep.Host == "" {
		return "", "", fmt.Errorf("docker context %q has no docker endpoint", name)
	}
	tls := filepath.Join(cfgDir, "contexts", "tls", id, "docker")
	if _, err := os.Stat(filepath.Join(tls, "ca.pem")); err != nil {
		tls = ""
	}
	return ep.Host, tls, nil
}

// Connect opens a client for host. ssh:// hosts are reached like the
// docker CLI does, through `ssh HOST docker system dial-stdio`.
func Connect(host, tlsDir string) (*client.Client, error) {
	opts := []client.Opt{client.WithAPIVersionFromEnv(), client.WithAPIVersionNegotiation()}
	if tlsDir != "" {
		opts = append(opts, client.WithTLSClientConfig(filepath.Join(tlsDir, "ca.pem"), filepath.Join(tlsDir, "cert.pem"), filepath.Join(tlsDir, "key.pem")))
	} else {
		opts = append(opts, client.WithTLSClientConfigFromEnv())
	}
	if strings.HasPrefix(host, "ssh://") {
		u, err := url.Parse(host)
		if err != nil {
			return nil, fmt.Errorf("invalid docker host %q: %w", host, err)
		}
		// The placeholder host only names the connection; the dialer
		// ignores it and talks to the remote daemon over ssh's stdio.
		opts = append(opts, client.WithHost("tcp://docker-over-ssh:2375"), client.WithDialContext(sshDialer(u)))
	} else {
		opts = append(opts, client.WithHost(host))
	}
	return client.New(opts...)
}

func sshDialer(u *url.URL) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, _, _ string) (net.Conn, error) {
		args := []string{"-o", "ConnectTimeout=30"}
		if u.User != nil {
			args = append(args, "-l", u.User.Username())
		}
		if p := u.Port(); p != "" {
			args = append(args, "-p", p)
		}
		args = append(args, "--", u.Hostname(), "docker", "system", "dial-stdio")
		cmd := exec.Command("ssh", args...)
		stdin, err := cmd.StdinPipe()
		if err != nil {
			return nil, err
		}
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			return nil, err
		}
		cmd.Stderr = io.Discard
		if err := cmd.Start(); err != nil {
			return nil, fmt.Errorf("starting ssh to %s: %w", u.Host, err)
		}
		c1, c2 := net.Pipe()
		go func() { _, _ = io.Copy(stdin, c2); stdin.Close() }()
		go func() {
			_, _ = io.Copy(c2, stdout)
			c2.Close()
			_ = cmd.Wait()
		}()
		return c1, nil
	}
}

// message is one line of the Engine's JSON progress stream.
type message struct {
	Stream         string                    `json:"stream"`
	Status         string                    `json:"status"`
	Progress       string                    `json:"progress"`
	ID             string                    `json:"id"`
	Error          string                    `json:"error"`
	ErrorDetail    *struct{ Message string } `json:"errorDetail"`
	Message        string                    `json:"message"`
	Aux            json.RawMessage           `json:"aux"`
	ProgressDetail *struct {
		Current int64 `json:"current"`
		Total   int64 `json:"total"`
	} `json:"progressDetail"`
}

func (m *message) err() string {
	if m.Error != "" {
		return m.Error
	}
	if m.ErrorDetail != nil && m.ErrorDetail.Message != "" {
		return m.ErrorDetail.Message
	}
	return ""
}

// readMessages decodes the stream until EOF, calling fn for each message.
// The body is read exactly once: with moby client v0.6.2 the push
// response cannot be read again through Wait.
func readMessages(r io.Reader, fn func(*message) error) error {
	dec := json.NewDecoder(bufio.NewReaderSize(r, 64*1024))
	for {
		var m message
		if err := dec.Decode(&m); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("reading the Docker daemon's response: %w", err)
		}
		if err := fn(&m); err != nil {
			return err
		}
	}
}

// tail keeps the last n lines written to it, for error reports.
type tail struct {
	n     int
	lines []string
	part  strings.Builder
}

func (t *tail) Write(p []byte) (int, error) {
	for _, c := range string(p) {
		if c == '\n' {
			t.push(t.part.String())
			t.part.Reset()
			continue
		}
		t.part.WriteRune(c)
	}
	return len(p), nil
}

func (t *tail) push(s string) {
	t.lines = append(t.lines, s)
	if len(t.lines) > t.n {
		t.lines = t.lines[len(t.lines)-t.n:]
	}
}

// ansi matches the colour codes the legacy builder wraps RUN stderr in.
var ansi = regexp.MustCompile(`\x1b\[[0-9;]*[A-Za-z]`)

// String returns the kept lines without terminal escapes, for messages.
func (t *tail) String() string {
	all := t.lines
	if t.part.Len() > 0 {
		all = append(append([]string{}, all...), t.part.String())
	}
	if len(all) > t.n {
		all = all[len(all)-t.n:]
	}
	return ansi.ReplaceAllString(strings.TrimRight(strings.Join(all, "\n"), "\n"), "")
}
