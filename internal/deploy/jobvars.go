package deploy

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/prefectctl/prefectctl/internal/diag"
	"github.com/prefectctl/prefectctl/internal/value"
)

// ValidateJobVariables checks job variables against a work pool's
// base_job_template.variables schema the way the server does for a
// deployment (required keys ignored, null allowed where a default exists),
// so a mistake is reported before anything is built. It covers the JSON
// Schema keywords work pool templates use; values still holding {{ }}
// placeholders are checked by the server once resolved. Each problem's Path
// is relative (".cpu_request").
func ValidateJobVariables(jv *value.Map, template *value.Map) []*diag.Error {
	schema, _ := get(template, "variables").(*value.Map)
	if schema == nil || jv.Len() == 0 {
		return nil
	}
	v := &jsValidator{root: schema}
	v.check(jv, schema, "")
	return v.errs
}

type jsValidator struct {
	root *value.Map
	errs []*diag.Error
}

func (v *jsValidator) fail(path, hint, format string, args ...any) {
	v.errs = append(v.errs, &diag.Error{Kind: diag.Invalid, Path: path, Msg: fmt.Sprintf(format, args...), Hint: hint})
}

func (v *jsValidator) resolve(s *value.Map) *value.Map {
	for i := 0; i < 20; i++ {
		ref, ok := get(s, "$ref").(string)
		if !ok {
			return s
		}
		var target any = v.root
		for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
			m, _ := target.(*value.Map)
			target = get(m, part)
		}
		next, ok := target.(*value.Map)
		if !ok {
			return nil
		}
		s = next
	}
	return s
}

func hasPlaceholder(x any) bool {
	switch t := x.(type) {
	case string:
		return strings.Contains(t, "{{")
	case []any:
		for _, y := range t {
			if hasPlaceholder(y) {
				return true
			}
		}
	case *value.Map:
		if t.Has("$ref") {
			return true // a block reference, resolved by the worker
		}
		for _, k := range t.Keys() {
			if hasPlaceholder(get(t, k)) {
				return true
			}
		}
	}
	return false
}

// matches reports whether x is valid against s, without recording errors.
func (v *jsValidator) matches(x any, s *value.Map) bool {
	probe := &jsValidator{root: v.root}
	probe.check(x, s, "")
	return len(probe.errs) == 0
}

func (v *jsValidator) check(x any, s *value.Map, path string) {
	s = v.resolve(s)
	if s == nil || hasPlaceholder(x) {
		return
	}
	if x == nil && s.Has("default") {
		return // allow_none_with_default
	}
	if t := get(s, "type"); t != nil && !typeMatches(x, t) {
		v.fail(path, fmt.Sprintf("give a value of type %s", typeText(t)), "expected %s, got %s %s", typeText(t), jsonType(x), value.Repr(x))
		return
	}
	if enum, ok := get(s, "enum").([]any); ok {
		found := false
		for _, e := range enum {
			if value.Equal(e, x) {
				found = true
			}
		}
		if !found {
			v.fail(path, "use one of "+value.Repr(enum), "%s is not one of the allowed values", value.Repr(x))
		}
	}
	for _, kw := range []string{"anyOf", "oneOf"} {
		if alts, ok := get(s, kw).([]any); ok {
			ok := false
			for _, a := range alts {
				if am, isMap := a.(*value.Map); isMap && v.matches(x, am) {
					ok = true
					break
				}
			}
			if !ok {
				v.fail(path, "check the type the work pool expects", "%s matches none of the allowed forms", value.Repr(x))
			}
		}
	}
	if all, ok := get(s, "allOf").([]any); ok {
		for _, a := range all {
			if am, isMap := a.(*value.Map); isMap {
				v.check(x, am, path)
			}
		}
	}
	switch t := x.(type) {
	case *value.Map:
		props, _ := get(s, "properties").(*value.Map)
		for _, k := range t.Keys() {
			child := path + "." + k
			if ps, ok := get(props, k).(*value.Map); ok {
				v.check(get(t, k), ps, child)
				continue
			}
			switch ap := get(s, "additionalProperties").(type) {
			case bool:
				if !ap {
					v.fail(child, "the work pool's template defines no variable "+k, "unknown key %q", k)
				}
			case *value.Map:
				v.check(get(t, k), ap, child)
			}
		}
	case []any:
		if items, ok := get(s, "items").(*value.Map); ok {
			for i, it := range t {
				v.check(it, items, fmt.Sprintf("%s[%d]", path, i))
			}
		}
	case string:
		if n, ok := num(get(s, "minLength")); ok && float64(len([]rune(t))) < n {
			v.fail(path, "", "%s is shorter than %v characters", value.Repr(t), n)
		}
		if n, ok := num(get(s, "maxLength")); ok && float64(len([]rune(t))) > n {
			v.fail(path, "", "%s is longer than %v characters", value.Repr(t), n)
		}
		if p, ok := get(s, "pattern").(string); ok {
			if re, err := regexp.Compile(p); err == nil && !re.MatchString(t) {
				v.fail(path, "", "%s does not match %q", value.Repr(t), p)
			}
		}
	case int64, float64:
		f, _ := num(t)
		if n, ok := num(get(s, "minimum")); ok && f < n {
			v.fail(path, "", "%s is less than the minimum %v", value.Repr(t), n)
		}
		if n, ok := num(get(s, "maximum")); ok && f > n {
			v.fail(path, "", "%s is greater than the maximum %v", value.Repr(t), n)
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
			parts[i] = value.Str(x)
		}
		return strings.Join(parts, " or ")
	}
	return value.Str(t)
}

func jsonType(x any) string {
	switch t := x.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case int64:
		return "integer"
	case float64:
		if t == float64(int64(t)) {
			return "integer"
		}
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	case *value.Map:
		return "object"
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
	got := jsonType(x)
	switch want {
	case "number":
		return got == "integer" || got == "number"
	case "":
		return true
	}
	return got == want
}
