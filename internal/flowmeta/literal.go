package flowmeta

import (
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Python values the reader can hold besides the value package's types.
type (
	pyBytes    string
	pyEllipsis struct{}
	pyComplex  struct{ real, imag float64 }
	pyTuple    []any
	pySet      []any // also frozenset
	// pyDict keeps insertion order and non-string keys.
	pyDict struct {
		keys []any
		vals []any
	}
)

// parseNumber reads an int (int64, or *big.Int when larger), float or
// imaginary literal.
func parseNumber(s string) (any, error) {
	clean := strings.ReplaceAll(s, "_", "")
	lower := strings.ToLower(clean)
	if strings.HasSuffix(lower, "j") {
		f, err := strconv.ParseFloat(clean[:len(clean)-1], 64)
		if err != nil {
			return nil, fmt.Errorf("invalid imaginary literal %q", s)
		}
		return pyComplex{imag: f}, nil
	}
	base := 10
	digits := lower
	switch {
	case strings.HasPrefix(lower, "0x"):
		base, digits = 16, lower[2:]
	case strings.HasPrefix(lower, "0o"):
		base, digits = 8, lower[2:]
	case strings.HasPrefix(lower, "0b"):
		base, digits = 2, lower[2:]
	case strings.ContainsAny(lower, ".e"):
		f, err := strconv.ParseFloat(clean, 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return nil, fmt.Errorf("invalid float literal %q", s)
		}
		return f, nil
	}
	if n, err := strconv.ParseInt(digits, base, 64); err == nil {
		return n, nil
	}
	b, ok := new(big.Int).SetString(digits, base)
	if !ok {
		return nil, fmt.Errorf("invalid integer literal %q", s)
	}
	return b, nil
}

// splitStringLiteral splits a string literal token into its prefix (lower
// case: r, b, f, t and their combinations) and the text between its quotes
// (single or triple).
func splitStringLiteral(tok string) (prefix, body string) {
	i := strings.IndexAny(tok, `'"`)
	prefix, body = strings.ToLower(tok[:i]), tok[i:]
	q := body[:1]
	if strings.HasPrefix(body, strings.Repeat(q, 3)) && len(body) >= 6 {
		q = strings.Repeat(q, 3)
	}
	return prefix, body[len(q) : len(body)-len(q)]
}

// decodeStringLiteral decodes one literal token with its prefix, returning
// the text (for bytes, the raw bytes in a Go string), whether it is bytes
// and whether it is an f-string.
func decodeStringLiteral(tok string) (s string, isBytes, isF bool, err error) {
	prefix, body := splitStringLiteral(tok)
	raw := strings.Contains(prefix, "r")
	isBytes = strings.Contains(prefix, "b")
	isF = strings.ContainsAny(prefix, "ft")
	if isF {
		return "", false, true, nil
	}
	if raw {
		return body, isBytes, false, nil
	}
	s, err = unescape(body, isBytes)
	return s, isBytes, false, err
}

var errUnicodeName = errors.New(`\N{...} escapes are not supported`)

func unescape(body string, isBytes bool) (string, error) {
	if !strings.Contains(body, `\`) {
		return body, nil
	}
	var b strings.Builder
	for i := 0; i < len(body); {
		c := body[i]
		if c != '\\' || i+1 >= len(body) {
			b.WriteByte(c)
			i++
			continue
		}
		e := body[i+1]
		i += 2
		switch e {
		case '\n':
		case '\\', '\'', '"':
			b.WriteByte(e)
		case 'a':
			b.WriteByte(7)
		case 'b':
			b.WriteByte(8)
		case 'f':
			b.WriteByte(12)
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'v':
			b.WriteByte(11)
		case '0', '1', '2', '3', '4', '5', '6', '7':
			j := i - 1
			for j < len(body) && j < i+2 && body[j] >= '0' && body[j] <= '7' {
				j++
			}
			n, _ := strconv.ParseUint(body[i-1:j], 8, 32)
			i = j
			writeCode(&b, rune(n), isBytes)
		case 'x', 'u', 'U':
			width := map[byte]int{'x': 2, 'u': 4, 'U': 8}[e]
			if e != 'x' && isBytes {
				b.WriteByte('\\')
				b.WriteByte(e)
				continue
			}
			if i+width > len(body) {
				return "", fmt.Errorf(`truncated \%c escape`, e)
			}
			n, err := strconv.ParseUint(body[i:i+width], 16, 32)
			if err != nil || n > utf8.MaxRune {
				return "", fmt.Errorf(`invalid \%c escape`, e)
			}
			i += width
			writeCode(&b, rune(n), isBytes)
		case 'N':
			if isBytes {
				b.WriteString(`\N`)
				continue
			}
			return "", errUnicodeName
		default:
			b.WriteByte('\\')
			b.WriteByte(e)
		}
	}
	return b.String(), nil
}

func writeCode(b *strings.Builder, r rune, isBytes bool) {
	if isBytes {
		b.WriteByte(byte(r))
		return
	}
	b.WriteRune(r)
}
