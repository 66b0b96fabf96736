package flowmeta

import (
	"fmt"
	"slices"
	"strings"
)

// fieldInfo is pydantic's FieldInfo as far as it shapes a JSON schema: what
// one Field(...) call (or one Annotated marker such as annotated_types.Gt)
// says, or several of them merged. Like pydantic it keeps only the
// attributes that were set explicitly, because merging depends on it
// (Annotated[int, Field(alias="a"), Field(alias=None)] has no alias).
type fieldInfo struct {
	attrs map[string]any // explicitly set attributes, as Python values (see attrValue)
	cons  []metaItem     // constraint metadata, in the order pydantic applies it
	mod   *module
	line  int
}

// metaItem is one metadata object pydantic applies to a type: a single
// constraint (annotated_types.Ge(1)) or its "general metadata" group
// (pattern, max_digits, ...), which is applied in one step.
type metaItem []constraint

type constraint struct {
	name string // Field's keyword: ge, min_length, pattern, ...
	v    any
}

// Attribute values that are not plain Python values.
type (
	// unreadableAttr is an argument whose value the reader cannot compute.
	unreadableAttr struct {
		line int
		why  string
	}
	// pyUndefined is PydanticUndefined passed explicitly as a default (what
	// Prefect passes when a parameter's Field(...) has no default).
	pyUndefined struct{}
	// callableValue is a callable argument (default_factory, a
	// json_schema_extra function): never called by the reader.
	callableValue struct{ what string }
	// aliasValue is a validation_alias: a string, AliasPath or AliasChoices,
	// as pydantic-core holds it (a list of paths).
	aliasValue struct{ paths [][]any }
	// factoryValue is a default_factory, kept as written: the reader calls
	// the few factories it knows (list, dict, a model class) when a model
	// instance needs the field's value.
	factoryValue struct {
		mod *module
		e   expr
	}
)

// Field's keyword arguments that are attributes (the rest are constraints
// or, if unknown, json_schema_extra).
var fieldAttrNames = map[string]bool{
	"default": true, "default_factory": true, "alias": true, "alias_priority": true,
	"validation_alias": true, "serialization_alias": true, "title": true,
	"field_title_generator": true, "description": true, "examples": true, "exclude": true,
	"exclude_if": true, "discriminator": true, "deprecated": true, "json_schema_extra": true,
	"frozen": true, "validate_default": true, "repr": true, "init": true, "init_var": true,
	"kw_only": true,
}

// Field's constraint keywords in the order Field passes them on: markers
// become one metadata item each, the general ones one item at the end.
var (
	markerConstraints  = []string{"strict", "gt", "ge", "lt", "le", "multiple_of", "min_length", "max_length", "allow_inf_nan", "fail_fast"}
	generalConstraints = []string{"pattern", "coerce_numbers_to_str", "max_digits", "decimal_places", "union_mode"}
)

// wrapMarker is a metadata item that wraps the type in a validator.
const wrapMarker = "(validator)"

func isConstraintName(n string) bool {
	return slices.Contains(markerConstraints, n) || slices.Contains(generalConstraints, n)
}

func newFieldInfo(m *module, line int) *fieldInfo {
	return &fieldInfo{attrs: map[string]any{}, mod: m, line: line}
}

// isFieldFunc says whether e names pydantic.Field.
func (ty *typer) isFieldFunc(m *module, e expr) bool {
	s := ty.ev.l.resolve(m, e, 0)
	return s.kind == symExternal && (canonical(s.qual) == "pydantic.Field" || s.qual == "pydantic.fields.Field")
}

