package flowmeta

import (
	"math/big"
	"strings"

	"github.com/prefectctl/prefectctl/internal/py"
)

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

// modelField is the type and FieldInfo pydantic builds for a model field
// (FieldInfo.from_annotated_attribute): the field's Annotated metadata,
// then an assigned Field(...) or dataclasses.field(...), whose constraints
// pydantic puts first; a plain value is the default.
func (ty *typer) modelField(owner *classDef, f field) (*typ, *fieldInfo) {
	m := owner.mod
	t := ty.annotation(m, f.ann, 0)
	base := *t
	base.ann = nil
	infos := append([]*fieldInfo(nil), t.ann...)
	var first []metaItem
	var override any
	hasOverride := false
	if f.hasVal {
		c, isCall := f.val.(*eCall)
		dc := isCall && ty.isDataclassField(m, c.fn)
		if isCall && (dc || ty.isFieldFunc(m, c.fn)) {
			fi, _ := ty.fieldCall(m, c, dc)
			first = fi.cons
			own := *fi
			own.cons = nil
			infos = append(infos, &own)
		} else {
			hasOverride = true
			v, err := ty.ev.eval(m, f.val, 0)
			switch {
			case err != nil:
				override = unreadableAttr{line: f.line, why: err.Error()}
			default:
				if _, ell := v.(pyEllipsis); ell {
					v = pyUndefined{}
				}
				override = v
			}
		}
	}
	fi := mergeFields(infos...)
	fi.cons = append(append([]metaItem(nil), first...), fi.cons...)
	if hasOverride {
		fi.attrs["default"] = override
	}
	fi.mod, fi.line = m, f.line
	return &base, fi
}

func (ty *typer) isDataclassField(m *module, e expr) bool {
	s := ty.ev.l.resolve(m, e, 0)
	return s.kind == symExternal && (canonical(s.qual) == "dataclasses.field" || canonical(s.qual) == "pydantic.dataclasses.Field")
}

func (ty *typer) modelDef(cls *classDef) {
	if ty.defs.Has(cls.name) || ty.busy[cls] {
		return
	}
	ty.busy[cls] = true
	defer delete(ty.busy, cls)
	props := py.NewMap()
	var required []any
	for _, f := range ty.modelFields(cls, 0) {
		owner := f.owner
		t, fi := ty.modelField(owner, f)
		key, err := fi.validationKey(f.name)
		if err != nil {
			ty.warn(owner.mod, f.line, "%s of %s; the field is shown under its name", err, fieldWhat(owner, f.name))
		}
		props.Set(key, ty.fieldSchema(t, fi, fieldOpts{what: fieldWhat(owner, f.name), key: key, titleShown: true}))
		if fi.required() {
			required = append(required, key)
		}
	}
	d := py.NewMap()
	d.Set("properties", props)
	if len(required) > 0 {
		d.Set("required", required)
	}
	d.Set("type", "object")
	cfg := ty.modelConfig(cls)
	// _update_class_schema: title, description, extra, json_schema_extra, deprecated
	title := cfg.title
	if title == "" {
		title = cls.name
	}
	d.Set("title", title)
	if cls.doc != nil && strings.TrimSpace(*cls.doc) != "" {
		d.Set("description", cleandoc(*cls.doc))
	}
	switch cfg.extra {
	case "forbid":
		d.Set("additionalProperties", false)
	case "allow":
		d.Set("additionalProperties", true)
	}
	if cfg.jsonExtra != nil {
		ty.mergeExtra(d, cfg.jsonExtra, &fieldInfo{mod: cfg.mod, line: cfg.line}, "model_config json_schema_extra of "+cls.name)
	}
	if ty.isDeprecatedClass(cls) && !d.Has("deprecated") {
		d.Set("deprecated", true)
	}
	ty.defs.Set(cls.name, sortedMap(d))
}

// isDeprecatedClass: the class itself (not a base) is decorated with
// @deprecated(...).
func (ty *typer) isDeprecatedClass(cls *classDef) bool {
	for _, d := range cls.decorators {
		if c, ok := d.(*eCall); ok {
			d = c.fn
		}
		if s := ty.ev.l.resolve(cls.mod, d, 0); s.kind == symExternal {
			switch canonical(s.qual) {
			case "typing.deprecated", "warnings.deprecated":
				return true
			}
		}
	}
	return false
}

// modelSettings are the schema-relevant model_config settings.
type modelSettings struct {
	title, extra string
	jsonExtra    any // *pyDict, callableValue or unreadableAttr
	mod          *module
	line         int
}

