package flowmeta

import (
	"fmt"
	"math"
	"math/big"
	"slices"
	"sort"
	"strings"

	"github.com/prefectctl/prefectctl/internal/py"
)

// How pydantic 2 turns Field(...) settings into JSON schema keys: the
// constraints go into the type's core schema when that type takes them
// (ge on int), and otherwise become a validator whose JSON schema carries
// the raw keyword (ge on a union gives "ge": 1); the discriminator turns a
// union of models into oneOf with a mapping; title, description,
// deprecated and examples are set on the field, then json_schema_extra is
// merged over everything.

// annotatedSchema is the schema of a type carrying Annotated metadata in a
// nested position (a list item, a union member) or a field's constraints.
func (ty *typer) annotatedSchema(t *typ) *py.Map {
	base := *t
	base.ann = nil
	all := mergeFields(t.ann...)
	disc := all.attrs["discriminator"]
	var s *py.Map
	if inner, ok := nullableInner(&base); ok && (len(all.cons) > 0 || disc != nil) {
		// pydantic applies metadata on Optional[X] to X
		in := *inner
		in.ann = []*fieldInfo{all.typePart()}
		s = flattenedAnyOf(ty.schema(&in), py.MapOf("type", "null"))
	} else {
		if disc != nil {
			s = ty.taggedUnion(&base, all, disc)
		}
		if s == nil {
			s = ty.schemaNoCons(&base)
		}
		ty.applyConstraints(&base, s, all)
	}
	ty.applyJSONUpdates(s, all, "Annotated metadata")
	return sortedMap(s)
}

// nullableInner returns X for Optional[X] (a union with None), where X is
// the union of the other members.
func nullableInner(t *typ) (*typ, bool) {
	if t.k != kUnion {
		return nil, false
	}
	var rest []*typ
	for _, a := range t.args {
		if a.k != kNone {
			rest = append(rest, a)
		}
	}
	if len(rest) == len(t.args) || len(rest) == 0 {
		return nil, false
	}
	if len(rest) == 1 {
		return rest[0], true
	}
	return &typ{k: kUnion, args: rest}, true
}

// flattenedAnyOf is GenerateJsonSchema.get_flattened_anyof.
func flattenedAnyOf(schemas ...*py.Map) *py.Map {
	var members []any
	for _, s := range schemas {
		if a, _ := s.Get("anyOf"); s.Len() == 1 {
			if list, ok := a.([]any); ok {
				members = append(members, list...)
				continue
			}
		}
		members = append(members, s)
	}
	var dedup []any
	for _, m := range members {
		dup := false
		for _, d := range dedup {
			if py.Equal(d, m) {
				dup = true
				break
			}
		}
		if !dup {
			dedup = append(dedup, m)
		}
	}
	if len(dedup) == 1 {
		return dedup[0].(*py.Map)
	}
	return py.MapOf("anyOf", dedup)
}

// coreKinds names the pydantic-core schema type of a reader type, for the
// constraints it takes directly.
func coreKind(t *typ) string {
	switch t.k {
	case kStr:
		return "str"
	case kBytes:
		return "bytes"
	case kList:
		return "list"
	case kDeque:
		return "deque"
	case kGenerator:
		return "generator"
	case kTuple:
		return "tuple"
	case kSet:
		return "set"
	case kDict, kCounter:
		return "dict"
	case kInt:
		return "int"
	case kFloat:
		return "float"
	case kBool:
		return "bool"
	case kDecimal:
		return "decimal"
	case kDate, kTime, kDateTime:
		return "date"
	case kTimedelta:
		return "timedelta"
	case kUUID:
		return "uuid"
	case kUnion:
		return "union"
	case kEnum:
		return "enum"
	case kModel:
		return "model"
	case kFixed:
		return fixedCore[t.fixed]
	}
	return ""
}

