package jsonschema

import (
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/prefectctl/prefectctl/internal/py"
)

// The server reports one error: python-jsonschema's best_match over all of
// them, by its relevance key (-len(path), path, not anyOf/oneOf, not the
// instance's own type), descending into an anyOf or oneOf's branch errors
// while one of them is clearly the most relevant.

type relKey struct {
	negLen         int
	path           []any
	notWeak        bool
	notMatchesType bool
}

func relevance(f *failure) relKey {
	return relKey{
		negLen:         -len(f.path),
		path:           f.path,
		notWeak:        f.keyword != "anyOf" && f.keyword != "oneOf",
		notMatchesType: !matchesType(f),
	}
}

func boolCmp(a, b bool) int {
	switch {
	case a == b:
		return 0
	case b:
		return -1
	}
	return 1
}

func compareRelevance(a, b relKey) int {
	if a.negLen != b.negLen {
		if a.negLen < b.negLen {
			return -1
		}
		return 1
	}
	if c := comparePaths(a.path, b.path); c != 0 {
		return c
	}
	if c := boolCmp(a.notWeak, b.notWeak); c != 0 {
		return c
	}
	return boolCmp(a.notMatchesType, b.notMatchesType)
}

// comparePaths orders paths as Python orders deques: element by element
// (strings by code point, indexes by value), then by length.
func comparePaths(a, b []any) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		switch x := a[i].(type) {
		case int:
			y, ok := b[i].(int)
			if !ok {
				return -1
			}
			if x != y {
				if x < y {
					return -1
				}
				return 1
			}
		case string:
			y, ok := b[i].(string)
			if !ok {
				return 1
			}
			if c := strings.Compare(x, y); c != 0 {
				return c
			}
		}
	}
	switch {
	case len(a) < len(b):
		return -1
	case len(a) > len(b):
		return 1
	}
	return 0
}

// matchesType is _matches_type: the failing value has the type the schema
// holding the failed keyword names.
func matchesType(f *failure) bool {
	s, ok := f.schema.(*py.Map)
	if !ok {
		return false
	}
	t, ok := s.Get("type")
	if !ok {
		return false
	}
	var types []any
	switch v := t.(type) {
	case string:
		types = []any{v}
	case []any:
		types = v
	}
	for _, x := range types {
		name, _ := x.(string)
		if m, _ := isType(f.instance, name); m {
			return true
		}
	}
	return false
}

// bestMatch is best_match: the most relevant error (the first of equals),
// then descent into its context.
func bestMatch(fails []*failure) *failure {
	if len(fails) == 0 {
		return nil
	}
	best := fails[0]
	for _, f := range fails[1:] {
		if compareRelevance(relevance(f), relevance(best)) > 0 {
			best = f
		}
	}
	return descend(best)
}

// descend follows best_match into an anyOf or oneOf: the most relevant
// branch error (the deepest), unless the two most relevant tie.
func descend(best *failure) *failure {
	for len(best.context) > 0 {
		ctx := append([]*failure(nil), best.context...)
		sort.SliceStable(ctx, func(i, j int) bool { return compareRelevance(relevance(ctx[i]), relevance(ctx[j])) < 0 })
		if len(ctx) >= 2 && compareRelevance(relevance(ctx[0]), relevance(ctx[1])) == 0 {
			return best
		}
		best = ctx[0]
	}
	return best
}

var jsonPathName = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9_]*$`)

// jsonPath is ValidationError.json_path: $.a.b[0]['odd key'].
func jsonPath(path []any) string {
	var b strings.Builder
	b.WriteString("$")
	for _, p := range path {
		switch t := p.(type) {
		case int:
			b.WriteString("[" + strconv.Itoa(t) + "]")
		case string:
			if jsonPathName.MatchString(t) {
				b.WriteString("." + t)
			} else {
				b.WriteString("['" + strings.ReplaceAll(strings.ReplaceAll(t, `\`, `\\`), "'", `\'`) + "']")
			}
		}
	}
	return b.String()
}
