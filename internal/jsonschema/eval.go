package jsonschema

import (
	"fmt"
	"math"
	"math/big"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/prefectctl/prefectctl/internal/py"
)

// The evaluator is Draft 2020-12 as python-jsonschema 4.26 (the server's)
// implements it: the same keywords, applied in the schema's key order, the
// same type rules (1.0 is an integer, True is not), the same equality for
// enum, const and uniqueItems (True is not 1, 1 is 1.0), formats never
// asserted. Each failure keeps what best_match needs to pick the error the
// server reports.
//
// A value that is not known yet (a template a later step fills in, a
// workspace variable) makes the checks that depend on it unknown rather
// than failed: prefectctl refuses only what the server certainly refuses,
// and leaves the rest to the check once the value is known. The same holds
// for what prefectctl cannot decide exactly (a regular expression Go cannot
// compile, unevaluatedProperties, $dynamicRef, a circular $ref).

// failure is one error python-jsonschema's iter_errors would yield.
type failure struct {
	path     []any  // where in the value: string keys and int indexes
	keyword  string // the validator; "" for a false schema (Python's None)
	pyMsg    string // python-jsonschema's message
	msg      string // prefectctl's message
	hint     string
	instance any
	schema   any // the schema holding the keyword
	context  []*failure
}

// result is the outcome of evaluating a value against a schema: the
// certain failures, and whether some part could not be decided.
type result struct {
	fails   []*failure
	unknown bool
}

func (r *result) add(o result) {
	r.fails = append(r.fails, o.fails...)
	r.unknown = r.unknown || o.unknown
}

// valid, invalid or undecided.
func (r result) status() int {
	switch {
	case len(r.fails) > 0:
		return statusInvalid
	case r.unknown:
		return statusUnknown
	}
	return statusValid
}

const (
	statusValid = iota
	statusInvalid
	statusUnknown
)

type evaluator struct {
	root    any
	pending func(any) bool
	// unresolvable records $refs that name nothing in the schema (the
	// server answers "Unresolvable" when validation reaches one).
	unresolvable []string
}

func appendPath(path []any, elem any) []any {
	out := make([]any, len(path)+1)
	copy(out, path)
	out[len(path)] = elem
	return out
}

// isKnown reports whether x is a value the evaluator can judge.
func (e *evaluator) isKnown(x any) bool {
	if e.pending != nil && e.pending(x) {
		return false
	}
	switch x.(type) {
	case nil, bool, int, int64, float64, string, []any, *py.Map, renderedString:
		return true
	}
	return false
}

// eval validates x against s. refs are the $ref targets followed at this
// place in the value; following one of them again would never end (the
// server overflows its stack there), so it is left undecided.
func (e *evaluator) eval(x any, s any, path []any, refs []*py.Map) result {
	switch t := s.(type) {
	case bool:
		if t || !e.isKnown(x) {
			return result{unknown: !t}
		}
		return result{fails: []*failure{{path: path, pyMsg: "False schema does not allow " + repr(x),
			msg: "no value is allowed here", hint: "remove it", instance: x, schema: s}}}
	case *py.Map:
		if !e.isKnown(x) {
			return result{unknown: true}
		}
		var r result
		for _, k := range t.Keys() {
			r.add(e.keyword(k, get(t, k), x, t, path, refs))
		}
		return r
	}
	// A schema that is neither a mapping nor a boolean is not a schema.
	return result{unknown: true}
}

func (e *evaluator) fail(path []any, keyword string, x any, s *py.Map, pyMsg, msg, hint string) result {
	return result{fails: []*failure{{path: path, keyword: keyword, pyMsg: pyMsg, msg: msg, hint: hint, instance: x, schema: s}}}
}

