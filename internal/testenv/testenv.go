// Package testenv gives tests the real services started by scripts/testenv.sh.
//
// Each accessor returns the value from the environment when `make test` (or the
// developer) already exported it; otherwise it runs `scripts/testenv.sh up PART`
// once per test binary and reads `scripts/testenv.sh env`. A service that cannot
// be had fails the test: integration tests never skip silently, except under
// `go test -short`, which `make test` never uses.
//
// Two Prefect servers are on offer: Prefect (SQLite, the single-machine default)
// and PrefectPostgres (PostgreSQL, what teams run). Both serve the same API, so a
// suite runs against either by taking the URL from one or the other, e.g.
//
//	for name, api := range map[string]string{"sqlite": testenv.Prefect(t), "postgres": testenv.PrefectPostgres(t)} {
//		t.Run(name, func(t *testing.T) { ... PREFECT_API_URL=api ... })
//	}
package testenv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Environment variables of the test-environment contract.
const (
	EnvDir              = "PREFECTCTL_TESTENV_DIR"
	EnvPrefectAPIURL    = "PREFECT_API_URL"
	EnvDockerHost       = "DOCKER_HOST"
	EnvRegistry         = "PREFECTCTL_REGISTRY"
	EnvAuthRegistry     = "PREFECTCTL_AUTH_REGISTRY"
	EnvAuthRegistryUser = "PREFECTCTL_AUTH_REGISTRY_USER"
	EnvAuthRegistryPass = "PREFECTCTL_AUTH_REGISTRY_PASSWORD"
	EnvPython           = "PREFECTCTL_PYTHON"
	EnvPrefectCLI       = "PREFECTCTL_PREFECT"
	EnvBaseImage        = "PREFECTCTL_BASE_IMAGE"
	EnvPGAPIURL         = "PREFECTCTL_PG_API_URL"
	EnvPGDatabaseURL    = "PREFECTCTL_PG_DATABASE_URL"

	// EnvAllowRemote lets PREFECT_API_URL name a non-loopback server. Tests create
	// and delete deployments, so a URL left in a developer's shell (Prefect Cloud,
	// a team server) is refused unless this is set to 1.
	EnvAllowRemote = "PREFECTCTL_TESTENV_ALLOW_REMOTE"
)

// upTimeout bounds one `scripts/testenv.sh up`: a cold run installs packages,
// a venv and builds the base image, which takes a few minutes.
const upTimeout = 20 * time.Minute

// Prefect returns the API URL of a real Prefect server, e.g. http://127.0.0.1:PORT/api.
func Prefect(t testing.TB) string {
	t.Helper()
	u := lookup(t, "prefect", EnvPrefectAPIURL)[0]
	if err := checkLoopbackURL(u); err != nil && os.Getenv(EnvAllowRemote) != "1" {
		t.Fatalf("testenv: %v; unset %s to use the local test server, or set %s=1", err, EnvPrefectAPIURL, EnvAllowRemote)
	}
	return u
}

// PrefectPostgres returns the API URL of a real Prefect server backed by
// PostgreSQL (part prefect-pg: Debian's postgresql on loopback, the server on
// postgresql+asyncpg), e.g. http://127.0.0.1:PORT/api. Its database is fresh at
// each start of the server and shared by the tests of a run, like Prefect's.
func PrefectPostgres(t testing.TB) string {
	t.Helper()
	u := lookup(t, "prefect-pg", EnvPGAPIURL)[0]
	if err := checkLoopbackURL(u); err != nil {
		t.Fatalf("testenv: %s=%s is not a loopback server", EnvPGAPIURL, u)
	}
	return u
}

// PrefectPostgresDatabase returns the libpq URL (postgresql://USER:PASSWORD@127.0.0.1:PORT/DB)
// of the database the PrefectPostgres server uses, for tests that look at what
// the server stored (psql "$URL" -c ...).
func PrefectPostgresDatabase(t testing.TB) string {
	t.Helper()
	return lookup(t, "prefect-pg", EnvPGDatabaseURL)[0]
}

// Docker returns DOCKER_HOST of a running Docker engine (unix://PATH).
func Docker(t testing.TB) string {
	t.Helper()
	return lookup(t, "docker", EnvDockerHost)[0]
}

// Registry returns host:port of a plain-HTTP OCI registry without auth.
func Registry(t testing.TB) string {
	t.Helper()
	return lookup(t, "registry", EnvRegistry)[0]
}

// AuthRegistry returns host:port of a plain-HTTP OCI registry that requires
// basic auth, and the credentials it accepts.
func AuthRegistry(t testing.TB) (addr, user, pass string) {
	t.Helper()
	v := lookup(t, "registry", EnvAuthRegistry, EnvAuthRegistryUser, EnvAuthRegistryPass)
	return v[0], v[1], v[2]
}

