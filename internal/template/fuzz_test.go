package template

import (
	"strings"
	"testing"

	"github.com/prefectctl/prefectctl/internal/py"
)

// FuzzApplyValues checks invariants that hold for Prefect's apply_values.
// ("Output has no more placeholders than input" does not: removing
// "{{ a }}" from "{{ {{ a }} b }}" forms "{{  b }}", in Prefect too.)
//
//  1. It never panics and never modifies the template or the values.
//  2. With nothing to resolve against and RemoveNotSet false, it is the
//     identity (a lone top-level STANDARD placeholder gives NotSet).
//  3. Block, variable and skipped placeholders survive verbatim.
//  4. A string without "{{" comes back unchanged.
//  5. Only a string that is exactly one non-skipped STANDARD placeholder can
//     turn into a non-string; anything else stays a string or becomes
//     NotSet.
func FuzzApplyValues(f *testing.F) {
	for _, s := range []string{
		"", "plain", "{{ a }}", "x{{ a }}y", "{{ b.c[0] }}", "{{ b.c.-1 }}", "{{ $E }}", "{{ $$ }}",
		"{{ prefect.blocks.s.n }}-{{ a }}", "{{ prefect.variables.v }}", "{{ ctx.flow.name }}/{{ a }}",
		"{{ {{ a }} b }}", "{{{ a }}}", "{{\u3000a\x1c}}", "{{ a }}{{ a }}{{a}}", "{{ missing }}", "{{ a.0 }}",
	} {
		f.Add(s, "val", true)
		f.Add(s, "{{ a }}", false)
	}
	f.Fuzz(func(t *testing.T, tmplStr, val string, remove bool) {
		values := M("a", val, "b", M("c", []any{val, int64(3), nil}), "ctx", M("flow", M("name", "F")))
		tree := M("s", tmplStr, "l", []any{tmplStr, int64(1), nil, M("x", tmplStr)})
		env := func(k string) (string, bool) { return val, k == "E" }
		skip := []string{"ctx."}
		beforeT, beforeV := py.Repr(tree), py.Repr(values)

		_, err := ApplyValues(tree, values, Options{RemoveNotSet: remove, Env: env, SkipPrefixes: skip})
		if err != nil {
			t.Fatal(err)
		}
		if py.Repr(tree) != beforeT || py.Repr(values) != beforeV {
			t.Fatal("input modified")
		}

		// 2: identity with nothing to resolve against.
		id, err := ApplyValues(tree, py.NewMap(), Options{Env: func(string) (string, bool) { return "", false }})
		if err != nil {
			t.Fatal(err)
		}
		if py.Repr(id) != beforeT {
			t.Fatalf("not the identity:\n%s\n%s", py.Repr(id), beforeT)
		}

		// 3–5 on the top-level string.
		out, err := ApplyValues(tmplStr, values, Options{RemoveNotSet: remove, Env: env, SkipPrefixes: skip})
		if err != nil {
			t.Fatal(err)
		}
		phs := stringPlaceholders(tmplStr)
		var live []Placeholder
		for _, p := range phs {
			if !strings.HasPrefix(p.Name, "ctx.") {
				live = append(live, p)
			}
		}
		s, isStr := out.(string)
		if !strings.Contains(tmplStr, "{{") && (!isStr || s != tmplStr) {
			t.Fatalf("placeholder-free %q became %s", tmplStr, py.Repr(out))
		}
		whole := len(live) == 1 && live[0].Full == tmplStr && live[0].Kind == Standard
		if !isStr && !whole && !isNotSet(out) {
			t.Fatalf("%q became a %T", tmplStr, out)
		}
		if isStr {
			for _, p := range phs {
				if (p.Kind == BlockDocument || p.Kind == Variable || strings.HasPrefix(p.Name, "ctx.")) &&
					!strings.Contains(s, p.Full) {
					t.Fatalf("%q lost %q: %q", tmplStr, p.Full, s)
				}
			}
		}
	})
}
