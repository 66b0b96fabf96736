package flowmeta

import (
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/prefectctl/prefectctl/internal/value"
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
				if s, ok := v.(string); ok && p.conv == 'a' && !isASCII(s) {
					return nil, opaque(x.line, "f-string !a on non-ASCII text")
				}
				b.WriteString(value.Repr(v))
			default:
				b.WriteString(value.Str(v))
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

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func iterable(v any) ([]any, bool) {
	switch t := v.(type) {
	case []any:
		return t, true
	case pyTuple:
		return t, true
	case pySet:
		return t, true
	case string:
		var out []any
		for _, r := range t {
			out = append(out, string(r))
		}
		return out, true
	case *pyDict:
		return t.keys, true
	}
	return nil, false
}

// pyPath joins and normalises like pathlib.PurePosixPath's str().
func pyPath(parts []string) string {
	p := ""
	for _, s := range parts {
		if strings.HasPrefix(s, "/") || p == "" {
			p = s
		} else if s != "" {
			p = p + "/" + s
		}
	}
	if p == "" {
		return "."
	}
	lead := ""
	switch {
	case strings.HasPrefix(p, "//") && !strings.HasPrefix(p, "///"):
		lead = "//"
	case strings.HasPrefix(p, "/"):
		lead = "/"
	}
	var segs []string
	for _, s := range strings.Split(p, "/") {
		if s != "" && s != "." {
			segs = append(segs, s)
		}
	}
	out := lead + strings.Join(segs, "/")
	if out == "" {
		return "."
	}
	return out
}

func canonicalUUID(s string) (string, bool) {
	h := strings.ToLower(strings.NewReplacer("urn:uuid:", "", "{", "", "}", "", "-", "").Replace(strings.TrimSpace(s)))
	if len(h) != 32 {
		return "", false
	}
	for i := 0; i < len(h); i++ {
		if !isHex(h[i]) {
			return "", false
		}
	}
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:], true
}

func (d *pyDict) set(k, v any) {
	for i, x := range d.keys {
		if pyEqual(x, k) {
			d.vals[i] = v
			return
		}
	}
	d.keys = append(d.keys, k)
	d.vals = append(d.vals, v)
}

// pyEqual is == for hashable literal values (1 == 1.0 == True).
func pyEqual(a, b any) bool {
	fa, oka := numeric(a)
	fb, okb := numeric(b)
	if oka && okb {
		return fa.Cmp(fb) == 0
	}
	switch x := a.(type) {
	case nil:
		return b == nil
	case string:
		y, ok := b.(string)
		return ok && x == y
	case pyBytes:
		y, ok := b.(pyBytes)
		return ok && x == y
	case enumMember:
		y, ok := b.(enumMember)
		return ok && x.cls == y.cls && x.name == y.name
	case pyTuple:
		y, ok := b.(pyTuple)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !pyEqual(x[i], y[i]) {
				return false
			}
		}
		return true
	case strLike:
		y, ok := b.(strLike)
		return ok && x == y
	}
	return false
}

func numeric(v any) (*big.Float, bool) {
	switch t := v.(type) {
	case bool:
		if t {
			return big.NewFloat(1), true
		}
		return big.NewFloat(0), true
	case int64:
		return new(big.Float).SetInt64(t), true
	case *big.Int:
		return new(big.Float).SetInt(t), true
	case float64:
		if math.IsNaN(t) || math.IsInf(t, 0) {
			return nil, false
		}
		return big.NewFloat(t), true
	}
	return nil, false
}

func toBig(v any) (*big.Int, bool) {
	switch t := v.(type) {
	case bool:
		if t {
			return big.NewInt(1), true
		}
		return big.NewInt(0), true
	case int64:
		return big.NewInt(t), true
	case *big.Int:
		return t, true
	}
	return nil, false
}

func normInt(b *big.Int) any {
	if b.IsInt64() {
		return b.Int64()
	}
	return b
}

func toFloat(v any) (float64, bool) {
	switch t := v.(type) {
	case float64:
		return t, true
	case bool, int64, *big.Int:
		b, _ := toBig(t)
		f, _ := new(big.Float).SetInt(b).Float64()
		return f, true
	}
	return 0, false
}

