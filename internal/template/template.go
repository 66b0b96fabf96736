// Package template implements prefect.yaml's `{{ placeholder }}` grammar and
// Prefect's apply_values semantics.
//
// The reference is Prefect's src/prefect/utilities/templating/__init__.py and
// get_from_dict in src/prefect/utilities/collections.py, as shipped in Prefect
// 3.9.1 (the version the project's test environment pins). Where 3.9.1 differs
// from the 3.8.4.dev6 code the project started from, this
// package follows 3.9.1:
//
//   - apply_values with RemoveNotSet false keeps unresolved whole-string list
//     items (the old code dropped them whatever the flag said, issue #15096).
//   - Inline substitution is a single pass over the original string, so a
//     substituted value is never itself treated as a placeholder.
//   - get_from_dict matches a mapping key exactly first, so a key "0" or
//     "2026" is reachable; only lists and strings take integer indices.
//   - A single-entry {"value": …} block document is unwrapped unless the key
//     path is "value" or starts with "value." or "value[" ("values.x" now
//     looks inside the value).
//   - find_placeholders accepts None.
//
// testdata/conformance.json holds outputs of the real Prefect functions
// (made by testdata/gen_conformance.py) that the tests replay, so any drift
// shows up as a failing test.
package template

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/prefectctl/prefectctl/internal/diag"
	"github.com/prefectctl/prefectctl/internal/py"
)

// Kind is a placeholder's type, decided by its name's prefix.
type Kind int

const (
	// Standard is any other name: step outputs, {{ ctx.* }}, {{ image }}.
	Standard Kind = iota
	// EnvVar is a name starting with "$".
	EnvVar
	// BlockDocument is a name starting with "prefect.blocks.".
	BlockDocument
	// Variable is a name starting with "prefect.variables.".
	Variable
)

func (k Kind) String() string {
	switch k {
	case Standard:
		return "standard"
	case EnvVar:
		return "env_var"
	case BlockDocument:
		return "block_document"
	case Variable:
		return "variable"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Placeholder is one `{{ name }}` occurrence. Full is the text as written,
// braces and inner spaces included.
type Placeholder struct {
	Full string
	Name string
	Kind Kind
}

const (
	blockPrefix    = "prefect.blocks."
	variablePrefix = "prefect.variables."
	envPrefix      = "$"
)

// placeholderRE is Prefect's PLACEHOLDER_CAPTURE_REGEX,
// `({{\s*([\w\.\-\[\]$]+)\s*}})`, with Python's Unicode `\w` (letters,
// numbers and "_": exactly \p{L}, \p{N} and "_") and `\s` (py.SpaceClass).
var placeholderRE = regexp.MustCompile(`\{\{[` + py.SpaceClass + `]*([\p{L}\p{N}_.\-\[\]$]+)[` + py.SpaceClass + `]*\}\}`)

func kindOf(name string) Kind {
	switch {
	case strings.HasPrefix(name, blockPrefix):
		return BlockDocument
	case strings.HasPrefix(name, variablePrefix):
		return Variable
	case strings.HasPrefix(name, envPrefix):
		return EnvVar
	default:
		return Standard
	}
}

// IsTemplated reports whether v is a string that still holds a {{ }}
// placeholder: a value to judge once it is resolved (by a later step, or
// on the worker), not as written.
func IsTemplated(v any) bool {
	s, ok := v.(string)
	return ok && strings.Contains(s, "{{")
}

// HoldsTemplate reports whether v, or any string inside its lists and
// mappings, IsTemplated.
func HoldsTemplate(v any) bool {
	switch t := v.(type) {
	case []any:
		for _, x := range t {
			if HoldsTemplate(x) {
				return true
			}
		}
		return false
	case *py.Map:
		for _, k := range t.Keys() {
			if x, _ := t.Get(k); HoldsTemplate(x) {
				return true
			}
		}
		return false
	}
	return IsTemplated(v)
}

// notSetT is the type of NotSet.
type notSetT struct{}

func (notSetT) String() string { return "NotSet" }

// NotSet is Prefect's NotSet sentinel: ApplyValues returns it for a
// whole-string placeholder that has no value, and treats it in a template as
// a value to drop (or keep, with RemoveNotSet false).
var NotSet any = notSetT{}

func isNotSet(v any) bool {
	_, ok := v.(notSetT)
	return ok
}

// stringPlaceholders returns the distinct placeholders of s sorted by Full.
func stringPlaceholders(s string) []Placeholder {
	if !strings.Contains(s, "{{") {
		return nil
	}
	ms := placeholderRE.FindAllStringSubmatch(s, -1)
	if len(ms) == 0 {
		return nil
	}
	seen := make(map[string]bool, len(ms))
	out := make([]Placeholder, 0, len(ms))
	for _, m := range ms {
		if seen[m[0]] {
			continue
		}
		seen[m[0]] = true
		out = append(out, Placeholder{Full: m[0], Name: m[1], Kind: kindOf(m[1])})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Full < out[j].Full })
	return out
}

// FindPlaceholders returns the distinct placeholders in the strings of v,
// walking mapping values (never keys) and list items, sorted by Full.
// nil, booleans and numbers hold none; any other type (a date, say) is an
// error, as in Prefect's find_placeholders.
func FindPlaceholders(v any) ([]Placeholder, error) {
	set := map[string]Placeholder{}
	if err := findInto(v, "", set); err != nil {
		return nil, err
	}
	out := make([]Placeholder, 0, len(set))
	for _, p := range set {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Full < out[j].Full })
	return out, nil
}

func findInto(v any, path string, set map[string]Placeholder) error {
	switch t := v.(type) {
	case nil, bool, int, int64, float64:
		return nil
	case string:
		for _, p := range stringPlaceholders(t) {
			set[p.Full] = p
		}
		return nil
	case *py.Map:
		for _, k := range t.Keys() {
			x, _ := t.Get(k)
			if err := findInto(x, joinKey(path, k), set); err != nil {
				return err
			}
		}
		return nil
	case []any:
		for i, x := range t {
			if err := findInto(x, joinIndex(path, i), set); err != nil {
				return err
			}
		}
		return nil
	default:
		return &diag.Error{
			Kind: diag.Invalid,
			Path: path,
			Msg:  fmt.Sprintf("Unexpected type: <class '%s'>", pyClassName(v)),
			Hint: typeHint(v),
		}
	}
}

// pyClassName is the qualified name Python prints for type(v).
func pyClassName(v any) string {
	switch v.(type) {
	case py.Date:
		return "datetime.date"
	case py.DateTime:
		return "datetime.datetime"
	case notSetT:
		return "type" // Prefect's NotSet is a class
	default:
		return py.TypeName(v)
	}
}

func typeHint(v any) string {
	switch v.(type) {
	case py.Date, py.DateTime:
		return "YAML reads an unquoted date as a date; quote it in prefect.yaml to keep it a string"
	}
	return "templated values may only be mappings, lists, strings, numbers, booleans and null"
}

func joinKey(path, k string) string {
	if path == "" {
		return k
	}
	return path + "." + k
}

func joinIndex(path string, i int) string { return fmt.Sprintf("%s[%d]", path, i) }

// replaceFull substitutes, in one pass over s, each placeholder whose Full
// text is a key of repl; other placeholders stay as written.
func replaceFull(s string, repl map[string]string) string {
	if len(repl) == 0 {
		return s
	}
	return placeholderRE.ReplaceAllStringFunc(s, func(m string) string {
		if r, ok := repl[m]; ok {
			return r
		}
		return m
	})
}