func (e *evaluator) keyword(k string, kv any, x any, s *py.Map, path []any, refs []*py.Map) result {
	switch k {
	case "$ref":
		ref, ok := kv.(string)
		if !ok {
			return result{unknown: true}
		}
		target, found := e.resolve(ref)
		if !found {
			e.unresolvable = append(e.unresolvable, ref)
			return e.fail(path, k, x, s, "Unresolvable: "+ref, fmt.Sprintf("the flow's parameter schema refers to %s, which it does not define", ref),
				"the server cannot check this value; report it as a bug in the flow's schema")
		}
		tm, isMap := target.(*py.Map)
		if isMap {
			for _, seen := range refs {
				if seen == tm {
					return result{unknown: true}
				}
			}
			refs = append(refs[:len(refs):len(refs)], tm)
		}
		return e.eval(x, target, path, refs)
	case "$dynamicRef", "unevaluatedProperties", "unevaluatedItems":
		return result{unknown: true}
	case "type":
		return e.checkType(kv, x, s, path)
	case "enum":
		enum, ok := kv.([]any)
		if !ok {
			return result{unknown: true}
		}
		if _, rendered := x.(renderedString); rendered {
			return result{unknown: true}
		}
		for _, v := range enum {
			if jsonEqual(v, x) {
				return result{}
			}
		}
		return e.fail(path, k, x, s, fmt.Sprintf("%s is not one of %s", repr(x), py.Repr(enum)),
			fmt.Sprintf("expected one of %s, got %s", joinReprs(enum), repr(x)), "use one of "+joinReprs(enum))
	case "const":
		if _, rendered := x.(renderedString); rendered {
			return result{unknown: true}
		}
		if jsonEqual(kv, x) {
			return result{}
		}
		return e.fail(path, k, x, s, repr(kv)+" was expected", fmt.Sprintf("expected %s, got %s", repr(kv), repr(x)), "use "+repr(kv))
	case "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf":
		return e.checkNumber(k, kv, x, s, path)
	case "minLength", "maxLength", "pattern":
		return e.checkString(k, kv, x, s, path)
	case "items", "prefixItems", "minItems", "maxItems", "uniqueItems", "contains":
		return e.checkArray(k, kv, x, s, path, refs)
	case "properties", "patternProperties", "additionalProperties", "propertyNames", "required",
		"dependentRequired", "dependentSchemas", "minProperties", "maxProperties":
		return e.checkObject(k, kv, x, s, path)
	case "allOf":
		var r result
		for _, sub := range listOf(kv) {
			r.add(e.eval(x, sub, path, refs))
		}
		return r
	case "anyOf":
		return e.checkAnyOf(kv, x, s, path, refs)
	case "oneOf":
		return e.checkOneOf(kv, x, s, path, refs)
	case "not":
		switch e.eval(x, kv, path, refs).status() {
		case statusValid:
			return e.fail(path, k, x, s, fmt.Sprintf("%s should not be valid under %s", repr(x), repr(kv)),
				fmt.Sprintf("%s is a value the flow refuses", repr(x)), "use another value")
		case statusUnknown:
			return result{unknown: true}
		}
		return result{}
	case "if":
		switch e.eval(x, kv, path, refs).status() {
		case statusValid:
			if then, ok := s.Get("then"); ok {
				return e.eval(x, then, path, refs)
			}
		case statusInvalid:
			if els, ok := s.Get("else"); ok {
				return e.eval(x, els, path, refs)
			}
		default:
			if s.Has("then") || s.Has("else") {
				return result{unknown: true}
			}
		}
		return result{}
	}
	// format (never asserted by the server), annotations and unknown
	// keywords.
	return result{}
}

// resolve follows an in-document reference: "#", "#/definitions/X",
// "#/$defs/X" (JSON Pointer, percent-decoded). The server never fetches
// anything else.
func (e *evaluator) resolve(ref string) (any, bool) {
	if !strings.HasPrefix(ref, "#") {
		return nil, false
	}
	frag, err := url.PathUnescape(ref[1:])
	if err != nil {
		return nil, false
	}
	var target any = e.root
	if frag == "" {
		return target, true
	}
	if !strings.HasPrefix(frag, "/") {
		return nil, false // an anchor: Prefect's schemas have none
	}
	for _, part := range strings.Split(frag[1:], "/") {
		part = strings.ReplaceAll(strings.ReplaceAll(part, "~1", "/"), "~0", "~")
		switch t := target.(type) {
		case *py.Map:
			v, ok := t.Get(part)
			if !ok {
				return nil, false
			}
			target = v
		case []any:
			i, err := strconv.Atoi(part)
			if err != nil || i < 0 || i >= len(t) {
				return nil, false
			}
			target = t[i]
		default:
			return nil, false
		}
	}
	return target, true
}