func unary(op string, v any, line int) (any, error) {
	if c, ok := v.(pyComplex); ok && op == "-" {
		return pyComplex{-c.real, -c.imag}, nil
	}
	if b, ok := toBig(v); ok {
		switch op {
		case "-":
			return normInt(new(big.Int).Neg(b)), nil
		case "+":
			return normInt(b), nil
		case "~":
			return normInt(new(big.Int).Not(b)), nil
		}
	}
	if f, ok := v.(float64); ok {
		switch op {
		case "-":
			return -f, nil
		case "+":
			return f, nil
		}
	}
	return nil, opaque(line, "unary %s on %s", op, pyTypeName(v))
}

func binop(op string, l, r any, line int) (any, error) {
	li, lok := toBig(l)
	ri, rok := toBig(r)
	if lok && rok {
		switch op {
		case "+":
			return normInt(new(big.Int).Add(li, ri)), nil
		case "-":
			return normInt(new(big.Int).Sub(li, ri)), nil
		case "*":
			return normInt(new(big.Int).Mul(li, ri)), nil
		case "//", "%":
			if ri.Sign() == 0 {
				return nil, opaque(line, "division by zero")
			}
			q, m := new(big.Int).DivMod(li, ri, new(big.Int))
			// Python floors toward negative infinity; DivMod is Euclidean.
			if m.Sign() != 0 && ri.Sign() < 0 {
				q.Add(q, big.NewInt(1))
				m.Add(m, ri)
			}
			if op == "//" {
				return normInt(q), nil
			}
			return normInt(m), nil
		case "**":
			if ri.Sign() >= 0 && ri.IsInt64() && ri.Int64() <= 4096 {
				return normInt(new(big.Int).Exp(li, ri, nil)), nil
			}
		case "/":
			if ri.Sign() == 0 {
				return nil, opaque(line, "division by zero")
			}
			f, _ := new(big.Rat).SetFrac(li, ri).Float64()
			return f, nil
		case "|", "&", "^", "<<", ">>":
			switch op {
			case "|":
				return normInt(new(big.Int).Or(li, ri)), nil
			case "&":
				return normInt(new(big.Int).And(li, ri)), nil
			case "^":
				return normInt(new(big.Int).Xor(li, ri)), nil
			case "<<":
				if ri.IsInt64() && ri.Int64() >= 0 && ri.Int64() <= 4096 {
					return normInt(new(big.Int).Lsh(li, uint(ri.Int64()))), nil
				}
			case ">>":
				if ri.IsInt64() && ri.Int64() >= 0 {
					return normInt(new(big.Int).Rsh(li, uint(min(ri.Int64(), 1<<20)))), nil
				}
			}
		}
		return nil, opaque(line, "integer operation %s", op)
	}
	lf, lok := toFloat(l)
	rf, rok := toFloat(r)
	if lok && rok {
		switch op {
		case "+":
			return lf + rf, nil
		case "-":
			return lf - rf, nil
		case "*":
			return lf * rf, nil
		case "/":
			if rf != 0 {
				return lf / rf, nil
			}
		case "**":
			if lf > 0 || rf == math.Trunc(rf) {
				return math.Pow(lf, rf), nil
			}
		}
		return nil, opaque(line, "float operation %s", op)
	}
	switch a := l.(type) {
	case string:
		if b, ok := r.(string); ok && op == "+" {
			return a + b, nil
		}
		if n, ok := r.(int64); ok && op == "*" && n*int64(len(a)) <= 1<<16 {
			return strings.Repeat(a, int(max(n, 0))), nil
		}
	case []any:
		if b, ok := r.([]any); ok && op == "+" {
			return append(append([]any{}, a...), b...), nil
		}
	case pyTuple:
		if b, ok := r.(pyTuple); ok && op == "+" {
			return append(append(pyTuple{}, a...), b...), nil
		}
	case pyComplex:
		if f, ok := toFloat(r); ok && (op == "+" || op == "-") {
			if op == "-" {
				f = -f
			}
			return pyComplex{a.real + f, a.imag}, nil
		}
	}
	if c, ok := r.(pyComplex); ok && (op == "+" || op == "-") {
		if f, ok := toFloat(l); ok {
			if op == "-" {
				c = pyComplex{-c.real, -c.imag}
			}
			return pyComplex{c.real + f, c.imag}, nil
		}
	}
	return nil, opaque(line, "operation %s on %s and %s", op, pyTypeName(l), pyTypeName(r))
}

func pyTypeName(v any) string {
	switch v.(type) {
	case nil:
		return "None"
	case bool:
		return "bool"
	case int64, *big.Int:
		return "int"
	case float64:
		return "float"
	case string:
		return "str"
	case pyBytes:
		return "bytes"
	case []any:
		return "list"
	case pyTuple:
		return "tuple"
	case pySet:
		return "set"
	case *pyDict:
		return "dict"
	}
	return fmt.Sprintf("%T", v)
}