// fixedCore is the core schema type behind library types with a fixed
// schema (PositiveInt is an int with gt=0, HttpUrl a url).
var fixedCore = map[string]string{
	"pydantic.PositiveInt": "int", "pydantic.NonNegativeInt": "int", "pydantic.NegativeInt": "int",
	"pydantic.StrictInt": "int", "pydantic.PositiveFloat": "float", "pydantic.StrictFloat": "float",
	"pydantic.StrictStr": "str", "pydantic.StrictBool": "bool", "pydantic.HttpUrl": "url",
	"pydantic.AnyUrl": "url", "pydantic.AnyHttpUrl": "url", "pydantic.FileUrl": "url",
	"pydantic.UUID4": "uuid", "pydantic.PastDate": "date", "pydantic.AwareDatetime": "date",
	"pydantic.NonNegativeFloat": "float", "pydantic.NegativeFloat": "float", "pydantic.NonPositiveFloat": "float",
	"pydantic.NonPositiveInt": "int", "pydantic.FiniteFloat": "float", "pydantic.StrictBytes": "bytes",
	"pydantic.FutureDate": "date", "pydantic.PastDatetime": "date", "pydantic.FutureDatetime": "date",
	"pydantic.NaiveDatetime": "date", "pydantic.UUID1": "uuid", "pydantic.UUID3": "uuid", "pydantic.UUID5": "uuid",
	"pydantic.WebsocketUrl": "url", "pydantic.AnyWebsocketUrl": "url", "pydantic.FtpUrl": "url",
}

var (
	lengthCons  = []string{"min_length", "max_length"}
	numericCons = []string{"gt", "ge", "lt", "le", "multiple_of"}
	// allowedCons lists what each core schema type takes directly
	// (_known_annotated_metadata.CONSTRAINTS_TO_ALLOWED_SCHEMAS).
	allowedCons = map[string][]string{
		"str":       {"min_length", "max_length", "strict", "strip_whitespace", "to_lower", "to_upper", "pattern", "coerce_numbers_to_str", "ascii_only"},
		"bytes":     {"min_length", "max_length", "strict"},
		"list":      {"min_length", "max_length", "strict", "fail_fast"},
		"deque":     {"min_length", "max_length", "strict", "fail_fast"},
		"tuple":     {"min_length", "max_length", "strict", "fail_fast"},
		"set":       {"min_length", "max_length", "strict", "fail_fast"},
		"dict":      {"min_length", "max_length", "strict", "fail_fast"},
		"generator": {"min_length", "max_length"},
		"float":     {"gt", "ge", "lt", "le", "multiple_of", "allow_inf_nan", "strict"},
		"decimal":   {"gt", "ge", "lt", "le", "multiple_of", "allow_inf_nan", "strict", "max_digits", "decimal_places"},
		"int":       {"gt", "ge", "lt", "le", "multiple_of", "strict"},
		"date":      {"gt", "ge", "lt", "le", "strict"},
		"timedelta": {"gt", "ge", "lt", "le", "multiple_of", "strict"},
		"url":       {"max_length", "strict"},
		"bool":      {"strict"},
		"uuid":      {"strict"},
		"enum":      {"strict"},
		"model":     {"strict"},
		"union":     {"union_mode"},
	}
	// numericValidators are applied as validators (with their raw name
	// in the JSON schema) where the type does not take them.
	numericValidators = []string{"gt", "ge", "lt", "le", "multiple_of", "min_length", "max_length", "max_digits", "decimal_places"}
	chainCons         = []string{"pattern", "strip_whitespace", "to_lower", "to_upper", "coerce_numbers_to_str", "ascii_only"}
	numericJSONKeys   = map[string]string{"multiple_of": "multipleOf", "le": "maximum", "ge": "minimum", "lt": "exclusiveMaximum", "gt": "exclusiveMinimum"}
)