func listOf(x any) []any {
	l, _ := x.([]any)
	return l
}

// isType is python-jsonschema's Draft 2020-12 type checker; known is false
// for a type name it does not know (the server fails on those).
func isType(x any, t string) (match, known bool) {
	switch t {
	case "null":
		return x == nil, true
	case "boolean":
		_, ok := x.(bool)
		return ok, true
	case "integer":
		switch v := x.(type) {
		case int, int64:
			return true, true
		case float64:
			return !math.IsInf(v, 0) && !math.IsNaN(v) && v == math.Trunc(v), true
		}
		return false, true
	case "number":
		switch x.(type) {
		case int, int64, float64:
			return true, true
		}
		return false, true
	case "string":
		switch x.(type) {
		case string, renderedString:
			return true, true
		}
		return false, true
	case "array":
		_, ok := x.([]any)
		return ok, true
	case "object":
		_, ok := x.(*py.Map)
		return ok, true
	}
	return false, false
}

func (e *evaluator) checkType(kv any, x any, s *py.Map, path []any) result {
	var types []any
	switch t := kv.(type) {
	case string:
		types = []any{t}
	case []any:
		types = t
	default:
		return result{unknown: true}
	}
	for _, t := range types {
		name, _ := t.(string)
		match, known := isType(x, name)
		if !known {
			return result{unknown: true}
		}
		if match {
			return result{}
		}
	}
	reprs := make([]string, len(types))
	for i, t := range types {
		reprs[i] = py.Repr(t)
	}
	want := typeText(types)
	return e.fail(path, "type", x, s, fmt.Sprintf("%s is not of type %s", repr(x), strings.Join(reprs, ", ")),
		fmt.Sprintf("expected %s, got %s %s", want, instanceType(x), repr(x)), "give a value of type "+want)
}

func typeText(types []any) string {
	parts := make([]string, len(types))
	for i, t := range types {
		parts[i] = py.Str(t)
	}
	return strings.Join(parts, " or ")
}

// instanceType is the JSON Schema type of a value, the narrowest one: a
// float with no fractional part is an integer.
func instanceType(x any) string {
	switch v := x.(type) {
	case float64:
		if m, _ := isType(v, "integer"); m {
			return "integer"
		}
	case renderedString:
		return "string"
	}
	if t := py.JSONType(x); t != "" {
		return t
	}
	return "value"
}

func numberOf(x any) (*big.Float, bool) {
	switch v := x.(type) {
	case int:
		return new(big.Float).SetInt64(int64(v)), true
	case int64:
		return new(big.Float).SetInt64(v), true
	case float64:
		if math.IsNaN(v) {
			return nil, false
		}
		return new(big.Float).SetFloat64(v), true
	}
	return nil, false
}

func (e *evaluator) checkNumber(k string, kv any, x any, s *py.Map, path []any) result {
	if _, isBool := x.(bool); isBool {
		return result{}
	}
	n, isNum := numberOf(x)
	if !isNum {
		if _, f := x.(float64); f { // NaN
			return result{unknown: true}
		}
		return result{}
	}
	limit, ok := numberOf(kv)
	if _, isBool := kv.(bool); isBool || !ok {
		return result{unknown: true}
	}
	xr, lr := repr(x), repr(kv)
	cmp := n.Cmp(limit)
	switch k {
	case "minimum":
		if cmp < 0 {
			return e.fail(path, k, x, s, fmt.Sprintf("%s is less than the minimum of %s", xr, lr),
				fmt.Sprintf("expected at least %s, got %s", lr, xr), "use a value of at least "+lr)
		}
	case "maximum":
		if cmp > 0 {
			return e.fail(path, k, x, s, fmt.Sprintf("%s is greater than the maximum of %s", xr, lr),
				fmt.Sprintf("expected at most %s, got %s", lr, xr), "use a value of at most "+lr)
		}
	case "exclusiveMinimum":
		if cmp <= 0 {
			return e.fail(path, k, x, s, fmt.Sprintf("%s is less than or equal to the minimum of %s", xr, lr),
				fmt.Sprintf("expected more than %s, got %s", lr, xr), "use a value greater than "+lr)
		}
	case "exclusiveMaximum":
		if cmp >= 0 {
			return e.fail(path, k, x, s, fmt.Sprintf("%s is greater than or equal to the maximum of %s", xr, lr),
				fmt.Sprintf("expected less than %s, got %s", lr, xr), "use a value less than "+lr)
		}
	case "multipleOf":
		failed, known := notMultiple(x, kv)
		if !known {
			return result{unknown: true}
		}
		if failed {
			return e.fail(path, k, x, s, fmt.Sprintf("%s is not a multiple of %s", xr, py.Str(kv)),
				fmt.Sprintf("expected a multiple of %s, got %s", py.Str(kv), xr), "use a multiple of "+py.Str(kv))
		}
	}
	return result{}
}