// Python returns the python executable of the venv holding the pinned Prefect.
func Python(t testing.TB) string {
	t.Helper()
	return lookup(t, "venv", EnvPython)[0]
}

// PrefectCLI returns the `prefect` executable of the venv holding the pinned Prefect.
func PrefectCLI(t testing.TB) string {
	t.Helper()
	return lookup(t, "venv", EnvPrefectCLI)[0]
}

// BaseImage returns the local base image reference (prefecthq/prefect:VERSION-pythonX.Y),
// present in the engine that Docker returns.
func BaseImage(t testing.TB) string {
	t.Helper()
	return lookup(t, "images", EnvBaseImage)[0]
}

var (
	mu sync.Mutex
	// upDone records the parts this test binary already brought up, so the
	// script runs at most once per part and binary.
	upDone = map[string]map[string]string{}
)

// lookup returns the values of vars, from the environment when all are set,
// otherwise from `scripts/testenv.sh up part` then `env`.
func lookup(t testing.TB, part string, vars ...string) []string {
	t.Helper()
	if testing.Short() {
		t.Skipf("testenv: needs the real %s service; skipped under -short", part)
	}
	if vals, ok := fromEnv(os.Getenv, vars); ok {
		return vals
	}
	mu.Lock()
	defer mu.Unlock()
	env, ok := upDone[part]
	if !ok {
		var err error
		env, err = up(part)
		if err != nil {
			t.Fatalf("testenv: %v", err)
		}
		upDone[part] = env
	}
	vals, ok := fromEnv(func(k string) string { return env[k] }, vars)
	if !ok {
		t.Fatalf("testenv: scripts/testenv.sh up %s succeeded but `env` does not set all of %s", part, strings.Join(vars, ", "))
	}
	return vals
}

func fromEnv(get func(string) string, vars []string) ([]string, bool) {
	vals := make([]string, len(vars))
	for i, k := range vars {
		vals[i] = get(k)
		if vals[i] == "" {
			return nil, false
		}
	}
	return vals, true
}

// up runs the script for one part and returns what its `env` prints.
func up(part string) (map[string]string, error) {
	script, err := findScript()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), upTimeout)
	defer cancel()
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, "bash", script, "up", part)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%s up %s failed (%v):\n%s", script, part, err, strings.TrimSpace(out.String()))
	}
	cmd = exec.CommandContext(ctx, "bash", script, "env")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%s env failed (%v): %s", script, err, strings.TrimSpace(stderr.String()))
	}
	return parseEnv(string(stdout))
}

// findScript walks up from the working directory (a package directory under
// `go test`) to the repository root holding scripts/testenv.sh.
func findScript() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("cannot find scripts/testenv.sh: %w", err)
	}
	for {
		s := filepath.Join(dir, "scripts", "testenv.sh")
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			if _, err := os.Stat(s); err == nil {
				return s, nil
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("cannot find scripts/testenv.sh in any parent of the working directory; run the tests from inside the prefectctl repository")
		}
		dir = parent
	}
}

// parseEnv reads the `export NAME='value'` lines that scripts/testenv.sh env
// prints (single quotes, with ' written as '\”).
func parseEnv(s string) (map[string]string, error) {
	env := map[string]string{}
	for n, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		rest, ok := strings.CutPrefix(line, "export ")
		if !ok {
			return nil, fmt.Errorf("testenv.sh env, line %d: want `export NAME='value'`, got %q", n+1, line)
		}
		name, quoted, ok := strings.Cut(rest, "=")
		if !ok || name == "" {
			return nil, fmt.Errorf("testenv.sh env, line %d: no NAME= in %q", n+1, line)
		}
		val, err := unquote(quoted)
		if err != nil {
			return nil, fmt.Errorf("testenv.sh env, line %d: %v", n+1, err)
		}
		env[name] = val
	}
	return env, nil
}

// unquote undoes shell single quoting: 'a'\”b' is a'b.
func unquote(q string) (string, error) {
	var b strings.Builder
	for q != "" {
		switch {
		case strings.HasPrefix(q, `\'`):
			b.WriteByte('\'')
			q = q[2:]
		case q[0] == '\'':
			end := strings.IndexByte(q[1:], '\'')
			if end < 0 {
				return "", fmt.Errorf("unterminated quote in %q", q)
			}
			b.WriteString(q[1 : 1+end])
			q = q[end+2:]
		default:
			return "", fmt.Errorf("value must be single-quoted, got %q", q)
		}
	}
	return b.String(), nil
}

// checkLoopbackURL reports an error unless u is an http(s) URL whose host is a
// loopback address or localhost.
func checkLoopbackURL(u string) error {
	p, err := url.Parse(u)
	if err != nil || p.Host == "" {
		return fmt.Errorf("%s=%q is not a URL", EnvPrefectAPIURL, u)
	}
	host := p.Hostname()
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("%s=%s is not a loopback server", EnvPrefectAPIURL, u)
}
