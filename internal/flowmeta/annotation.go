package flowmeta

import (
	"fmt"
	"math/big"
	"strings"
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
			out := *t // Annotated[Annotated[T, a], b] is Annotated[T, a, b]
			out.ann = append([]*fieldInfo(nil), t.ann...)
			for _, meta := range x.index[1:] {
				fi, ok := ty.annotatedMeta(m, meta, 0)
				if !ok {
					ty.warn(m, meta.pos(), "Annotated metadata %s is not applied; the schema may lack its constraints", exprText(meta))
					continue
				}
				out.ann = append(out.ann, fi)
			}
			return &out
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

// conType reads pydantic's constrained-type functions (conint(ge=1),
// constr(min_length=2), conlist(T, ...), ...), which return
// Annotated[T, <metadata>]: the metadata is kept in pydantic's order.
func (ty *typer) conType(m *module, c *eCall, depth int) *typ {
	s := ty.ev.l.resolve(m, c.fn, 0)
	if s.kind != symExternal || c.star {
		return nil
	}
	fn := canonical(s.qual)
	var base *typ
	args := c.args
	switch fn {
	case "pydantic.conint":
		base = &typ{k: kInt}
	case "pydantic.confloat":
		base = &typ{k: kFloat}
	case "pydantic.constr":
		base = &typ{k: kStr}
	case "pydantic.conbytes":
		base = &typ{k: kBytes}
	case "pydantic.condecimal":
		base = &typ{k: kDecimal}
	case "pydantic.condate":
		base = &typ{k: kDate}
	case "pydantic.conlist", "pydantic.conset", "pydantic.confrozenset":
		if len(args) != 1 {
			return nil
		}
		k := kList
		if fn != "pydantic.conlist" {
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
	vals := map[string]any{}
	for _, kw := range c.kws {
		v, err := ty.ev.eval(m, kw.v, 0)
		if err != nil {
			ty.warn(m, kw.v.pos(), "%s(%s=...) cannot be read (%v); the constraint is left out", exprText(c.fn), kw.name, err)
			continue
		}
		vals[kw.name] = v
	}
	fi := newFieldInfo(m, c.line)
	add := func(names ...string) {
		for _, n := range names {
			if v := vals[n]; v != nil {
				fi.cons = append(fi.cons, metaItem{{n, v}})
			}
		}
	}
	general := func(names ...string) {
		var item metaItem
		for _, n := range names {
			if v := vals[n]; v != nil {
				item = append(item, constraint{n, v})
			}
		}
		if len(item) > 0 {
			fi.cons = append(fi.cons, item)
		}
	}
	length := func() { // annotated_types.Len(min_length or 0, max_length)
		if n, ok := vals["min_length"].(int64); ok && n > 0 || vals["min_length"] != nil && !ok {
			add("min_length")
		}
		add("max_length")
	}
	switch fn {
	case "pydantic.conint", "pydantic.confloat", "pydantic.condecimal", "pydantic.condate":
		add("strict", "gt", "ge", "lt", "le")
		if fn != "pydantic.condate" {
			add("multiple_of")
		}
		if fn == "pydantic.condecimal" {
			general("max_digits", "decimal_places")
		}
		if fn == "pydantic.confloat" || fn == "pydantic.condecimal" {
			add("allow_inf_nan")
		}
	case "pydantic.constr":
		add("min_length", "max_length", "strict")
		general("strip_whitespace", "to_upper", "to_lower", "pattern")
	case "pydantic.conbytes":
		add("strict")
		length()
	default:
		length()
	}
	base.ann = []*fieldInfo{fi}
	return base
}
