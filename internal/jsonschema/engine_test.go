package jsonschema

import (
	"strings"
	"testing"

	"github.com/prefectctl/prefectctl/internal/py"
	"github.com/prefectctl/prefectctl/internal/template"
)

func mustJSON(t *testing.T, s string) any {
	t.Helper()
	v, err := py.DecodeJSON([]byte(s))
	if err != nil {
		t.Fatalf("%s: %v", s, err)
	}
	return v
}

// A value not known yet makes what depends on it undecided, never failed;
// what does not depend on it is still judged.
func TestPendingValuesAreNotJudged(t *testing.T) {
	schema := mustJSON(t, `{"type": "object", "properties": {
		"n": {"type": "integer"},
		"u": {"anyOf": [{"type": "integer"}, {"type": "boolean"}]},
		"o": {"oneOf": [{"type": "integer"}, {"type": "string"}]},
		"x": {"not": {"type": "string"}},
		"l": {"type": "array", "uniqueItems": true, "maxItems": 2, "items": {"type": "integer"}},
		"c": {"type": "array", "contains": {"const": 3}}
	}, "additionalProperties": false}`).(*py.Map)
	rules := Rules{Pending: template.IsTemplated}
	cases := []struct {
		value string
		want  []string
	}{
		{`{"n": "{{ a.b }}"}`, nil},
		{`{"u": "{{ a.b }}"}`, nil},
		{`{"o": "{{ a.b }}"}`, nil},
		{`{"x": "{{ a.b }}"}`, nil},
		{`{"l": ["{{ a.b }}", 1]}`, nil},
		{`{"l": ["{{ a.b }}", 1, 2]}`, []string{".l: expected at most 2 items, got 3"}}, // the count is known
		{`{"l": [1, "{{ a.b }}", 1]}`, []string{".l: expected unique items, got 1 twice"}},
		{`{"c": ["{{ a.b }}"]}`, nil},
		{`{"c": [1, 2]}`, []string{".c: no item has the form the flow expects"}},
		{`{"n": "{{ a.b }}", "zz": 1}`, []string{": unknown key 'zz'"}},
		{`{"n": "{{ a.b }}", "u": "no"}`, []string{".u: expected integer or boolean, got string 'no'"}},
	}
	for _, c := range cases {
		got := Validate(schema, mustJSON(t, c.value), rules)
		var msgs []string
		for _, v := range got {
			msgs = append(msgs, v.String())
		}
		if strings.Join(msgs, "|") != strings.Join(c.want, "|") {
			t.Errorf("%s: got %q, want %q", c.value, msgs, c.want)
		}
	}
}

func TestPythonRegexp(t *testing.T) {
	cases := []struct {
		pattern, s string
		match      bool
		ok         bool
	}{
		{`^[a-z]+\d$`, "ab٣", true, true}, // \d is Unicode
		{`^\w+$`, "héllo", true, true},    // \w is Unicode
		{`^a$`, "a\n", true, true},        // $ before a final newline
		{`^a$`, "a\n\n", false, true},
		{`^a\Z`, "a\n", false, true},
		{`^[\w-]+$`, "a-é", true, true},
		{`^x{,2}$`, "xx", true, true}, // {,n}
		{`^[]a]+$`, "]a", true, true},
		{`(?=a)a`, "a", false, false}, // lookahead: not decided
		{`(a)\1`, "aa", false, false}, // backreference
		{`a++`, "a", false, false},    // possessive
		{`[\D]`, "a", false, false},
	}
	for _, c := range cases {
		re, err := pythonRegexp(c.pattern)
		if (err == nil) != c.ok {
			t.Errorf("%q: err %v, want ok=%v", c.pattern, err, c.ok)
			continue
		}
		if err == nil && re.MatchString(c.s) != c.match {
			t.Errorf("%q on %q: match %v, want %v", c.pattern, c.s, !c.match, c.match)
		}
	}
}