// notMultiple is python-jsonschema's multipleOf: with a float divisor,
// int(x / d) != x / d in floating point; with an int divisor, x % d.
func notMultiple(x, d any) (failed, known bool) {
	xf, _ := toFloat(x)
	switch dv := d.(type) {
	case float64:
		if dv == 0 {
			return false, false
		}
		q := xf / dv
		if math.IsInf(q, 0) || math.IsNaN(q) {
			return false, false
		}
		return q != math.Trunc(q), true
	case int64, int:
		di, _ := toInt(dv)
		if di == 0 {
			return false, false
		}
		if xi, isInt := toInt(x); isInt {
			return xi%di != 0, true
		}
		return math.Mod(xf, float64(di)) != 0, true
	}
	return false, false
}

func toFloat(x any) (float64, bool) {
	switch v := x.(type) {
	case int:
		return float64(v), true
	case int64:
		return float64(v), true
	case float64:
		return v, true
	}
	return 0, false
}

func toInt(x any) (int64, bool) {
	switch v := x.(type) {
	case int:
		return int64(v), true
	case int64:
		return v, true
	}
	return 0, false
}

func (e *evaluator) checkString(k string, kv any, x any, s *py.Map, path []any) result {
	if _, rendered := x.(renderedString); rendered {
		return result{unknown: true}
	}
	str, ok := x.(string)
	if !ok {
		return result{}
	}
	if k == "pattern" {
		p, ok := kv.(string)
		if !ok {
			return result{unknown: true}
		}
		re, err := pythonRegexp(p)
		if err != nil {
			return result{unknown: true}
		}
		if !re.MatchString(str) {
			return e.fail(path, k, x, s, fmt.Sprintf("%s does not match %s", repr(x), py.Repr(p)),
				fmt.Sprintf("expected a string matching %s, got %s", py.Repr(p), repr(x)), "use a value that matches "+py.Repr(p))
		}
		return result{}
	}
	limit, ok := toInt(kv)
	if !ok {
		if f, isF := kv.(float64); isF && f == math.Trunc(f) {
			limit = int64(f)
		} else {
			return result{unknown: true}
		}
	}
	n := int64(len([]rune(str)))
	switch {
	case k == "minLength" && n < limit:
		word := "is too short"
		if limit == 1 {
			word = "should be non-empty"
		}
		return e.fail(path, k, x, s, repr(x)+" "+word,
			fmt.Sprintf("expected at least %d characters, got %d: %s", limit, n, repr(x)), fmt.Sprintf("use a value of at least %d characters", limit))
	case k == "maxLength" && n > limit:
		word := "is too long"
		if limit == 0 {
			word = "is expected to be empty"
		}
		return e.fail(path, k, x, s, repr(x)+" "+word,
			fmt.Sprintf("expected at most %d characters, got %d: %s", limit, n, repr(x)), fmt.Sprintf("use a value of at most %d characters", limit))
	}
	return result{}
}