// applyConstraints applies fi's constraints to s, the schema of t, in
// pydantic's order (apply_known_metadata, one metadata item at a time).
func (ty *typer) applyConstraints(t *typ, s *py.Map, fi *fieldInfo) {
	if len(fi.cons) == 0 {
		return
	}
	kind := coreKind(t)
	if kind == "enum" || kind == "model" {
		for _, item := range fi.cons {
			for _, c := range item {
				if c.name != wrapMarker {
					ty.warn(fi.mod, fi.line, "constraints on %s are not applied to the schema (pydantic copies the definition)", t.cls.name)
					return
				}
			}
		}
		return
	}
	wrapped := false // the type is wrapped in a validator: nothing applies directly any more
	for _, item := range fi.cons {
		st := kind
		if wrapped {
			st = "function-after"
		}
		wrappedHere := false
		for _, c := range item {
			if c.name == wrapMarker {
				wrappedHere = true
				continue
			}
			if slices.Contains(allowedCons[st], c.name) {
				if !wrappedHere { // else pydantic sets it on the new validator: no effect
					ty.setConstraint(kind, s, c, fi)
				}
				continue
			}
			switch {
			case slices.Contains(chainCons, c.name):
				wrappedHere = true // a chain: validation mode shows its first step, without the constraint
			case slices.Contains(numericValidators, c.name):
				key := c.name
				if slices.Contains(lengthCons, c.name) {
					if kind == "list" {
						key = map[string]string{"min_length": "minItems", "max_length": "maxItems"}[c.name]
					} else {
						key = map[string]string{"min_length": "minLength", "max_length": "maxLength"}[c.name]
					}
				}
				if j, ok := ty.constraintJSON(c, fi); ok {
					s.Set(key, j)
				}
				wrappedHere = true
			case c.name == "allow_inf_nan" && c.v == false:
				wrappedHere = true
			}
		}
		wrapped = wrapped || wrappedHere
	}
}

// setConstraint writes a constraint the core schema type takes directly.
func (ty *typer) setConstraint(kind string, s *py.Map, c constraint, fi *fieldInfo) {
	key := ""
	switch kind {
	case "str", "url":
		key = map[string]string{"min_length": "minLength", "max_length": "maxLength", "pattern": "pattern"}[c.name]
	case "bytes":
		key = map[string]string{"min_length": "minLength", "max_length": "maxLength"}[c.name]
	case "list", "deque", "tuple", "set", "generator":
		key = map[string]string{"min_length": "minItems", "max_length": "maxItems"}[c.name]
	case "dict":
		key = map[string]string{"min_length": "minProperties", "max_length": "maxProperties"}[c.name]
	case "int", "float":
		key = numericJSONKeys[c.name]
		if f, ok := c.v.(float64); ok && math.IsInf(f, 0) {
			return // pydantic drops infinite bounds
		}
	case "decimal":
		key = numericJSONKeys[c.name]
		if key == "" {
			return
		}
		f, ok := toFloat(c.v)
		if sl, isDec := c.v.(strLike); isDec && sl.kind == "decimal" {
			if bf, _, err := big.ParseFloat(sl.s, 10, 53, big.ToNearestEven); err == nil {
				f, _ = bf.Float64()
				ok = true
			}
		}
		if !ok || math.IsInf(f, 0) || math.IsNaN(f) {
			ty.warn(fi.mod, fi.line, "Field(%s=...) on a Decimal cannot be rendered; the constraint is left out", c.name)
			return
		}
		if any_, _ := s.Get("anyOf"); any_ != nil {
			if list, ok := any_.([]any); ok && len(list) > 0 {
				if num, ok := list[0].(*py.Map); ok {
					num.Set(key, f)
					list[0] = sortedMap(num)
				}
			}
		}
		return
	}
	if key == "" {
		return
	}
	if j, ok := ty.constraintJSON(c, fi); ok {
		s.Set(key, j)
	}
}

func (ty *typer) constraintJSON(c constraint, fi *fieldInfo) (any, bool) {
	j, ok, err := toJSON(c.v)
	if err != nil || !ok {
		ty.warn(fi.mod, fi.line, "Field(%s=...) value cannot be rendered; the constraint is left out", c.name)
		return nil, false
	}
	return j, true
}

