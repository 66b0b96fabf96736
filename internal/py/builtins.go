package py

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Str formats v like Python's str(v).
func Str(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case Date:
		return t.ISO()
	case DateTime:
		return t.isoformat(' ')
	default:
		return Repr(v)
	}
}

// Repr formats v like Python's repr(v).
func Repr(v any) string {
	var b strings.Builder
	writeRepr(&b, v)
	return b.String()
}

func writeRepr(b *strings.Builder, v any) {
	switch t := v.(type) {
	case nil:
		b.WriteString("None")
	case bool:
		if t {
			b.WriteString("True")
		} else {
			b.WriteString("False")
		}
	case int64:
		b.WriteString(strconv.FormatInt(t, 10))
	case int:
		b.WriteString(strconv.Itoa(t))
	case float64:
		b.WriteString(FloatRepr(t))
	case string:
		b.WriteString(StrRepr(t))
	case []any:
		b.WriteByte('[')
		for i, x := range t {
			if i > 0 {
				b.WriteString(", ")
			}
			writeRepr(b, x)
		}
		b.WriteByte(']')
	case *Map:
		b.WriteByte('{')
		for i, k := range t.Keys() {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(StrRepr(k))
			b.WriteString(": ")
			x, _ := t.Get(k)
			writeRepr(b, x)
		}
		b.WriteByte('}')
	case Date:
		fmt.Fprintf(b, "datetime.date(%d, %d, %d)", t.Year, int(t.Month), t.Day)
	case DateTime:
		tm := t.Time
		fmt.Fprintf(b, "datetime.datetime(%d, %d, %d, %d, %d", tm.Year(), int(tm.Month()), tm.Day(), tm.Hour(), tm.Minute())
		us := tm.Nanosecond() / 1000
		if tm.Second() != 0 || us != 0 {
			fmt.Fprintf(b, ", %d", tm.Second())
		}
		if us != 0 {
			fmt.Fprintf(b, ", %d", us)
		}
		if !t.Naive {
			_, off := tm.Zone()
			if off == 0 {
				b.WriteString(", tzinfo=datetime.timezone.utc")
			} else {
				fmt.Fprintf(b, ", tzinfo=datetime.timezone(datetime.timedelta(seconds=%d))", off)
			}
		}
		b.WriteByte(')')
	default:
		fmt.Fprintf(b, "%v", t)
	}
}

// FloatRepr formats f like Python's repr(float) (and str(), and
// json.dumps): the shortest round-trip digits, fixed notation for
// exponents from -5 to 15 with at least one digit after the point,
// scientific notation otherwise.
func FloatRepr(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case math.IsNaN(f):
		return "nan"
	}
	e := strconv.FormatFloat(f, 'e', -1, 64)
	exp, _ := strconv.Atoi(e[strings.IndexByte(e, 'e')+1:])
	if exp < -4 || exp >= 16 {
		return e
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.ContainsRune(s, '.') {
		s += ".0"
	}
	return s
}

// StrRepr formats s like Python's repr(str).
func StrRepr(s string) string {
	quote := byte('\'')
	if strings.ContainsRune(s, '\'') && !strings.ContainsRune(s, '"') {
		quote = '"'
	}
	var b strings.Builder
	b.WriteByte(quote)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			// Invalid UTF-8 cannot come from Python text; show the byte as a
			// surrogate escape the way Python does for surrogateescape input.
			fmt.Fprintf(&b, "\\udc%02x", s[i])
			i++
			continue
		}
		i += size
		switch {
		case r == '\\':
			b.WriteString(`\\`)
		case r == rune(quote):
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, "\\x%02x", r)
		case r < 0x7f:
			b.WriteRune(r)
		case printable(r):
			b.WriteRune(r)
		default:
			writeEscape(&b, r)
		}
	}
	b.WriteByte(quote)
	return b.String()
}

// JoinRepr is ", ".join(repr(s) for s in items), how Prefect's messages
// list names.
func JoinRepr(items []string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = StrRepr(s)
	}
	return strings.Join(q, ", ")
}

// ASCII is Python's ascii(v): repr(v) with every non-ASCII character
// escaped.
func ASCII(v any) string {
	var b strings.Builder
	for _, r := range Repr(v) {
		if r < 0x80 {
			b.WriteRune(r)
		} else {
			writeEscape(&b, r)
		}
	}
	return b.String()
}

// writeEscape writes r as repr writes a character it does not show:
// \xXX, \uXXXX or \UXXXXXXXX.
func writeEscape(b *strings.Builder, r rune) {
	switch {
	case r <= 0xff:
		fmt.Fprintf(b, `\x%02x`, r)
	case r <= 0xffff:
		fmt.Fprintf(b, `\u%04x`, r)
	default:
		fmt.Fprintf(b, `\U%08x`, r)
	}
}

// printable approximates str.isprintable for one non-ASCII rune: Python
// treats every character outside the Other and Separator categories as
// printable.
func printable(r rune) bool {
	if unicode.In(r, unicode.Cc, unicode.Cf, unicode.Cs, unicode.Co, unicode.Zl, unicode.Zp, unicode.Zs) {
		return false
	}
	return unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S)
}

// Truthy is Python's bool(v): None, False, zero, "" and empty containers are
// false, everything else true.
func Truthy(v any) bool {
	switch t := v.(type) {
	case nil:
		return false
	case bool:
		return t
	case int:
		return t != 0
	case int64:
		return t != 0
	case float64:
		return t != 0
	case string:
		return t != ""
	case []any:
		return len(t) > 0
	case *Map:
		return t.Len() > 0
	}
	return true
}

// TypeName is Python's type(v).__name__, for error messages.
func TypeName(v any) string {
	switch v.(type) {
	case nil:
		return "NoneType"
	case bool:
		return "bool"
	case int, int64:
		return "int"
	case float64:
		return "float"
	case string:
		return "str"
	case []any:
		return "list"
	case *Map:
		return "dict"
	case Date:
		return "date"
	case DateTime:
		return "datetime"
	default:
		return fmt.Sprintf("%T", v)
	}
}

// StringItems is the str items of a list value, in order; other items, and
// a value that is not a list, give none.
func StringItems(x any) []string {
	l, _ := x.([]any)
	var out []string
	for _, v := range l {
		if s, ok := v.(string); ok {
			out = append(out, s)
		}
	}
	return out
}
