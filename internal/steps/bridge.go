package steps

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"

	"github.com/prefectctl/prefectctl/internal/diag"
	"github.com/prefectctl/prefectctl/internal/py"
)

//go:embed bridge.py
var bridgeScript string

// PythonError is a Python step that raised.
type PythonError struct {
	Type, Message, Traceback string
}

// Error gives the exception and, below it, Python's traceback, which is
// what a user needs to debug their own step.
func (e *PythonError) Error() string {
	msg := e.Type + ": " + e.Message
	if tb := strings.TrimSpace(e.Traceback); tb != "" {
		msg += "\n" + tb
	}
	return msg
}

func python(env *Env) (string, error) {
	name := env.Python
	if name == "" {
		name = "python3"
	}
	exe, err := lookPath(name, env.environ(), env.Dir)
	if err != nil {
		return "", err
	}
	return exe, nil
}

// bridge runs a step prefectctl does not implement in the user's Python:
// the embedded script imports the function, calls it with the templated
// inputs (JSON on stdin) and writes the result to fd 3.
func (r *Runner) bridge(ctx context.Context, env *Env, s *Step, inputs *py.Map) (*py.Map, error) {
	interp, err := python(env)
	if err != nil {
		pyName := env.Python
		if pyName == "" {
			pyName = "python3"
		}
		return nil, &diag.Error{Kind: diag.Runtime, Err: err,
			Msg:  fmt.Sprintf("%s is not built into prefectctl and runs in Python, but %s was not found", s.Written, pyName),
			Hint: fmt.Sprintf("install Python 3 with the package that provides %s (%s), or point --python at an interpreter that has it", s.Written, requiresText(s))}
	}
	inJSON, err := py.EncodeJSON(inputs)
	if err != nil {
		return nil, fmt.Errorf("encoding the inputs for Python: %w", err)
	}
	req := fmt.Sprintf(`{"fqn": %s, "requires": %s, "install": %t, "inputs": %s}`,
		mustJSON(s.Written), mustJSON(s.Requires), env.AllowPipInstall, inJSON)

	rd, wr, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	cmd := exec.CommandContext(ctx, interp, "-c", bridgeScript)
	cmd.Dir = env.Dir
	cmd.Env = env.environ()
	cmd.Stdin = strings.NewReader(req)
	var errTail bytes.Buffer
	cmd.Stdout = env.stdout()
	cmd.Stderr = io.MultiWriter(env.stderr(), &limitBuffer{b: &errTail, max: 8 << 10})
	cmd.ExtraFiles = []*os.File{wr}
	if err := cmd.Start(); err != nil {
		wr.Close()
		return nil, fmt.Errorf("starting %s: %w", interp, err)
	}
	wr.Close()
	result, readErr := io.ReadAll(rd)
	waitErr := cmd.Wait()
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if readErr != nil {
		return nil, readErr
	}
	if len(bytes.TrimSpace(result)) == 0 {
		msg := fmt.Sprintf("the Python bridge for %s ended without a result", s.Written)
		if waitErr != nil {
			msg += " (" + waitErr.Error() + ")"
		}
		if t := strings.TrimSpace(errTail.String()); t != "" {
			msg += ":\n" + t
		}
		return nil, errors.New(msg)
	}
	var rep struct {
		Status, Message, Type, Traceback string
		Installed                        *bool
	}
	if err := json.Unmarshal(result, &rep); err != nil {
		return nil, fmt.Errorf("reading the Python bridge's result: %w", err)
	}
	switch rep.Status {
	case "import_error":
		hint := fmt.Sprintf("install the package that provides %s into %s", s.Written, interp)
		if len(s.Requires) > 0 {
			hint = fmt.Sprintf("run `%s -m pip install %s`", interp, strings.Join(quoteAll(s.Requires), " "))
			if !env.AllowPipInstall {
				hint += ", or let prefectctl install requires with --allow-pip-install"
			}
		}
		return nil, &diag.Error{Kind: diag.Runtime, Msg: fmt.Sprintf("cannot import %s in %s: %s", s.Written, interp, rep.Message), Hint: hint}
	case "error":
		return nil, &PythonError{Type: rep.Type, Message: rep.Message, Traceback: rep.Traceback}
	case "ok":
	default:
		return nil, fmt.Errorf("unexpected reply from the Python bridge: %q", rep.Status)
	}
	var body struct {
		Outputs json.RawMessage `json:"outputs"`
	}
	if err := json.Unmarshal(result, &body); err != nil {
		return nil, err
	}
	if len(body.Outputs) == 0 || string(body.Outputs) == "null" {
		return nil, nil
	}
	out, err := py.DecodeJSON(body.Outputs)
	if err != nil {
		return nil, fmt.Errorf("reading the step's outputs: %w", err)
	}
	m, _ := out.(*py.Map)
	return m, nil
}

func requiresText(s *Step) string {
	if len(s.Requires) == 0 {
		return "no requires given"
	}
	return "requires: " + strings.Join(s.Requires, ", ")
}

func quoteAll(l []string) []string {
	out := make([]string, len(l))
	for i, s := range l {
		if strings.ContainsAny(s, "<>=!~ *?[]") {
			out[i] = shellQuote(s)
		} else {
			out[i] = s
		}
	}
	return out
}

func mustJSON(v any) string {
	if l, ok := v.([]string); ok && l == nil {
		return "[]"
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// limitBuffer keeps the last max bytes written.
type limitBuffer struct {
	b   *bytes.Buffer
	max int
}

func (l *limitBuffer) Write(p []byte) (int, error) {
	l.b.Write(p)
	if over := l.b.Len() - l.max; over > 0 {
		rest := append([]byte(nil), l.b.Bytes()[over:]...)
		l.b.Reset()
		l.b.Write(rest)
	}
	return len(p), nil
}