func (e *evaluator) checkArray(k string, kv any, x any, s *py.Map, path []any, refs []*py.Map) result {
	arr, ok := x.([]any)
	if !ok {
		return result{}
	}
	switch k {
	case "prefixItems":
		var r result
		for i, sub := range listOf(kv) {
			if i >= len(arr) {
				break
			}
			r.add(e.eval(arr[i], sub, appendPath(path, i), nil))
		}
		return r
	case "items":
		prefix := len(listOf(get(s, "prefixItems")))
		extra := len(arr) - prefix
		if extra <= 0 {
			return result{}
		}
		if b, isBool := kv.(bool); isBool && !b {
			var rest any = arr[prefix:]
			if extra == 1 {
				rest = arr[prefix]
			}
			word := "items"
			if prefix == 1 {
				word = "item"
			}
			return e.fail(path, k, x, s, fmt.Sprintf("Expected at most %d %s but found %d extra: %s", prefix, word, extra, repr(rest)),
				fmt.Sprintf("expected at most %d %s, got %d", prefix, word, len(arr)), fmt.Sprintf("give at most %d %s", prefix, word))
		}
		if _, isList := kv.([]any); isList {
			return result{unknown: true} // not a 2020-12 schema
		}
		var r result
		for i := prefix; i < len(arr); i++ {
			r.add(e.eval(arr[i], kv, appendPath(path, i), nil))
		}
		return r
	case "minItems", "maxItems":
		limit, ok := toInt(kv)
		if !ok {
			return result{unknown: true}
		}
		n := int64(len(arr))
		if k == "minItems" && n < limit {
			word := "is too short"
			if limit == 1 {
				word = "should be non-empty"
			}
			return e.fail(path, k, x, s, repr(x)+" "+word, fmt.Sprintf("expected at least %d items, got %d", limit, n), fmt.Sprintf("give at least %d items", limit))
		}
		if k == "maxItems" && n > limit {
			word := "is too long"
			if limit == 0 {
				word = "is expected to be empty"
			}
			return e.fail(path, k, x, s, repr(x)+" "+word, fmt.Sprintf("expected at most %d items, got %d", limit, n), fmt.Sprintf("give at most %d items", limit))
		}
		return result{}
	case "uniqueItems":
		if !py.Truthy(kv) {
			return result{}
		}
		unknown := false
		for i := range arr {
			if !e.isKnownDeep(arr[i]) {
				unknown = true
				continue
			}
			for j := 0; j < i; j++ {
				if e.isKnownDeep(arr[j]) && jsonEqual(arr[i], arr[j]) {
					return e.fail(path, k, x, s, repr(x)+" has non-unique elements",
						fmt.Sprintf("expected unique items, got %s twice", repr(arr[i])), "remove the repeated item")
				}
			}
		}
		return result{unknown: unknown}
	case "contains":
		minC, maxC := int64(1), int64(len(arr))
		if v, ok := toInt(get(s, "minContains")); ok {
			minC = v
		}
		if v, ok := toInt(get(s, "maxContains")); ok {
			maxC = v
		}
		var matches, unknown int64
		for _, it := range arr {
			switch e.eval(it, kv, nil, nil).status() {
			case statusValid:
				matches++
				if matches > maxC {
					return e.fail(path, "maxContains", x, s, fmt.Sprintf("Too many items match the given schema (expected at most %d)", maxC),
						fmt.Sprintf("expected at most %d matching items", maxC), "remove some items")
				}
			case statusUnknown:
				unknown++
			}
		}
		if matches+unknown < minC {
			if matches == 0 {
				return e.fail(path, k, x, s, repr(x)+" does not contain items matching the given schema",
					"no item has the form the flow expects", "add an item of the expected form")
			}
			return e.fail(path, "minContains", x, s, fmt.Sprintf("Too few items match the given schema (expected at least %d but only %d matched)", minC, matches),
				fmt.Sprintf("expected at least %d matching items, got %d", minC, matches), "add matching items")
		}
		return result{unknown: matches < minC}
	}
	return result{}
}

// isKnownDeep reports whether x and everything inside it is known.
func (e *evaluator) isKnownDeep(x any) bool {
	if !e.isKnown(x) {
		return false
	}
	switch t := x.(type) {
	case []any:
		for _, v := range t {
			if !e.isKnownDeep(v) {
				return false
			}
		}
	case *py.Map:
		for _, k := range t.Keys() {
			if !e.isKnownDeep(get(t, k)) {
				return false
			}
		}
	case renderedString:
		return false
	}
	return true
}

