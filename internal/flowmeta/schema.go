package flowmeta

import (
	"fmt"
	"math/big"
	"strings"
	"unicode"

	"github.com/prefectctl/prefectctl/internal/value"
)

// typ is an annotation as the reader understands it.
type typ struct {
	cons     *value.Map // JSON schema constraints from Annotated[..., Field(...)]
	fixed    string     // kFixed: the qualified name in fixedSchemas
	k        tkind
	args     []*typ
	lits     []any
	cls      *classDef
	variadic bool // tuple[X, ...]
	bare     bool // no type arguments given
}

type tkind uint8

const (
	kAny   tkind = iota
	kEmpty       // a class pydantic cannot describe: {} (GenerateEmptySchemaForUserClasses)
	kStr
	kInt
	kFloat
	kBool
	kBytes
	kNone
	kList
	kSet
	kTuple
	kDict
	kUnion
	kLiteral
	kDateTime
	kDate
	kTime
	kTimedelta
	kUUID
	kPath
	kDecimal
	kSecretStr
	kEnum
	kModel
	kFixed     // a library type with a known schema (fixedSchemas)
	kDeque     // array without uniqueItems
	kCounter   // Counter[K]: object of integers
	kGenerator // Generator[Y, S, R]: array of Y
)

// fixedSchemas are pydantic's schemas for library types without type
// arguments, as pydantic 2 (the version Prefect 3.9.1 pins) renders them.
var fixedSchemas = map[string]string{
	"builtins.complex":        `{"type":"string"}`,
	"re.Pattern":              `{"format":"regex","type":"string"}`,
	"typing.Pattern":          `{"format":"regex","type":"string"}`,
	"ipaddress.IPv4Address":   `{"format":"ipv4","type":"string"}`,
	"ipaddress.IPv6Address":   `{"format":"ipv6","type":"string"}`,
	"pydantic.HttpUrl":        `{"format":"uri","maxLength":2083,"minLength":1,"type":"string"}`,
	"pydantic.AnyUrl":         `{"format":"uri","minLength":1,"type":"string"}`,
	"pydantic.PositiveInt":    `{"exclusiveMinimum":0,"type":"integer"}`,
	"pydantic.NonNegativeInt": `{"minimum":0,"type":"integer"}`,
	"pydantic.NegativeInt":    `{"exclusiveMaximum":0,"type":"integer"}`,
	"pydantic.PositiveFloat":  `{"exclusiveMinimum":0,"type":"number"}`,
	"pydantic.StrictStr":      `{"type":"string"}`,
	"pydantic.StrictInt":      `{"type":"integer"}`,
	"pydantic.StrictBool":     `{"type":"boolean"}`,
	"pydantic.StrictFloat":    `{"type":"number"}`,
	"pydantic.SecretBytes":    `{"format":"password","type":"string","writeOnly":true}`,
	"pydantic.Json":           `{"contentMediaType":"application/json","contentSchema":{},"type":"string"}`,
	"pydantic.FilePath":       `{"format":"file-path","type":"string"}`,
	"pydantic.DirectoryPath":  `{"format":"directory-path","type":"string"}`,
	"pydantic.NewPath":        `{"format":"path","type":"string"}`,
	"pydantic.PastDate":       `{"format":"date","type":"string"}`,
	"pydantic.AwareDatetime":  `{"format":"date-time","type":"string"}`,
	"pydantic.UUID4":          `{"format":"uuid4","type":"string"}`,
	"pydantic.Base64Str":      `{"format":"base64","type":"string"}`,
	"pydantic.IPvAnyAddress":  `{"format":"ipvanyaddress","type":"string"}`,
}

// emptyTypes are library types pydantic describes as {} (instance checks).
var emptyTypes = map[string]bool{
	"typing.Iterator": true, "typing.Awaitable": true, "typing.Hashable": true, "typing.Sized": true,
	"typing.Container": true, "typing.Collection": true, "typing.TypeVar": true, "datetime.tzinfo": true,
}

var anyT = &typ{k: kAny}

// typer turns annotations into schema fragments, reporting what it could
// not read exactly.
type typer struct {
	ev   *evaluator
	defs *value.Map
	busy map[*classDef]bool
	warn func(m *module, line int, format string, args ...any)
}

