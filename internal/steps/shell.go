package steps

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	"github.com/prefectctl/prefectctl/internal/py"
)

// ShellOptions are run_shell_script's arguments.
type ShellOptions struct {
	Script        string
	Directory     string // empty: Env.Dir
	Env           map[string]string
	EnvOrder      []string
	StreamOutput  bool
	ExpandEnvVars bool
	Shell         bool
}

var shellSig = py.Signature{Name: "run_shell_script", Required: []string{"script"}, Optional: []string{"directory", "env", "stream_output", "expand_env_vars", "shell"}}

func parseShell(in *py.Map) (*ShellOptions, error) {
	if err := shellSig.Bind(in); err != nil {
		return nil, err
	}
	o := &ShellOptions{StreamOutput: true}
	v, _ := in.Get("script")
	s, ok := v.(string)
	if !ok {
		return nil, fmt.Errorf("run_shell_script: script must be a string, got %s", py.TypeName(v))
	}
	o.Script = s
	if v, ok := in.Get("directory"); ok && v != nil {
		d, isStr := v.(string)
		if !isStr {
			return nil, fmt.Errorf("run_shell_script: directory must be a string, got %s", py.TypeName(v))
		}
		o.Directory = d
	}
	if v, ok := in.Get("env"); ok && v != nil {
		m, isMap := v.(*py.Map)
		if !isMap {
			return nil, fmt.Errorf("run_shell_script: env must be a mapping, got %s", py.TypeName(v))
		}
		o.Env = map[string]string{}
		for _, k := range m.Keys() {
			x, _ := m.Get(k)
			str, isStr := x.(string)
			if !isStr {
				// Python's os.environ refuses non-strings too.
				return nil, fmt.Errorf("run_shell_script: env value for %s must be a string, got %s (quote it in prefect.yaml)", k, py.TypeName(x))
			}
			o.Env[k] = str
			o.EnvOrder = append(o.EnvOrder, k)
		}
	}
	if v, ok := in.Get("stream_output"); ok {
		o.StreamOutput = py.Truthy(v)
	}
	if v, ok := in.Get("expand_env_vars"); ok {
		o.ExpandEnvVars = py.Truthy(v)
	}
	if v, ok := in.Get("shell"); ok {
		o.Shell = py.Truthy(v)
	}
	return o, nil
}

// ShellError is run_shell_script's failure: a line exited non-zero.
type ShellError struct {
	Code   int
	Stderr string // all stderr captured so far
	Line   string
}

func (e *ShellError) Error() string {
	return fmt.Sprintf("`run_shell_script` failed with error code %d: %s", e.Code, e.Stderr)
}

// RunShell runs the script like Prefect's run_shell_script: each line
// is its own process, split with POSIX shlex rules and executed directly
// (through /bin/sh -c only with Shell), with the environment plus Env, and
// returns the stripped stdout and stderr of all lines.
func RunShell(ctx context.Context, o *ShellOptions, env *Env) (*py.Map, error) {
	childEnv := env.environ()
	for _, k := range o.EnvOrder {
		childEnv = setEnv(childEnv, k, o.Env[k])
	}
	lookup := func(k string) (string, bool) {
		for i := len(childEnv) - 1; i >= 0; i-- {
			if n, v, _ := strings.Cut(childEnv[i], "="); n == k {
				return v, true
			}
		}
		return "", false
	}
	dir := o.Directory
	if dir == "" {
		dir = env.Dir
	} else if !filepath.IsAbs(dir) {
		dir = filepath.Join(env.Dir, dir)
	}
	var stdout, stderr syncBuffer
	outW, errW := io.Writer(&stdout), io.Writer(&stderr)
	if o.StreamOutput {
		outW = io.MultiWriter(&stdout, env.stdout())
		errW = io.MultiWriter(&stderr, env.stderr())
	}
	for _, line := range py.SplitLines(o.Script) {
		if o.ExpandEnvVars {
			line = py.SafeSubstitute(line, lookup)
		}
		var argv []string
		if o.Shell {
			line = py.Strip(line)
			if line == "" {
				continue
			}
			argv = []string{"/bin/sh", "-c", line}
		} else {
			var err error
			if argv, err = py.ShlexSplit(line); err != nil {
				return nil, err
			}
			if len(argv) == 0 {
				continue
			}
		}
		exe, err := lookPath(argv[0], childEnv, dir)
		if err != nil {
			return nil, err
		}
		cmd := exec.CommandContext(ctx, exe, argv[1:]...)
		cmd.Args[0] = argv[0]
		cmd.Dir = dir
		cmd.Env = childEnv
		cmd.Stdout = outW
		cmd.Stderr = errW
		if err := cmd.Run(); err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				code := ee.ExitCode()
				if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
					code = -int(ws.Signal()) // Python's returncode for a signal
				}
				return nil, &ShellError{Code: code, Stderr: py.DecodeUTF8(stderr.Bytes()), Line: line}
			}
			return nil, fmt.Errorf("running %q: %w", argv[0], err)
		}
	}
	return py.MapOf(
		"stdout", py.Strip(py.DecodeUTF8(stdout.Bytes())),
		"stderr", py.Strip(py.DecodeUTF8(stderr.Bytes())),
	), nil
}

// lookPath finds the program the way Python's subprocess does: names
// without a slash are searched in the child's PATH, others are relative to
// the working directory.
func lookPath(name string, env []string, dir string) (string, error) {
	if strings.Contains(name, "/") {
		p := name
		if !filepath.IsAbs(p) {
			p = filepath.Join(dir, p)
		}
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("[Errno 2] No such file or directory: %s", py.Repr(name))
		}
		return p, nil
	}
	path := ""
	for _, kv := range env {
		if k, v, _ := strings.Cut(kv, "="); k == "PATH" {
			path = v
		}
	}
	if path == "" {
		path = "/bin:/usr/bin" // os.defpath
	}
	for _, d := range filepath.SplitList(path) {
		if d == "" {
			d = "."
		}
		if !filepath.IsAbs(d) {
			d = filepath.Join(dir, d)
		}
		p := filepath.Join(d, name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("[Errno 2] No such file or directory: %s", py.Repr(name))
}

func setEnv(env []string, k, v string) []string {
	out := env[:0:0]
	for _, kv := range env {
		if n, _, _ := strings.Cut(kv, "="); n != k {
			out = append(out, kv)
		}
	}
	return append(out, k+"="+v)
}

// syncBuffer lets a process's stdout and stderr copiers write safely.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) Bytes() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]byte(nil), s.b.Bytes()...)
}