// fieldCall reads a Field(...) call (or dataclasses.field(...) when dc is
// set) into a fieldInfo, the way pydantic.Field builds one. ok is false for
// calls with unpacked arguments, which are reported.
func (ty *typer) fieldCall(m *module, c *eCall, dc bool) (*fieldInfo, bool) {
	fi := newFieldInfo(m, c.line)
	if c.star || len(c.args) > 1 {
		ty.warn(m, c.line, "%s with unpacked or extra positional arguments cannot be read; its settings are not applied", exprText(c))
		// whatever it says, the default is unknown (and probably present)
		fi.attrs["default"] = unreadableAttr{line: c.line, why: "Field(...) with unpacked arguments"}
		return fi, false
	}
	kws := map[string]any{}
	var order []string
	put := func(name string, v any) {
		if _, seen := kws[name]; !seen {
			order = append(order, name)
		}
		kws[name] = v
	}
	if len(c.args) == 1 {
		put("default", ty.attrValue(m, "default", c.args[0]))
	}
	for _, kw := range c.kws {
		put(kw.name, ty.attrValue(m, kw.name, kw.v))
	}
	if dc {
		return ty.dataclassField(m, c, kws, order), true
	}
	if v, ok := kws["default"]; ok {
		if _, ell := v.(pyEllipsis); !ell {
			fi.attrs["default"] = v
		}
	}
	// pydantic 1 spellings Field still accepts.
	if v, ok := kws["min_items"]; ok && v != nil {
		if _, set := kws["min_length"]; !set || kws["min_length"] == nil {
			kws["min_length"] = v
		}
	}
	if v, ok := kws["max_items"]; ok && v != nil {
		if _, set := kws["max_length"]; !set || kws["max_length"] == nil {
			kws["max_length"] = v
		}
	}
	if v, ok := kws["allow_mutation"]; ok && v == false {
		kws["frozen"] = true
	}
	extra := newDict()
	for _, name := range order {
		v := kws[name]
		switch {
		case name == "default", name == "min_items", name == "max_items", name == "allow_mutation", name == "include":
		case name == "const", name == "regex", name == "unique_items":
			ty.warn(m, c.line, "Field(%s=...) was removed in pydantic 2: pydantic refuses the model when the module runs", name)
		case fieldAttrNames[name]:
			fi.attrs[name] = v
		case isConstraintName(name):
		default:
			// unknown keywords: deprecated extra JSON schema keys
			extra.set(name, v)
		}
	}
	if len(extra.keys) > 0 {
		if cur, ok := fi.attrs["json_schema_extra"]; !ok || pyFalsy(cur) {
			fi.attrs["json_schema_extra"] = extra
		}
	}
	// Field fills the aliases from alias.
	alias, aliasSet := fi.attrs["alias"]
	if s, isStr := alias.(string); isStr {
		if v, ok := fi.attrs["serialization_alias"]; !ok || v == nil {
			fi.attrs["serialization_alias"] = s
		}
	}
	if v, ok := fi.attrs["validation_alias"]; !ok || v == nil {
		if aliasSet {
			fi.attrs["validation_alias"] = alias
		} else {
			delete(fi.attrs, "validation_alias")
		}
	}
	var general metaItem
	for _, name := range markerConstraints {
		if v, ok := kws[name]; ok {
			fi.addConstraint(ty, name, v, &general, false)
		}
	}
	for _, name := range generalConstraints {
		if v, ok := kws[name]; ok {
			fi.addConstraint(ty, name, v, &general, true)
		}
	}
	if len(general) > 0 {
		fi.cons = append(fi.cons, general)
	}
	return fi, true
}

// addConstraint records one constraint keyword; None means "not set".
func (fi *fieldInfo) addConstraint(ty *typer, name string, v any, general *metaItem, isGeneral bool) {
	if v == nil {
		return
	}
	if u, bad := v.(unreadableAttr); bad {
		ty.warn(fi.mod, u.line, "Field(%s=...) cannot be read (%s); the constraint is left out", name, u.why)
		return
	}
	if isGeneral {
		*general = append(*general, constraint{name, v})
		return
	}
	fi.cons = append(fi.cons, metaItem{{name, v}})
}

