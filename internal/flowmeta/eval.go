package flowmeta

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"

	"github.com/prefectctl/prefectctl/internal/py"
)

// Values the evaluator builds for calls it understands.
type (
	enumMember struct {
		cls   *classDef
		name  string
		value any
	}
	modelValue struct {
		cls    *classDef
		fields *pyDict // field name -> value, in field order
	}
	timedelta struct{ micros *big.Int }
	pyDate    struct{ y, mo, d int }
	pyDT      struct {
		date           pyDate
		h, mi, s, us   int
		hasTime, isDTm bool
	}
	strLike struct {
		kind string // decimal, uuid, path
		s    string
	}
	// unserializable is a value pydantic cannot put in a JSON schema (a
	// function, a class): the default is left out, as pydantic does.
	unserializable struct{ what string }
)

// notEvaluable explains why a default could not be computed statically.
type notEvaluable struct {
	line int
	what string
}

func (e *notEvaluable) Error() string { return e.what }

type evaluator struct {
	l *loader
}

func opaque(line int, format string, a ...any) error {
	return &notEvaluable{line: line, what: fmt.Sprintf(format, a...)}
}

// eval computes the value of a default or decorator argument, for the
// expressions whose value does not depend on anything but the source.
func (ev *evaluator) eval(m *module, e expr, depth int) (any, error) {
	if depth > maxResolveDepth {
		return nil, opaque(e.pos(), "expression too deep")
	}
	switch x := e.(type) {
	case *eConst:
		return x.v, nil
	case *eFString:
		var b strings.Builder
		for _, p := range x.parts {
			if p.e == nil {
				b.WriteString(p.text)
				continue
			}
			v, err := ev.eval(m, p.e, depth+1)
			if err != nil {
				return nil, err
			}
			switch v.(type) {
			case nil, bool, int64, float64, string:
			default:
				return nil, opaque(x.line, "f-string field of type %s", pyTypeName(v))
			}
			switch p.conv {
			case 'r', 'a':
				if s, ok := v.(string); ok && p.conv == 'a' && !py.IsASCII(s) {
					return nil, opaque(x.line, "f-string !a on non-ASCII text")
				}
				b.WriteString(py.Repr(v))
			default:
				b.WriteString(py.Str(v))
			}
		}
		return b.String(), nil
	case *eOpaque:
		if x.what == "lambda" {
			return unserializable{"lambda"}, nil
		}
		return nil, opaque(x.line, "%s", x.what)
	case *eList:
		vals := make([]any, 0, len(x.elts))
		for _, el := range x.elts {
			v, err := ev.eval(m, el, depth+1)
			if err != nil {
				return nil, err
			}
			vals = append(vals, v)
		}
		switch x.kind {
		case "tuple":
			return pyTuple(vals), nil
		case "set":
			return pySet(vals), nil
		}
		return vals, nil
	case *eDict:
		d := &pyDict{}
		for i, k := range x.keys {
			if k == nil {
				return nil, opaque(x.line, "dict unpacking")
			}
			kv, err := ev.eval(m, k, depth+1)
			if err != nil {
				return nil, err
			}
			vv, err := ev.eval(m, x.vals[i], depth+1)
			if err != nil {
				return nil, err
			}
			d.set(kv, vv)
		}
		return d, nil
	case *eUnary:
		v, err := ev.eval(m, x.x, depth+1)
		if err != nil {
			return nil, err
		}
		return unary(x.op, v, x.line)
	case *eBin:
		l, err := ev.eval(m, x.l, depth+1)
		if err != nil {
			return nil, err
		}
		r, err := ev.eval(m, x.r, depth+1)
		if err != nil {
			return nil, err
		}
		return binop(x.op, l, r, x.line)
	case *eName, *eAttr:
		ev.checkRebound(m, e)
		s := ev.l.resolve(m, e, depth+1)
		return ev.symValue(m, s, e, depth)
	case *eCall:
		return ev.call(m, x, depth)
	}
	return nil, opaque(e.pos(), "expression")
}

// checkRebound warns when the root name of e is bound more than once at
// the top of the module: a default, a decorator argument or an annotation
// evaluated at a def sees the binding current at that line, while the
// reader (like Prefect's own static helpers) uses the last one.
func (ev *evaluator) checkRebound(m *module, e expr) {
	root := e
	for {
		a, ok := root.(*eAttr)
		if !ok {
			break
		}
		root = a.x
	}
	n, ok := root.(*eName)
	if !ok || m.top == nil {
		return
	}
	if c := m.top.binds[n.id]; c > 1 {
		ev.l.warn(m.path, n.line, "%s is bound %d times in the module; the reader uses the last binding, which may not be the one in effect at this line", n.id, c)
	} else if m.top.alts[n.id] {
		ev.l.warn(m.path, n.line, "%s is assigned different values in the branches of an if or try statement; the reader uses the first branch, which may not be the one that runs", n.id)
	}
}

