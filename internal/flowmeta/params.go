package flowmeta

import (
	"fmt"

	"github.com/prefectctl/prefectctl/internal/diag"
	"github.com/prefectctl/prefectctl/internal/py"
)

// paramProperty renders one flow parameter the way Prefect 3.9.1 does
// (process_v2_params): pydantic builds the parameter as a model field from
// its annotation (Annotated metadata included) and a Field Prefect makes
// itself, with the parameter name as title, the docstring's description
// (or that of a Field(...) used as the default), no alias, and
// json_schema_extra holding the position. Of a Field(...) default Prefect
// keeps only the default, the description and a dict json_schema_extra.
// It returns the property and whether the parameter is required; an error
// when pydantic refuses the parameter, which makes the flow unloadable
// while parameters are validated.
func (ty *typer) paramProperty(m *module, p param, t *typ, pos int, doc string, validated bool) (*py.Map, bool, error) {
	what := "parameter " + p.name
	base := *t
	base.ann = nil
	infos := append([]*fieldInfo(nil), t.ann...)

	pf := newFieldInfo(m, p.line)
	var desc any
	if doc != "" {
		desc = doc
	}
	extra := newDict()
	switch {
	case p.kind == pVarArgs:
		pf.attrs["default"] = []any{}
	case p.kind == pVarKw:
		pf.attrs["default"] = newDict()
	case p.hasDef && ty.isFieldFunc(m, callee(p.def)):
		existing, _ := ty.fieldCall(m, p.def.(*eCall), false)
		if v, ok := existing.attrs["default"]; ok {
			pf.attrs["default"] = v
		} else {
			pf.attrs["default"] = pyUndefined{} // a default_factory is lost: the parameter is required
		}
		if d, ok := existing.attrs["description"]; ok && !pyFalsy(d) {
			desc = d
		}
		switch x := existing.attrs["json_schema_extra"].(type) {
		case *pyDict:
			extra.update(x)
		case unreadableAttr:
			ty.warn(m, x.line, "Field(json_schema_extra=...) of %s cannot be read (%s); it is left out of the schema", what, x.why)
		}
	case p.hasDef:
		v, err := ty.ev.eval(m, p.def, 0)
		switch {
		case err != nil:
			pf.attrs["default"] = unreadableAttr{line: p.def.pos(), why: err.Error()}
		default:
			if _, ell := v.(pyEllipsis); !ell { // `= ...` leaves the parameter required
				pf.attrs["default"] = v
			}
		}
	}
	if !extra.has("position") {
		extra.set("position", int64(pos))
	}
	pf.attrs["title"] = p.name
	pf.attrs["description"] = desc
	pf.attrs["alias"] = nil
	pf.attrs["validation_alias"] = nil
	pf.attrs["json_schema_extra"] = extra
	fi := pf
	if len(infos) > 0 {
		fi = mergeFields(append(infos, pf)...)
		fi.mod, fi.line = m, p.line
	}
	if f, ok := fi.attrs["default_factory"]; ok && f != nil {
		if _, hasDef := fi.defaultValue(); hasDef && !validated {
			// The schema model refuses the type too: Prefect falls back to Any.
			fi = pf
			base = *anyT
		} else if hasDef {
			return nil, false, &diag.Error{Kind: diag.Invalid, File: m.path, Line: p.line,
				Msg:  fmt.Sprintf("parameter %s has a default and an Annotated Field(default_factory=...): pydantic refuses both (\"cannot specify both default and default_factory\"), so Prefect cannot load the flow", p.name),
				Hint: "keep either the default or the default_factory"}
		}
	}
	return ty.fieldSchema(&base, fi, fieldOpts{what: what, key: p.name}), fi.required(), nil
}

func callee(e expr) expr {
	if c, ok := e.(*eCall); ok {
		return c.fn
	}
	return nil
}

func (d *pyDict) has(k any) bool {
	for _, x := range d.keys {
		if pyEqual(x, k) {
			return true
		}
	}
	return false
}
