package project

// Values: `(( values.NAME ))` placeholders, replaced anywhere in
// prefect.yaml (after an environment's overlay is merged) by the values
// under prefectctl.values. The syntax is deliberately not Prefect's:
// Prefect owns every `{{ ... }}` — step outputs, $ENV, prefect.variables,
// prefect.blocks, and any other namespace, which it leaves for the worker's
// job template — so a prefectctl value inside braces would be a placeholder
// Prefect might resolve differently, or at run time. Prefect, Jinja and the
// shell never read `(( ))`, and YAML reads it as plain text, unquoted.

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/prefectctl/prefectctl/internal/diag"
	"github.com/prefectctl/prefectctl/internal/py"
)

// valuesPath is where values are defined: prefectctl.values.
const valuesPath = "prefectctl.values"

// valueRE matches `(( values.NAME ))`; NAME may go into mappings with dots.
var valueRE = regexp.MustCompile(`\(\([ \t]*values\.([A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*)[ \t]*\)\)`)

// nearValueRE matches what looks like a value placeholder in another
// namespace, to catch a misspelt `values`.
var nearValueRE = regexp.MustCompile(`\(\([ \t]*([A-Za-z_][A-Za-z0-9_]*)\.[A-Za-z0-9_.-]+[ \t]*\)\)`)

// valueSubst replaces value placeholders in a document.
type valueSubst struct {
	f        *File
	values   *py.Map
	errs     diag.List
	warnings []*diag.Error
	uses     map[string]string // where a whole value was put → its definition
}

// applyValues replaces every `(( values.NAME ))` in f's document. A file
// without such placeholders is left exactly as it is.
func applyValues(f *File) ([]*diag.Error, error) {
	top, ok := f.Raw.(*py.Map)
	if !ok {
		return nil, nil
	}
	s := &valueSubst{f: f, values: py.NewMap(), uses: map[string]string{}}
	if settings, _ := top.Get("prefectctl"); settings != nil {
		if sm, ok := settings.(*py.Map); ok {
			if v, present := sm.Get("values"); present && v != nil {
				vm, ok := v.(*py.Map)
				if !ok {
					return nil, diag.List{f.Errorf(valuesPath, "write values as a mapping: prefectctl: {values: {pool: my-pool}}", "expected a mapping of values, got %s", py.TypeName(v))}
				}
				s.values = vm
				s.noPlaceholders(vm, valuesPath)
			}
		}
	}
	for _, k := range top.Keys() {
		v, _ := top.Get(k)
		if nv, changed := s.walk(v, k); changed {
			top.Set(k, nv)
		}
	}
	s.movePositions()
	s.errs.Sort()
	return s.warnings, s.errs.Err()
}

// noPlaceholders rejects placeholders inside the values themselves.
func (s *valueSubst) noPlaceholders(v any, path string) {
	switch t := v.(type) {
	case string:
		if valueRE.MatchString(t) {
			s.errs = append(s.errs, s.f.Errorf(path, "write the value itself; values cannot refer to other values", "a value cannot hold a (( values.* )) placeholder"))
		}
	case *py.Map:
		for _, k := range t.Keys() {
			x, _ := t.Get(k)
			s.noPlaceholders(x, joinPath(path, k))
		}
	case []any:
		for i, x := range t {
			s.noPlaceholders(x, fmt.Sprintf("%s[%d]", path, i))
		}
	}
}

// walk returns v with its placeholders replaced, and whether anything
// changed. The values themselves are not walked.
func (s *valueSubst) walk(v any, path string) (any, bool) {
	switch t := v.(type) {
	case string:
		return s.str(t, path)
	case *py.Map:
		changed := false
		for _, k := range t.Keys() {
			p := joinPath(path, k)
			if p == valuesPath {
				continue
			}
			x, _ := t.Get(k)
			if nv, c := s.walk(x, p); c {
				t.Set(k, nv)
				changed = true
			}
		}
		return t, changed
	case []any:
		changed := false
		for i, x := range t {
			if nv, c := s.walk(x, fmt.Sprintf("%s[%d]", path, i)); c {
				t[i] = nv
				changed = true
			}
		}
		return t, changed
	}
	return v, false
}