var simpleTypes = map[string]tkind{
	"builtins.str": kStr, "builtins.int": kInt, "builtins.float": kFloat, "builtins.bool": kBool,
	"builtins.bytes": kBytes, "builtins.list": kList, "builtins.dict": kDict, "builtins.set": kSet,
	"builtins.frozenset": kSet, "builtins.tuple": kTuple, "builtins.object": kAny, "builtins.type": kEmpty,
	"typing.Any": kAny, "typing.List": kList, "typing.Dict": kDict, "typing.Set": kSet,
	"typing.FrozenSet": kSet, "typing.AbstractSet": kSet, "typing.MutableSet": kSet, "typing.Tuple": kTuple,
	"typing.Sequence": kList, "typing.MutableSequence": kList, "typing.Iterable": kList,
	"typing.Mapping": kDict, "typing.MutableMapping": kDict,
	"typing.Callable": kAny, "typing.Type": kEmpty, "typing.Deque": kDeque, "collections.deque": kDeque,
	"typing.DefaultDict": kDict, "collections.defaultdict": kDict, "typing.OrderedDict": kDict,
	"collections.OrderedDict": kDict, "typing.Counter": kCounter, "collections.Counter": kCounter,
	"typing.Generator":  kGenerator,
	"datetime.datetime": kDateTime, "datetime.date": kDate, "datetime.time": kTime,
	"datetime.timedelta": kTimedelta, "uuid.UUID": kUUID, "pathlib.Path": kPath, "pathlib.PurePath": kPath,
	"pathlib.PosixPath": kPath, "pathlib.PurePosixPath": kPath, "decimal.Decimal": kDecimal,
	"pydantic.SecretStr": kSecretStr, "builtins.None": kNone,
}

const maxTypeDepth = 64

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

// union flattens, removes duplicates and collapses single members, like
// typing.Union does.
func union(members []*typ) *typ {
	var flat []*typ
	var add func(t *typ)
	add = func(t *typ) {
		if t.k == kUnion {
			for _, a := range t.args {
				add(a)
			}
			return
		}
		for _, f := range flat {
			if typeEqual(f, t) {
				return
			}
		}
		flat = append(flat, t)
	}
	for _, m := range members {
		add(m)
	}
	if len(flat) == 1 {
		return flat[0]
	}
	return &typ{k: kUnion, args: flat}
}

// typeEqual is structural equality, for removing duplicate union members.
func typeEqual(a, b *typ) bool {
	if a.k != b.k || a.cls != b.cls || a.variadic != b.variadic || a.bare != b.bare ||
		len(a.args) != len(b.args) || len(a.lits) != len(b.lits) {
		return false
	}
	for i := range a.args {
		if !typeEqual(a.args[i], b.args[i]) {
			return false
		}
	}
	for i := range a.lits {
		if pyTypeName(a.lits[i]) != pyTypeName(b.lits[i]) || !pyEqual(a.lits[i], b.lits[i]) {
			return false
		}
	}
	return true
}

// classBase reports whether a class derives, through its bases in the
// project or in libraries, from one of the wanted qualified names.
func classBase(l *loader, cls *classDef, want map[string]bool, depth int) bool {
	if depth > maxResolveDepth {
		return false
	}
	for _, b := range cls.bases {
		s := l.resolve(cls.mod, b, 0)
		switch s.kind {
		case symExternal:
			if want[canonical(s.qual)] {
				return true
			}
		case symClass:
			if s.cls != cls && classBase(l, s.cls, want, depth+1) {
				return true
			}
		}
	}
	return false
}

var enumBases = map[string]bool{"enum.Enum": true, "enum.IntEnum": true, "enum.StrEnum": true, "enum.Flag": true, "enum.IntFlag": true}
var modelBases = map[string]bool{"pydantic.BaseModel": true}

func isEnumClass(l *loader, c *classDef, d int) bool { return classBase(l, c, enumBases, d) }

// isModelClass is true for pydantic models and dataclasses, which pydantic
// describes the same way (properties, required, title).
func isModelClass(l *loader, c *classDef, d int) bool {
	return classBase(l, c, modelBases, d) || isDataclass(l, c)
}