func (ev *evaluator) symValue(m *module, s sym, e expr, depth int) (any, error) {
	name, _ := dotted(e)
	switch s.kind {
	case symValue:
		if a, ok := e.(*eAttr); ok {
			// Enum members: Class.MEMBER
			if cs := ev.l.resolve(m, a.x, depth+1); cs.kind == symClass && isEnumClass(ev.l, cs.cls, 0) {
				return ev.member(cs.cls, a.name, a.line)
			}
		}
		return ev.eval(s.mod, s.val, depth+1)
	case symFunc, symClass:
		return unserializable{name}, nil
	case symExternal:
		if v, ok := libraryConstant(canonical(s.qual)); ok {
			return v, nil
		}
		switch canonical(s.qual) {
		case "builtins.None":
			return nil, nil
		case "builtins.Ellipsis":
			return pyEllipsis{}, nil
		case "math.pi":
			return math.Pi, nil
		case "math.e":
			return math.E, nil
		}
		if strings.HasPrefix(s.qual, "builtins.") {
			return unserializable{name}, nil
		}
		if i := strings.LastIndex(s.qual, "."); i > 0 {
			return nil, opaque(e.pos(), "%s is defined in module %s, outside the project", name, s.qual[:i])
		}
	}
	return nil, opaque(e.pos(), "name %s", name)
}

func (ev *evaluator) call(m *module, c *eCall, depth int) (any, error) {
	name, _ := dotted(c.fn)
	if c.star {
		return nil, opaque(c.line, "call of %s with unpacked arguments", name)
	}
	s := ev.l.resolve(m, c.fn, depth+1)
	args := make([]any, len(c.args))
	for i, a := range c.args {
		v, err := ev.eval(m, a, depth+1)
		if err != nil {
			return nil, err
		}
		args[i] = v
	}
	kws := map[string]any{}
	for _, k := range c.kws {
		v, err := ev.eval(m, k.v, depth+1)
		if err != nil {
			return nil, err
		}
		kws[k.name] = v
	}
	if s.kind == symClass && isModelClass(ev.l, s.cls, 0) && len(args) == 0 {
		return ev.newModel(s.cls, kws, c.line, depth)
	}
	if s.kind != symExternal {
		return nil, opaque(c.line, "call of %s", name)
	}
	q := canonical(s.qual)
	if v, ok, err := libraryCall(q, args, kws, c.line); ok {
		return v, err
	}
	switch q {
	case "builtins.set", "builtins.frozenset", "builtins.list", "builtins.tuple":
		if len(kws) > 0 || len(args) > 1 {
			break
		}
		var items []any
		if len(args) == 1 {
			var ok bool
			if items, ok = iterable(args[0]); !ok {
				break
			}
		}
		switch q {
		case "builtins.list":
			return append([]any{}, items...), nil
		case "builtins.tuple":
			return pyTuple(items), nil
		}
		return pySet(items), nil
	case "builtins.dict":
		if len(args) == 0 {
			d := &pyDict{}
			for _, k := range c.kws {
				d.set(k.name, kws[k.name])
			}
			return d, nil
		}
	case "builtins.str":
		if len(args) == 1 && len(kws) == 0 {
			if s, ok := args[0].(string); ok {
				return s, nil
			}
		}
	case "datetime.timedelta":
		return newTimedelta(args, kws, c.line)
	case "datetime.date", "datetime.datetime":
		return newDate(q == "datetime.datetime", args, kws, c.line)
	case "decimal.Decimal":
		if len(args) == 1 && len(kws) == 0 {
			switch v := args[0].(type) {
			case string:
				if _, ok := new(big.Float).SetString(strings.TrimSpace(v)); ok && !strings.ContainsAny(v, "eE_") {
					return strLike{"decimal", strings.TrimSpace(v)}, nil
				}
			case int64:
				return strLike{"decimal", strconv.FormatInt(v, 10)}, nil
			}
		}
	case "pathlib.Path", "pathlib.PurePath", "pathlib.PosixPath", "pathlib.PurePosixPath":
		var parts []string
		for _, a := range args {
			s, ok := a.(string)
			if !ok {
				return nil, opaque(c.line, "Path with a non-string part")
			}
			parts = append(parts, s)
		}
		if len(kws) == 0 {
			return strLike{"path", pyPath(parts)}, nil
		}
	case "uuid.UUID":
		if len(args) == 1 && len(kws) == 0 {
			if s, ok := args[0].(string); ok {
				if u, ok := canonicalUUID(s); ok {
					return strLike{"uuid", u}, nil
				}
			}
		}
	}
	return nil, opaque(c.line, "call of %s", name)
}

// member finds an enum member by name, evaluating the members before it
// (auto() depends on them).
func (ev *evaluator) member(cls *classDef, name string, line int) (any, error) {
	var prev []enumMember
	for _, a := range cls.assigns {
		if strings.HasPrefix(a.name, "_") {
			continue
		}
		v, err := ev.enumValue(cls, a, prev)
		if err != nil {
			return nil, err
		}
		mb := enumMember{cls: cls, name: a.name, value: v}
		if a.name == name {
			return mb, nil
		}
		prev = append(prev, mb)
	}
	return nil, opaque(line, "%s.%s is not an enum member", cls.name, name)
}

// enumValue evaluates an enum member, including auto(): the next integer
// after the previous member (1 first), or the lowercased name for StrEnum.
func (ev *evaluator) enumValue(cls *classDef, a field, prev []enumMember) (any, error) {
	if c, ok := a.val.(*eCall); ok && len(c.args) == 0 && len(c.kws) == 0 && !c.star {
		if s := ev.l.resolve(cls.mod, c.fn, 0); s.kind == symExternal && canonical(s.qual) == "enum.auto" {
			return ev.autoValue(cls, a.name, prev, c.line)
		}
	}
	return ev.eval(cls.mod, a.val, 0)
}
