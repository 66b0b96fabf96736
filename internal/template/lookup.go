package template

import (
	"math"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/prefectctl/prefectctl/internal/py"
)

// GetFromDict follows keyPath through values like Prefect's get_from_dict
// and reports whether it found something.
//
// The path is rewritten as path.replace("[", ".").replace("]", "") and split
// on ".". A mapping is indexed by the exact segment (so "0" and "2026" are
// ordinary keys); a list or a string takes the segment as a Python int, with
// negative indices counting from the end, a string giving one character.
// Anything else, and any miss, is not found.
func GetFromDict(values any, keyPath string) (any, bool) {
	keyPath = strings.ReplaceAll(strings.ReplaceAll(keyPath, "[", "."), "]", "")
	cur := values
	for _, key := range strings.Split(keyPath, ".") {
		switch c := cur.(type) {
		case *py.Map:
			v, ok := c.Get(key)
			if !ok {
				return nil, false
			}
			cur = v
		case []any:
			i, ok := pyIndex(key, len(c))
			if !ok {
				return nil, false
			}
			cur = c[i]
		case string:
			rs := []rune(c)
			i, ok := pyIndex(key, len(rs))
			if !ok {
				return nil, false
			}
			cur = string(rs[i])
		default:
			return nil, false
		}
	}
	return cur, true
}

// pyIndex converts key with Python's int() and applies it as a sequence index
// for a sequence of length n.
func pyIndex(key string, n int) (int, bool) {
	i, ok := pyInt(key)
	if !ok {
		return 0, false
	}
	if i < 0 {
		i += int64(n)
	}
	if i < 0 || i >= int64(n) {
		return 0, false
	}
	return int(i), true
}

// pyInt parses s the way Python's int(s) does for base 10: surrounding
// whitespace, an optional sign, decimal digits of any script, and single
// underscores between digits. Values beyond int64 report false, which for an
// index is the same IndexError outcome.
func pyInt(s string) (int64, bool) {
	s = strings.TrimFunc(s, isPySpace)
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

// isPySpace is Python's str.isspace for one character.
func isPySpace(r rune) bool {
	switch {
	case r >= '\t' && r <= '\r', r >= 0x1c && r <= 0x20, r == 0x85, r == 0xa0, r == 0x1680,
		r >= 0x2000 && r <= 0x200a, r == 0x2028, r == 0x2029, r == 0x202f, r == 0x205f, r == 0x3000:
		return true
	}
	return false
}