// dataclassField converts dataclasses.field(...) as pydantic does: its
// default, default_factory and the Field arguments in metadata.
func (ty *typer) dataclassField(m *module, c *eCall, kws map[string]any, order []string) *fieldInfo {
	call := &eCall{fn: c.fn, line: c.line}
	fi := newFieldInfo(m, c.line)
	for _, name := range order {
		switch name {
		case "default", "default_factory":
			call.kws = append(call.kws, kwArg{name: name})
		case "metadata":
			md, ok := kws[name].(*pyDict)
			if !ok {
				ty.warn(m, c.line, "field(metadata=...) cannot be read; Field arguments in it are not applied")
				continue
			}
			for i, k := range md.keys {
				if ks, isStr := k.(string); isStr && (fieldAttrNames[ks] || isConstraintName(ks)) {
					call.kws = append(call.kws, kwArg{name: ks, v: &eConst{v: md.vals[i], line: c.line}})
				}
			}
		}
	}
	if len(call.kws) == 0 {
		return fi
	}
	// The values are already computed: an eConst returns them as they are.
	for i, kw := range call.kws {
		if kw.v == nil {
			call.kws[i].v = &eConst{v: kws[kw.name], line: c.line}
		}
	}
	out, _ := ty.fieldCall(m, call, false)
	return out
}

// attrValue evaluates one Field argument; unreadable ones are kept as such
// and reported where they matter.
func (ty *typer) attrValue(m *module, name string, e expr) any {
	if name == "default_factory" {
		if c, ok := e.(*eConst); ok && c.v == nil {
			return nil
		}
		if c, ok := e.(*eConst); ok {
			if f, isF := c.v.(factoryValue); isF { // re-read from dataclasses.field
				return f
			}
		}
		return factoryValue{mod: m, e: e}
	}
	if name == "validation_alias" {
		if a, ok := ty.aliasExpr(m, e); ok {
			return a
		}
	}
	v, err := ty.ev.eval(m, e, 0)
	if err != nil {
		return unreadableAttr{line: e.pos(), why: err.Error()}
	}
	if u, ok := v.(unserializable); ok {
		return callableValue{u.what}
	}
	return v
}

// aliasExpr reads AliasPath(...) and AliasChoices(...).
func (ty *typer) aliasExpr(m *module, e expr) (any, bool) {
	c, ok := e.(*eCall)
	if !ok || c.star || len(c.kws) > 0 {
		return nil, false
	}
	s := ty.ev.l.resolve(m, c.fn, 0)
	if s.kind != symExternal {
		return nil, false
	}
	path := func(args []expr) ([]any, bool) {
		var p []any
		for _, a := range args {
			v, err := ty.ev.eval(m, a, 0)
			if err != nil {
				return nil, false
			}
			switch v.(type) {
			case string, int64:
				p = append(p, v)
			default:
				return nil, false
			}
		}
		return p, len(p) > 0
	}
	switch canonical(s.qual) {
	case "pydantic.AliasPath", "pydantic.aliases.AliasPath":
		p, ok := path(c.args)
		if !ok {
			return unreadableAttr{line: c.line, why: "AliasPath arguments"}, true
		}
		return aliasValue{paths: [][]any{p}}, true
	case "pydantic.AliasChoices", "pydantic.aliases.AliasChoices":
		var out aliasValue
		for _, a := range c.args {
			if sub, ok := ty.aliasExpr(m, a); ok {
				av, isAlias := sub.(aliasValue)
				if !isAlias {
					return sub, true
				}
				out.paths = append(out.paths, av.paths...)
				continue
			}
			p, ok := path([]expr{a})
			if !ok {
				return unreadableAttr{line: c.line, why: "AliasChoices arguments"}, true
			}
			out.paths = append(out.paths, p)
		}
		return out, true
	}
	return nil, false
}