func isDataclass(l *loader, c *classDef) bool {
	for _, d := range c.decorators {
		if call, ok := d.(*eCall); ok {
			d = call.fn
		}
		if s := l.resolve(c.mod, d, 0); s.kind == symExternal {
			switch canonical(s.qual) {
			case "dataclasses.dataclass", "pydantic.dataclasses.dataclass":
				return true
			}
		}
	}
	return false
}

// unknownBase names a base that comes from a library the reader cannot
// see (it might make the class a pydantic model), or "".
func unknownBase(l *loader, cls *classDef, depth int) string {
	if depth > maxResolveDepth {
		return ""
	}
	for _, b := range cls.bases {
		s := l.resolve(cls.mod, b, 0)
		switch s.kind {
		case symExternal:
			q := canonical(s.qual)
			if strings.HasPrefix(q, "builtins.") || strings.HasPrefix(q, "typing.") || strings.HasPrefix(q, "abc.") {
				continue
			}
			return s.qual
		case symClass:
			if s.cls != cls {
				if w := unknownBase(l, s.cls, depth+1); w != "" {
					return w
				}
			}
		case symNone:
			return exprText(b)
		}
	}
	return ""
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
	out.cons = value.NewMap()
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

// schema is pydantic's JSON schema for t; definitions go to ty.defs.
func (ty *typer) schema(t *typ) *value.Map {
	s := ty.schemaNoCons(t)
	if t.cons != nil && t.cons.Len() > 0 {
		for _, k := range t.cons.Keys() {
			v, _ := t.cons.Get(k)
			s.Set(k, v)
		}
		s = sortedMap(s)
	}
	return s
}

func (ty *typer) schemaNoCons(t *typ) *value.Map {
	s := value.NewMap()
	switch t.k {
	case kAny, kEmpty:
	case kStr:
		s.Set("type", "string")
	case kInt:
		s.Set("type", "integer")
	case kFloat:
		s.Set("type", "number")
	case kBool:
		s.Set("type", "boolean")
	case kBytes:
		s.Set("format", "binary")
		s.Set("type", "string")
	case kNone:
		s.Set("type", "null")
	case kList, kSet:
		items := value.NewMap()
		if len(t.args) == 1 {
			items = ty.schema(t.args[0])
		}
		s.Set("items", items)
		s.Set("type", "array")
		if t.k == kSet {
			s.Set("uniqueItems", true)
		}
	case kTuple:
		switch {
		case t.bare:
			s.Set("items", value.NewMap())
		case t.variadic:
			s.Set("items", ty.schema(t.args[0]))
		default:
			prefix := make([]any, len(t.args))
			for i, a := range t.args {
				prefix[i] = ty.schema(a)
			}
			s.Set("maxItems", int64(len(t.args)))
			s.Set("minItems", int64(len(t.args)))
			if len(prefix) > 0 {
				s.Set("prefixItems", prefix)
			}
		}
		s.Set("type", "array")
	case kDict:
		var ap any = true
		if len(t.args) == 2 && t.args[1].k != kAny {
			ap = ty.schema(t.args[1])
		}
		s.Set("additionalProperties", ap)
		s.Set("type", "object")
	case kUnion:
		var any_ []any
		hasNone := false
		for _, a := range t.args {
			if a.k == kNone {
				hasNone = true
				continue
			}
			any_ = append(any_, ty.schema(a))
		}
		if hasNone {
			any_ = append(any_, value.MapOf("type", "null"))
		}
		s.Set("anyOf", any_)
	case kLiteral:
		vals := make([]any, len(t.lits))
		types := map[string]bool{}
		for i, v := range t.lits {
			j, _, _ := toJSON(v)
			vals[i] = j
			types[jsonType(v)] = true
		}
		if len(vals) == 1 {
			s.Set("const", vals[0])
		} else {
			s.Set("enum", vals)
		}
		if len(types) == 1 {
			for k := range types {
				if k != "" {
					s.Set("type", k)
				}
			}
		}
	case kDateTime, kDate, kTime, kTimedelta, kUUID, kPath:
		s.Set("format", map[tkind]string{kDateTime: "date-time", kDate: "date", kTime: "time", kTimedelta: "duration", kUUID: "uuid", kPath: "path"}[t.k])
		s.Set("type", "string")
	case kFixed:
		v, _ := value.DecodeJSON([]byte(fixedSchemas[t.fixed]))
		s = v.(*value.Map)
	case kDeque, kGenerator:
		items := value.NewMap()
		if len(t.args) >= 1 {
			items = ty.schema(t.args[0])
		}
		s.Set("items", items)
		s.Set("type", "array")
	case kCounter:
		s.Set("additionalProperties", value.MapOf("type", "integer"))
		s.Set("type", "object")
	case kSecretStr:
		s.Set("format", "password")
		s.Set("type", "string")
		s.Set("writeOnly", true)
	case kDecimal:
		s.Set("anyOf", []any{value.MapOf("type", "number"), value.MapOf("type", "string")})
	case kEnum:
		ty.enumDef(t.cls)
		s.Set("$ref", "#/definitions/"+t.cls.name)
	case kModel:
		ty.modelDef(t.cls)
		s.Set("$ref", "#/definitions/"+t.cls.name)
	}
	return s
}

func jsonType(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case bool:
		return "boolean"
	case int64, *big.Int:
		return "integer"
	case float64:
		return "number"
	case nil:
		return "null"
	}
	return ""
}

