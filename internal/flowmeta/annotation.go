package flowmeta

import (
	"fmt"
	"math/big"
	"strings"

	"github.com/prefectctl/prefectctl/internal/py"
)

// annotation reads a parameter or field annotation in module m.
func (ty *typer) annotation(m *module, e expr, depth int) *typ {
	if e == nil {
		return anyT
	}
	if depth > maxTypeDepth {
		ty.warn(m, e.pos(), "annotation nested too deeply; using {} for its type")
		return anyT
	}
	switch x := e.(type) {
	case *eConst:
		if x.v == nil {
			return &typ{k: kNone}
		}
		if s, ok := x.v.(string); ok {
			return ty.stringAnnotation(m, s, x.line, depth)
		}
	case *eBin:
		if x.op == "|" {
			return union([]*typ{ty.annotation(m, x.l, depth+1), ty.annotation(m, x.r, depth+1)})
		}
	case *eName, *eAttr:
		ty.ev.checkRebound(m, e)
		return ty.named(m, e, ty.ev.l.resolve(m, e, 0), depth)
	case *eSub:
		return ty.generic(m, x, depth)
	case *eCall:
		if t := ty.conType(m, x, depth); t != nil {
			return t
		}
	}
	ty.warn(m, e.pos(), "annotation %s cannot be read; using {} for its type", exprText(e))
	return anyT
}

func (ty *typer) stringAnnotation(m *module, s string, line, depth int) *typ {
	e, err := parseAnnotationString(s)
	if err == nil {
		return ty.annotation(m, e, depth+1)
	}
	ty.warn(m, line, "string annotation %q cannot be read; using {} for its type", s)
	return anyT
}

func parseAnnotationString(s string) (expr, error) {
	toks, err := lex(strings.TrimSpace(s))
	if err == nil {
		p := &parser{toks: toks}
		var e expr
		if e, err = p.test(); err == nil {
			if p.peek().kind == tNewline || p.peek().kind == tEOF {
				return e, nil
			}
			err = fmt.Errorf("unexpected %s", describe(p.peek()))
		}
	}
	return nil, err
}

// undefinedName returns the first name in annotation e that Python could
// not evaluate in module m (unbound, not a builtin), or "". Strings nested
// inside a subscript stay forward references and are not evaluated.
func undefinedName(l *loader, m *module, e expr, top bool) string {
	switch x := e.(type) {
	case *eName:
		if l.lookup(m, x.id, 0).kind == symNone {
			return x.id
		}
	case *eAttr:
		return undefinedName(l, m, x.x, false)
	case *eSub:
		if n := undefinedName(l, m, x.x, false); n != "" {
			return n
		}
		for _, i := range x.index {
			if n := undefinedName(l, m, i, false); n != "" {
				return n
			}
		}
	case *eBin:
		if n := undefinedName(l, m, x.l, false); n != "" {
			return n
		}
		return undefinedName(l, m, x.r, false)
	case *eList:
		for _, i := range x.elts {
			if n := undefinedName(l, m, i, false); n != "" {
				return n
			}
		}
	case *eCall:
		if n := undefinedName(l, m, x.fn, false); n != "" {
			return n
		}
		for _, a := range x.args {
			if n := undefinedName(l, m, a, false); n != "" {
				return n
			}
		}
	case *eConst:
		if s, ok := x.v.(string); ok && top {
			if inner, err := parseAnnotationString(s); err == nil {
				return undefinedName(l, m, inner, false)
			}
		}
	}
	return ""
}

// prefectNamespace is the module pydantic resolves string annotations in
// when Prefect hands them over unevaluated: Prefect's v2_schema module,
// whose globals offer builtins plus these imports.
func prefectNamespace() *module {
	m := &module{path: "prefect/_internal/pydantic/v2_schema.py", name: "prefect._internal.pydantic.v2_schema", top: newScope()}
	for local, mod := range map[string]string{"inspect": "inspect", "typing": "typing", "t": "typing", "pydantic": "pydantic"} {
		m.top.names[local] = &binding{imp: &importRef{module: mod}}
	}
	for local, q := range map[string][2]string{
		"V2BaseModel": {"pydantic", "BaseModel"}, "ConfigDict": {"pydantic", "ConfigDict"},
		"create_model": {"pydantic", "create_model"}, "FieldInfo": {"pydantic.fields", "FieldInfo"},
		"TypeAdapter": {"pydantic.type_adapter", "TypeAdapter"},
	} {
		m.top.names[local] = &binding{imp: &importRef{module: q[0], attr: q[1]}}
	}
	return m
}

