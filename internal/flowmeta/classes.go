package flowmeta

import (
	"math/big"
	"strings"

	"github.com/prefectctl/prefectctl/internal/py"
)

// classBase reports whether a class derives, through its bases in the
// project or in libraries, from one of the wanted qualified names.
func classBase(l *loader, cls *classDef, want map[string]bool, depth int) bool {
	if depth > maxResolveDepth {
		return false
	}
	for _, b := range cls.bases {
		s := l.resolve(cls.mod, b, 0)
		switch s.kind {
		case symExternal:
			if want[canonical(s.qual)] {
				return true
			}
		case symClass:
			if s.cls != cls && classBase(l, s.cls, want, depth+1) {
				return true
			}
		}
	}
	return false
}

var enumBases = map[string]bool{"enum.Enum": true, "enum.IntEnum": true, "enum.StrEnum": true, "enum.Flag": true, "enum.IntFlag": true}
var modelBases = map[string]bool{"pydantic.BaseModel": true}

func isEnumClass(l *loader, c *classDef, d int) bool { return classBase(l, c, enumBases, d) }

// isModelClass is true for pydantic models and dataclasses, which pydantic
// describes the same way (properties, required, title).
func isModelClass(l *loader, c *classDef, d int) bool {
	return classBase(l, c, modelBases, d) || isDataclass(l, c)
}

func isDataclass(l *loader, c *classDef) bool {
	for _, d := range c.decorators {
		if call, ok := d.(*eCall); ok {
			d = call.fn
		}
		if s := l.resolve(c.mod, d, 0); s.kind == symExternal {
			switch canonical(s.qual) {
			case "dataclasses.dataclass", "pydantic.dataclasses.dataclass":
				return true
			}
		}
	}
	return false
}

// unknownBase names a base that comes from a library the reader cannot
// see (it might make the class a pydantic model), or "".
func unknownBase(l *loader, cls *classDef, depth int) string {
	if depth > maxResolveDepth {
		return ""
	}
	for _, b := range cls.bases {
		s := l.resolve(cls.mod, b, 0)
		switch s.kind {
		case symExternal:
			q := canonical(s.qual)
			if strings.HasPrefix(q, "builtins.") || strings.HasPrefix(q, "typing.") || strings.HasPrefix(q, "abc.") {
				continue
			}
			return s.qual
		case symClass:
			if s.cls != cls {
				if w := unknownBase(l, s.cls, depth+1); w != "" {
					return w
				}
			}
		case symNone:
			return exprText(b)
		}
	}
	return ""
}

// enumMembers evaluates an Enum class's members in definition order.
func (ty *typer) enumMembers(cls *classDef) ([]enumMember, bool) {
	var out []enumMember
	for _, a := range cls.assigns {
		if strings.HasPrefix(a.name, "_") {
			continue
		}
		v, err := ty.ev.enumValue(cls, a, out)
		if err != nil {
			ty.warn(cls.mod, a.line, "enum member %s.%s has a value that cannot be read (%v)", cls.name, a.name, err)
			return nil, false
		}
		// Aliases (a second name for a value) are listed too: pydantic
		// walks __members__, which includes them.
		out = append(out, enumMember{cls: cls, name: a.name, value: v})
	}
	return out, true
}

func (ty *typer) enumDef(cls *classDef) {
	if ty.defs.Has(cls.name) {
		return
	}
	d := py.NewMap()
	if cls.doc != nil && strings.TrimSpace(*cls.doc) != "" {
		d.Set("description", cleandoc(*cls.doc))
	}
	members, ok := ty.enumMembers(cls)
	vals := []any{}
	types := map[string]bool{}
	if ok {
		for _, mb := range members {
			j, _, err := toJSON(mb.value)
			if err != nil {
				ty.warn(cls.mod, cls.line, "enum %s has a value pydantic may render differently (%v)", cls.name, err)
			}
			vals = append(vals, j)
			types[jsonType(mb.value)] = true
		}
	}
	d.Set("enum", vals)
	d.Set("title", cls.name)
	if len(types) == 1 {
		for k := range types {
			if k == "string" || k == "integer" || k == "number" || k == "boolean" {
				d.Set("type", k)
			}
		}
	}
	ty.defs.Set(cls.name, d)
}

// autoValue is the value Python 3.11 gives enum.auto(): the lowercased
// name for StrEnum; for Flag the next power of two above the largest value
// so far; otherwise the largest number so far plus one (1 first, and 1
// after values that are not numbers).
func (ev *evaluator) autoValue(cls *classDef, name string, prev []enumMember, line int) (any, error) {
	if classBase(ev.l, cls, map[string]bool{"enum.StrEnum": true}, 0) {
		return strings.ToLower(name), nil
	}
	if len(prev) == 0 {
		return int64(1), nil
	}
	isFlag := classBase(ev.l, cls, map[string]bool{"enum.Flag": true, "enum.IntFlag": true}, 0)
	var maxV any
	numbers, strs := 0, 0
	for _, p := range prev {
		switch p.value.(type) {
		case bool, int64, *big.Int, float64:
			numbers++
			if f, ok := numericOrInf(p.value); ok {
				if maxV == nil {
					maxV = p.value
				} else if m, _ := numericOrInf(maxV); f.Cmp(m) > 0 {
					maxV = p.value
				}
			}
		case string:
			strs++
		}
	}
	switch {
	case numbers == len(prev) && maxV != nil:
		if isFlag {
			b, ok := toBig(maxV)
			if !ok || b.Sign() < 0 {
				return nil, opaque(line, "auto() after an invalid flag value")
			}
			return normInt(new(big.Int).Lsh(big.NewInt(1), uint(b.BitLen()))), nil
		}
		if f, ok := maxV.(float64); ok {
			return f + 1, nil
		}
		b, _ := toBig(maxV)
		return normInt(new(big.Int).Add(b, big.NewInt(1))), nil
	case strs == len(prev) && !isFlag:
		return int64(1), nil // str + 1 fails for each previous value: start
	}
	return nil, opaque(line, "auto() after values of mixed types")
}
