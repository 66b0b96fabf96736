// The keywords of scalar values: type, numbers and strings.

package jsonschema

import (
	"fmt"
	"math"
	"math/big"
	"strings"

	"github.com/prefectctl/prefectctl/internal/py"
)

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
