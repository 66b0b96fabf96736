package guidetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prefectctl/prefectctl/internal/py"
)

// bin is the prefectctl binary built once for the package's tests.
var bin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "guidetest-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bin = filepath.Join(dir, "prefectctl")
	build := exec.Command("go", "build", "-o", bin, "github.com/prefectctl/prefectctl/cmd/prefectctl")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building prefectctl:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func repoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the working directory")
		}
		dir = parent
	}
}

func randomSuffix(t testing.TB) string {
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// result is one prefectctl invocation.
type result struct {
	stdout, stderr string
	code           int
}

// prefectctl runs the binary in dir with env added to a clean environment
// (no PREFECT_* of the caller's, a home of the test's own).
func prefectctl(t testing.TB, dir string, env []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	cmd.Env = append(cleanEnv(), env...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("prefectctl %s: %v", strings.Join(args, " "), err)
	}
	return result{out.String(), errOut.String(), code}
}

func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "PREFECT_") || k == "KUBECONFIG" || k == "DOCKER_HOST" {
			continue
		}
		env = append(env, kv)
	}
	return env
}

func must(t testing.TB, r result, what string) result {
	t.Helper()
	if r.code != 0 {
		t.Fatalf("%s: exit %d\nstdout:\n%s\nstderr:\n%s", what, r.code, r.stdout, r.stderr)
	}
	return r
}

// run runs a command, failing the test with its output.
func run(t testing.TB, stdin string, env []string, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin = strings.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s%s", name, strings.Join(args, " "), err, out, stderr.String())
	}
	return string(out)
}

func decode(t testing.TB, s string) *py.Map {
	t.Helper()
	v, err := py.DecodeJSON([]byte(s))
	if err != nil {
		t.Fatalf("not JSON: %v\n%s", err, s)
	}
	m, ok := v.(*py.Map)
	if !ok {
		t.Fatalf("not a JSON object: %s", s)
	}
	return m
}

func toValue(t testing.TB, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	x, err := py.DecodeJSON(b)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

// at digs into nested mappings and lists ("spec", "containers", 0, ...).
func at(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := v.(*py.Map)
			if m == nil {
				return nil
			}
			v, _ = m.Get(k)
		case int:
			l, _ := v.([]any)
			if k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// settingsScript prints what a worker passes to its runs from its own
// settings: get_current_settings().to_environment_variables(
// exclude_unset=True), a JSON object in Prefect's order.
const settingsScript = `import json
from prefect.settings import get_current_settings
print(json.dumps(get_current_settings().to_environment_variables(exclude_unset=True)))`

// workerSettings runs cmd (a python, with settingsScript appended as -c)
// in env (a whole environment) and returns the settings as --worker-env
// flags, in order.
func workerSettings(t testing.TB, env []string, cmd ...string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c := exec.CommandContext(ctx, cmd[0], append(cmd[1:], "-c", settingsScript)...)
	c.Env = env
	var stderr bytes.Buffer
	c.Stderr = &stderr
	out, err := c.Output()
	if err != nil {
		t.Fatalf("worker settings: %v\n%s", err, stderr.String())
	}
	dec := json.NewDecoder(bytes.NewReader(out))
	if _, err := dec.Token(); err != nil {
		t.Fatalf("worker settings: %v: %s", err, out)
	}
	var flags []string
	for dec.More() {
		k, _ := dec.Token()
		var v string
		if err := dec.Decode(&v); err != nil {
			t.Fatalf("worker settings: %v: %s", err, out)
		}
		flags = append(flags, "--worker-env", k.(string)+"="+v)
	}
	return flags
}

func waitHTTP(t testing.TB, url string, want int, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == want {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not answer %d within %s", url, want, d)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
