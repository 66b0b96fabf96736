package steps

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prefectctl/prefectctl/internal/py"
)

func shellEnv(t *testing.T, vars map[string]string) (*Env, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	var out, errb bytes.Buffer
	return &Env{
		Dir: t.TempDir(),
		Environ: func(k string) (string, bool) {
			if v, ok := vars[k]; ok {
				return v, true
			}
			return os.LookupEnv(k)
		},
		Stdout: &out, Stderr: &errb,
	}, &out, &errb
}

func TestRunShell(t *testing.T) {
	sub := t.TempDir()
	sub, _ = filepath.EvalSymlinks(sub)
	cases := []struct {
		name       string
		in         *py.Map
		env        map[string]string
		stdout     string
		stderr     string
		errSub     string
		errCode    int
		streamed   string
		noStreamed bool
	}{
		{name: "hello", in: py.MapOf("script", "echo Hello World"), stdout: "Hello World", streamed: "Hello World\n"},
		{name: "two lines", in: py.MapOf("script", "echo First Line\necho Second Line"), stdout: "First Line\nSecond Line"},
		{name: "stderr", in: py.MapOf("script", "bash -c '>&2 echo Error Message'"), stderr: "Error Message"},
		{name: "directory", in: py.MapOf("script", "pwd", "directory", sub), stdout: sub},
		{name: "no expansion", in: py.MapOf("script", "echo $HOME"), stdout: "$HOME"},
		{name: "expand", in: py.MapOf("script", "echo $GREETING ${GREETING}s $$ $UNSET_X_Y", "expand_env_vars", true, "env", py.MapOf("GREETING", "hi")), stdout: "hi his $ $UNSET_X_Y"},
		{name: "env reaches child", in: py.MapOf("script", "printenv STEP_VAR", "env", py.MapOf("STEP_VAR", "v1")), stdout: "v1"},
		{name: "environ overrides process env", in: py.MapOf("script", "printenv HOME"), env: map[string]string{"HOME": "/custom-home"}, stdout: "/custom-home"},
		{name: "no shell features", in: py.MapOf("script", "echo a | tr a b"), stdout: "a | tr a b"},
		{name: "shell true", in: py.MapOf("script", "echo a | tr a b", "shell", true), stdout: "b"},
		{name: "cd does not carry over", in: py.MapOf("script", "cd /\npwd", "shell", true, "directory", sub), stdout: sub},
		{name: "quiet", in: py.MapOf("script", "echo hidden", "stream_output", false), stdout: "hidden", noStreamed: true},
		{name: "empty lines skipped", in: py.MapOf("script", "\n\necho x\n   \n"), stdout: "x"},
		{name: "fails and stops", in: py.MapOf("script", "bash -c 'echo boom >&2; exit 3'\necho never"), errSub: "`run_shell_script` failed with error code 3: boom\n", errCode: 3},
		{name: "missing program", in: py.MapOf("script", "no-such-program-xyz"), errSub: "No such file or directory: 'no-such-program-xyz'"},
		{name: "bad quote", in: py.MapOf("script", "echo 'open"), errSub: "No closing quotation"},
		{name: "unknown arg", in: py.MapOf("script", "true", "cwd", "/"), errSub: "run_shell_script() got an unexpected keyword argument 'cwd'"},
		{name: "missing script", in: py.MapOf(), errSub: "run_shell_script() missing 1 required positional argument: 'script'"},
		{name: "env int", in: py.MapOf("script", "true", "env", py.MapOf("N", int64(1))), errSub: "env value for N must be a string"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env, out, _ := shellEnv(t, c.env)
			o, err := parseShell(c.in)
			var res *py.Map
			if err == nil {
				res, err = RunShell(context.Background(), o, env)
			}
			if c.errSub != "" {
				if err == nil || !strings.Contains(err.Error(), c.errSub) {
					t.Fatalf("err = %v, want it to contain %q", err, c.errSub)
				}
				var se *ShellError
				if c.errCode != 0 && (!errors.As(err, &se) || se.Code != c.errCode) {
					t.Fatalf("err = %#v, want ShellError code %d", err, c.errCode)
				}
				if strings.Contains(out.String(), "never") {
					t.Fatal("a line after the failing one ran")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got, _ := res.Get("stdout"); got != c.stdout {
				t.Errorf("stdout = %q, want %q", got, c.stdout)
			}
			if got, _ := res.Get("stderr"); got != c.stderr {
				t.Errorf("stderr = %q, want %q", got, c.stderr)
			}
			if c.streamed != "" && out.String() != c.streamed {
				t.Errorf("streamed stdout = %q, want %q", out.String(), c.streamed)
			}
			if c.noStreamed && out.Len() != 0 {
				t.Errorf("stream_output false still streamed %q", out.String())
			}
		})
	}
}
