// Package jsonschema checks values against the JSON Schemas Prefect's
// server validates them with, after the server's own preparation of each
// schema, so that a value the server would refuse is reported with its
// place before anything is built or sent. It covers the keywords Prefect's
// schemas use (type, enum, anyOf, oneOf, allOf, required, properties,
// additionalProperties, items, minLength, maxLength, pattern, minimum,
// maximum, local $ref).
package jsonschema

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/prefectctl/prefectctl/internal/py"
	"github.com/prefectctl/prefectctl/internal/template"
)

// Violation is one place where a value breaks its schema.
type Violation struct {
	// Path is where in the value, relative to it: "" for the value itself,
	// ".cpu_request", ".env.A", "[0]".
	Path    string
	Message string
	Hint    string
}

func (v Violation) String() string { return v.Path + ": " + v.Message }

// Rules are the server's preparation of a schema before it validates,
// which depends on what it validates.
type Rules struct {
	// RequiredInListsOnly drops "required", except in the schemas listed
	// under anyOf, oneOf and allOf, which the server's removal does not
	// reach.
	RequiredInListsOnly bool
	// NullableOptional lets a property that is not required and declares
	// a type other than "null" also be null.
	NullableOptional bool
	// SkipTemplates leaves values holding {{ }} placeholders to be judged
	// once they are resolved.
	SkipTemplates bool
	// BlockReferences accepts, where the schema refers to a block type's
	// definition, a reference to a saved block document instead.
	BlockReferences bool
}

// JobVariables are the rules for a deployment's job variables against
// its work pool's base_job_template.variables schema.
var JobVariables = Rules{RequiredInListsOnly: true, NullableOptional: true, SkipTemplates: true, BlockReferences: true}

// Validate checks value against schema under rules and returns every
// violation, in the order the value's keys and items are visited. A nil
// schema accepts everything.
func Validate(schema *py.Map, value any, rules Rules) []Violation {
	if schema == nil {
		return nil
	}
	v := &validator{root: schema, rules: rules}
	v.check(value, schema, "", false, !rules.RequiredInListsOnly)
	return v.errs
}

type validator struct {
	root  *py.Map
	rules Rules
	errs  []Violation
}

func (v *validator) fail(path, hint, format string, args ...any) {
	v.errs = append(v.errs, Violation{Path: path, Message: fmt.Sprintf(format, args...), Hint: hint})
}

// lookup finds a local $ref ("#/definitions/Name") in the schema.
func (v *validator) lookup(ref string) *py.Map {
	var target any = v.root
	for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
		m, _ := target.(*py.Map)
		target = get(m, part)
	}
	m, _ := target.(*py.Map)
	return m
}

// countMatches counts the alternatives x is valid against. Alternatives sit
// in a list, so they keep their required keys.
func (v *validator) countMatches(x any, alts []any) int {
	n := 0
	for _, a := range alts {
		if am, isMap := a.(*py.Map); isMap && v.matches(x, am, true) {
			n++
		}
	}
	return n
}

// checkBlock is the server's rule for a variable typed by a block: exactly
// one of the block's own fields (all its required ones) or a reference to a
// saved block document, {"$ref": "<id>"} or {"$ref": {"block_document_id": "<id>"}}.
func (v *validator) checkBlock(x any, def *py.Map, path string) {
	n := 0
	if v.matches(x, def, true) {
		n++
	}
	if isBlockReference(x) {
		n++
	}
	if n != 1 {
		title := py.Str(get(def, "title"))
		v.fail(path, fmt.Sprintf("give every required field of the %s block, or a reference {\"$ref\": {\"block_document_id\": ID}} to a saved one", title),
			"%s is neither a complete %s block nor a reference to a saved one", py.Repr(x), title)
	}
}

func isBlockReference(x any) bool {
	m, ok := x.(*py.Map)
	if !ok || !m.Has("$ref") {
		return false
	}
	switch r := get(m, "$ref").(type) {
	case string:
		return true
	case *py.Map:
		if r.Len() == 0 {
			return false
		}
		for _, k := range r.Keys() {
			if _, ok := get(r, k).(string); !ok {
				return false
			}
		}
		return true
	}
	return false
}

// matches reports whether x is valid against s, without recording errors.
func (v *validator) matches(x any, s *py.Map, keepRequired bool) bool {
	probe := &validator{root: v.root, rules: v.rules}
	probe.check(x, s, "", false, keepRequired)
	return len(probe.errs) == 0
}

// nullableProperty is the server's preprocessing _fix_null_typing with
// allow_none_with_default (Rules.NullableOptional): a property that is not
// required and declares a type other than "null" also accepts null. Other
// keywords still apply, so null fails an enum that does not list it. The
// rule looks at the property as written, before any $ref is followed.
func nullableProperty(parent, prop *py.Map, key string) bool {
	t, ok := prop.Get("type")
	if !ok || t == "null" {
		return false
	}
	if req, ok := get(parent, "required").([]any); ok {
		for _, r := range req {
			if r == key {
				return false
			}
		}
	}
	return true
}

