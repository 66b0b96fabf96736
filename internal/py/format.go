package py

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// FormatKeyError is Python's KeyError from str.format: a field names no
// argument (or a [key] is missing).
type FormatKeyError struct{ Key string }

func (e *FormatKeyError) Error() string { return Repr(e.Key) }

// Format formats tmpl like Python's tmpl.format(**kwargs): literal
// {{ and }}, fields {name}, {name[key]}, {name[0]}, {name.attr}, the
// conversions !s !r !a, and format specs (nested fields included) with
// fill, align, sign, zero padding, width, grouping, precision and the
// types s d n b o x X c e E f F g G %. Positional fields fail as they do in
// Python, since only keyword arguments are given.
func Format(tmpl string, kwargs *Map) (string, error) {
	return format(tmpl, kwargs, 2)
}

func format(tmpl string, kwargs *Map, depth int) (string, error) {
	var b strings.Builder
	s := []rune(tmpl)
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '}':
			if i+1 < len(s) && s[i+1] == '}' {
				b.WriteRune('}')
				i += 2
				continue
			}
			return "", errors.New("Single '}' encountered in format string")
		case c != '{':
			b.WriteRune(c)
			i++
			continue
		}
		if i+1 < len(s) && s[i+1] == '{' {
			b.WriteRune('{')
			i += 2
			continue
		}
		if i+1 >= len(s) {
			return "", errors.New("Single '{' encountered in format string")
		}
		// Find the matching '}', honouring nested braces in the spec and
		// brackets in the field name.
		j, nest, bracket := i+1, 1, false
		for ; j < len(s); j++ {
			switch {
			case s[j] == '[' && !bracket:
				bracket = true
			case s[j] == ']' && bracket:
				bracket = false
			case s[j] == '{' && !bracket:
				nest++
			case s[j] == '}' && !bracket:
				nest--
			}
			if nest == 0 {
				break
			}
		}
		if j >= len(s) {
			return "", errors.New("expected '}' before end of string")
		}
		out, err := formatField(string(s[i+1:j]), kwargs, depth)
		if err != nil {
			return "", err
		}
		b.WriteString(out)
		i = j + 1
	}
	return b.String(), nil
}

func formatField(field string, kwargs *Map, depth int) (string, error) {
	// Split "name!conv:spec"; the name may hold brackets with any text.
	name, conv, spec := field, "", ""
	hasConv := false
	bracket := false
	for k, r := range field {
		if r == '[' {
			bracket = true
		} else if r == ']' {
			bracket = false
		} else if !bracket && (r == '!' || r == ':') {
			name = field[:k]
			rest := field[k:]
			if r == '!' {
				hasConv = true
				if len(rest) < 2 {
					return "", errors.New("end of string while looking for conversion specifier")
				}
				conv = rest[1:2]
				rest = rest[2:]
				if rest != "" && rest[0] != ':' {
					return "", errors.New("expected ':' after conversion specifier")
				}
			}
			spec = strings.TrimPrefix(rest, ":")
			break
		}
	}
	obj, err := lookupField(name, kwargs)
	if err != nil {
		return "", err
	}
	if hasConv {
		switch conv {
		case "s":
			obj = Str(obj)
		case "r":
			obj = Repr(obj)
		case "a":
			obj = ASCII(obj)
		default:
			return "", fmt.Errorf("Unknown conversion specifier %s", conv)
		}
	}
	if strings.ContainsAny(spec, "{}") {
		if depth == 0 {
			return "", errors.New("Max string recursion exceeded")
		}
		if spec, err = format(spec, kwargs, depth-1); err != nil {
			return "", err
		}
	}
	return formatSpec(obj, spec)
}

