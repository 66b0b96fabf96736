package jsonschema

import (
	"strings"
	"testing"

	"github.com/prefectctl/prefectctl/internal/py"
)

func TestRules(t *testing.T) {
	schemaJSON := `{"type": "object", "required": ["name"], "properties": {
		"name": {"type": "string", "minLength": 2},
		"cpu": {"type": "number", "maximum": 8},
		"creds": {"$ref": "#/definitions/Creds"},
		"mode": {"anyOf": [{"type": "object", "required": ["kind"], "properties": {"kind": {"type": "string"}}}, {"type": "string"}]}},
		"definitions": {"Creds": {"type": "object", "block_type_slug": "creds", "title": "Creds", "required": ["user"],
			"properties": {"user": {"type": "string"}}}}}`
	s, err := py.DecodeJSON([]byte(schemaJSON))
	if err != nil {
		t.Fatal(err)
	}
	schema := s.(*py.Map)
	strict := Rules{}
	cases := []struct {
		value string
		rules Rules
		want  []string // violation paths and message fragments
	}{
		{`{"name": "ab", "cpu": 2}`, JobVariables, nil},
		{`{"cpu": 2}`, JobVariables, nil}, // required dropped at the top
		{`{"cpu": 2}`, strict, []string{": missing required key 'name'"}},
		{`{"cpu": null}`, JobVariables, nil},
		{`{"name": null}`, JobVariables, []string{".name: expected string, got null None"}}, // required: not nullable
		{`{"name": "ab", "cpu": null}`, strict, []string{".cpu: expected number, got null None"}},
		{`{"name": "{{ x }}"}`, JobVariables, nil},
		{`{"name": "{{ x }}", "cpu": 9}`, strict, []string{".cpu: expected at most 8, got 9"}},
		{`{"cpu": 9.0}`, JobVariables, []string{".cpu: expected at most 8, got 9.0"}},
		{`{"mode": {}}`, JobVariables, []string{".mode: missing required key 'kind'"}}, // required kept inside anyOf
		{`{"creds": {"$ref": {"block_document_id": "x"}}}`, JobVariables, nil},
		{`{"creds": {}}`, JobVariables, []string{".creds: expected a complete Creds block or a reference to a saved block document, got object {}"}},
		{`{"name": 1}`, JobVariables, []string{".name: expected string, got integer 1"}},
		{`{"name": 1.0}`, JobVariables, []string{".name: expected string, got integer 1.0"}}, // JSON Schema's integer
	}
	for _, c := range cases {
		v, err := py.DecodeJSON([]byte(c.value))
		if err != nil {
			t.Fatal(err)
		}
		got := Validate(schema, v, c.rules)
		if len(got) != len(c.want) {
			t.Errorf("%s %+v: got %v, want %v", c.value, c.rules, got, c.want)
			continue
		}
		for i, w := range c.want {
			if !strings.Contains(got[i].String(), w) || got[i].Hint == "" && !strings.Contains(w, "maximum") {
				t.Errorf("%s %+v: got %q (hint %q), want %q", c.value, c.rules, got[i].String(), got[i].Hint, w)
			}
		}
	}
	if Validate(nil, py.NewMap(), strict) != nil {
		t.Error("a nil schema accepts everything")
	}
}