func (e *evaluator) checkObject(k string, kv any, x any, s *py.Map, path []any) result {
	obj, ok := x.(*py.Map)
	if !ok {
		return result{}
	}
	switch k {
	case "properties":
		props, ok := kv.(*py.Map)
		if !ok {
			return result{unknown: true}
		}
		var r result
		for _, name := range props.Keys() {
			if v, ok := obj.Get(name); ok {
				r.add(e.eval(v, get(props, name), appendPath(path, name), nil))
			}
		}
		return r
	case "patternProperties":
		pats, ok := kv.(*py.Map)
		if !ok {
			return result{unknown: true}
		}
		var r result
		for _, p := range pats.Keys() {
			re, err := pythonRegexp(p)
			if err != nil {
				r.unknown = true
				continue
			}
			for _, name := range obj.Keys() {
				if re.MatchString(name) {
					r.add(e.eval(get(obj, name), get(pats, p), appendPath(path, name), nil))
				}
			}
		}
		return r
	case "additionalProperties":
		extras, known := additionalKeys(obj, s)
		if !known {
			return result{unknown: true}
		}
		switch ap := kv.(type) {
		case *py.Map:
			var r result
			for _, name := range extras {
				r.add(e.eval(get(obj, name), ap, appendPath(path, name), nil))
			}
			return r
		case bool:
			if ap || len(extras) == 0 {
				return result{}
			}
			sorted := append([]string(nil), extras...)
			sortStrings(sorted)
			reprs := make([]string, len(sorted))
			for i, n := range sorted {
				reprs[i] = py.StrRepr(n)
			}
			var pyMsg string
			if pp, ok := get(s, "patternProperties").(*py.Map); ok {
				verb := "do"
				if len(sorted) == 1 {
					verb = "does"
				}
				pats := append([]string(nil), pp.Keys()...)
				sortStrings(pats)
				pr := make([]string, len(pats))
				for i, p := range pats {
					pr[i] = py.StrRepr(p)
				}
				pyMsg = fmt.Sprintf("%s %s not match any of the regexes: %s", strings.Join(reprs, ", "), verb, strings.Join(pr, ", "))
			} else {
				verb := "were"
				if len(sorted) == 1 {
					verb = "was"
				}
				pyMsg = fmt.Sprintf("Additional properties are not allowed (%s %s unexpected)", strings.Join(reprs, ", "), verb)
			}
			hint := "remove it"
			if props, ok := get(s, "properties").(*py.Map); ok && props.Len() > 0 {
				hint = "the keys allowed here: " + strings.Join(props.Keys(), ", ")
			}
			return e.fail(path, k, x, s, pyMsg, "unknown key "+strings.Join(reprs, ", "), hint)
		}
		return result{unknown: true}
	case "propertyNames":
		var r result
		for _, name := range obj.Keys() {
			r.add(e.eval(name, kv, path, nil))
		}
		return r
	case "required":
		req, ok := kv.([]any)
		if !ok {
			return result{unknown: true}
		}
		var r result
		for _, name := range req {
			n, ok := name.(string)
			if !ok {
				continue
			}
			if !obj.Has(n) {
				r.add(e.fail(path, k, x, s, py.StrRepr(n)+" is a required property", "missing required key "+py.StrRepr(n), "add "+n))
			}
		}
		return r
	case "dependentRequired":
		deps, ok := kv.(*py.Map)
		if !ok {
			return result{unknown: true}
		}
		var r result
		for _, name := range deps.Keys() {
			if !obj.Has(name) {
				continue
			}
			for _, d := range listOf(get(deps, name)) {
				if ds, ok := d.(string); ok && !obj.Has(ds) {
					r.add(e.fail(path, k, x, s, fmt.Sprintf("%s is a dependency of %s", py.StrRepr(ds), py.StrRepr(name)),
						fmt.Sprintf("%s needs %s too", py.StrRepr(name), py.StrRepr(ds)), "add "+ds))
				}
			}
		}
		return r
	case "dependentSchemas":
		deps, ok := kv.(*py.Map)
		if !ok {
			return result{unknown: true}
		}
		var r result
		for _, name := range deps.Keys() {
			if obj.Has(name) {
				r.add(e.eval(x, get(deps, name), path, nil))
			}
		}
		return r
	case "minProperties", "maxProperties":
		limit, ok := toInt(kv)
		if !ok {
			return result{unknown: true}
		}
		n := int64(obj.Len())
		if k == "minProperties" && n < limit {
			word := "does not have enough properties"
			if limit == 1 {
				word = "should be non-empty"
			}
			return e.fail(path, k, x, s, repr(x)+" "+word, fmt.Sprintf("expected at least %d keys, got %d", limit, n), fmt.Sprintf("give at least %d keys", limit))
		}
		if k == "maxProperties" && n > limit {
			word := "has too many properties"
			if limit == 0 {
				word = "is expected to be empty"
			}
			return e.fail(path, k, x, s, repr(x)+" "+word, fmt.Sprintf("expected at most %d keys, got %d", limit, n), fmt.Sprintf("give at most %d keys", limit))
		}
	}
	return result{}
}

