// Package flowmeta reads a Prefect flow's name, description, version and
// parameter schema from its Python source without running Python, giving
// the values `prefect deploy` (Prefect 3.9.1 with pydantic 2) registers,
// and warning about every construct it cannot read exactly.
package flowmeta

import (
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/prefectctl/prefectctl/internal/diag"
	"github.com/prefectctl/prefectctl/internal/py"
)

// Options says where entrypoints are resolved.
type Options struct {
	ProjectDir string // entrypoints are resolved against ProjectDir (the CWD of deploy)
}

// Flow is what prefect deploy learns about a flow from its entrypoint.
type Flow struct {
	Name, Description string
	HasDescription    bool
	Version           string // @flow(version=...) or MD5 hex of the file bytes
	FunctionName      string
	File              string        // file as resolved
	ParameterSchema   *py.Map       // parameter_openapi_schema as prefect deploy sends it
	Warnings          []*diag.Error // constructs that could not be read exactly
}

// Load reads the flow at entrypoint ("path/file.py:func",
// "path/file.py:Class.method", "pkg.module:func" or "pkg.module.func").
// Errors are *diag.Error of kind Invalid naming the file and line.
func Load(entrypoint string, opt Options) (*Flow, error) {
	st := &state{}
	l := &loader{mods: map[string]*module{}}
	l.warn = func(file string, line int, format string, args ...any) { st.add(file, line, format, args...) }

	file, modName, objPath, err := resolveEntrypoint(entrypoint, opt.ProjectDir, l)
	if err != nil {
		return nil, err
	}
	m, err := l.load(file, modName)
	if err != nil {
		var se *syntaxError
		if errors.As(err, &se) {
			return nil, &diag.Error{Kind: diag.Invalid, File: file, Line: se.line, Col: se.col,
				Msg: "cannot read flow file: " + se.msg, Hint: "fix the Python syntax error (python -m py_compile " + file + ")"}
		}
		if errors.Is(err, os.ErrNotExist) {
			return nil, &diag.Error{Kind: diag.Invalid, File: file, Msg: "flow file not found",
				Hint: "entrypoints are relative to the directory prefect.yaml is in"}
		}
		return nil, &diag.Error{Kind: diag.Invalid, File: file, Msg: "cannot read flow file", Err: err,
			Hint: "check the entrypoint path in prefect.yaml"}
	}
	// Find the object: module attribute, then class attributes.
	parts := strings.Split(objPath, ".")
	s := l.lookup(m, parts[0], 0)
	for _, p := range parts[1:] {
		s = l.attr(s, p, 0)
	}
	funcName := parts[len(parts)-1]
	if s.kind == symNone {
		return nil, &diag.Error{Kind: diag.Invalid, File: file,
			Msg:  fmt.Sprintf("Flow function with name %q not found in %q", funcName, displayPath(entrypoint)),
			Hint: "check the function name after the ':' in the entrypoint"}
	}
	ev := &evaluator{l: l}
	var fn *funcDef
	var fm *module
	var meta flowMeta
	isFlow := false
	switch s.kind {
	case symFunc:
		fn, fm = s.fn, s.mod
		if err := undefinedDecorator(l, fm, fn); err != nil {
			return nil, err
		}
		meta, isFlow = readDecorators(ev, fm, fn, st)
	case symValue:
		fn, fm, meta, isFlow = flowCall(ev, s.mod, s.val, st)
	}
	if fn == nil {
		return nil, &diag.Error{Kind: diag.Invalid, File: file,
			Msg:  fmt.Sprintf("Function with name %q is not a flow. Make sure that it is decorated with '@flow'.", funcName),
			Hint: "prefectctl reads flows defined with def and decorated with @flow; use --flow-metadata=python for flows built another way"}
	}
	f := &Flow{FunctionName: fn.name, File: fm.path}
	if !isFlow {
		return nil, &diag.Error{Kind: diag.Invalid, File: fm.path, Line: fn.line,
			Msg:  fmt.Sprintf("Function with name %q is not a flow. Make sure that it is decorated with '@flow'.", funcName),
			Hint: "decorate the function with @flow (from prefect import flow)"}
	}
	f.Name = meta.name
	if f.Name == "" {
		f.Name = strings.ReplaceAll(fn.name, "_", "-")
	}
	if strings.ContainsAny(f.Name, "/%&<>") {
		return nil, &diag.Error{Kind: diag.Invalid, File: fm.path, Line: fn.line,
			Msg:  fmt.Sprintf("Name %q contains an invalid character. Must not contain any of: ['/', '%%', '&', '>', '<'].", f.Name),
			Hint: "change the flow name"}
	}
	var doc string
	hasDoc := fn.doc != nil
	if hasDoc {
		doc = cleandoc(*fn.doc)
	}
	switch {
	case meta.description != "":
		f.Description, f.HasDescription = meta.description, true
	case hasDoc:
		f.Description, f.HasDescription = doc, true
	}
	f.Version = meta.version
	if f.Version == "" {
		sum := md5.Sum(fm.src)
		f.Version = hex.EncodeToString(sum[:])
	}
	if !meta.noValidate {
		for _, p := range fn.params {
			switch p.name {
			case "model_config", "v__args", "v__kwargs", "v__positional_only", "v__duplicate_kwargs":
				return nil, &diag.Error{Kind: diag.Invalid, File: fm.path, Line: p.line,
					Msg:  "Flow function is not compatible with `validate_parameters`. Disable validation or change the argument names.",
					Hint: fmt.Sprintf("rename parameter %s (pydantic reserves it), or use @flow(validate_parameters=False)", p.name)}
			}
		}
	}
	if f.ParameterSchema, err = parameterSchema(ev, fm, fn, doc, st, meta.noValidate); err != nil {
		return nil, err
	}
	f.Warnings = st.warnings
	return f, nil
}