// str replaces the placeholders of one string. A string that is exactly
// one placeholder becomes the value itself, of whatever type; within
// longer text a value is written as Python's str() writes it, as Prefect
// does with its own placeholders.
func (s *valueSubst) str(text, path string) (any, bool) {
	if !strings.Contains(text, "((") {
		return text, false
	}
	s.nearMisses(text, path)
	ms := valueRE.FindAllStringSubmatchIndex(text, -1)
	if len(ms) == 0 {
		return text, false
	}
	if len(ms) == 1 && ms[0][0] == 0 && ms[0][1] == len(text) {
		name := text[ms[0][2]:ms[0][3]]
		v, vpath, ok := s.lookup(name)
		if !ok {
			s.unknown(text, name, path)
			return text, false
		}
		s.uses[path] = vpath
		return py.Clone(v), true
	}
	var b strings.Builder
	last := 0
	failed := false
	for _, m := range ms {
		b.WriteString(text[last:m[0]])
		last = m[1]
		name := text[m[2]:m[3]]
		v, _, ok := s.lookup(name)
		switch {
		case !ok:
			s.unknown(text[m[0]:m[1]], name, path)
			failed = true
		case v == nil:
			s.errs = append(s.errs, s.f.Errorf(path, "give "+valuesPath+"."+name+" a value, or use the placeholder alone as the whole value", "(( values.%s )) is null and cannot be part of a text", name))
			failed = true
		default:
			switch v.(type) {
			case *py.Map, []any:
				s.errs = append(s.errs, s.f.Errorf(path, "use the placeholder alone as the whole value to insert a "+py.TypeName(v)+", or refer to one of its entries: (( values."+name+".KEY ))",
					"(( values.%s )) is a %s and cannot be part of a text", name, py.TypeName(v)))
				failed = true
			default:
				b.WriteString(py.Str(v))
			}
		}
	}
	if failed {
		return text, false
	}
	b.WriteString(text[last:])
	return b.String(), true
}

// lookup finds a value by its dotted name.
func (s *valueSubst) lookup(name string) (any, string, bool) {
	var cur any = s.values
	path := valuesPath
	for _, part := range strings.Split(name, ".") {
		m, ok := cur.(*py.Map)
		if !ok {
			return nil, "", false
		}
		if cur, ok = m.Get(part); !ok {
			return nil, "", false
		}
		path = joinPath(path, part)
	}
	return cur, path, true
}

func (s *valueSubst) unknown(placeholder, name, path string) {
	hint := "define it under prefectctl: {values: {...}} in prefect.yaml or in the environment's overlay (prefect.ENV.yaml)"
	if defined := s.names(s.values, ""); len(defined) > 0 {
		hint = "values defined: " + strings.Join(defined, ", ") + "; " + hint
	} else if s.f != nil {
		hint = "no values are defined; " + hint + ", and check that --env names the environment"
	}
	s.errs = append(s.errs, s.f.Errorf(path, hint, "%s: there is no value %q", placeholder, name))
}

// names lists the dotted names of the defined values.
func (s *valueSubst) names(m *py.Map, prefix string) []string {
	var out []string
	for _, k := range m.Keys() {
		v, _ := m.Get(k)
		if sub, ok := v.(*py.Map); ok && sub.Len() > 0 {
			out = append(out, s.names(sub, prefix+k+".")...)
			continue
		}
		out = append(out, prefix+k)
	}
	sort.Strings(out)
	return out
}

// movePositions gives each use of a whole value the positions of its
// definition: a value of the wrong type is reported where it was set. The
// key naming a use stays where it is.
func (s *valueSubst) movePositions() {
	if len(s.uses) == 0 {
		return
	}
	byDef := map[string][]string{}
	for use, def := range s.uses {
		byDef[def] = append(byDef[def], use)
	}
	for i, pos := range []map[string]Pos{s.f.pos, s.f.keyPos} {
		keys := i == 1
		moved := map[string]Pos{}
		for p, at := range pos {
			if use, ok := within(p, s.uses); ok && !(keys && p == use) {
				delete(pos, p)
				continue
			}
			if def, ok := within(p, byDef); ok && !(keys && p == def) {
				for _, use := range byDef[def] {
					moved[use+p[len(def):]] = at
				}
			}
		}
		for p, at := range moved {
			pos[p] = at
		}
	}
}

// nearMisses warns about placeholders that look like values with a
// misspelt namespace, such as (( value.pool )).
func (s *valueSubst) nearMisses(text, path string) {
	for _, m := range nearValueRE.FindAllStringSubmatch(text, -1) {
		ns := m[1]
		if ns == "values" || EditDistance(strings.ToLower(ns), "values") > 2 {
			continue
		}
		pos := s.f.Pos(path)
		s.warnings = append(s.warnings, &diag.Error{Kind: diag.Invalid, File: pos.File, Line: pos.Line, Col: pos.Col, Path: path,
			Msg:  fmt.Sprintf("%s is left as written: prefectctl replaces only (( values.NAME ))", m[0]),
			Hint: "did you mean " + strings.Replace(m[0], ns+".", "values.", 1) + "?"})
	}
}
