package steps

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/prefectctl/prefectctl/internal/py"
)

var shlexCases = []string{
	`echo Hello World`,
	`echo 'single quoted  spaces'`,
	`echo "double \"quoted\" \\ \$x \n"`,
	`a\ b c\\d \'e`,
	`a"b c"d`,
	`x '' "" y`,
	"tab\tseparated\r\nwords",
	`git rev-parse --short HEAD`,
	`echo $X ${Y}`,
	`  leading and trailing   `,
	`"unterminated`,
	`'unterminated`,
	`trailing\`,
	`"esc at end\`,
	`a#b # not a comment`,
	`ünïcödé "wörds"`,
	`a'b'"c"\d`,
	``,
}

func TestShlexSplitTable(t *testing.T) {
	cases := []struct {
		in   string
		want []string
		err  string
	}{
		{`echo Hello World`, []string{"echo", "Hello", "World"}, ""},
		{`a"b c"d`, []string{"ab cd"}, ""},
		{`x '' "" y`, []string{"x", "", "", "y"}, ""},
		{`"a \"b\" \x"`, []string{`a "b" \x`}, ""},
		{`a\ b`, []string{"a b"}, ""},
		{`'a\b'`, []string{`a\b`}, ""},
		{`"open`, nil, "No closing quotation"},
		{`end\`, nil, "No escaped character"},
		{"   ", nil, ""},
	}
	for _, c := range cases {
		got, err := ShlexSplit(c.in)
		if c.err != "" {
			if err == nil || err.Error() != c.err {
				t.Errorf("ShlexSplit(%q) error = %v, want %q", c.in, err, c.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("ShlexSplit(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
}

// TestShellParsingMatchesPython compares shlex, splitlines and
// safe_substitute with Python itself on a corpus of tricky inputs.
func TestShellParsingMatchesPython(t *testing.T) {
	lines := []string{"a\nb", "a\r\nb\rc", "a\vb\fc\x1cd\x1de\x1ef", "a\u0085b\u2028c\u2029d", "a\n\nb\n", "\n", "", "x\r"}
	env := map[string]string{"A": "1", "B_2": "two", "lower": "l"}
	subs := []string{"$A ${B_2} $$ $1 $C ${C} $", "${A}${lower}$lower$A_", "$$A", "${ A}", "cost: $5 $$5", "${B_2"}
	var reqs []map[string]any
	for _, s := range shlexCases {
		reqs = append(reqs, map[string]any{"kind": "shlex", "s": s})
	}
	for _, s := range lines {
		reqs = append(reqs, map[string]any{"kind": "splitlines", "s": s})
	}
	for _, s := range subs {
		reqs = append(reqs, map[string]any{"kind": "substitute", "s": s, "env": env})
	}
	ans := askPython(t, reqs)
	for i, r := range reqs {
		s := r["s"].(string)
		switch r["kind"] {
		case "shlex":
			got, err := ShlexSplit(s)
			if ans[i].Error != "" {
				if err == nil || !strings.HasSuffix(ans[i].Error, err.Error()) {
					t.Errorf("ShlexSplit(%q): err %v, Python %s", s, err, ans[i].Error)
				}
				continue
			}
			var want []string
			_ = json.Unmarshal(ans[i].OK, &want)
			if err != nil || !reflect.DeepEqual(got, want) && !(len(got) == 0 && len(want) == 0) {
				t.Errorf("ShlexSplit(%q) = %q, %v; Python %q", s, got, err, want)
			}
		case "splitlines":
			var want []string
			_ = json.Unmarshal(ans[i].OK, &want)
			if got := SplitLines(s); !reflect.DeepEqual(got, want) && !(len(got) == 0 && len(want) == 0) {
				t.Errorf("SplitLines(%q) = %q; Python %q", s, got, want)
			}
		case "substitute":
			var want string
			_ = json.Unmarshal(ans[i].OK, &want)
			got := SafeSubstitute(s, func(k string) (string, bool) { v, ok := env[k]; return v, ok })
			if got != want {
				t.Errorf("SafeSubstitute(%q) = %q; Python %q", s, got, want)
			}
		}
	}
}

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