// taggedUnion renders Union[A, B] with Field(discriminator="kind"): oneOf
// the models and the mapping of each tag value to its model. nil when it
// cannot be read (reported).
func (ty *typer) taggedUnion(t *typ, fi *fieldInfo, disc any) *py.Map {
	name, isStr := disc.(string)
	if !isStr {
		ty.warn(fi.mod, fi.line, "Field(discriminator=...) that is not a field name cannot be read; the union is shown without it")
		return nil
	}
	if t.k != kUnion {
		ty.warn(fi.mod, fi.line, "Field(discriminator=%q) on a type that is not a union of models; the union is shown without it", name)
		return nil
	}
	mapping := py.NewMap()
	var oneOf []any
	prop := ""
	for _, member := range t.args {
		if member.k != kModel {
			ty.warn(fi.mod, fi.line, "Field(discriminator=%q) on a union with members that are not models; the union is shown without it", name)
			return nil
		}
		var tag *typ
		var key string
		for _, f := range ty.modelFields(member.cls, 0) {
			if f.name != name {
				continue
			}
			ft, ffi := ty.modelField(f.owner, f)
			tag = ft
			key, _ = ffi.validationKey(f.name)
		}
		if tag == nil || tag.k != kLiteral {
			ty.warn(fi.mod, fi.line, "Field(discriminator=%q): %s has no Literal field %s the reader can read; the union is shown without the discriminator", name, member.cls.name, name)
			return nil
		}
		if prop != "" && prop != key {
			ty.warn(fi.mod, fi.line, "Field(discriminator=%q): the members name the tag differently; the union is shown without the discriminator", name)
			return nil
		}
		prop = key
		ref := ty.schema(member)
		for _, lit := range tag.lits {
			if lm, ok := lit.(enumMember); ok {
				lit = lm.value
			}
			r, _ := ref.Get("$ref")
			mapping.Set(py.Str(constRepr(lit)), r)
		}
		dup := false
		for _, o := range oneOf {
			if py.Equal(o, ref) {
				dup = true
			}
		}
		if !dup {
			oneOf = append(oneOf, ref)
		}
	}
	return py.MapOf("discriminator", py.MapOf("mapping", mapping, "propertyName", prop), "oneOf", oneOf)
}

// applyJSONUpdates sets title, description, deprecated and examples, then
// merges json_schema_extra, as pydantic does for a field (or for Annotated
// metadata in a nested position). what names the place for messages.
func (ty *typer) applyJSONUpdates(s *py.Map, fi *fieldInfo, what string) {
	for _, name := range []string{"title", "description", "deprecated", "examples"} {
		v, ok := fi.attrs[name]
		if !ok || v == nil {
			continue
		}
		if u, bad := v.(unreadableAttr); bad {
			ty.warn(fi.mod, u.line, "Field(%s=...) of %s cannot be read (%s); it is left out of the schema", name, what, u.why)
			continue
		}
		switch name {
		case "title", "description":
			str, isStr := v.(string)
			if !isStr {
				ty.warn(fi.mod, fi.line, "Field(%s=...) of %s is not a string; it is left out of the schema", name, what)
				continue
			}
			s.Set(name, str)
		case "deprecated":
			// bool(deprecated) or deprecated == ''
			if str, isStr := v.(string); !pyFalsy(v) || isStr && str == "" {
				s.Set("deprecated", true)
			}
		case "examples":
			j, ok, err := toJSON(v)
			if err != nil || !ok {
				ty.warn(fi.mod, fi.line, "Field(examples=...) of %s cannot be rendered; it is left out of the schema", what)
				continue
			}
			s.Set("examples", j)
		}
	}
	ty.mergeExtra(s, fi.attrs["json_schema_extra"], fi, "Field(json_schema_extra=...) of "+what)
}

// mergeExtra merges a json_schema_extra dict into s (a callable cannot be
// run and is reported).
func (ty *typer) mergeExtra(s *py.Map, extra any, fi *fieldInfo, what string) {
	switch x := extra.(type) {
	case nil:
	case *pyDict:
		keys := make([]string, len(x.keys))
		vals := make([]any, len(x.keys))
		for i, k := range x.keys {
			ks, err := keyString(k)
			j, ok, jerr := toJSON(x.vals[i])
			if err != nil || jerr != nil || !ok {
				ty.warn(fi.mod, fi.line, "%s cannot be rendered exactly; it is left out of the schema", what)
				return
			}
			keys[i], vals[i] = ks, j
		}
		for i, k := range keys {
			s.Set(k, vals[i])
		}
	case callableValue:
		ty.warn(fi.mod, fi.line, "%s is a function (%s), which only runs in Python; the keys it sets are missing from the schema", what, x.what)
	case unreadableAttr:
		ty.warn(fi.mod, x.line, "%s cannot be read (%s); it is left out of the schema", what, x.why)
	default:
		ty.warn(fi.mod, fi.line, "%s is not a dict; it is left out of the schema", what)
	}
}

// fieldOpts says how a field is rendered.
type fieldOpts struct {
	what       string // "parameter x", "field Model.x": for messages
	key        string // the property name, for the default title
	titleShown bool   // pydantic adds a title from the name when none is set
}