// additionalKeys are the keys of obj that neither properties nor
// patternProperties cover, in obj's order.
func additionalKeys(obj *py.Map, s *py.Map) ([]string, bool) {
	props, _ := get(s, "properties").(*py.Map)
	var re *regexp.Regexp
	if pp, ok := get(s, "patternProperties").(*py.Map); ok && pp.Len() > 0 {
		var err error
		if re, err = pythonRegexp(strings.Join(pp.Keys(), "|")); err != nil {
			return nil, false
		}
	}
	var out []string
	for _, k := range obj.Keys() {
		if props != nil && props.Has(k) {
			continue
		}
		if re != nil && re.MatchString(k) {
			continue
		}
		out = append(out, k)
	}
	return out, true
}

func (e *evaluator) checkAnyOf(kv any, x any, s *py.Map, path []any, refs []*py.Map) result {
	alts := listOf(kv)
	var all []*failure
	unknown := false
	for _, sub := range alts {
		r := e.eval(x, sub, path, refs)
		switch r.status() {
		case statusValid:
			return result{}
		case statusUnknown:
			unknown = true
		}
		all = append(all, r.fails...)
	}
	if unknown {
		return result{unknown: true}
	}
	r := e.fail(path, "anyOf", x, s, repr(x)+" is not valid under any of the given schemas",
		fmt.Sprintf("expected %s, got %s %s", e.describeAlternatives(alts), instanceType(x), repr(x)), e.alternativesHint(alts))
	r.fails[0].context = all
	return r
}

func (e *evaluator) checkOneOf(kv any, x any, s *py.Map, path []any, refs []*py.Map) result {
	alts := listOf(kv)
	var all []*failure
	var valid []any
	unknown := false
	firstValid := -1
	for i, sub := range alts {
		r := e.eval(x, sub, path, refs)
		switch r.status() {
		case statusValid:
			if firstValid < 0 {
				firstValid = i
			}
			valid = append(valid, sub)
		case statusUnknown:
			unknown = true
		}
		if firstValid < 0 {
			all = append(all, r.fails...)
		}
	}
	switch {
	case len(valid) >= 2:
		// Python lists the later valid ones, then the first.
		order := append(append([]any{}, valid[1:]...), valid[0])
		reprs := make([]string, len(order))
		for i, v := range order {
			reprs[i] = py.Repr(v)
		}
		return e.fail(path, "oneOf", x, s, fmt.Sprintf("%s is valid under each of %s", repr(x), strings.Join(reprs, ", ")),
			fmt.Sprintf("%s matches more than one of the forms %s, and exactly one must match", repr(x), e.describeAlternatives(alts)),
			"give a value that matches exactly one form")
	case len(valid) == 1 && !unknown:
		return result{}
	case unknown:
		return result{unknown: true}
	}
	r := e.fail(path, "oneOf", x, s, repr(x)+" is not valid under any of the given schemas",
		fmt.Sprintf("expected %s, got %s %s", e.describeAlternatives(alts), instanceType(x), repr(x)), e.alternativesHint(alts))
	r.fails[0].context = all
	return r
}