// enumMembers evaluates an Enum class's members in definition order.
func (ty *typer) enumMembers(cls *classDef) ([]enumMember, bool) {
	var out []enumMember
	for _, a := range cls.assigns {
		if strings.HasPrefix(a.name, "_") {
			continue
		}
		v, err := ty.ev.enumValue(cls, a, out)
		if err != nil {
			ty.warn(cls.mod, a.line, "enum member %s.%s has a value that cannot be read (%v)", cls.name, a.name, err)
			return nil, false
		}
		// Aliases (a second name for a value) are listed too: pydantic
		// walks __members__, which includes them.
		out = append(out, enumMember{cls: cls, name: a.name, value: v})
	}
	return out, true
}

func (ty *typer) enumDef(cls *classDef) {
	if ty.defs.Has(cls.name) {
		return
	}
	d := value.NewMap()
	if cls.doc != nil && strings.TrimSpace(*cls.doc) != "" {
		d.Set("description", cleandoc(*cls.doc))
	}
	members, ok := ty.enumMembers(cls)
	vals := []any{}
	types := map[string]bool{}
	if ok {
		for _, mb := range members {
			j, _, err := toJSON(mb.value)
			if err != nil {
				ty.warn(cls.mod, cls.line, "enum %s has a value pydantic may render differently (%v)", cls.name, err)
			}
			vals = append(vals, j)
			types[jsonType(mb.value)] = true
		}
	}
	d.Set("enum", vals)
	d.Set("title", cls.name)
	if len(types) == 1 {
		for k := range types {
			if k == "string" || k == "integer" || k == "number" || k == "boolean" {
				d.Set("type", k)
			}
		}
	}
	ty.defs.Set(cls.name, d)
}

// modelFields lists a model's fields, inherited ones first.
func (ty *typer) modelFields(cls *classDef, depth int) []field {
	var out []field
	if depth > maxResolveDepth {
		return nil
	}
	for _, b := range cls.bases {
		if s := ty.ev.l.resolve(cls.mod, b, 0); s.kind == symClass && s.cls != cls && isModelClass(ty.ev.l, s.cls, 0) {
			for _, f := range ty.modelFields(s.cls, depth+1) {
				out = overrideField(out, f)
			}
		}
	}
	for _, f := range cls.fields {
		if strings.HasPrefix(f.name, "_") || f.name == "model_config" {
			continue
		}
		if isClassVar(ty.ev.l, cls.mod, f.ann) {
			continue
		}
		f.owner = cls
		out = overrideField(out, f)
	}
	return out
}

func overrideField(list []field, f field) []field {
	for i, o := range list {
		if o.name == f.name {
			list[i] = f
			return list
		}
	}
	return append(list, f)
}

func isClassVar(l *loader, m *module, ann expr) bool {
	if s, ok := ann.(*eSub); ok {
		ann = s.x
	}
	s := l.resolve(m, ann, 0)
	return s.kind == symExternal && canonical(s.qual) == "typing.ClassVar"
}