func (ty *typer) named(m *module, e expr, s sym, depth int) *typ {
	switch s.kind {
	case symExternal:
		q := canonical(s.qual)
		if k, ok := simpleTypes[q]; ok {
			return &typ{k: k, bare: true}
		}
		if _, ok := fixedSchemas[q]; ok {
			return &typ{k: kFixed, fixed: q}
		}
		if emptyTypes[q] || strings.HasPrefix(q, "builtins.") {
			return &typ{k: kEmpty} // instance checks: {} in the schema
		}
		if q == "typing.Optional" || q == "typing.Union" || q == "typing.Literal" || q == "typing.Annotated" {
			ty.warn(m, e.pos(), "bare %s cannot be read; using {} for its type", exprText(e))
			return anyT
		}
		ty.warn(m, e.pos(), "type %s comes from outside the project and cannot be read; using {} for its type (use --flow-metadata=python for the exact schema)", s.qual)
		return &typ{k: kEmpty}
	case symClass:
		switch {
		case isEnumClass(ty.ev.l, s.cls, 0):
			return &typ{k: kEnum, cls: s.cls}
		case isModelClass(ty.ev.l, s.cls, 0):
			return &typ{k: kModel, cls: s.cls}
		}
		if why := unknownBase(ty.ev.l, s.cls, 0); why != "" {
			ty.warn(s.cls.mod, s.cls.line, "class %s derives from %s, which cannot be read; using {} for its type", s.cls.name, why)
		}
		return &typ{k: kEmpty}
	case symValue:
		// NewType('Name', T) is T for pydantic; TypeVar(...) is Any.
		if c, ok := s.val.(*eCall); ok {
			if f := ty.ev.l.resolve(s.mod, c.fn, 0); f.kind == symExternal {
				switch canonical(f.qual) {
				case "typing.NewType":
					if len(c.args) == 2 {
						return ty.annotation(s.mod, c.args[1], depth+1)
					}
				case "typing.TypeVar":
					return anyT
				}
			}
		}
		// a type alias: X = Optional[int]
		return ty.annotation(s.mod, s.val, depth+1)
	case symModule:
		ty.warn(m, e.pos(), "module %s used as a type; using {} for its type", s.qual)
		return anyT
	}
	ty.warn(m, e.pos(), "name %s in an annotation is not defined or not readable; using {} for its type", exprText(e))
	return anyT
}

func (ty *typer) generic(m *module, x *eSub, depth int) *typ {
	base := ty.ev.l.resolve(m, x.x, 0)
	q := ""
	if base.kind == symExternal {
		q = canonical(base.qual)
	}
	if base.kind == symValue { // alias of a generic: L = typing.List
		if inner, ok := base.val.(*eName); ok {
			return ty.generic(base.mod, &eSub{x: inner, index: x.index, line: x.line}, depth+1)
		}
		if inner, ok := base.val.(*eAttr); ok {
			return ty.generic(base.mod, &eSub{x: inner, index: x.index, line: x.line}, depth+1)
		}
	}
	args := func() []*typ {
		out := make([]*typ, len(x.index))
		for i, a := range x.index {
			out[i] = ty.annotation(m, a, depth+1)
		}
		return out
	}
	switch q {
	case "typing.Optional":
		if len(x.index) == 1 {
			return union(append(args(), &typ{k: kNone}))
		}
	case "typing.Union":
		return union(args())
	case "typing.Annotated":
		if len(x.index) >= 1 {
			t := ty.annotation(m, x.index[0], depth+1)
			for _, meta := range x.index[1:] {
				if c, isCall := meta.(*eCall); isCall {
					t = ty.constrain(m, t, c)
				}
			}
			return t
		}
	case "typing.Literal":
		t := &typ{k: kLiteral}
		for _, a := range x.index {
			v, err := ty.ev.eval(m, a, 0)
			switch v.(type) {
			case string, int64, bool, nil, *big.Int, pyBytes:
			default:
				err = fmt.Errorf("unsupported literal")
			}
			if err != nil {
				ty.warn(m, a.pos(), "Literal value %s cannot be read; using {} for its type", exprText(a))
				return anyT
			}
			t.lits = append(t.lits, v)
		}
		return t
	case "typing.Callable", "typing.Type", "builtins.type":
		return &typ{k: simpleTypes[q]}
	}
	if emptyTypes[q] {
		return &typ{k: kEmpty}
	}
	if k, ok := simpleTypes[q]; ok {
		switch k {
		case kDeque, kCounter, kGenerator:
			if len(x.index) >= 1 {
				return &typ{k: k, args: args()}
			}
		case kList, kSet:
			if len(x.index) == 1 {
				return &typ{k: k, args: args()}
			}
		case kDict:
			if len(x.index) == 2 {
				return &typ{k: k, args: args()}
			}
		case kTuple:
			if len(x.index) == 2 {
				if c, ok := x.index[1].(*eConst); ok {
					if _, ok := c.v.(pyEllipsis); ok {
						return &typ{k: kTuple, args: []*typ{ty.annotation(m, x.index[0], depth+1)}, variadic: true}
					}
				}
			}
			if len(x.index) == 1 {
				if l, ok := x.index[0].(*eList); ok && l.kind == "tuple" && len(l.elts) == 0 {
					return &typ{k: kTuple} // Tuple[()]
				}
			}
			return &typ{k: kTuple, args: args()}
		}
	}
	ty.warn(m, x.line, "annotation %s cannot be read; using {} for its type", exprText(x))
	return anyT
}