// fieldSchema renders a model field or flow parameter: its type with the
// field's constraints and discriminator, its default, then the field's
// JSON-schema settings, in the order pydantic applies them.
func (ty *typer) fieldSchema(t *typ, fi *fieldInfo, o fieldOpts) *py.Map {
	var s *py.Map
	if len(fi.cons) == 0 && fi.attrs["discriminator"] == nil {
		s = ty.schema(t)
	} else {
		bt := *t // the field's own Annotated metadata is already merged into fi
		bt.ann = []*fieldInfo{fi.typePart()}
		s = ty.schema(&bt)
	}
	if v, ok := fi.defaultValue(); ok {
		if u, bad := v.(unreadableAttr); bad {
			ty.warn(fi.mod, u.line, "default of %s cannot be computed without running Python (%s); it is left out of the schema", o.what, u.why)
		} else if j, ok, err := encodeDefault(v); err != nil {
			ty.warn(fi.mod, fi.line, "default of %s cannot be rendered exactly (%v); it is left out of the schema", o.what, err)
		} else if ok {
			s.Set("default", j)
		}
	}
	ty.applyJSONUpdates(s, fi, o.what)
	if g, ok := fi.attrs["field_title_generator"]; ok && g != nil && fi.attrs["title"] == nil && o.titleShown {
		ty.warn(fi.mod, fi.line, "Field(field_title_generator=...) of %s is a function, which only runs in Python; the title from the name is used", o.what)
	}
	if o.titleShown && !s.Has("title") && fieldTitleShown(t) {
		s.Set("title", pyTitle(o.key))
	}
	ty.dropRefOverrides(s)
	return sortedMap(s)
}

// dropRefOverrides removes keys next to a $ref that repeat the referenced
// definition (GenerateJsonSchema.handle_ref_overrides).
func (ty *typer) dropRefOverrides(s *py.Map) {
	r, ok := s.Get("$ref")
	if !ok {
		return
	}
	ref, _ := r.(string)
	d, ok := ty.defs.Get(strings.TrimPrefix(ref, "#/definitions/"))
	dm, isMap := d.(*py.Map)
	if !ok || !isMap {
		return
	}
	for _, k := range s.Keys() {
		if k == "$ref" {
			continue
		}
		if dv, ok := dm.Get(k); ok {
			if sv, _ := s.Get(k); py.Equal(sv, dv) {
				s.Delete(k)
			}
		}
	}
}

// encodeDefault is GenerateJsonSchema's default rendering: a set default
// with several items is sorted first (when its items compare), then the
// value is dumped in JSON mode.
func encodeDefault(v any) (any, bool, error) {
	if set, ok := v.(pySet); ok && len(set) > 1 {
		if sorted, ok := sortedItems(set); ok {
			return toJSON(pyTuple(sorted))
		}
	}
	return toJSON(v)
}

// sortedItems sorts like Python's sorted() for numbers, strings or bytes
// of one kind; ok is false when Python could not compare them.
func sortedItems(items []any) ([]any, bool) {
	out := append([]any(nil), items...)
	kind := ""
	for _, it := range out {
		k := ""
		switch x := it.(type) {
		case bool, int64, *big.Int:
			k = "number"
		case float64:
			if math.IsNaN(x) {
				return nil, false
			}
			k = "number"
		case string:
			k = "str"
		case pyBytes:
			k = "bytes"
		default:
			return nil, false
		}
		if kind != "" && kind != k {
			return nil, false
		}
		kind = k
	}
	sort.SliceStable(out, func(i, j int) bool {
		switch kind {
		case "number":
			a, _ := numericOrInf(out[i])
			b, _ := numericOrInf(out[j])
			return a.Cmp(b) < 0
		case "str":
			return pyStrLess(out[i].(string), out[j].(string))
		}
		return string(out[i].(pyBytes)) < string(out[j].(pyBytes))
	})
	return out, true
}

func numericOrInf(v any) (*big.Float, bool) {
	if f, ok := v.(float64); ok && math.IsInf(f, 0) {
		return new(big.Float).SetInf(f < 0), true
	}
	return numeric(v)
}

// pyStrLess compares by code point, as Python does (UTF-8 byte order is
// the same order).
func pyStrLess(a, b string) bool { return a < b }

// fieldWhat names a model field for messages.
func fieldWhat(cls *classDef, name string) string { return fmt.Sprintf("field %s.%s", cls.name, name) }