// fieldSpec is what a model field's default says: a value, Field(...), or
// nothing.
type fieldSpec struct {
	constraints []kwArg // ge=, max_length=, ... applied to the field's schema
	alias       string
	hasDefault  bool
	def         any
	description string
	title       string
	required    bool
}

func (ty *typer) fieldSpec(cls *classDef, f field) (fieldSpec, bool) {
	fs := fieldSpec{required: !f.hasVal}
	if !f.hasVal {
		return fs, true
	}
	if c, ok := f.val.(*eCall); ok {
		if s := ty.ev.l.resolve(cls.mod, c.fn, 0); s.kind == symExternal && (canonical(s.qual) == "pydantic.Field" || s.qual == "pydantic.fields.Field" || s.qual == "dataclasses.field") {
			fs.required = true
			if len(c.args) > 0 {
				v, err := ty.ev.eval(cls.mod, c.args[0], 0)
				if err != nil {
					return fs, false
				}
				if _, ell := v.(pyEllipsis); !ell {
					fs.required, fs.hasDefault, fs.def = false, true, v
				}
			}
			for _, kw := range c.kws {
				v, err := ty.ev.eval(cls.mod, kw.v, 0)
				if err != nil {
					return fs, false
				}
				switch kw.name {
				case "default":
					if _, ell := v.(pyEllipsis); !ell {
						fs.required, fs.hasDefault, fs.def = false, true, v
					}
				case "default_factory":
					fs.required = false
				case "description":
					s, _ := v.(string)
					fs.description = s
				case "title":
					s, _ := v.(string)
					fs.title = s
				case "alias":
					s, _ := v.(string)
					fs.alias = s
				case "ge", "le", "gt", "lt", "multiple_of", "min_length", "max_length", "pattern":
					fs.constraints = append(fs.constraints, kw)
				default:
					ty.warn(cls.mod, c.line, "Field(%s=...) of %s.%s is not applied to the schema", kw.name, cls.name, f.name)
				}
			}
			return fs, true
		}
	}
	v, err := ty.ev.eval(cls.mod, f.val, 0)
	if err != nil {
		return fs, false
	}
	fs.hasDefault, fs.def = true, v
	return fs, true
}

func (ty *typer) modelDef(cls *classDef) {
	if ty.defs.Has(cls.name) || ty.busy[cls] {
		return
	}
	ty.busy[cls] = true
	defer delete(ty.busy, cls)
	d := value.NewMap()
	if cls.doc != nil && strings.TrimSpace(*cls.doc) != "" {
		d.Set("description", cleandoc(*cls.doc))
	}
	props := value.NewMap()
	var required []any
	for _, f := range ty.modelFields(cls, 0) {
		owner := f.owner
		t := ty.annotation(owner.mod, f.ann, 0)
		fs, ok := ty.fieldSpec(owner, f)
		if !ok {
			ty.warn(owner.mod, f.line, "default of field %s.%s cannot be read; it is left out of the schema", owner.name, f.name)
		}
		if len(fs.constraints) > 0 {
			t = ty.constrainWith(owner.mod, t, &eCall{kws: fs.constraints, line: f.line})
		}
		p := ty.schema(t)
		if fs.description != "" {
			p.Set("description", fs.description)
		}
		if fs.hasDefault {
			if j, ok, err := toJSON(fs.def); err == nil && ok {
				p.Set("default", j)
			}
		}
		key := f.name
		if fs.alias != "" {
			key = fs.alias // the schema is generated by alias
		}
		if title := fs.title; title != "" {
			p.Set("title", title)
		} else if fieldTitleShown(t) {
			p.Set("title", pyTitle(key))
		}
		props.Set(key, sortedMap(p))
		if fs.required {
			required = append(required, key)
		}
	}
	title, extra := ty.modelConfig(cls)
	switch extra {
	case "forbid":
		d.Set("additionalProperties", false)
	case "allow":
		d.Set("additionalProperties", true)
	}
	d.Set("properties", props)
	if len(required) > 0 {
		d.Set("required", required)
	}
	if title == "" {
		title = cls.name
	}
	d.Set("title", title)
	d.Set("type", "object")
	ty.defs.Set(cls.name, sortedMap(d))
}