// annotatedMeta reads one Annotated[...] metadata element: Field(...),
// annotated_types markers, StringConstraints, Strict, AllowInfNan. ok is
// false for metadata the reader does not understand.
func (ty *typer) annotatedMeta(m *module, e expr, depth int) (*fieldInfo, bool) {
	if depth > maxResolveDepth {
		return nil, false
	}
	if n, isName := e.(*eName); isName {
		// a Field(...) or marker bound to a name: POSITIVE = Field(gt=0)
		if s := ty.ev.l.resolve(m, n, 0); s.kind == symValue {
			return ty.annotatedMeta(s.mod, s.val, depth+1)
		}
	}
	c, ok := e.(*eCall)
	if !ok {
		if _, isConst := e.(*eConst); isConst {
			return newFieldInfo(m, e.pos()), true // documentation strings and the like: ignored
		}
		return nil, false
	}
	if ty.isFieldFunc(m, c.fn) {
		return ty.fieldCall(m, c, false)
	}
	s := ty.ev.l.resolve(m, c.fn, 0)
	if s.kind != symExternal || c.star {
		return nil, false
	}
	fi := newFieldInfo(m, c.line)
	arg := func(i int, name string) (any, bool) {
		var e expr
		if i >= 0 && i < len(c.args) {
			e = c.args[i]
		}
		for _, kw := range c.kws {
			if kw.name == name {
				e = kw.v
			}
		}
		if e == nil {
			return nil, false
		}
		v, err := ty.ev.eval(m, e, 0)
		if err != nil {
			ty.warn(m, e.pos(), "%s(%s=...) cannot be read (%v); the constraint is left out", exprText(c.fn), name, err)
			return nil, false
		}
		return v, v != nil
	}
	one := func(name string, v any) { fi.cons = append(fi.cons, metaItem{{name, v}}) }
	q := canonical(s.qual)
	switch strings.TrimPrefix(q, "annotated_types.") {
	case "Gt", "Ge", "Lt", "Le", "MultipleOf", "MinLen", "MaxLen":
		name := map[string]string{"Gt": "gt", "Ge": "ge", "Lt": "lt", "Le": "le", "MultipleOf": "multiple_of", "MinLen": "min_length", "MaxLen": "max_length"}[strings.TrimPrefix(q, "annotated_types.")]
		if v, ok := arg(0, name); ok {
			one(name, v)
		}
		return fi, strings.HasPrefix(q, "annotated_types.")
	case "Interval":
		for _, name := range []string{"gt", "ge", "lt", "le"} {
			if v, ok := arg(-1, name); ok {
				one(name, v)
			}
		}
		return fi, strings.HasPrefix(q, "annotated_types.")
	case "Len":
		if v, ok := arg(0, "min_length"); ok {
			if n, isInt := v.(int64); !isInt || n > 0 {
				one("min_length", v)
			}
		}
		if v, ok := arg(1, "max_length"); ok {
			one("max_length", v)
		}
		return fi, strings.HasPrefix(q, "annotated_types.")
	}
	switch q {
	case "pydantic.StringConstraints":
		for _, name := range []string{"min_length", "max_length", "strict"} {
			if v, ok := arg(-1, name); ok {
				one(name, v)
			}
		}
		var general metaItem
		for _, name := range []string{"strip_whitespace", "to_upper", "to_lower", "pattern", "ascii_only"} {
			if v, ok := arg(-1, name); ok {
				general = append(general, constraint{name, v})
			}
		}
		if len(general) > 0 {
			fi.cons = append(fi.cons, general)
		}
		return fi, true
	case "pydantic.Strict", "pydantic.AllowInfNan", "pydantic.FailFast":
		name := map[string]string{"pydantic.Strict": "strict", "pydantic.AllowInfNan": "allow_inf_nan", "pydantic.FailFast": "fail_fast"}[q]
		v := any(true)
		if len(c.args) > 0 || len(c.kws) > 0 {
			var ok bool
			if v, ok = arg(0, map[string]string{"strict": "strict", "allow_inf_nan": "allow_inf_nan", "fail_fast": "fail_fast"}[name]); !ok {
				return fi, true
			}
		}
		one(name, v)
		return fi, true
	case "typing.deprecated", "warnings.deprecated":
		fi.attrs["deprecated"] = true
		return fi, true
	case "pydantic.PlainSerializer", "pydantic.WrapSerializer",
		"pydantic.functional_serializers.PlainSerializer", "pydantic.functional_serializers.WrapSerializer":
		return fi, true // serialization only
	case "pydantic.AfterValidator", "pydantic.BeforeValidator", "pydantic.WrapValidator",
		"pydantic.functional_validators.AfterValidator", "pydantic.functional_validators.BeforeValidator",
		"pydantic.functional_validators.WrapValidator":
		for _, kw := range c.kws {
			if kw.name == "json_schema_input_type" {
				return nil, false // the schema becomes that type's
			}
		}
		// The schema is unchanged, but wrapped: later constraints no longer
		// apply to the type directly.
		fi.cons = append(fi.cons, metaItem{{wrapMarker, nil}})
		return fi, true
	}
	return nil, false
}