func newTimedelta(args []any, kws map[string]any, line int) (any, error) {
	names := []string{"days", "seconds", "microseconds", "milliseconds", "minutes", "hours", "weeks"}
	scale := map[string]*big.Rat{
		"days": big.NewRat(86400e6, 1), "seconds": big.NewRat(1e6, 1), "microseconds": big.NewRat(1, 1),
		"milliseconds": big.NewRat(1000, 1), "minutes": big.NewRat(60e6, 1), "hours": big.NewRat(3600e6, 1),
		"weeks": big.NewRat(7*86400e6, 1),
	}
	if len(args) > len(names) {
		return nil, opaque(line, "timedelta with too many arguments")
	}
	total := new(big.Rat)
	add := func(name string, v any) error {
		var r *big.Rat
		if b, ok := toBig(v); ok {
			r = new(big.Rat).SetInt(b)
		} else if f, ok := v.(float64); ok && !math.IsInf(f, 0) && !math.IsNaN(f) {
			r = new(big.Rat)
			r.SetFloat64(f)
		} else {
			return opaque(line, "timedelta(%s=%s)", name, pyTypeName(v))
		}
		total.Add(total, new(big.Rat).Mul(r, scale[name]))
		return nil
	}
	for i, a := range args {
		if err := add(names[i], a); err != nil {
			return nil, err
		}
	}
	for k, v := range kws {
		if _, ok := scale[k]; !ok {
			return nil, opaque(line, "timedelta keyword %s", k)
		}
		if err := add(k, v); err != nil {
			return nil, err
		}
	}
	if !total.IsInt() {
		// Python rounds half to even to whole microseconds.
		f, _ := total.Float64()
		return timedelta{big.NewInt(int64(math.RoundToEven(f)))}, nil
	}
	return timedelta{new(big.Int).Set(total.Num())}, nil
}

func newDate(isDT bool, args []any, kws map[string]any, line int) (any, error) {
	names := []string{"year", "month", "day", "hour", "minute", "second", "microsecond"}
	if !isDT {
		names = names[:3]
	}
	vals := map[string]int{}
	if len(args) > len(names) {
		return nil, opaque(line, "date with too many arguments")
	}
	for i, a := range args {
		n, ok := a.(int64)
		if !ok {
			return nil, opaque(line, "date argument %s", pyTypeName(a))
		}
		vals[names[i]] = int(n)
	}
	for k, v := range kws {
		n, ok := v.(int64)
		if !ok || !contains(names, k) {
			return nil, opaque(line, "date keyword %s", k)
		}
		vals[k] = int(n)
	}
	for _, req := range []string{"year", "month", "day"} {
		if _, ok := vals[req]; !ok {
			return nil, opaque(line, "date without %s", req)
		}
	}
	d := pyDate{vals["year"], vals["month"], vals["day"]}
	if d.mo < 1 || d.mo > 12 || d.d < 1 || d.d > daysIn(d.y, d.mo) || d.y < 1 || d.y > 9999 {
		return nil, opaque(line, "invalid date")
	}
	if !isDT {
		return d, nil
	}
	dt := pyDT{date: d, h: vals["hour"], mi: vals["minute"], s: vals["second"], us: vals["microsecond"], isDTm: true}
	if dt.h < 0 || dt.h > 23 || dt.mi < 0 || dt.mi > 59 || dt.s < 0 || dt.s > 59 || dt.us < 0 || dt.us > 999999 {
		return nil, opaque(line, "invalid datetime")
	}
	return dt, nil
}

func daysIn(y, m int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
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
			if classBase(ev.l, cls, map[string]bool{"enum.StrEnum": true}, 0) {
				return strings.ToLower(a.name), nil
			}
			if len(prev) == 0 {
				return int64(1), nil
			}
			if last, ok := toBig(prev[len(prev)-1].value); ok {
				if _, isBool := prev[len(prev)-1].value.(bool); !isBool {
					return normInt(new(big.Int).Add(last, big.NewInt(1))), nil
				}
			}
			return nil, opaque(c.line, "auto() after a non-integer value")
		}
	}
	return ev.eval(cls.mod, a.val, 0)
}

