package cloudapi

import (
	"strings"

	"github.com/prefectctl/prefectctl/internal/py"
)

// registerBlockSecrets adds the values of a block document's secret fields
// (block_schema.fields.secret_fields, dotted paths with * wildcards) to the
// client's redaction list, so a secret that templating puts into a request
// body never shows in --debug output.
func (c *Client) registerBlockSecrets(b *BlockDocument) {
	if b == nil || b.Data == nil || b.BlockSchema == nil {
		return
	}
	fields, _ := b.BlockSchema.Get("fields")
	fm, _ := fields.(*py.Map)
	if fm == nil {
		return
	}
	raw, _ := fm.Get("secret_fields")
	paths, _ := raw.([]any)
	for _, p := range paths {
		ps, ok := p.(string)
		if !ok {
			continue
		}
		for _, s := range collectAt(b.Data, strings.Split(ps, ".")) {
			c.AddSecret(s)
		}
	}
}

// collectAt returns the string leaves at path under v ("*" matches any key).
func collectAt(v any, path []string) []string {
	if len(path) == 0 {
		return stringLeaves(v)
	}
	m, ok := v.(*py.Map)
	if !ok {
		return nil
	}
	if path[0] == "*" {
		var out []string
		for _, k := range m.Keys() {
			x, _ := m.Get(k)
			out = append(out, collectAt(x, path[1:])...)
		}
		return out
	}
	x, ok := m.Get(path[0])
	if !ok {
		return nil
	}
	return collectAt(x, path[1:])
}

func stringLeaves(v any) []string {
	switch t := v.(type) {
	case string:
		return []string{t}
	case *py.Map:
		var out []string
		for _, k := range t.Keys() {
			x, _ := t.Get(k)
			out = append(out, stringLeaves(x)...)
		}
		return out
	case []any:
		var out []string
		for _, x := range t {
			out = append(out, stringLeaves(x)...)
		}
		return out
	}
	return nil
}