// mergeFields merges FieldInfos the way pydantic's FieldInfo._construct
// does: later ones override the attributes they set, json_schema_extra
// dicts are merged, constraints are concatenated.
func mergeFields(infos ...*fieldInfo) *fieldInfo {
	out := &fieldInfo{attrs: map[string]any{}}
	for _, fi := range infos {
		if fi == nil {
			continue
		}
		if out.mod == nil {
			out.mod, out.line = fi.mod, fi.line
		}
		out.cons = append(out.cons, fi.cons...)
		var merged *pyDict
		if cur, ok := fi.attrs["json_schema_extra"]; ok && cur != nil {
			if existing, ok := out.attrs["json_schema_extra"]; ok {
				if ed, isDict := existing.(*pyDict); isDict {
					switch cd := cur.(type) {
					case *pyDict:
						merged = newDict()
						merged.update(ed)
						merged.update(cd)
					case callableValue:
						merged = ed // pydantic ignores the callable, with a warning
					}
				}
			}
		}
		for k, v := range fi.attrs {
			out.attrs[k] = v
		}
		if merged != nil {
			out.attrs["json_schema_extra"] = merged
		}
	}
	return out
}

// withoutAttrs is the constraint and discriminator part of fi: what pydantic
// applies to the type itself.
func (fi *fieldInfo) typePart() *fieldInfo {
	out := &fieldInfo{attrs: map[string]any{}, cons: fi.cons, mod: fi.mod, line: fi.line}
	if d, ok := fi.attrs["discriminator"]; ok {
		out.attrs["discriminator"] = d
	}
	return out
}

// defaultValue is the field's default, if it has one pydantic would show.
func (fi *fieldInfo) defaultValue() (any, bool) {
	v, ok := fi.attrs["default"]
	if !ok {
		return nil, false
	}
	if _, undef := v.(pyUndefined); undef {
		return nil, false
	}
	return v, true
}

// required follows FieldInfo.is_required: no default and no factory.
func (fi *fieldInfo) required() bool {
	if _, ok := fi.defaultValue(); ok {
		return false
	}
	f, ok := fi.attrs["default_factory"]
	return !ok || f == nil
}

// str returns a string attribute; set is false when absent or None.
func (fi *fieldInfo) str(name string) (string, bool) {
	s, ok := fi.attrs[name].(string)
	return s, ok
}

// validationKey is the property name pydantic's JSON schema uses in
// validation mode with by_alias (GenerateJsonSchema._get_alias_name).
func (fi *fieldInfo) validationKey(name string) (string, error) {
	switch a := fi.attrs["validation_alias"].(type) {
	case string:
		return a, nil
	case aliasValue:
		for _, p := range a.paths {
			if len(p) == 1 {
				if s, ok := p[0].(string); ok {
					return s, nil
				}
			}
		}
	case unreadableAttr:
		return name, fmt.Errorf("validation_alias cannot be read (%s)", a.why)
	}
	return name, nil
}

// serializationKey is the key model_dump(by_alias=True) writes.
func (fi *fieldInfo) serializationKey(name string) string {
	if s, ok := fi.attrs["serialization_alias"].(string); ok {
		return s
	}
	return name
}

// pyFalsy is Python's `not v` for the values the reader holds.
func pyFalsy(v any) bool {
	switch t := v.(type) {
	case nil:
		return true
	case bool:
		return !t
	case int64:
		return t == 0
	case float64:
		return t == 0
	case string:
		return t == ""
	case []any:
		return len(t) == 0
	case pyTuple:
		return len(t) == 0
	case pySet:
		return len(t) == 0
	case *pyDict:
		return len(t.keys) == 0
	}
	return false
}

func newDict() *pyDict { return &pyDict{} }

func (d *pyDict) update(o *pyDict) {
	for i, k := range o.keys {
		d.set(k, o.vals[i])
	}
}
