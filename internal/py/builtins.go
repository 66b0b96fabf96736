package py

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Date is a calendar date, what PyYAML gives for an unquoted 2024-01-01.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// DateTime is what PyYAML gives for an unquoted timestamp. Naive reports a
// timestamp without a zone (Python's naive datetime).
type DateTime struct {
	Time  time.Time
	Naive bool
}

// ISO returns the date as pydantic's JSON mode writes it.
func (d Date) ISO() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day) }

// ISO returns the timestamp as pydantic's JSON mode writes it: a "T"
// separator, microseconds only when non-zero, "Z" for UTC, and no zone for a
// naive value.
func (d DateTime) ISO() string {
	s := d.Time.Format("2006-01-02T15:04:05")
	if us := d.Time.Nanosecond() / 1000; us != 0 {
		s += fmt.Sprintf(".%06d", us)
	}
	if d.Naive {
		return s
	}
	_, off := d.Time.Zone()
	if off == 0 {
		return s + "Z"
	}
	return s + formatOffset(off)
}

// pyStr returns str(datetime): a space separator and a +HH:MM offset.
func (d DateTime) pyStr() string {
	s := d.Time.Format("2006-01-02 15:04:05")
	if us := d.Time.Nanosecond() / 1000; us != 0 {
		s += fmt.Sprintf(".%06d", us)
	}
	if !d.Naive {
		_, off := d.Time.Zone()
		s += formatOffset(off)
	}
	return s
}

func formatOffset(off int) string {
	sign := '+'
	if off < 0 {
		sign = '-'
		off = -off
	}
	return fmt.Sprintf("%c%02d:%02d", sign, off/3600, off%3600/60)
}

// Str formats v like Python's str(v).
func Str(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case Date:
		return t.ISO()
	case DateTime:
		return t.pyStr()
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

// FloatRepr formats f like Python's repr(float): the shortest round-trip
// digits, fixed notation for exponents from -5 to 15 with at least one
// digit after the point, scientific notation otherwise.
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
		case pyPrintable(r):
			b.WriteRune(r)
		case r <= 0xff:
			fmt.Fprintf(&b, "\\x%02x", r)
		case r <= 0xffff:
			fmt.Fprintf(&b, "\\u%04x", r)
		default:
			fmt.Fprintf(&b, "\\U%08x", r)
		}
	}
	b.WriteByte(quote)
	return b.String()
}

// pyPrintable approximates str.isprintable for one non-ASCII rune: Python
// treats every character outside the Other and Separator categories as
// printable.
func pyPrintable(r rune) bool {
	if unicode.In(r, unicode.Cc, unicode.Cf, unicode.Cs, unicode.Co, unicode.Zl, unicode.Zp, unicode.Zs) {
		return false
	}
	return unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S)
}
