package template

import (
	"strings"

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
	i, ok := py.ParseInt(key)
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