// toJSON turns a default into what pydantic writes into the schema
// (to_jsonable_python in JSON mode). ok is false for values pydantic
// leaves out (functions and the like).
func toJSON(v any) (out any, ok bool, err error) {
	switch t := v.(type) {
	case nil, bool, int64, string:
		return t, true, nil
	case *big.Int:
		return json.Number(t.String()), true, nil
	case float64:
		if math.IsInf(t, 0) || math.IsNaN(t) {
			return nil, false, fmt.Errorf("non-finite float default")
		}
		return t, true, nil
	case pyBytes:
		// pydantic writes bytes defaults as UTF-8 text
		if !utf8.ValidString(string(t)) {
			return nil, false, fmt.Errorf("bytes default that is not UTF-8")
		}
		return string(t), true, nil
	case pyComplex:
		return complexRepr(t), true, nil
	case []any:
		return listJSON(t)
	case pyTuple:
		return listJSON(t)
	case pySet:
		if len(t) > 1 {
			return nil, false, fmt.Errorf("set default with several items (its order depends on Python's hashing)")
		}
		return listJSON(t)
	case *pyDict:
		m := value.NewMap()
		for i, k := range t.keys {
			ks, err := keyString(k)
			if err != nil {
				return nil, false, err
			}
			jv, ok, err := toJSON(t.vals[i])
			if err != nil || !ok {
				return nil, ok, err
			}
			m.Set(ks, jv)
		}
		return m, true, nil
	case enumMember:
		return toJSON(t.value)
	case modelValue:
		return toJSON(t.fields)
	case timedelta:
		return isoDuration(t.micros), true, nil
	case pyDate:
		return fmt.Sprintf("%04d-%02d-%02d", t.y, t.mo, t.d), true, nil
	case pyDT:
		s := fmt.Sprintf("%04d-%02d-%02dT%02d:%02d:%02d", t.date.y, t.date.mo, t.date.d, t.h, t.mi, t.s)
		if t.us != 0 {
			s += fmt.Sprintf(".%06d", t.us)
		}
		return s, true, nil
	case strLike:
		return t.s, true, nil
	case unserializable:
		return nil, false, nil
	case pyEllipsis:
		return nil, false, nil
	}
	return nil, false, fmt.Errorf("default of type %T", v)
}

func listJSON(items []any) (any, bool, error) {
	out := make([]any, 0, len(items))
	for _, it := range items {
		j, ok, err := toJSON(it)
		if err != nil || !ok {
			return nil, ok, err
		}
		out = append(out, j)
	}
	return out, true, nil
}

func keyString(k any) (string, error) {
	switch t := k.(type) {
	case string:
		return t, nil
	case nil:
		return "None", nil
	case bool:
		if t {
			return "true", nil
		}
		return "false", nil
	case int64:
		return strconv.FormatInt(t, 10), nil
	case *big.Int:
		return t.String(), nil
	case float64:
		return value.FloatRepr(t), nil
	case enumMember:
		return keyString(t.value)
	}
	return "", fmt.Errorf("dict key of type %s", pyTypeName(k))
}

func complexRepr(c pyComplex) string {
	im := value.FloatRepr(c.imag)
	im = strings.TrimSuffix(im, ".0")
	if c.real == 0 && !math.Signbit(c.real) {
		return im + "j"
	}
	re := strings.TrimSuffix(value.FloatRepr(c.real), ".0")
	sign := "+"
	if c.imag < 0 || math.Signbit(c.imag) {
		sign = ""
	}
	return "(" + re + sign + im + "j)"
}

// isoDuration formats a timedelta the way pydantic's JSON mode does.
func isoDuration(micros *big.Int) string {
	neg := micros.Sign() < 0
	m := new(big.Int).Abs(micros)
	day := big.NewInt(86400e6)
	days, rest := new(big.Int).QuoRem(m, day, new(big.Int))
	r := rest.Int64()
	h := r / 3600e6
	r %= 3600e6
	mi := r / 60e6
	r %= 60e6
	s := r / 1e6
	us := r % 1e6
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	b.WriteByte('P')
	if days.Sign() != 0 {
		b.WriteString(days.String())
		b.WriteByte('D')
	}
	if h != 0 || mi != 0 || s != 0 || us != 0 || days.Sign() == 0 {
		b.WriteByte('T')
		if h != 0 {
			fmt.Fprintf(&b, "%dH", h)
		}
		if mi != 0 {
			fmt.Fprintf(&b, "%dM", mi)
		}
		if s != 0 || us != 0 || h == 0 && mi == 0 {
			if us != 0 {
				frac := strings.TrimRight(fmt.Sprintf("%06d", us), "0")
				fmt.Fprintf(&b, "%d.%sS", s, frac)
			} else {
				fmt.Fprintf(&b, "%dS", s)
			}
		}
	}
	return b.String()
}