// jsonEqual is python-jsonschema's equal: deep equality in which a
// boolean is never a number, and 1 equals 1.0.
func jsonEqual(a, b any) bool {
	switch x := a.(type) {
	case string:
		y, ok := b.(string)
		return ok && x == y
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	case nil:
		return b == nil
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !jsonEqual(x[i], y[i]) {
				return false
			}
		}
		return true
	case *py.Map:
		y, ok := b.(*py.Map)
		if !ok || x.Len() != y.Len() {
			return false
		}
		for _, k := range x.Keys() {
			yv, ok := y.Get(k)
			if !ok || !jsonEqual(get(x, k), yv) {
				return false
			}
		}
		return true
	}
	if _, isBool := b.(bool); isBool {
		return false
	}
	xn, ok1 := numberOf(a)
	yn, ok2 := numberOf(b)
	return ok1 && ok2 && xn.Cmp(yn) == 0
}

func joinReprs(l []any) string {
	parts := make([]string, len(l))
	for i, v := range l {
		parts[i] = py.Repr(v)
	}
	return strings.Join(parts, ", ")
}

// describeAlternatives names the forms of an anyOf or oneOf for a message:
// "integer or null", "Color or null".
func (e *evaluator) describeAlternatives(alts []any) string {
	seen := map[string]bool{}
	var parts []string
	for _, a := range alts {
		d := e.describe(a, 0)
		if !seen[d] {
			seen[d] = true
			parts = append(parts, d)
		}
	}
	if len(parts) == 0 {
		return "a value the flow accepts"
	}
	return strings.Join(parts, " or ")
}

func (e *evaluator) describe(s any, depth int) string {
	m, ok := s.(*py.Map)
	if !ok || depth > 4 {
		return "a value of another form"
	}
	if ref, ok := get(m, "$ref").(string); ok {
		if target, found := e.resolve(ref); found {
			if tm, ok := target.(*py.Map); ok {
				if title, ok := get(tm, "title").(string); ok && title != "" && !tm.Has("oneOf") && !tm.Has("block_type_slug") {
					return title
				}
			}
			return e.describe(target, depth+1)
		}
	}
	if isBlockReferenceSchema(m) {
		return "a reference to a saved block document"
	}
	if m.Has("block_type_slug") {
		if title, ok := get(m, "title").(string); ok {
			return "a complete " + title + " block"
		}
	}
	if enum, ok := get(m, "enum").([]any); ok {
		return "one of " + joinReprs(enum)
	}
	if c, ok := m.Get("const"); ok {
		return py.Repr(c)
	}
	switch t := get(m, "type").(type) {
	case string:
		if t == "object" {
			if title, ok := get(m, "title").(string); ok && title != "" {
				return title
			}
		}
		return t
	case []any:
		return typeText(t)
	}
	for _, k := range []string{"anyOf", "oneOf"} {
		if alts, ok := get(m, k).([]any); ok {
			return e.describeAlternatives(alts)
		}
	}
	return "a value of another form"
}

func sortStrings(l []string) {
	// Python sorts str by code point, which is byte order for UTF-8.
	for i := 1; i < len(l); i++ {
		for j := i; j > 0 && l[j] < l[j-1]; j-- {
			l[j], l[j-1] = l[j-1], l[j]
		}
	}
}

// isBlockReferenceSchema recognises the alternative preprocessing adds to a
// block type: {"$ref": <a block document id>}.
func isBlockReferenceSchema(m *py.Map) bool {
	props, ok := get(m, "properties").(*py.Map)
	return ok && props.Len() == 1 && props.Has("$ref")
}

// alternativesHint is the hint for a value that matches no alternative.
func (e *evaluator) alternativesHint(alts []any) string {
	for _, a := range alts {
		if m, ok := a.(*py.Map); ok && isBlockReferenceSchema(m) {
			return `give every required field of the block, or a reference {"$ref": {"block_document_id": "<id>"}} to a saved one`
		}
	}
	return "give a value of one of these forms: " + e.describeAlternatives(alts)
}

// repr is Python's repr of a value as the server holds it; the text of a
// rendered Jinja template is not known here, and shows as <rendered ...>.
func repr(x any) string {
	if r, ok := x.(renderedString); ok {
		return "'<rendered " + py.Str(r.template) + ">'"
	}
	return py.Repr(x)
}