func TestHydrationOnUpdateAndRun(t *testing.T) {
	schema := mustJSON(t, `{"type": "object", "properties": {"x": {"type": "integer"}, "s": {"type": "string", "enum": ["a"]}}}`).(*py.Map)
	cases := []struct {
		value      string
		create     bool // refused on create
		update     bool // refused on update
		updateWord string
	}{
		{`{"x": {"__prefect_kind": "json", "value": "5"}}`, true, false, ""},
		{`{"x": {"__prefect_kind": "json", "value": "{bad"}}`, true, true, "cannot resolve"},
		{`{"x": {"__prefect_kind": "none"}}`, true, true, "Missing 'value' key"},
		{`{"x": {"__prefect_kind": "workspace_variable", "variable_name": "v"}}`, true, false, ""},
		{`{"x": {"__prefect_kind": "json"}}`, true, false, ""},
		{`{"s": {"__prefect_kind": "jinja", "template": "{{ 1 }}"}}`, true, false, ""},                                    // rendered text unknown: enum undecided
		{`{"x": {"__prefect_kind": "jinja", "template": "{{ 1 }}"}}`, true, true, "expected integer or null, got string"}, // optional without a default: null allowed
		{`{"x": {"__prefect_kind": "other", "value": 3}}`, true, false, ""},
	}
	for _, c := range cases {
		v := mustJSON(t, c.value)
		if got := Validate(schema, v, ParametersCreate); (len(got) > 0) != c.create {
			t.Errorf("%s create: %v", c.value, got)
		}
		got := Validate(schema, v, ParametersUpdate)
		if (len(got) > 0) != c.update || c.update && !strings.Contains(got[0].Message, c.updateWord) {
			t.Errorf("%s update: %v", c.value, got)
		}
	}
}

// One violation per place, the one the server would report there.
func TestOneViolationPerPlace(t *testing.T) {
	schema := mustJSON(t, `{"type": "object", "properties": {"lit": {"type": "string", "enum": ["a", "b"], "minLength": 3}}}`).(*py.Map)
	got := Validate(schema, mustJSON(t, `{"lit": 5}`), ParametersCreate)
	if len(got) != 1 || got[0].Keyword != "type" {
		t.Errorf("got %v", got)
	}
	msg, ok, known := ServerError(schema, mustJSON(t, `{"lit": 5}`), ParametersCreate)
	if ok || !known || msg != "Validation failed for field 'lit'. Failure reason: 5 is not of type 'string'" {
		t.Errorf("ServerError: %q %v %v", msg, ok, known)
	}
}

func TestUndecidedCases(t *testing.T) {
	// A schema naming another draft is left to the server on create.
	schema := mustJSON(t, `{"$schema": "http://json-schema.org/draft-07/schema#", "properties": {"x": {"type": "integer"}}}`).(*py.Map)
	if got := Validate(schema, mustJSON(t, `{"x": "a"}`), ParametersCreate); len(got) != 0 {
		t.Errorf("draft-07 on create: %v", got)
	}
	if _, _, known := ServerError(schema, mustJSON(t, `{"x": "a"}`), ParametersCreate); known {
		t.Error("draft-07: known")
	}
	// A $ref that loops without consuming the value.
	loop := mustJSON(t, `{"properties": {"x": {"$ref": "#/definitions/A"}}, "definitions": {"A": {"$ref": "#/definitions/A"}}}`).(*py.Map)
	if got := Validate(loop, mustJSON(t, `{"x": 1}`), ParametersCreate); len(got) != 0 {
		t.Errorf("loop: %v", got)
	}
	// A recursive model is fine: the value is consumed.
	tree := mustJSON(t, `{"properties": {"t": {"$ref": "#/definitions/T"}}, "definitions": {"T": {"type": "object", "properties": {"kids": {"type": "array", "items": {"$ref": "#/definitions/T"}}, "n": {"type": "integer"}}}}}`).(*py.Map)
	got := Validate(tree, mustJSON(t, `{"t": {"kids": [{"kids": [{"n": "x"}]}]}}`), ParametersCreate)
	if len(got) != 1 || got[0].Path != ".t.kids[0].kids[0].n" {
		t.Errorf("tree: %v", got)
	}
	// An unresolvable reference is refused when the value reaches it.
	missing := mustJSON(t, `{"properties": {"x": {"$ref": "#/definitions/Nope"}}}`).(*py.Map)
	if got := Validate(missing, mustJSON(t, `{}`), ParametersCreate); len(got) != 0 {
		t.Errorf("unreached: %v", got)
	}
	if msg, ok, _ := ServerError(missing, mustJSON(t, `{"x": 1}`), ParametersCreate); ok || msg != "Validation failed. Failure reason: Unresolvable: #/definitions/Nope" {
		t.Errorf("unresolvable: %q", msg)
	}
}