// noSchemaEffect are model settings that do not change the validation JSON
// schema of a model or its defaults.
var noSchemaEffect = map[string]bool{
	"frozen": true, "arbitrary_types_allowed": true, "validate_assignment": true, "populate_by_name": true,
	"from_attributes": true, "str_strip_whitespace": true, "str_to_lower": true, "str_to_upper": true,
	"protected_namespaces": true, "use_enum_values": true, "validate_default": true, "revalidate_instances": true,
	"defer_build": true, "strict": true, "validate_by_alias": true, "validate_by_name": true,
	"serialize_by_alias": true, "loc_by_alias": true, "hide_input_in_errors": true, "regex_engine": true,
	"validation_error_cause": true, "cache_strings": true, "coerce_numbers_to_str": true,
	"validate_return": true, "allow_inf_nan": true, "plugin_settings": true, "experimental_warn_only": true,
	"ignored_types": true, "json_schema_serialization_defaults_required": true, "url_preserve_empty_path": true,
}

// modelConfig reads the schema-relevant settings of a model's
// `model_config = ConfigDict(...)` or `class Config:` (own or inherited,
// a subclass overriding its bases): title, extra and json_schema_extra.
// Settings that change the schema in other ways are reported.
func (ty *typer) modelConfig(cls *classDef) modelSettings {
	var out modelSettings
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
				if v.star || len(v.args) > 0 {
					ty.warn(c.mod, a.line, "model_config of %s with unpacked arguments cannot be read; its schema settings are not applied", c.name)
				}
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
			if fn, ok := b.cls.body.names["json_schema_extra"]; ok && fn.fn != nil {
				out.jsonExtra, out.mod, out.line = callableValue{fn.fn.name}, c.mod, fn.line
			}
		}
		for _, kw := range kws {
			switch kw.name {
			case "title", "extra":
				v, err := ty.ev.eval(c.mod, kw.v, 0)
				if err != nil {
					// Extra.forbid and the like
					if s := ty.ev.l.resolve(c.mod, kw.v, 0); s.kind == symExternal && kw.name == "extra" {
						if n := canonical(s.qual); strings.HasPrefix(n, "pydantic.Extra.") || strings.HasPrefix(n, "pydantic.config.Extra.") {
							v, err = n[strings.LastIndex(n, ".")+1:], nil
						}
					}
				}
				str, isStr := v.(string)
				if err != nil || !isStr && v != nil {
					ty.warn(c.mod, line, "model setting %s of %s cannot be read", kw.name, c.name)
					continue
				}
				if kw.name == "title" {
					out.title = str
				} else {
					out.extra = str
				}
			case "json_schema_extra":
				if _, isName := kw.v.(*eName); isName {
					if s := ty.ev.l.resolve(c.mod, kw.v, 0); s.kind == symFunc {
						out.jsonExtra, out.mod, out.line = callableValue{s.fn.name}, c.mod, line
						continue
					}
				}
				out.jsonExtra, out.mod, out.line = ty.attrValue(c.mod, kw.name, kw.v), c.mod, line
			default:
				if !noSchemaEffect[kw.name] {
					ty.warn(c.mod, line, "model setting %s of %s is not applied to the schema", kw.name, c.name)
				}
			}
		}
	}
	return out
}

// newModel builds a model instance for a default such as Point(x=1): its
// fields as model_dump(mode="json", by_alias=True) writes them (by their
// serialization alias, without excluded fields).
func (ev *evaluator) newModel(cls *classDef, kws map[string]any, line, depth int) (any, error) {
	ty := &typer{ev: ev, defs: py.NewMap(), busy: map[*classDef]bool{}, warn: func(*module, int, string, ...any) {}}
	d := &pyDict{}
	for _, f := range ty.modelFields(cls, 0) {
		owner := f.owner
		t, fi := ty.modelField(owner, f)
		in, err := fi.validationKey(f.name)
		if err != nil {
			return nil, opaque(line, "%s(...) default of a model whose field %s has an alias the reader cannot read", cls.name, f.name)
		}
		if in != f.name {
			if _, byName := kws[f.name]; byName {
				return nil, opaque(line, "%s(%s=...) for a field with an alias (pydantic ignores it unless populate_by_name is set)", cls.name, f.name)
			}
		}
		var v any
		if given, ok := kws[in]; ok {
			// pydantic validates constructor arguments (not defaults):
			// apply the scalar conversions, refuse anything else unusual.
			cv, ok := validateScalar(t, given)
			if !ok || transforms(fi.cons) || ty.hasValidators(cls) {
				return nil, opaque(line, "%s(%s=...) needs pydantic's validation", cls.name, in)
			}
			v = cv
			delete(kws, in)
		} else {
			def, ok := fi.defaultValue()
			if f, isF := fi.attrs["default_factory"].(factoryValue); isF && !ok {
				def, ok = ev.callFactory(f, depth)
			}
			if _, bad := def.(unreadableAttr); !ok || bad {
				return nil, opaque(line, "%s(...) without field %s", cls.name, in)
			}
			v = def
		}
		if ex, ok := fi.attrs["exclude"].(bool); ok && ex {
			continue
		}
		d.set(fi.serializationKey(f.name), dumpAs(t, v))
	}
	if len(kws) > 0 {
		return nil, opaque(line, "%s(...) with unknown fields", cls.name)
	}
	if ty.hasCustomSerializer(cls) {
		return nil, opaque(line, "%s(...) default of a model with a custom serializer or computed fields", cls.name)
	}
	return modelValue{cls: cls, fields: d}, nil
}

