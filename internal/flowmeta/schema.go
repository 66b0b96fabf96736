package flowmeta

import (
	"math/big"
	"strings"
	"unicode"

	"github.com/prefectctl/prefectctl/internal/py"
)

// schema is pydantic's JSON schema for t; definitions go to ty.defs.
// Annotated metadata on t is applied as pydantic applies it (fieldmeta.go).
func (ty *typer) schema(t *typ) *py.Map {
	if len(t.ann) == 0 {
		return ty.schemaNoCons(t)
	}
	return ty.annotatedSchema(t)
}

func (ty *typer) schemaNoCons(t *typ) *py.Map {
	s := py.NewMap()
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
		items := py.NewMap()
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
			s.Set("items", py.NewMap())
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
		// GenerateJsonSchema._common_dict_schema: the values lose their
		// title; a key pattern makes patternProperties; constrained or
		// referenced keys make propertyNames.
		ks, vs := py.NewMap(), py.NewMap()
		if len(t.args) == 2 {
			ks, vs = ty.schema(t.args[0]), ty.schema(t.args[1])
		}
		pattern, hasPattern := any(nil), false
		if !ks.Has("$ref") {
			pattern, hasPattern = ks.Get("pattern")
			ks.Delete("pattern")
			ks.Delete("title")
		}
		vs.Delete("title")
		switch p, isStr := pattern.(string); {
		case hasPattern && isStr:
			s.Set("patternProperties", py.MapOf(p, vs))
		case vs.Len() > 0:
			s.Set("additionalProperties", vs)
		default:
			s.Set("additionalProperties", true)
		}
		if tp, _ := ks.Get("type"); tp == "string" && ks.Len() > 1 || ks.Has("$ref") {
			ks.Delete("type")
			s.Set("propertyNames", ks)
		}
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
			any_ = append(any_, py.MapOf("type", "null"))
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
		v, _ := py.DecodeJSON([]byte(fixedSchemas[t.fixed]))
		s = v.(*py.Map)
	case kDeque, kGenerator:
		items := py.NewMap()
		if len(t.args) >= 1 {
			items = ty.schema(t.args[0])
		}
		s.Set("items", items)
		s.Set("type", "array")
	case kCounter:
		s.Set("additionalProperties", py.MapOf("type", "integer"))
		s.Set("type", "object")
	case kSecretStr:
		s.Set("format", "password")
		s.Set("type", "string")
		s.Set("writeOnly", true)
	case kDecimal:
		s.Set("anyOf", []any{py.MapOf("type", "number"), py.MapOf("type", "string")})
	case kEnum:
		ty.enumDef(t.cls)
		s.Set("$ref", "#/definitions/"+t.cls.name)
	case kModel:
		ty.modelDef(t.cls)
		s.Set("$ref", "#/definitions/"+t.cls.name)
	}
	return s
}

// jsonType is the JSON type of a literal value, *big.Int included.
func jsonType(v any) string {
	if _, ok := v.(*big.Int); ok {
		return "integer"
	}
	return py.JSONType(v)
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

// pyTitle is str.title() followed by replacing underscores with spaces
// and stripping (GenerateJsonSchema.get_title_from_name).
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
	return strings.TrimSpace(strings.ReplaceAll(b.String(), "_", " "))
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
		return py.Repr(constRepr(x.v))
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
		return "b" + py.Repr(string(t))
	case pyEllipsis:
		return "..."
	case pyComplex:
		return complexRepr(t)
	}
	return v
}
