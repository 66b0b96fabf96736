package project

// Writing YAML the way PyYAML's default dumper lays it out, for the files
// `prefect init` writes (scaffold.go).

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/prefectctl/prefectctl/internal/py"
)

// YAML is the project's document as loaded, after an environment's overlay
// and the (( values.NAME )) placeholders: what Prefect would read had it
// been written that way.
func (p *Project) YAML() string {
	var b strings.Builder
	switch p.File.Raw.(type) {
	case *py.Map, []any:
		writeYAML(&b, p.File.Raw, 0)
	default:
		b.WriteString(yamlScalar(p.File.Raw) + "\n")
	}
	return b.String()
}

// Document is the project's document as YAML returns it, for JSON output:
// dates and times as ISO strings, as pydantic's JSON mode writes them.
func (p *Project) Document() any { return jsonMode(py.Clone(p.File.Raw)) }

// writeYAML writes v in block style the way PyYAML's default dumper lays it
// out (sequences not indented under their key, flow {} and [] when empty,
// quotes only where a plain scalar would read back differently).
func writeYAML(b *strings.Builder, v any, indent int) {
	pad := strings.Repeat(" ", indent)
	switch x := v.(type) {
	case *py.Map:
		for _, k := range x.Keys() {
			child, _ := x.Get(k)
			b.WriteString(pad + yamlScalar(k) + ":")
			writeYAMLChild(b, child, indent, false)
		}
	case []any:
		for _, item := range x {
			b.WriteString(pad + "-")
			writeYAMLChild(b, item, indent, true)
		}
	}
}

func writeYAMLChild(b *strings.Builder, v any, indent int, inList bool) {
	switch x := v.(type) {
	case *py.Map, []any:
		if !py.Truthy(x) {
			if _, isMap := x.(*py.Map); isMap {
				b.WriteString(" {}\n")
			} else {
				b.WriteString(" []\n")
			}
			return
		}
		if inList {
			// The first key or item goes on the dash's line; the rest align
			// with it.
			var inner strings.Builder
			writeYAML(&inner, x, indent+2)
			b.WriteString(" " + strings.TrimPrefix(inner.String(), strings.Repeat(" ", indent+2)))
			return
		}
		b.WriteString("\n")
		if _, isMap := x.(*py.Map); isMap {
			writeYAML(b, x, indent+2)
		} else {
			writeYAML(b, x, indent) // PyYAML does not indent a list under its key
		}
	default:
		b.WriteString(" " + yamlScalar(v) + "\n")
	}
}

// plainOK reports whether s can be written unquoted in block context, after
// PyYAML's analysis: no leading indicator, no ": " or " #", no surrounding
// space, nothing that its own resolver (yaml11.go) reads as another type.
func plainOK(s string) bool {
	if s == "" || s != strings.TrimSpace(s) || !resolvesToString(s) {
		return false
	}
	if strings.ContainsAny(s[:1], "#,[]{}&*!|>'\"%@`") {
		return false
	}
	if strings.ContainsAny(s[:1], "-?:") && (len(s) == 1 || s[1] == ' ') {
		return false
	}
	if strings.Contains(s, ": ") || strings.Contains(s, " #") || strings.HasSuffix(s, ":") {
		return false
	}
	return py.IsASCII(s) && isPrintable(s) && !strings.ContainsAny(s, "\n\t")
}

func yamlScalar(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		if x {
			return "true"
		}
		return "false"
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		// PyYAML's represent_float: repr, with ".0" added before an
		// exponent so that YAML 1.1 still reads a float.
		switch {
		case math.IsNaN(x):
			return ".nan"
		case math.IsInf(x, 1):
			return ".inf"
		case math.IsInf(x, -1):
			return "-.inf"
		}
		r := strings.ToLower(py.FloatRepr(x))
		if !strings.Contains(r, ".") && strings.Contains(r, "e") {
			r = strings.Replace(r, "e", ".0e", 1)
		}
		return r
	case py.Date:
		return x.ISO()
	case py.DateTime:
		// datetime.isoformat(" "), as PyYAML writes a timestamp.
		iso := x.ISO()
		if strings.HasSuffix(iso, "Z") {
			iso = strings.TrimSuffix(iso, "Z") + "+00:00"
		}
		return iso[:10] + " " + iso[11:]
	case string:
		if plainOK(x) {
			return x
		}
		if strings.ContainsAny(x, "\n\t\x00") || !isPrintable(x) || !py.IsASCII(x) {
			return pyDoubleQuoted(x)
		}
		return "'" + strings.ReplaceAll(x, "'", "''") + "'"
	}
	return yamlScalar(py.Str(v))
}

// pyDoubleQuoted escapes as PyYAML does without allow_unicode: non-ASCII
// as \xXX, \uXXXX or \UXXXXXXXX.
func pyDoubleQuoted(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == 0:
			b.WriteString(`\0`)
		case r >= 0x20 && r < 0x7f:
			b.WriteRune(r)
		case r < 0x100:
			fmt.Fprintf(&b, `\x%02X`, r)
		case r < 0x10000:
			fmt.Fprintf(&b, `\u%04X`, r)
		default:
			fmt.Fprintf(&b, `\U%08X`, r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

func isPrintable(s string) bool {
	for _, r := range s {
		if !strconv.IsPrint(r) {
			return false
		}
	}
	return true
}