// check validates x against s. keepRequired says whether "required"
// applies here: with Rules.RequiredInListsOnly the server has removed it
// from the schema, but its removal does not descend into lists, so a
// schema reached through anyOf, oneOf or allOf (or a block type's
// definition, which the server wraps in a oneOf) keeps its required keys.
func (v *validator) check(x any, s *py.Map, path string, nullable, keepRequired bool) {
	if s == nil || v.rules.SkipTemplates && template.HoldsTemplate(x) {
		return
	}
	if ref, ok := get(s, "$ref").(string); ok {
		target := v.lookup(ref)
		if target == nil {
			return
		}
		if v.rules.BlockReferences && target.Has("block_type_slug") {
			v.checkBlock(x, target, path)
			return
		}
		// Definitions live outside any list: with RequiredInListsOnly their
		// required keys are gone.
		v.check(x, target, path, nullable, !v.rules.RequiredInListsOnly)
		return
	}
	if t := get(s, "type"); t != nil && !(x == nil && nullable) && !typeMatches(x, t) {
		v.fail(path, fmt.Sprintf("give a value of type %s", typeText(t)), "expected %s, got %s %s", typeText(t), instanceType(x), py.Repr(x))
		return
	}
	if enum, ok := get(s, "enum").([]any); ok {
		found := false
		for _, e := range enum {
			if py.Equal(e, x) {
				found = true
			}
		}
		if !found {
			v.fail(path, "use one of "+py.Repr(enum), "%s is not one of the allowed values", py.Repr(x))
		}
	}
	if alts, ok := get(s, "anyOf").([]any); ok && v.countMatches(x, alts) == 0 {
		v.fail(path, "check the type the work pool expects", "%s matches none of the allowed forms", py.Repr(x))
	}
	if alts, ok := get(s, "oneOf").([]any); ok {
		switch n := v.countMatches(x, alts); {
		case n == 0:
			v.fail(path, "check the type the work pool expects", "%s matches none of the allowed forms", py.Repr(x))
		case n > 1:
			v.fail(path, "check the type the work pool expects", "%s matches more than one of the allowed forms, and exactly one must match", py.Repr(x))
		}
	}
	if all, ok := get(s, "allOf").([]any); ok {
		for _, a := range all {
			if am, isMap := a.(*py.Map); isMap {
				v.check(x, am, path, false, true)
			}
		}
	}
	if req, ok := get(s, "required").([]any); ok && keepRequired {
		if m, isMap := x.(*py.Map); isMap {
			for _, r := range req {
				if k, _ := r.(string); k != "" && !m.Has(k) {
					v.fail(path, "add "+k, "missing required key %q", k)
				}
			}
		}
	}
	switch t := x.(type) {
	case *py.Map:
		props, _ := get(s, "properties").(*py.Map)
		for _, k := range t.Keys() {
			child := path + "." + k
			if ps, ok := get(props, k).(*py.Map); ok {
				v.check(get(t, k), ps, child, v.rules.NullableOptional && nullableProperty(s, ps, k), keepRequired)
				continue
			}
			switch ap := get(s, "additionalProperties").(type) {
			case bool:
				if !ap {
					v.fail(child, "the work pool's template defines no variable "+k, "unknown key %q", k)
				}
			case *py.Map:
				v.check(get(t, k), ap, child, false, keepRequired)
			}
		}
	case []any:
		if items, ok := get(s, "items").(*py.Map); ok {
			for i, it := range t {
				v.check(it, items, fmt.Sprintf("%s[%d]", path, i), false, keepRequired)
			}
		}
	case string:
		if n, ok := num(get(s, "minLength")); ok && float64(len([]rune(t))) < n {
			v.fail(path, "", "%s is shorter than %v characters", py.Repr(t), n)
		}
		if n, ok := num(get(s, "maxLength")); ok && float64(len([]rune(t))) > n {
			v.fail(path, "", "%s is longer than %v characters", py.Repr(t), n)
		}
		if p, ok := get(s, "pattern").(string); ok {
			if re, err := regexp.Compile(p); err == nil && !re.MatchString(t) {
				v.fail(path, "", "%s does not match %q", py.Repr(t), p)
			}
		}
	case int64, float64:
		f, _ := num(t)
		if n, ok := num(get(s, "minimum")); ok && f < n {
			v.fail(path, "", "%s is less than the minimum %v", py.Repr(t), n)
		}
		if n, ok := num(get(s, "maximum")); ok && f > n {
			v.fail(path, "", "%s is greater than the maximum %v", py.Repr(t), n)
		}
	}
}

func num(x any) (float64, bool) {
	switch t := x.(type) {
	case int64:
		return float64(t), true
	case float64:
		return t, true
	}
	return 0, false
}

func typeText(t any) string {
	if l, ok := t.([]any); ok {
		parts := make([]string, len(l))
		for i, x := range l {
			parts[i] = py.Str(x)
		}
		return strings.Join(parts, " or ")
	}
	return py.Str(t)
}

// instanceType is JSON Schema's type of an instance: as json.dumps writes
// it, except that a float with no fractional part is an integer (draft 4
// and later).
func instanceType(x any) string {
	if f, ok := x.(float64); ok && f == float64(int64(f)) {
		return "integer"
	}
	if t := py.JSONType(x); t != "" {
		return t
	}
	return "unknown"
}

func typeMatches(x any, t any) bool {
	if l, ok := t.([]any); ok {
		for _, one := range l {
			if typeMatches(x, one) {
				return true
			}
		}
		return false
	}
	want, _ := t.(string)
	got := instanceType(x)
	switch want {
	case "number":
		return got == "integer" || got == "number"
	case "":
		return true
	}
	return got == want
}

func get(m *py.Map, k string) any {
	v, _ := m.Get(k)
	return v
}