// modelConfig reads the schema-relevant settings of a model's
// `model_config = ConfigDict(...)` or `class Config:` (own or inherited):
// title and extra. Settings that change the schema in other ways are
// reported.
func (ty *typer) modelConfig(cls *classDef) (title, extra string) {
	var chain []*classDef
	for c, depth := cls, 0; c != nil && depth < maxResolveDepth; depth++ {
		chain = append([]*classDef{c}, chain...)
		var next *classDef
		for _, b := range c.bases {
			if s := ty.ev.l.resolve(c.mod, b, 0); s.kind == symClass && s.cls != c && isModelClass(ty.ev.l, s.cls, 0) {
				next = s.cls
				break
			}
		}
		c = next
	}
	for _, c := range chain { // base first, so subclasses override
		var kws []kwArg
		line := c.line
		for _, a := range c.assigns {
			if a.name != "model_config" {
				continue
			}
			line = a.line
			switch v := a.val.(type) {
			case *eCall:
				kws = append(kws, v.kws...)
			case *eDict:
				for i, k := range v.keys {
					if kc, ok := k.(*eConst); ok {
						if ks, ok := kc.v.(string); ok {
							kws = append(kws, kwArg{name: ks, v: v.vals[i]})
						}
					}
				}
			default:
				ty.warn(c.mod, a.line, "model_config of %s cannot be read; its schema settings are not applied", c.name)
			}
		}
		for _, f := range c.fields {
			if f.name == "model_config" && f.hasVal {
				if call, ok := f.val.(*eCall); ok {
					kws = append(kws, call.kws...)
					line = f.line
				}
			}
		}
		if b, ok := c.body.names["Config"]; ok && b.cls != nil {
			line = b.cls.line
			for _, a := range b.cls.assigns {
				kws = append(kws, kwArg{name: a.name, v: a.val})
			}
		}
		for _, kw := range kws {
			switch kw.name {
			case "title", "extra":
				v, err := ty.ev.eval(c.mod, kw.v, 0)
				s, isStr := v.(string)
				if err != nil || !isStr {
					ty.warn(c.mod, line, "model setting %s of %s cannot be read", kw.name, c.name)
					continue
				}
				if kw.name == "title" {
					title = s
				} else {
					extra = s
				}
			case "frozen", "arbitrary_types_allowed", "validate_assignment", "populate_by_name",
				"from_attributes", "str_strip_whitespace", "str_to_lower", "str_to_upper",
				"protected_namespaces", "use_enum_values", "validate_default", "revalidate_instances",
				"defer_build", "strict":
				// no effect on the JSON schema of the parameters
			default:
				ty.warn(c.mod, line, "model setting %s of %s is not applied to the schema", kw.name, c.name)
			}
		}
	}
	return title, extra
}

// fieldTitleShown follows pydantic: fields whose schema is a reference to
// a model or an enum (possibly nullable) get no title.
func fieldTitleShown(t *typ) bool {
	if t.k == kEnum || t.k == kModel {
		return false
	}
	if t.k == kUnion && len(t.args) == 2 {
		for i, a := range t.args {
			if a.k == kNone {
				return fieldTitleShown(t.args[1-i])
			}
		}
	}
	return true
}

// pyTitle is str.title() followed by replacing underscores with spaces.
func pyTitle(s string) string {
	var b strings.Builder
	prevCased := false
	for _, r := range s {
		if prevCased {
			b.WriteRune(unicode.ToLower(r))
		} else {
			b.WriteRune(unicode.ToTitle(r))
		}
		prevCased = unicode.IsLetter(r) && (unicode.IsUpper(r) || unicode.IsLower(r) || unicode.IsTitle(r))
	}
	return strings.ReplaceAll(b.String(), "_", " ")
}

