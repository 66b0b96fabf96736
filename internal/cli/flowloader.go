package cli

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/prefectctl/prefectctl/internal/deploy"
	"github.com/prefectctl/prefectctl/internal/diag"
	"github.com/prefectctl/prefectctl/internal/flowmeta"
	"github.com/prefectctl/prefectctl/internal/memo"
)

// flowLoader reads flow metadata statically or through the user's Python,
// once per entrypoint per invocation.
type flowLoader struct {
	mode   string
	dir    string
	shown  string // messages name files relative to it (default dir)
	python string
	flows  memo.Cache[string, *deploy.Flow]
}

func newFlowLoader(mode, dir string) (*flowLoader, error) {
	l := &flowLoader{mode: mode, dir: dir}
	switch mode {
	case "", "static":
		l.mode = "static"
	case "python":
		py, err := exec.LookPath("python3")
		if err != nil {
			return nil, &diag.Error{Kind: diag.Usage, Msg: "--flow-metadata=python needs python3 on PATH", Hint: "install Python 3 with prefect (pip install prefect), or use --flow-metadata=static"}
		}
		l.python = py
	default:
		return nil, usageErr("use --flow-metadata static or --flow-metadata python", "unknown --flow-metadata %q", mode)
	}
	return l, nil
}

func (l *flowLoader) LoadFlow(ctx context.Context, entrypoint string) (*deploy.Flow, error) {
	return l.flows.Get(entrypoint, func() (*deploy.Flow, error) { return l.load(ctx, entrypoint) })
}

func (l *flowLoader) load(ctx context.Context, entrypoint string) (*deploy.Flow, error) {
	opt := flowmeta.Options{ProjectDir: l.dir}
	var f *flowmeta.Flow
	var err error
	if l.mode == "python" {
		f, err = flowmeta.LoadWithPython(ctx, l.python, entrypoint, opt)
	} else {
		f, err = flowmeta.Load(entrypoint, opt)
	}
	if err != nil {
		return nil, l.relative(err)
	}
	for _, w := range f.Warnings {
		l.relativeProblem(w)
	}
	if f.ParameterSchema == nil {
		return nil, fmt.Errorf("flow metadata for %s has no parameter schema", entrypoint)
	}
	desc := f.Description
	return &deploy.Flow{Name: f.Name, Description: desc, Version: f.Version, ParameterSchema: f.ParameterSchema, Warnings: f.Warnings}, nil
}

// relative rewrites absolute paths under the project directory in flow
// problems as the user wrote them (flows/hello.py), so messages match what
// is in prefect.yaml.
func (l *flowLoader) relative(err error) error {
	var list diag.List
	if errors.As(err, &list) {
		for _, e := range list {
			l.relativeProblem(e)
		}
		return err
	}
	var d *diag.Error
	if errors.As(err, &d) {
		l.relativeProblem(d)
	}
	return err
}

func (l *flowLoader) relativeProblem(e *diag.Error) {
	base := l.dir
	if l.shown != "" {
		base = l.shown
	}
	prefix := strings.TrimRight(base, string(filepath.Separator)) + string(filepath.Separator)
	if base == "" {
		return
	}
	e.File = strings.TrimPrefix(e.File, prefix)
	e.Msg = strings.ReplaceAll(e.Msg, prefix, "")
	e.Hint = strings.ReplaceAll(e.Hint, prefix, "")
}
