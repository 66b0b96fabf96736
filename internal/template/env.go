package template

import (
	"strings"

	"github.com/prefectctl/prefectctl/internal/py"
)

// EnvUse is one {{ $VAR }} placeholder in a value, and where it is.
type EnvUse struct {
	// Var is the variable's name, without the "$"s (as Prefect strips
	// them all).
	Var string
	// Path is where in the value the string holding it is: "image_name",
	// "env.A", "[0]"; "" for the value itself.
	Path string
}

// EnvUses lists the {{ $VAR }} placeholders in the strings of v (mapping
// values and list items, never keys), in the order of v, with their paths;
// a string holding one variable twice lists it once.
func EnvUses(v any) []EnvUse {
	var out []EnvUse
	envUsesInto(v, "", &out)
	return out
}

func envUsesInto(v any, path string, out *[]EnvUse) {
	switch t := v.(type) {
	case string:
		seen := map[string]bool{}
		for _, p := range stringPlaceholders(t) {
			name := strings.TrimLeft(p.Name, envPrefix)
			if p.Kind == EnvVar && !seen[name] {
				seen[name] = true
				*out = append(*out, EnvUse{Var: name, Path: path})
			}
		}
	case *py.Map:
		for _, k := range t.Keys() {
			x, _ := t.Get(k)
			envUsesInto(x, joinKey(path, k), out)
		}
	case []any:
		for i, x := range t {
			envUsesInto(x, joinIndex(path, i), out)
		}
	}
}

// ResolveEnv is what Prefect makes of the {{ $VAR }} placeholders in v
// once it applies the step outputs with remove_notset (in step inputs, and
// in a deployment's fields): each becomes the variable's value, or "" when
// the variable is not set. Other placeholders stay as written, for the
// caller to judge once their values are known. v is not modified.
func ResolveEnv(v any, env func(string) (string, bool)) any {
	switch t := v.(type) {
	case string:
		repl := map[string]string{}
		for _, p := range stringPlaceholders(t) {
			if p.Kind == EnvVar {
				val, _ := env(strings.TrimLeft(p.Name, envPrefix))
				repl[p.Full] = val
			}
		}
		return replaceFull(t, repl)
	case *py.Map:
		out := py.NewMap()
		for _, k := range t.Keys() {
			x, _ := t.Get(k)
			out.Set(k, ResolveEnv(x, env))
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = ResolveEnv(x, env)
		}
		return out
	}
	return v
}
