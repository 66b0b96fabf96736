package flowmeta

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/prefectctl/prefectctl/internal/diag"
	"github.com/prefectctl/prefectctl/internal/py"
)

//go:embed pyhelper.py
var pyHelper string

// LoadWithPython asks python (an interpreter with prefect installed) to
// load the flow with Prefect's own functions, for byte-for-byte equality
// on signatures the static reader cannot read exactly. It runs the flow
// module, so the flow's dependencies must be installed.
func LoadWithPython(ctx context.Context, python string, entrypoint string, opt Options) (*Flow, error) {
	if python == "" {
		python = "python3"
	}
	dir := opt.ProjectDir
	if dir == "" {
		dir = "."
	}
	cmd := exec.CommandContext(ctx, python, "-c", pyHelper, entrypoint)
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		var ee *exec.ExitError
		hint := "install prefect in that interpreter, or use --flow-metadata=static"
		if !errors.As(err, &ee) {
			hint = "check the python interpreter path (" + python + ")"
		}
		return nil, &diag.Error{Kind: diag.Runtime, Msg: "python flow metadata helper failed: " + lastLine(stderr.String()), Err: err, Hint: hint}
	}
	var out struct {
		Error       string          `json:"error"`
		Message     string          `json:"message"`
		Name        string          `json:"name"`
		Description *string         `json:"description"`
		Version     *string         `json:"version"`
		Function    string          `json:"function_name"`
		Schema      json.RawMessage `json:"parameter_openapi_schema"`
	}
	line := lastLine(stdout.String())
	if err := json.Unmarshal([]byte(line), &out); err != nil {
		return nil, &diag.Error{Kind: diag.Runtime, Msg: "python flow metadata helper printed no result", Err: err,
			Hint: "run the flow module with python to see what it prints: " + lastLine(stderr.String())}
	}
	switch out.Error {
	case "":
	case "import":
		return nil, &diag.Error{Kind: diag.Runtime, Msg: "prefect cannot be imported by " + python + ": " + out.Message,
			Hint: "install prefect in that interpreter (pip install prefect), or use --flow-metadata=static"}
	default:
		return nil, &diag.Error{Kind: diag.Invalid, Msg: "Prefect cannot load " + entrypoint + ": " + out.Message,
			Hint: "check the entrypoint and that the flow's dependencies are installed"}
	}
	schema, err := py.DecodeJSON(out.Schema)
	if err != nil {
		return nil, &diag.Error{Kind: diag.Runtime, Msg: "python flow metadata helper returned a bad schema", Err: err}
	}
	sm, ok := schema.(*py.Map)
	if !ok {
		return nil, &diag.Error{Kind: diag.Runtime, Msg: "python flow metadata helper returned a schema that is not an object"}
	}
	f := &Flow{Name: out.Name, FunctionName: out.Function, ParameterSchema: sm}
	if out.Description != nil {
		f.Description, f.HasDescription = *out.Description, true
	}
	if out.Version != nil {
		f.Version = *out.Version
	}
	if i := strings.LastIndex(entrypoint, ":"); i >= 0 && strings.HasSuffix(entrypoint[:i], ".py") {
		f.File = filepath.Join(dir, entrypoint[:i])
	}
	return f, nil
}

func lastLine(s string) string {
	s = strings.TrimRight(s, "\n")
	if i := strings.LastIndex(s, "\n"); i >= 0 {
		return s[i+1:]
	}
	return s
}