func lookupField(name string, kwargs *Map) (any, error) {
	end := strings.IndexAny(name, ".[")
	if end < 0 {
		end = len(name)
	}
	first := name[:end]
	if first == "" || isDigits(first) {
		idx := 0
		if first != "" {
			idx, _ = strconv.Atoi(first)
		}
		return nil, fmt.Errorf("Replacement index %d out of range for positional args tuple", idx)
	}
	obj, ok := kwargs.Get(first)
	if !ok {
		return nil, &FormatKeyError{Key: first}
	}
	rest := name[end:]
	for rest != "" {
		switch rest[0] {
		case '.':
			rest = rest[1:]
			k := strings.IndexAny(rest, ".[")
			if k < 0 {
				k = len(rest)
			}
			attr := rest[:k]
			if attr == "" {
				return nil, errors.New("Empty attribute in format string")
			}
			return nil, fmt.Errorf("'%s' object has no attribute %s", TypeName(obj), Repr(attr))
		case '[':
			k := strings.IndexByte(rest, ']')
			if k < 0 {
				return nil, errors.New("Missing ']' in format string")
			}
			key := rest[1:k]
			if key == "" {
				return nil, errors.New("Empty attribute in format string")
			}
			rest = rest[k+1:]
			if rest != "" && rest[0] != '.' && rest[0] != '[' {
				return nil, errors.New("Only '.' or '[' may follow ']' in format field specifier")
			}
			var err error
			if obj, err = indexField(obj, key); err != nil {
				return nil, err
			}
		default:
			return nil, errors.New("Only '.' or '[' may follow ']' in format field specifier")
		}
	}
	return obj, nil
}

