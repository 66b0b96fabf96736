package jsonschema

import (
	"errors"
	"regexp"
	"strings"
	"sync"

	"github.com/prefectctl/prefectctl/internal/py"
)

// pythonRegexp compiles a pattern for re.search as Python's re module reads
// it on a str, translated to Go's RE2: \d, \w and \s are Unicode classes in
// Python (ASCII in Go), and $ also matches before a final newline. A
// pattern RE2 cannot express (lookaround, backreferences, possessive
// quantifiers) is an error, and the caller leaves the check undecided.
func pythonRegexp(p string) (*regexp.Regexp, error) {
	if re, ok := regexps.Load(p); ok {
		return re.(*regexp.Regexp), nil
	}
	g, err := translateRegexp(p)
	if err != nil {
		return nil, err
	}
	re, err := regexp.Compile(g)
	if err != nil {
		return nil, err
	}
	regexps.Store(p, re)
	return re, nil
}

var regexps sync.Map

const (
	pyDigit = `\p{Nd}`
	pyWord  = `\p{L}\p{N}_\p{Mn}\p{Mc}`
)

var errUntranslatable = errors.New("pattern not expressible in RE2")

func translateRegexp(p string) (string, error) {
	var b strings.Builder
	inClass := false
	rs := []rune(p)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case r == '\\' && i+1 < len(rs):
			i++
			c := rs[i]
			switch c {
			case 'd', 'w', 's':
				cls := map[rune]string{'d': pyDigit, 'w': pyWord, 's': py.SpaceClass}[c]
				if inClass {
					b.WriteString(cls)
				} else {
					b.WriteString("[" + cls + "]")
				}
			case 'D', 'W', 'S':
				if inClass {
					return "", errUntranslatable
				}
				cls := map[rune]string{'D': pyDigit, 'W': pyWord, 'S': py.SpaceClass}[c]
				b.WriteString("[^" + cls + "]")
			case 'Z':
				b.WriteString(`\z`)
			default:
				if c >= '1' && c <= '9' && !inClass {
					return "", errUntranslatable // a backreference
				}
				b.WriteRune('\\')
				b.WriteRune(c)
			}
		case inClass:
			if r == ']' {
				inClass = false
			}
			b.WriteRune(r)
		case r == '[':
			inClass = true
			b.WriteRune(r)
			// A ] right after [ or [^ is a literal in both dialects.
			if i+1 < len(rs) && rs[i+1] == '^' {
				i++
				b.WriteRune('^')
			}
			if i+1 < len(rs) && rs[i+1] == ']' {
				i++
				b.WriteString(`\]`)
			}
		case r == '$':
			b.WriteString(`(?:\n?\z)`)
		case r == '{' && i+1 < len(rs) && rs[i+1] == ',':
			b.WriteString("{0") // Python's {,n} is {0,n}
		case r == '(' && i+2 < len(rs) && rs[i+1] == '?' && (rs[i+2] == '=' || rs[i+2] == '!' || rs[i+2] == '<' && i+3 < len(rs) && (rs[i+3] == '=' || rs[i+3] == '!') || rs[i+2] == '>'):
			return "", errUntranslatable
		case (r == '+' || r == '*' || r == '?' || r == '}') && i+1 < len(rs) && rs[i+1] == '+':
			return "", errUntranslatable // possessive
		default:
			b.WriteRune(r)
		}
	}
	return b.String(), nil
}
