package jsonschema

import (
	"github.com/prefectctl/prefectctl/internal/py"
)

// The server's preparation of a schema, done on a copy exactly as
// Prefect 3.9.1 does it (prefect/utilities/schema_tools/validation.py and
// prefect/utilities/collections.py), so that validating the prepared copy
// with plain Draft 2020-12 gives the server's verdict.

// preprocess is preprocess_schema: each property (of the root, of nested
// inline properties, of every definitions entry) that is not required, has
// a type other than "null" and no default (or any default, with
// allowNoneWithDefault) becomes anyOf [that type, null]; a list-valued items
// without prefixItems becomes prefixItems; and every definition with a
// block_type_slug is replaced, under its title, by a oneOf of itself and a
// reference to a saved block document.
func preprocess(schema *py.Map, allowNoneWithDefault bool) *py.Map {
	s := py.Clone(schema).(*py.Map)
	if props, ok := get(s, "properties").(*py.Map); ok {
		processProperties(props, py.StringItems(get(s, "required")), allowNoneWithDefault)
	}
	defs, ok := get(s, "definitions").(*py.Map)
	if !ok {
		return s
	}
	for _, k := range defs.Keys() {
		def, ok := get(defs, k).(*py.Map)
		if !ok {
			continue
		}
		if props, ok := get(def, "properties").(*py.Map); ok {
			processProperties(props, py.StringItems(get(def, "required")), allowNoneWithDefault)
		}
		if def.Has("block_type_slug") {
			// Keyed by the title, as the server does: a definition whose
			// key differs from its title keeps its plain form under the key.
			title, ok := get(def, "title").(string)
			if !ok {
				continue
			}
			defs.Set(title, py.MapOf("oneOf", []any{def, blockReference()}))
		}
	}
	return s
}

// blockReference is the schema of {"$ref": "<block document id>"} or
// {"$ref": {"block_document_id": "<id>"}}.
func blockReference() *py.Map {
	return py.MapOf(
		"type", "object",
		"properties", py.MapOf("$ref", py.MapOf("oneOf", []any{
			py.MapOf("type", "string", "format", "uuid"),
			py.MapOf("type", "object", "additionalProperties", py.MapOf("type", "string"), "minProperties", int64(1)),
		})),
		"required", []any{"$ref"},
	)
}

func processProperties(props *py.Map, required []string, allowNoneWithDefault bool) {
	for _, k := range props.Keys() {
		p, ok := get(props, k).(*py.Map)
		if !ok {
			continue
		}
		fixNullTyping(k, p, required, allowNoneWithDefault)
		fixTupleItems(p)
		if inner, ok := get(p, "properties").(*py.Map); ok {
			processProperties(inner, py.StringItems(get(p, "required")), allowNoneWithDefault)
		}
	}
}

func fixNullTyping(key string, p *py.Map, required []string, allowNoneWithDefault bool) {
	for _, r := range required {
		if r == key {
			return
		}
	}
	t, ok := p.Get("type")
	if !ok || isString(t, "null") || p.Has("default") && !allowNoneWithDefault {
		return
	}
	p.Set("anyOf", []any{py.MapOf("type", t), py.MapOf("type", "null")})
	p.Delete("type")
}

func fixTupleItems(p *py.Map) {
	items, ok := get(p, "items").([]any)
	if !ok || len(items) == 0 || py.Truthy(get(p, "prefixItems")) {
		return
	}
	p.Set("prefixItems", py.Clone(items))
	p.Delete("items")
}

// removeRequired is remove_nested_keys(["required"], schema): every key
// named "required" in every mapping reached through mappings, never through
// lists. The schemas listed under anyOf, oneOf, allOf or prefixItems keep
// theirs, and a property literally named "required" goes too.
func removeRequired(x any) any {
	m, ok := x.(*py.Map)
	if !ok {
		return x
	}
	out := py.NewMap()
	for _, k := range m.Keys() {
		if k == "required" {
			continue
		}
		out.Set(k, removeRequired(get(m, k)))
	}
	return out
}

func isString(x any, s string) bool {
	v, ok := x.(string)
	return ok && v == s
}

// hydration: the server's replacement of {"__prefect_kind": ...} values
// before it validates an update or a run (hydration.py).

// removed stands for a value hydration drops from its parent.
type removed struct{}

// renderedString is the result of a Jinja template the server renders: a
// string whose text prefectctl does not compute.
type renderedString struct{ template any }

// workspaceValue is a workspace variable's value, read on the server.
type workspaceValue struct{}

// hydrationError is a value the server refuses to hydrate (400).
type hydrationError struct{ msg string }

func hydrate(x any) any {
	switch t := x.(type) {
	case *py.Map:
		if t.Has("__prefect_kind") {
			return hydrateKind(t)
		}
		out := py.NewMap()
		for _, k := range t.Keys() {
			v := hydrate(get(t, k))
			if _, drop := v.(removed); !drop {
				out.Set(k, v)
			}
		}
		return out
	case []any:
		out := make([]any, 0, len(t))
		for _, v := range t {
			h := hydrate(v)
			if _, drop := h.(removed); !drop {
				out = append(out, h)
			}
		}
		return out
	}
	return x
}

func isPlaceholder(x any) bool {
	switch x.(type) {
	case removed, renderedString, workspaceValue, hydrationError:
		return true
	}
	return false
}

func hydrateKind(m *py.Map) any {
	kind, _ := m.Get("__prefect_kind")
	switch kind {
	case "none":
		if v, ok := m.Get("value"); ok {
			return hydrate(v)
		}
		return hydrationError{"Missing 'value' key in __prefect object"}
	case "json":
		v, ok := m.Get("value")
		if !ok {
			return removed{}
		}
		if vm, isMap := v.(*py.Map); isMap {
			v = hydrate(vm)
		}
		s, isStr := v.(string)
		if isPlaceholder(v) || !isStr {
			return v
		}
		loaded, err := py.DecodeJSON([]byte(s))
		if err != nil {
			return hydrationError{"Invalid JSON: " + err.Error()}
		}
		return loaded
	case "jinja":
		t, ok := m.Get("template")
		if !ok {
			return hydrationError{"Missing 'template' key in __prefect object"}
		}
		if tm, isMap := t.(*py.Map); isMap {
			h := hydrate(tm)
			if isPlaceholder(h) {
				return h
			}
			t = h
		}
		return renderedString{t}
	case "workspace_variable":
		n, ok := m.Get("variable_name")
		if !ok {
			return removed{}
		}
		if nm, isMap := n.(*py.Map); isMap {
			if h := hydrate(nm); isPlaceholder(h) {
				return h
			}
		}
		return workspaceValue{}
	}
	// An unknown kind (or a kind that is not a string) stands for its
	// value, which is not hydrated further.
	v, _ := m.Get("value")
	return v
}
