package jsonschema

import (
	"fmt"
	"net/url"
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
