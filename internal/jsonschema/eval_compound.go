// The keywords of arrays and objects, and the combinators anyOf and oneOf.

package jsonschema

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/prefectctl/prefectctl/internal/py"
)

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
			slices.Sort(sorted) // byte order: Python's code-point order for UTF-8
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
				slices.Sort(pats)
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
