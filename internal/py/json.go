package py

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"unicode/utf8"
)

// MarshalJSON writes the mapping in insertion order.
func (m *Map) MarshalJSON() ([]byte, error) { return EncodeJSON(m) }

// UnmarshalJSON reads a JSON object keeping its key order.
func (m *Map) UnmarshalJSON(data []byte) error {
	v, err := DecodeJSON(data)
	if err != nil {
		return err
	}
	got, ok := v.(*Map)
	if !ok {
		return fmt.Errorf("expected a JSON object, got %s", TypeName(v))
	}
	*m = *got
	return nil
}

// EncodeJSON is json.dumps(v, separators=(",", ":"), ensure_ascii=False):
// floats keep a fractional part (1.0 stays 1.0), mapping order is kept, and
// dates become ISO strings as in pydantic's JSON mode. NaN and infinities
// are refused, as the Prefect API refuses them.
func EncodeJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	if err := encode(&b, v, false); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// EncodeJSONSortedKeys is EncodeJSON with sort_keys=True: every mapping's
// keys in sorted order, a canonical form of v.
func EncodeJSONSortedKeys(v any) ([]byte, error) {
	var b bytes.Buffer
	if err := encode(&b, v, true); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func encode(b *bytes.Buffer, v any, sortKeys bool) error {
	switch t := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(strconv.FormatBool(t))
	case int64:
		b.WriteString(strconv.FormatInt(t, 10))
	case int:
		b.WriteString(strconv.Itoa(t))
	case float64:
		if math.IsInf(t, 0) || math.IsNaN(t) {
			return fmt.Errorf("cannot encode %s as JSON", FloatRepr(t))
		}
		b.WriteString(FloatRepr(t))
	case string:
		writeJSONString(b, t)
	case Date:
		writeJSONString(b, t.ISO())
	case DateTime:
		writeJSONString(b, t.ISO())
	case []any:
		b.WriteByte('[')
		for i, x := range t {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := encode(b, x, sortKeys); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	case *Map:
		if t == nil {
			b.WriteString("null")
			return nil
		}
		keys, vals := t.keys, t.vals
		if sortKeys {
			keys = t.SortedKeys()
			vals = make([]any, len(keys))
			for i, k := range keys {
				vals[i], _ = t.Get(k)
			}
		}
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			writeJSONString(b, k)
			b.WriteByte(':')
			if err := encode(b, vals[i], sortKeys); err != nil {
				return err
			}
		}
		b.WriteByte('}')
	default:
		raw, err := json.Marshal(t)
		if err != nil {
			return err
		}
		b.Write(raw)
	}
	return nil
}

func writeJSONString(b *bytes.Buffer, s string) {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	b.Truncate(b.Len() - 1)
}

// JSONError is Python's json.JSONDecodeError: its message with the
// position, counted in characters as Python counts them.
type JSONError struct {
	Msg  string
	Pos  int // character offset
	Line int
	Col  int
}

func (e *JSONError) Error() string {
	return fmt.Sprintf("%s: line %d column %d (char %d)", e.Msg, e.Line, e.Col, e.Pos)
}

// maxJSONDepth bounds nesting, where Python would raise RecursionError.
const maxJSONDepth = 10000

// DecodeJSON is Python's json.loads on text: objects keep their key order
// (a repeated key keeps its first place and its last value), integers are
// int64, numbers with a fraction or exponent float64, NaN and Infinity are
// read, and a failure is a *JSONError with Python's message and position
// (which decide, for instance, whether `deployment run --param` falls back
// to a string). Integers beyond 64 bits, which Python would keep whole,
// are an error rather than a rounded float.
func DecodeJSON(data []byte) (any, error) {
	d := &jsonDecoder{s: data}
	if bytes.HasPrefix(data, []byte("\ufeff")) {
		return nil, d.fail("Unexpected UTF-8 BOM (decode using utf-8-sig)", 0)
	}
	d.ws()
	v, err := d.value(0)
	if err != nil {
		return nil, err
	}
	d.ws()
	if d.i != len(d.s) {
		return nil, d.fail("Extra data", d.i)
	}
	return v, nil
}

type jsonDecoder struct {
	s []byte
	i int // byte offset
}

