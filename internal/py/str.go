package py

import (
	"math"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// IsSpace is str.isspace() for one character (Py_UNICODE_ISSPACE): Go's
// unicode.IsSpace lacks U+001C to U+001F and has U+180E.
func IsSpace(r rune) bool {
	switch {
	case r >= '\t' && r <= '\r', r >= 0x1c && r <= 0x20, r == 0x85, r == 0xa0, r == 0x1680,
		r >= 0x2000 && r <= 0x200a, r == 0x2028, r == 0x2029, r == 0x202f, r == 0x205f, r == 0x3000:
		return true
	}
	return false
}

// SpaceClass is the characters IsSpace accepts, written for a regexp
// character class: what Python's Unicode `\s` matches.
const SpaceClass = `\t\n\v\f\r\x1c-\x1f \x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}`

// Strip is str.strip().
func Strip(s string) string { return strings.TrimFunc(s, IsSpace) }

// IsASCII is str.isascii().
func IsASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// DecodeUTF8 is bytes.decode("utf-8", errors="replace") as prefectctl
// applies it: each byte that is not part of valid UTF-8 becomes U+FFFD.
func DecodeUTF8(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	var sb strings.Builder
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		sb.WriteRune(r) // RuneError is U+FFFD, one per bad byte
		b = b[n:]
	}
	return sb.String()
}

// SplitLines is Python's str.splitlines(): \n, \r, \r\n, \v, \f, \x1c-\x1e,
// \x85, U+2028 and U+2029 all end a line, and no trailing empty line is
// produced.
func SplitLines(s string) []string {
	var out []string
	rs := []rune(s)
	var cur strings.Builder
	for i := 0; i < len(rs); i++ {
		switch r := rs[i]; r {
		case '\r':
			if i+1 < len(rs) && rs[i+1] == '\n' {
				i++
			}
			out = append(out, cur.String())
			cur.Reset()
		case '\n', '\v', '\f', 0x1c, 0x1d, 0x1e, 0x85, 0x2028, 0x2029:
			out = append(out, cur.String())
			cur.Reset()
		default:
			cur.WriteRune(r)
		}
	}
	if cur.Len() > 0 {
		out = append(out, cur.String())
	}
	return out
}

// templateRE is string.Template's pattern with the default delimiter and
// idpattern.
var templateRE = regexp.MustCompile(`(?i)\$(?:(\$)|([_a-z][_a-z0-9]*)|\{([_a-z][_a-z0-9]*)\}|())`)

// SafeSubstitute is string.Template(s).safe_substitute(env): $NAME and
// ${NAME} are replaced when known and left alone otherwise, "$$" becomes
// "$", and any other "$" stays.
func SafeSubstitute(s string, lookup func(string) (string, bool)) string {
	return templateRE.ReplaceAllStringFunc(s, func(m string) string {
		sub := templateRE.FindStringSubmatch(m)
		switch {
		case sub[1] != "":
			return "$"
		case sub[2] != "":
			if v, ok := lookup(sub[2]); ok {
				return v
			}
		case sub[3] != "":
			if v, ok := lookup(sub[3]); ok {
				return v
			}
		}
		return m
	})
}

// ParseInt parses s the way Python's int(s) does for base 10: surrounding
// whitespace, an optional sign, decimal digits of any script, and single
// underscores between digits. Values beyond int64 report false, which for an
// index is the same IndexError outcome.
func ParseInt(s string) (int64, bool) {
	s = Strip(s)
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		s = s[1:]
	}
	if s == "" {
		return 0, false
	}
	var n uint64
	prevDigit := false
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		if r == '_' {
			if !prevDigit {
				return 0, false
			}
			prevDigit = false
			continue
		}
		d, ok := decimalValue(r)
		if !ok {
			return 0, false
		}
		prevDigit = true
		if n > (math.MaxInt64+1-uint64(d))/10 {
			return 0, false
		}
		n = n*10 + uint64(d)
	}
	if !prevDigit { // trailing underscore
		return 0, false
	}
	if neg {
		return -int64(n), true // n == 1<<63 wraps to MinInt64, as wanted
	}
	if n > math.MaxInt64 {
		return 0, false
	}
	return int64(n), true
}

// decimalValue is Python's unicodedata.decimal: every Unicode Nd character,
// and digits come in runs of ten starting at a zero, so the value is the
// offset within the run.
func decimalValue(r rune) (int, bool) {
	if r >= '0' && r <= '9' {
		return int(r - '0'), true
	}
	if r < 0x80 || !unicode.Is(unicode.Nd, r) {
		return 0, false
	}
	for _, rg := range unicode.Nd.R16 {
		if rune(rg.Lo) <= r && r <= rune(rg.Hi) {
			return int(r-rune(rg.Lo)) % 10, true
		}
	}
	for _, rg := range unicode.Nd.R32 {
		if rune(rg.Lo) <= r && r <= rune(rg.Hi) {
			return int(r-rune(rg.Lo)) % 10, true
		}
	}
	return 0, false
}