func displayPath(ep string) string {
	if i := strings.LastIndex(ep, ":"); i >= 0 {
		return ep[:i]
	}
	if i := strings.LastIndex(ep, "."); i >= 0 {
		return ep[:i]
	}
	return ep
}

// resolveEntrypoint finds the file, its module name and the object path.
func resolveEntrypoint(ep, project string, l *loader) (file, modName, obj string, err error) {
	bad := func(msg string) error {
		return &diag.Error{Kind: diag.Invalid, Msg: msg + ": " + ep,
			Hint: "use path/to/file.py:function or package.module:function"}
	}
	if project == "" {
		project = "."
	}
	if strings.Contains(ep, ".py:") || strings.HasSuffix(strings.SplitN(ep, ":", 2)[0], ".py") && strings.Contains(ep, ":") {
		i := strings.LastIndex(ep, ":")
		path, o := ep[:i], ep[i+1:]
		if o == "" {
			return "", "", "", bad("entrypoint has no function name")
		}
		if !filepath.IsAbs(path) {
			path = filepath.Join(project, path)
		}
		if _, err := os.Stat(path); err != nil {
			msg := "flow file not found"
			if !errors.Is(err, os.ErrNotExist) {
				msg = "cannot read the flow file: " + err.Error()
			}
			return "", "", "", &diag.Error{Kind: diag.Invalid, File: path, Msg: msg,
				Hint: "entrypoints are relative to the directory deploy runs in (as for prefect deploy); check the path in the entrypoint"}
		}
		l.roots = []string{filepath.Dir(path), project}
		return path, "", o, nil
	}
	var mod, o string
	if i := strings.LastIndex(ep, ":"); i >= 0 {
		mod, o = ep[:i], ep[i+1:]
	} else if i := strings.LastIndex(ep, "."); i >= 0 {
		mod, o = ep[:i], ep[i+1:]
	} else {
		return "", "", "", bad("invalid entrypoint")
	}
	if mod == "" || o == "" {
		return "", "", "", bad("invalid entrypoint")
	}
	l.roots = []string{project}
	p, ok := l.moduleFile(mod)
	if !ok {
		return "", "", "", &diag.Error{Kind: diag.Invalid, Msg: fmt.Sprintf("module %q not found in the project", mod),
			Hint: "module entrypoints are resolved against the project directory; installed packages need --flow-metadata=python"}
	}
	return p, mod, o, nil
}

// state collects warnings, once each.
type state struct {
	warnings []*diag.Error
	seen     map[string]bool
}