// conType reads pydantic's constrained-type functions: conint(ge=1),
// constr(min_length=2), confloat(...), conlist(T, ...), conset(T, ...).
func (ty *typer) conType(m *module, c *eCall, depth int) *typ {
	s := ty.ev.l.resolve(m, c.fn, 0)
	if s.kind != symExternal || c.star {
		return nil
	}
	var base *typ
	args := c.args
	switch canonical(s.qual) {
	case "pydantic.conint":
		base = &typ{k: kInt}
	case "pydantic.confloat":
		base = &typ{k: kFloat}
	case "pydantic.constr":
		base = &typ{k: kStr}
	case "pydantic.conlist", "pydantic.conset", "pydantic.confrozenset":
		if len(args) != 1 {
			return nil
		}
		k := kList
		if canonical(s.qual) != "pydantic.conlist" {
			k = kSet
		}
		base = &typ{k: k, args: []*typ{ty.annotation(m, args[0], depth+1)}}
		args = nil
	default:
		return nil
	}
	if len(args) > 0 {
		return nil
	}
	// the keywords are Field's constraint names
	field := &eCall{fn: &eName{id: "Field", line: c.line}, kws: c.kws, line: c.line}
	return ty.constrainWith(m, base, field)
}

// constrain applies Annotated[T, Field(ge=..., ...)] constraints the way
// pydantic renders them; anything else is reported.
func (ty *typer) constrain(m *module, t *typ, c *eCall) *typ {
	s := ty.ev.l.resolve(m, c.fn, 0)
	if s.kind != symExternal || canonical(s.qual) != "pydantic.Field" && s.qual != "pydantic.fields.Field" {
		ty.warn(m, c.line, "Annotated metadata %s is not applied; the schema may lack its constraints", exprText(c))
		return t
	}
	return ty.constrainWith(m, t, c)
}

func (ty *typer) constrainWith(m *module, t *typ, c *eCall) *typ {
	if c.star || len(c.args) > 0 {
		ty.warn(m, c.line, "Annotated Field with positional arguments is not applied")
		return t
	}
	out := *t
	out.cons = py.NewMap()
	if t.cons != nil {
		out.cons.Update(t.cons)
	}
	isSeq := t.k == kList || t.k == kSet || t.k == kTuple
	for _, kw := range c.kws {
		v, err := ty.ev.eval(m, kw.v, 0)
		if err != nil {
			ty.warn(m, kw.v.pos(), "Field(%s=...) cannot be read (%v); the constraint is left out", kw.name, err)
			continue
		}
		key := ""
		switch kw.name {
		case "ge":
			key = "minimum"
		case "le":
			key = "maximum"
		case "gt":
			key = "exclusiveMinimum"
		case "lt":
			key = "exclusiveMaximum"
		case "multiple_of":
			key = "multipleOf"
		case "min_length":
			key = map[bool]string{true: "minItems", false: "minLength"}[isSeq]
		case "max_length":
			key = map[bool]string{true: "maxItems", false: "maxLength"}[isSeq]
		case "pattern":
			key = "pattern"
		case "description", "title":
			continue // Prefect's own Field(title=, description=) replaces these
		default:
			ty.warn(m, kw.v.pos(), "Field(%s=...) in Annotated is not applied to the schema", kw.name)
			continue
		}
		j, ok, err := toJSON(v)
		if err != nil || !ok {
			ty.warn(m, kw.v.pos(), "Field(%s=...) value cannot be rendered", kw.name)
			continue
		}
		out.cons.Set(key, j)
	}
	return &out
}