// fail makes the error at byte offset at, converted to Python's character
// position, line and column.
func (d *jsonDecoder) fail(msg string, at int) *JSONError {
	at = min(at, len(d.s))
	before := d.s[:at]
	pos := utf8.RuneCount(before)
	line, col := 1, pos+1
	if nl := bytes.LastIndexByte(before, '\n'); nl >= 0 {
		line += bytes.Count(before, []byte{'\n'})
		col = utf8.RuneCount(before[nl+1:]) + 1
	}
	return &JSONError{Msg: msg, Pos: pos, Line: line, Col: col}
}

func (d *jsonDecoder) ws() {
	for d.i < len(d.s) {
		switch d.s[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

func (d *jsonDecoder) has(lit string) bool {
	return bytes.HasPrefix(d.s[d.i:], []byte(lit))
}

func (d *jsonDecoder) value(depth int) (any, error) {
	if d.i >= len(d.s) {
		return nil, d.fail("Expecting value", d.i)
	}
	if depth > maxJSONDepth {
		return nil, d.fail("Nesting too deep", d.i)
	}
	switch c := d.s[d.i]; {
	case c == '"':
		return d.str()
	case c == '{':
		return d.object(depth)
	case c == '[':
		return d.array(depth)
	case d.has("null"):
		d.i += 4
		return nil, nil
	case d.has("true"):
		d.i += 4
		return true, nil
	case d.has("false"):
		d.i += 5
		return false, nil
	case d.has("NaN"):
		d.i += 3
		return math.NaN(), nil
	case d.has("Infinity"):
		d.i += 8
		return math.Inf(1), nil
	case d.has("-Infinity"):
		d.i += 9
		return math.Inf(-1), nil
	}
	return d.number()
}

// number reads -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?, the
// grammar of Python's scanner: a fraction or exponent that is not complete
// is left for the caller to reject as extra data.
func (d *jsonDecoder) number() (any, error) {
	start := d.i
	j := d.i
	if j < len(d.s) && d.s[j] == '-' {
		j++
	}
	switch {
	case j < len(d.s) && d.s[j] == '0':
		j++
	case j < len(d.s) && d.s[j] >= '1' && d.s[j] <= '9':
		j = digits(d.s, j)
	default:
		return nil, d.fail("Expecting value", start)
	}
	isFloat := false
	if j+1 < len(d.s) && d.s[j] == '.' && isDigit(d.s[j+1]) {
		j = digits(d.s, j+1)
		isFloat = true
	}
	if j < len(d.s) && (d.s[j] == 'e' || d.s[j] == 'E') {
		k := j + 1
		if k < len(d.s) && (d.s[k] == '+' || d.s[k] == '-') {
			k++
		}
		if k < len(d.s) && isDigit(d.s[k]) {
			j = digits(d.s, k)
			isFloat = true
		}
	}
	d.i = j
	text := string(d.s[start:j])
	if !isFloat {
		n, err := strconv.ParseInt(text, 10, 64)
		if err != nil {
			return nil, d.fail("Integer out of the range prefectctl supports (64 bits)", start)
		}
		return n, nil
	}
	f, _ := strconv.ParseFloat(text, 64) // the grammar only admits valid floats; overflow is ±Inf as in Python
	return f, nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func digits(s []byte, j int) int {
	for j < len(s) && isDigit(s[j]) {
		j++
	}
	return j
}

func (d *jsonDecoder) str() (string, error) {
	start := d.i
	d.i++ // opening quote
	var b []byte
	for {
		// The run up to the next quote, backslash or control character.
		j := d.i
		for j < len(d.s) && d.s[j] != '"' && d.s[j] != '\\' && d.s[j] >= 0x20 {
			j++
		}
		b = appendText(b, d.s[d.i:j])
		d.i = j
		if d.i >= len(d.s) {
			return "", d.fail("Unterminated string starting at", start)
		}
		switch c := d.s[d.i]; {
		case c == '"':
			d.i++
			return string(b), nil
		case c < 0x20:
			return "", d.fail("Invalid control character at", d.i)
		}
		// A backslash.
		if d.i+1 >= len(d.s) {
			return "", d.fail("Unterminated string starting at", start)
		}
		esc := d.s[d.i+1]
		switch esc {
		case '"', '\\', '/':
			b = append(b, esc)
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'u':
			r, n, err := d.unicodeEscape(d.i)
			if err != nil {
				return "", err
			}
			b = utf8.AppendRune(b, r)
			d.i += n
			continue
		default:
			return "", d.fail(`Invalid \escape`, d.i)
		}
		d.i += 2
	}
}

// appendText appends raw string bytes, each byte of invalid UTF-8 becoming
// U+FFFD.
func appendText(b, raw []byte) []byte {
	if utf8.Valid(raw) {
		return append(b, raw...)
	}
	for len(raw) > 0 {
		r, n := utf8.DecodeRune(raw)
		b = utf8.AppendRune(b, r)
		raw = raw[n:]
	}
	return b
}

// unicodeEscape reads \uXXXX at i (and a following low surrogate), giving
// the rune and the number of bytes consumed. Lone surrogates, which Python
// keeps but Go strings cannot hold, become U+FFFD.
func (d *jsonDecoder) unicodeEscape(i int) (rune, int, error) {
	hex4 := func(at int) (rune, bool) {
		if at+6 > len(d.s) {
			return 0, false
		}
		v, err := strconv.ParseUint(string(d.s[at+2:at+6]), 16, 32)
		return rune(v), err == nil
	}
	r, ok := hex4(i)
	if !ok {
		return 0, 0, d.fail(`Invalid \uXXXX escape`, i+1)
	}
	if r >= 0xd800 && r <= 0xdbff && i+12 <= len(d.s) && d.s[i+6] == '\\' && d.s[i+7] == 'u' {
		if lo, ok := hex4(i + 6); ok && lo >= 0xdc00 && lo <= 0xdfff {
			return 0x10000 + (r-0xd800)<<10 + (lo - 0xdc00), 12, nil
		}
	}
	if r >= 0xd800 && r <= 0xdfff {
		return utf8.RuneError, 6, nil
	}
	return r, 6, nil
}

func (d *jsonDecoder) object(depth int) (any, error) {
	m := NewMap()
	d.i++
	d.ws()
	if d.i < len(d.s) && d.s[d.i] == '}' {
		d.i++
		return m, nil
	}
	for {
		if d.i >= len(d.s) || d.s[d.i] != '"' {
			return nil, d.fail("Expecting property name enclosed in double quotes", d.i)
		}
		k, err := d.str()
		if err != nil {
			return nil, err
		}
		d.ws()
		if d.i >= len(d.s) || d.s[d.i] != ':' {
			return nil, d.fail("Expecting ':' delimiter", d.i)
		}
		d.i++
		d.ws()
		v, err := d.value(depth + 1)
		if err != nil {
			return nil, err
		}
		m.Set(k, v)
		d.ws()
		if d.i < len(d.s) && d.s[d.i] == '}' {
			d.i++
			return m, nil
		}
		if d.i >= len(d.s) || d.s[d.i] != ',' {
			return nil, d.fail("Expecting ',' delimiter", d.i)
		}
		d.i++
		d.ws()
	}
}

func (d *jsonDecoder) array(depth int) (any, error) {
	l := []any{}
	d.i++
	d.ws()
	if d.i < len(d.s) && d.s[d.i] == ']' {
		d.i++
		return l, nil
	}
	for {
		v, err := d.value(depth + 1)
		if err != nil {
			return nil, err
		}
		l = append(l, v)
		d.ws()
		if d.i < len(d.s) && d.s[d.i] == ']' {
			d.i++
			return l, nil
		}
		if d.i >= len(d.s) || d.s[d.i] != ',' {
			return nil, d.fail("Expecting ',' delimiter", d.i)
		}
		d.i++
		d.ws()
	}
}

// JSONType is the JSON type json.dumps writes v as: null, boolean, integer,
// number, string, array or object; "" for a value JSON cannot hold.
func JSONType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case int, int64:
		return "integer"
	case float64:
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	case *Map:
		return "object"
	}
	return ""
}

// FromGo converts values produced by encoding/json or Go literals
// (map[string]any, []string, int, float64, ...) into this package's types.
// Plain Go maps have no order, so their keys are sorted.
func FromGo(v any) any {
	switch t := v.(type) {
	case map[string]any:
		m := NewMap()
		for _, k := range sortedKeys(t) {
			m.Set(k, FromGo(t[k]))
		}
		return m
	case map[string]string:
		m := NewMap()
		for _, k := range sortedKeys(t) {
			m.Set(k, t[k])
		}
		return m
	case []any:
		l := make([]any, len(t))
		for i, x := range t {
			l[i] = FromGo(x)
		}
		return l
	case []string:
		l := make([]any, len(t))
		for i, x := range t {
			l[i] = x
		}
		return l
	case int:
		return int64(t)
	case int32:
		return int64(t)
	case float32:
		return float64(t)
	case json.Number:
		if i, err := t.Int64(); err == nil {
			return i
		}
		f, _ := t.Float64()
		return f
	default:
		return v
	}
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