func (s *state) add(file string, line int, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	key := fmt.Sprintf("%s:%d:%s", file, line, msg)
	if s.seen == nil {
		s.seen = map[string]bool{}
	}
	if s.seen[key] {
		return
	}
	s.seen[key] = true
	s.warnings = append(s.warnings, &diag.Error{Kind: diag.Invalid, File: file, Line: line, Msg: msg,
		Hint: "use --flow-metadata=python to compute this value with Prefect itself"})
}

type flowMeta struct {
	name, description, version string
	noValidate                 bool // validate_parameters=False
}

// flowKeywords reads name, description, version and validate_parameters
// from a flow(...) call.
func flowKeywords(ev *evaluator, m *module, call *eCall, meta *flowMeta, st *state) {
	if call.star || len(call.args) > 0 {
		st.add(m.path, call.line, "flow(...) with positional or unpacked arguments cannot be read; the name, description and version may differ")
	}
	for _, kw := range call.kws {
		var dst *string
		switch kw.name {
		case "name":
			dst = &meta.name
		case "description":
			dst = &meta.description
		case "version":
			dst = &meta.version
		case "validate_parameters":
			if v, err := ev.eval(m, kw.v, 0); err == nil && v == false {
				meta.noValidate = true
			}
			continue
		default:
			continue
		}
		v, err := ev.eval(m, kw.v, 0)
		if err != nil {
			st.add(m.path, kw.v.pos(), "@flow(%s=%s) is computed when the module runs and cannot be read (%v); using the default %s", kw.name, exprText(kw.v), err, kw.name)
			continue
		}
		switch t := v.(type) {
		case nil:
		case string:
			*dst = t
		case int64, float64, bool:
			*dst = py.Str(t)
		default:
			st.add(m.path, kw.v.pos(), "@flow(%s=...) is not a string; using the default %s", kw.name, kw.name)
		}
	}
}

// flowCall recognises a flow made by calling flow instead of decorating:
// `x = flow(fn)`, `x = flow(fn, name=...)` or `x = flow(name=...)(fn)`.
func flowCall(ev *evaluator, m *module, e expr, st *state) (*funcDef, *module, flowMeta, bool) {
	var meta flowMeta
	call, ok := e.(*eCall)
	if !ok || len(call.args) != 1 || call.star {
		return nil, nil, meta, false
	}
	isFlow := func(x expr) bool {
		s := ev.l.resolve(m, x, 0)
		return s.kind == symExternal && canonical(s.qual) == "prefect.flow"
	}
	switch {
	case isFlow(call.fn):
		kws := &eCall{fn: call.fn, kws: call.kws, line: call.line}
		flowKeywords(ev, m, kws, &meta, st)
	default:
		inner, ok := call.fn.(*eCall)
		if !ok || !isFlow(inner.fn) {
			return nil, nil, meta, false
		}
		flowKeywords(ev, m, inner, &meta, st)
	}
	s := ev.l.resolve(m, call.args[0], 0)
	if s.kind != symFunc {
		return nil, nil, meta, false
	}
	return s.fn, s.mod, meta, true
}

// readDecorators finds @flow among the decorators and reads its keywords.
func readDecorators(ev *evaluator, m *module, fn *funcDef, st *state) (flowMeta, bool) {
	var meta flowMeta
	found, notFlow := false, false
	var others []expr
	for _, d := range fn.decorators {
		target := d
		call, isCall := d.(*eCall)
		if isCall {
			target = call.fn
		}
		s := ev.l.resolve(m, target, 0)
		q := ""
		if s.kind == symExternal {
			q = canonical(s.qual)
		}
		switch q {
		case "prefect.flow":
			found = true
			if isCall {
				flowKeywords(ev, m, call, &meta, st)
			}
		case "builtins.staticmethod", "builtins.classmethod":
		default:
			if strings.HasPrefix(q, "prefect.") {
				// @task and the like: Prefect objects that are not flows.
				notFlow = true
				continue
			}
			others = append(others, d)
		}
	}
	for _, d := range others {
		if found {
			st.add(m.path, d.pos(), "decorator @%s is not understood; the flow is read as if it were absent", exprText(d))
		} else {
			st.add(m.path, d.pos(), "decorator @%s may create a flow in a way that cannot be read; the name, description, version and parameters are read from the function as if it were @flow", exprText(d))
		}
	}
	if !found && !notFlow && len(others) > 0 {
		return meta, true
	}
	return meta, found
}