// transforms says whether constraints change a valid value (the rest only
// accept or refuse it): StringConstraints' case and whitespace options, and
// validators.
func transforms(cons []metaItem) bool {
	for _, item := range cons {
		for _, c := range item {
			switch c.name {
			case "strip_whitespace", "to_lower", "to_upper", "coerce_numbers_to_str", wrapMarker:
				return true
			}
		}
	}
	return false
}

// dumpAs is what model_dump writes for a field value: a float field writes
// an int default as a float.
func dumpAs(t *typ, v any) any {
	if in, ok := nullableInner(t); ok && v != nil {
		t = in
	}
	if n, isInt := v.(int64); isInt && t.k == kFloat {
		return float64(n)
	}
	return v
}

// hasValidators: the model (or a base) has validators, which may change
// constructor arguments.
func (ty *typer) hasValidators(cls *classDef) bool {
	return ty.classDecorated(cls, map[string]bool{
		"pydantic.field_validator": true, "pydantic.model_validator": true, "pydantic.validator": true,
		"pydantic.root_validator": true, "pydantic.functional_validators.field_validator": true,
		"pydantic.functional_validators.model_validator": true,
	})
}

// hasCustomSerializer: the model (or a base) changes what model_dump
// writes with @field_serializer, @model_serializer or @computed_field.
func (ty *typer) hasCustomSerializer(cls *classDef) bool {
	return ty.classDecorated(cls, map[string]bool{
		"pydantic.field_serializer": true, "pydantic.model_serializer": true, "pydantic.computed_field": true,
		"pydantic.functional_serializers.field_serializer": true, "pydantic.functional_serializers.model_serializer": true,
	})
}

// classDecorated: a method of the class or of a base carries one of the
// decorators.
func (ty *typer) classDecorated(cls *classDef, decorators map[string]bool) bool {
	for c, depth := cls, 0; c != nil && depth < maxResolveDepth; depth++ {
		for _, b := range c.body.names {
			if b.fn == nil {
				continue
			}
			for _, d := range b.fn.decorators {
				if call, ok := d.(*eCall); ok {
					d = call.fn
				}
				if s := ty.ev.l.resolve(c.mod, d, 0); s.kind == symExternal && decorators[canonical(s.qual)] {
					return true
				}
			}
		}
		var next *classDef
		for _, b := range c.bases {
			if s := ty.ev.l.resolve(c.mod, b, 0); s.kind == symClass && s.cls != c {
				next = s.cls
			}
		}
		c = next
	}
	return false
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
	case kLiteral:
		for _, l := range t.lits {
			if pyTypeName(l) == pyTypeName(v) && pyEqual(l, v) {
				return v, true
			}
		}
		return nil, false
	case kDate, kDateTime, kTime, kTimedelta, kUUID, kPath, kDecimal, kSecretStr, kFixed:
		// an instance of the field's own type is kept as it is
		ok := false
		switch x := v.(type) {
		case pyDate:
			ok = t.k == kDate
		case pyDT:
			ok = t.k == kDateTime && x.isDTm
		case awareDT:
			ok = t.k == kDateTime
		case pyTime:
			ok = t.k == kTime
		case timedelta:
			ok = t.k == kTimedelta
		case secretValue:
			ok = t.k == kSecretStr || t.fixed == "pydantic.SecretBytes"
		case strLike:
			ok = t.k == kUUID && x.kind == "uuid" || t.k == kPath && x.kind == "path" || t.k == kDecimal && x.kind == "decimal" ||
				t.k == kFixed && (x.kind == "ip" && strings.HasPrefix(t.fixed, "ipaddress.") || x.kind == "url" && fixedCore[t.fixed] == "url")
		}
		return v, ok
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

// callFactory computes a default_factory the reader can call: an empty
// list, dict, set, tuple or deque, or a model built with its defaults.
func (ev *evaluator) callFactory(f factoryValue, depth int) (any, bool) {
	if depth > maxResolveDepth {
		return nil, false
	}
	s := ev.l.resolve(f.mod, f.e, 0)
	switch {
	case s.kind == symClass && isModelClass(ev.l, s.cls, 0):
		v, err := ev.newModel(s.cls, map[string]any{}, f.e.pos(), depth+1)
		return v, err == nil
	case s.kind == symExternal:
		switch canonical(s.qual) {
		case "builtins.list", "collections.deque", "typing.List":
			return []any{}, true
		case "builtins.dict", "collections.OrderedDict", "typing.Dict":
			return newDict(), true
		case "builtins.set", "builtins.frozenset":
			return pySet{}, true
		case "builtins.tuple":
			return pyTuple{}, true
		}
	}
	return nil, false
}