// newModel builds a model instance for a default such as Point(x=1).
func (ev *evaluator) newModel(cls *classDef, kws map[string]any, line, depth int) (any, error) {
	ty := &typer{ev: ev, defs: value.NewMap(), busy: map[*classDef]bool{}, warn: func(*module, int, string, ...any) {}}
	d := &pyDict{}
	for _, f := range ty.modelFields(cls, 0) {
		owner := f.owner
		if fs, ok := ty.fieldSpec(owner, f); ok && fs.alias != "" {
			return nil, opaque(line, "%s(...) default of a model with aliased fields", cls.name)
		}
		if v, ok := kws[f.name]; ok {
			// pydantic validates constructor arguments (not defaults):
			// apply the scalar conversions, refuse anything else unusual.
			cv, ok := validateScalar(ty.annotation(owner.mod, f.ann, 0), v)
			if !ok {
				return nil, opaque(line, "%s(%s=...) needs pydantic's validation", cls.name, f.name)
			}
			d.set(f.name, cv)
			delete(kws, f.name)
			continue
		}
		fs, ok := ty.fieldSpec(owner, f)
		if !ok || !fs.hasDefault {
			return nil, opaque(line, "%s(...) without field %s", cls.name, f.name)
		}
		d.set(f.name, fs.def)
	}
	if len(kws) > 0 {
		return nil, opaque(line, "%s(...) with unknown fields", cls.name)
	}
	return modelValue{cls: cls, fields: d}, nil
}

// validateScalar converts v the way pydantic's lax mode would for simple
// field types, and says whether the result is certain.
func validateScalar(t *typ, v any) (any, bool) {
	switch t.k {
	case kStr:
		_, ok := v.(string)
		return v, ok
	case kInt:
		switch x := v.(type) {
		case int64, *big.Int:
			return v, true
		case float64:
			if x == float64(int64(x)) {
				return int64(x), true
			}
		}
		return nil, false
	case kFloat:
		switch x := v.(type) {
		case float64:
			return v, true
		case int64:
			return float64(x), true
		}
		return nil, false
	case kBool:
		_, ok := v.(bool)
		return v, ok
	case kAny:
		return v, true
	case kUnion:
		if v == nil {
			for _, a := range t.args {
				if a.k == kNone {
					return nil, true
				}
			}
		}
		for _, a := range t.args {
			if a.k == kNone {
				continue
			}
			if cv, ok := validateScalar(a, v); ok && pyTypeName(cv) == pyTypeName(v) {
				return cv, true // smart-mode union: an exact type match wins
			}
		}
		return nil, false
	case kEnum:
		if m, ok := v.(enumMember); ok && m.cls == t.cls {
			return v, true
		}
		return nil, false
	case kModel:
		if m, ok := v.(modelValue); ok && m.cls == t.cls {
			return v, true
		}
		return nil, false
	case kList:
		items, ok := v.([]any)
		if !ok {
			return nil, false
		}
		if len(t.args) == 1 {
			out := make([]any, len(items))
			for i, it := range items {
				if out[i], ok = validateScalar(t.args[0], it); !ok {
					return nil, false
				}
			}
			return out, true
		}
		return v, true
	case kDict:
		dd, ok := v.(*pyDict)
		if !ok {
			return nil, false
		}
		if len(t.args) == 2 {
			out := &pyDict{}
			for i, k := range dd.keys {
				if _, isStr := k.(string); !isStr && t.args[0].k == kStr {
					return nil, false
				}
				cv, ok := validateScalar(t.args[1], dd.vals[i])
				if !ok {
					return nil, false
				}
				out.set(k, cv)
			}
			return out, true
		}
		return v, true
	}
	return nil, false
}

// exprText renders an expression briefly for messages.
func exprText(e expr) string {
	if s, ok := dotted(e); ok {
		return s
	}
	switch x := e.(type) {
	case *eSub:
		parts := make([]string, len(x.index))
		for i, a := range x.index {
			parts[i] = exprText(a)
		}
		return exprText(x.x) + "[" + strings.Join(parts, ", ") + "]"
	case *eCall:
		return exprText(x.fn) + "(...)"
	case *eConst:
		return value.Repr(constRepr(x.v))
	case *eFString:
		return "f-string"
	case *eOpaque:
		return x.what
	case *eBin:
		return exprText(x.l) + " " + x.op + " " + exprText(x.r)
	case *eUnary:
		return x.op + exprText(x.x)
	case *eList:
		return x.kind + " display"
	case *eDict:
		return "dict display"
	}
	return "expression"
}

func constRepr(v any) any {
	switch t := v.(type) {
	case *big.Int:
		return t.String()
	case pyBytes:
		return "b" + value.Repr(string(t))
	case pyEllipsis:
		return "..."
	case pyComplex:
		return complexRepr(t)
	}
	return v
}