// parameterSchema builds parameter_openapi_schema as prefect deploy sends
// it: ParameterSchema.model_dump(exclude_unset=True).
func parameterSchema(ev *evaluator, m *module, fn *funcDef, doc string, st *state, noValidate bool) (*py.Map, error) {
	ty := &typer{ev: ev, defs: py.NewMap(), busy: map[*classDef]bool{},
		warn: func(mm *module, line int, format string, args ...any) { st.add(mm.path, line, format, args...) }}
	descs := paramDocs(doc)
	// Prefect asks inspect.signature(fn, eval_str=True) for the types. When
	// a string annotation (every annotation under `from __future__ import
	// annotations`) names something undefined at run time, typically an
	// import under TYPE_CHECKING, that fails and Prefect passes all string
	// annotations to pydantic unevaluated; pydantic then resolves them in
	// Prefect's own module, where only builtins and `typing` are known.
	var pns *module
	for _, p := range fn.params {
		if !isStringAnnotation(m, p.ann) {
			continue
		}
		if n := undefinedName(ev.l, m, p.ann, true); n != "" {
			st.add(m.path, p.ann.pos(), "name %s in the annotation of parameter %s is not defined when the module runs (imported under TYPE_CHECKING?); Prefect then cannot evaluate string annotations, and types other than builtins and typing.X become {}", n, p.name)
			pns = prefectNamespace()
			break
		}
	}
	props := py.NewMap()
	var required []any
	for pos, p := range fn.params {
		if p.name == "self" || p.name == "cls" {
			continue
		}
		// Under `from __future__ import annotations` annotations are
		// strings that Prefect evaluates (eval_str=True): the same types.
		var t *typ
		switch {
		case pns != nil && isStringAnnotation(m, p.ann):
			ann := p.ann
			if c, ok := ann.(*eConst); ok {
				if s, ok := c.v.(string); ok {
					if e, err := parseAnnotationString(s); err == nil {
						ann = e
					}
				}
			}
			if undefinedName(ev.l, pns, ann, true) != "" {
				t = anyT // pydantic fails and Prefect falls back to Any
			} else {
				t = ty.annotation(pns, ann, 0)
			}
		default:
			t = ty.annotation(m, p.ann, 0)
		}
		switch p.kind {
		case pVarArgs:
			t = &typ{k: kList, args: []*typ{t}}
		case pVarKw:
			t = &typ{k: kDict, args: []*typ{{k: kStr}, t}}
		}
		prop, req, err := ty.paramProperty(m, p, t, pos, descs[p.name], !noValidate)
		if err != nil {
			return nil, err
		}
		props.Set(p.name, prop)
		if req {
			required = append(required, p.name)
		}
	}
	out := py.NewMap()
	out.Set("title", "Parameters")
	out.Set("type", "object")
	out.Set("properties", props)
	if len(required) > 0 {
		out.Set("required", required)
	}
	if ty.defs.Len() > 0 {
		defs := py.NewMap()
		for _, k := range ty.defs.SortedKeys() {
			v, _ := ty.defs.Get(k)
			defs.Set(k, v)
		}
		out.Set("definitions", defs)
	}
	return out, nil
}

// isStringAnnotation: the annotation is a string at run time.
func isStringAnnotation(m *module, ann expr) bool {
	if ann == nil {
		return false
	}
	if m.future {
		return true
	}
	if c, ok := ann.(*eConst); ok {
		_, isStr := c.v.(string)
		return isStr
	}
	return false
}

// sortedMap orders keys alphabetically, as pydantic emits them (JSON
// readers do not care; people reading -o json do). It returns m itself
// when it is already in order.
func sortedMap(m *py.Map) *py.Map {
	keys := m.Keys()
	if sort.StringsAreSorted(keys) {
		return m
	}
	out := py.NewMap()
	for _, k := range m.SortedKeys() {
		v, _ := m.Get(k)
		out.Set(k, v)
	}
	return out
}