func indexField(obj any, key string) (any, error) {
	n, numErr := strconv.Atoi(key)
	numeric := isDigits(key) && numErr == nil
	switch t := obj.(type) {
	case *Map:
		if numeric { // Python looks up the int, which a JSON object never has
			return nil, &FormatKeyError{Key: key}
		}
		v, ok := t.Get(key)
		if !ok {
			return nil, &FormatKeyError{Key: key}
		}
		return v, nil
	case []any:
		if !numeric {
			return nil, errors.New("list indices must be integers or slices, not str")
		}
		if n >= len(t) {
			return nil, errors.New("list index out of range")
		}
		return t[n], nil
	case string:
		if !numeric {
			return nil, errors.New("string indices must be integers, not 'str'")
		}
		r := []rune(t)
		if n >= len(r) {
			return nil, errors.New("string index out of range")
		}
		return string(r[n]), nil
	}
	return nil, fmt.Errorf("'%s' object is not subscriptable", TypeName(obj))
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

var specRe = regexp.MustCompile(`^(?:(.)?([<>=^]))?([-+ ])?(#)?(0)?(\d+)?([,_])?(?:\.(\d+))?([bcdeEfFgGnosxX%])?$`)

// formatSpec is Python's format(obj, spec) for JSON values.
func formatSpec(obj any, spec string) (string, error) {
	if spec == "" {
		return Str(obj), nil
	}
	m := specRe.FindStringSubmatch(spec)
	if m == nil || (m[1] != "" && m[2] == "") {
		return "", fmt.Errorf("Invalid format specifier '%s' for object of type '%s'", spec, TypeName(obj))
	}
	fill, align, sign, alt, zero, width, group, prec, typ := m[1], m[2], m[3], m[4] != "", m[5] != "", m[6], m[7], m[8], m[9]
	if fill == "" {
		fill = " "
	}
	if zero && align == "" {
		fill, align = "0", "="
	}
	w, _ := strconv.Atoi(width)
	var body, prefix string
	numeric := false
	switch t := obj.(type) {
	case bool, int64:
		n := int64(0)
		switch x := t.(type) {
		case bool:
			if x {
				n = 1
			}
		case int64:
			n = x
		}
		if strings.ContainsAny(typ, "eEfFgG%") {
			return formatFloat(float64(n), fill, align, sign, group, prec, typ, w)
		}
		if prec != "" {
			return "", errors.New("Precision not allowed in integer format specifier")
		}
		numeric = true
		neg := n < 0
		u := uint64(n)
		if neg {
			u = uint64(-n)
		}
		switch typ {
		case "", "d", "n":
			body = strconv.FormatUint(u, 10)
			body = groupDigits(body, group, 3)
		case "b", "o", "x", "X":
			base := map[string]int{"b": 2, "o": 8, "x": 16, "X": 16}[typ]
			body = strconv.FormatUint(u, base)
			if typ == "X" {
				body = strings.ToUpper(body)
			}
			body = groupDigits(body, group, 4)
			if alt {
				prefix = "0" + strings.ToLower(typ)
				if typ == "X" {
					prefix = "0X"
				}
			}
		case "c":
			if sign != "" {
				return "", errors.New("Sign not allowed with integer format specifier 'c'")
			}
			body, numeric = string(rune(n)), false
		default:
			return "", fmt.Errorf("Unknown format code '%s' for object of type '%s'", typ, TypeName(obj))
		}
		if numeric {
			prefix = signPrefix(neg, sign) + prefix
		}
	case float64:
		return formatFloat(t, fill, align, sign, group, prec, typ, w)
	case string:
		if typ != "" && typ != "s" {
			return "", fmt.Errorf("Unknown format code '%s' for object of type 'str'", typ)
		}
		if sign != "" {
			return "", errors.New("Sign not allowed in string format specifier")
		}
		if align == "=" {
			return "", errors.New("'=' alignment not allowed in string format specifier")
		}
		body = t
		if prec != "" {
			p, _ := strconv.Atoi(prec)
			if r := []rune(body); len(r) > p {
				body = string(r[:p])
			}
		}
	default:
		return "", fmt.Errorf("unsupported format string passed to %s.__format__", TypeName(obj))
	}
	return pad(prefix, body, fill, align, w, numeric), nil
}

func formatFloat(f float64, fill, align, sign, group, prec, typ string, w int) (string, error) {
	p := -1
	if prec != "" {
		p, _ = strconv.Atoi(prec)
	}
	neg := math.Signbit(f) && !math.IsNaN(f)
	a := math.Abs(f)
	var body string
	switch {
	case math.IsInf(a, 0):
		body = "inf"
	case math.IsNaN(a):
		body = "nan"
	}
	if body == "" {
		switch typ {
		case "f", "F":
			if p < 0 {
				p = 6
			}
			body = strconv.FormatFloat(a, 'f', p, 64)
		case "e", "E":
			if p < 0 {
				p = 6
			}
			body = strconv.FormatFloat(a, 'e', p, 64)
		case "%":
			if p < 0 {
				p = 6
			}
			body = strconv.FormatFloat(a*100, 'f', p, 64) + "%"
		case "g", "G", "n":
			if p < 0 {
				p = 6
			}
			if p == 0 {
				p = 1
			}
			body = strconv.FormatFloat(a, 'g', p, 64)
		case "":
			if p < 0 {
				body = FloatRepr(a)
			} else {
				if p == 0 {
					p = 1
				}
				body = strconv.FormatFloat(a, 'g', p, 64)
				if !strings.ContainsAny(body, ".e") {
					body += ".0"
				}
			}
		default:
			return "", fmt.Errorf("Unknown format code '%s' for object of type 'float'", typ)
		}
	}
	if typ == "E" || typ == "F" || typ == "G" {
		body = strings.ToUpper(body)
	}
	if group != "" {
		intPart, frac, _ := strings.Cut(body, ".")
		if frac != "" || strings.Contains(body, ".") {
			frac = "." + frac
		}
		if isDigits(intPart) {
			body = groupDigits(intPart, group, 3) + frac
		}
	}
	return pad(signPrefix(neg, sign), body, fill, align, w, true), nil
}

func signPrefix(neg bool, sign string) string {
	switch {
	case neg:
		return "-"
	case sign == "+":
		return "+"
	case sign == " ":
		return " "
	}
	return ""
}

func groupDigits(s, sep string, every int) string {
	if sep == "" || len(s) <= every {
		return s
	}
	var b strings.Builder
	lead := len(s) % every
	if lead > 0 {
		b.WriteString(s[:lead])
	}
	for i := lead; i < len(s); i += every {
		if b.Len() > 0 {
			b.WriteString(sep)
		}
		b.WriteString(s[i : i+every])
	}
	return b.String()
}

func pad(prefix, body, fill, align string, w int, numeric bool) string {
	n := utf8.RuneCountInString(prefix) + utf8.RuneCountInString(body)
	if n >= w {
		return prefix + body
	}
	gap := w - n
	if align == "" {
		align = "<"
		if numeric {
			align = ">"
		}
	}
	rep := func(k int) string { return strings.Repeat(fill, k) }
	switch align {
	case ">":
		return rep(gap) + prefix + body
	case "^":
		return rep(gap/2) + prefix + body + rep(gap-gap/2)
	case "=":
		return prefix + rep(gap) + body
	}
	return prefix + body + rep(gap)
}
