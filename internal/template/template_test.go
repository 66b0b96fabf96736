package template

import (
	"reflect"
	"testing"

	"github.com/prefectctl/prefectctl/internal/diag"
	"github.com/prefectctl/prefectctl/internal/py"
)

func TestFindPlaceholders(t *testing.T) {
	P := func(full, name string, k Kind) Placeholder { return Placeholder{full, name, k} }
	tests := []struct {
		name string
		in   any
		want []Placeholder
	}{
		{"empty string", "", nil},
		{"no braces", "just text {not one}", nil},
		{"one", "Dear {{recipient}},", []Placeholder{P("{{recipient}}", "recipient", Standard)}},
		{"two sorted by full text", "{{zeta}} and {{alpha}}", []Placeholder{
			P("{{alpha}}", "alpha", Standard), P("{{zeta}}", "zeta", Standard)}},
		{"dollar before braces is text", "cost: ${{amount}}", []Placeholder{P("{{amount}}", "amount", Standard)}},
		{"duplicates collapse", "{{k}}-{{k}}", []Placeholder{P("{{k}}", "k", Standard)}},
		{"different spacing is a different placeholder", "{{k}} {{ k }}", []Placeholder{
			P("{{ k }}", "k", Standard), P("{{k}}", "k", Standard)}},
		{"unconventional spacing", "{{      wide   }}", []Placeholder{P("{{      wide   }}", "wide", Standard)}},
		{"unicode space and name", "{{\u3000größe\u00a0}}", []Placeholder{P("{{\u3000größe\u00a0}}", "größe", Standard)}},
		{"ascii separators are python whitespace", "{{\x1ck\x1f}}", []Placeholder{P("{{\x1ck\x1f}}", "k", Standard)}},
		{"zero width space is not", "{{\u200bk}}", nil},
		{"no filters", "{{ v | upper }}", nil},
		{"no spaces in names", "{{ two words }}", nil},
		{"block", "Key: {{prefect.blocks.secret.api-key}}", []Placeholder{
			P("{{prefect.blocks.secret.api-key}}", "prefect.blocks.secret.api-key", BlockDocument)}},
		{"malformed block is still a block", "{{ prefect.blocks.lonely }}", []Placeholder{
			P("{{ prefect.blocks.lonely }}", "prefect.blocks.lonely", BlockDocument)}},
		{"variable", "{{ prefect.variables.region }}", []Placeholder{
			P("{{ prefect.variables.region }}", "prefect.variables.region", Variable)}},
		{"env", "home={{$HOME_DIR}}", []Placeholder{P("{{$HOME_DIR}}", "$HOME_DIR", EnvVar)}},
		{"prefix without its dot is standard", "{{ prefect.blocks }}", []Placeholder{
			P("{{ prefect.blocks }}", "prefect.blocks", Standard)}},
		{"nested values, never keys", py.MapOf(
			"{{ key }}", "Hi {{who}}",
			"inner", py.MapOf("msg", "{{ $GREETING }}", "l", []any{"{{ who }}", int64(1), nil, true, 2.5}),
		), []Placeholder{
			P("{{ $GREETING }}", "$GREETING", EnvVar), P("{{ who }}", "who", Standard), P("{{who}}", "who", Standard)}},
		{"scalars hold none", []any{int64(1), 1.5, false, nil}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := FindPlaceholders(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) == 0 {
				got = nil
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestFindPlaceholdersRejectsOtherTypes(t *testing.T) {
	for _, tt := range []struct {
		in   any
		msg  string
		path string
	}{
		{py.MapOf("a", []any{"x", py.Date{Year: 2030, Month: 1, Day: 2}}), "Unexpected type: <class 'datetime.date'>", "a[1]"},
		{py.DateTime{}, "Unexpected type: <class 'datetime.datetime'>", ""},
		{[]string{"a Go slice"}, "Unexpected type: <class '[]string'>", ""},
	} {
		_, err := FindPlaceholders(tt.in)
		de, ok := err.(*diag.Error)
		if !ok || de.Kind != diag.Invalid || de.Msg != tt.msg || de.Path != tt.path || de.Hint == "" {
			t.Errorf("FindPlaceholders(%v) error = %#v", tt.in, err)
		}
	}
}

func TestGetFromDict(t *testing.T) {
	values := py.MapOf(
		"team", []any{py.MapOf("name", "Ada", "langs", []any{"go", "py"}), py.MapOf("name", "Lin")},
		"step", py.MapOf("stdout", "ñandú\n"),
		"byYear", py.MapOf("1999", "party", "07", "bond"),
		"none", nil,
	)
	tests := []struct {
		key   string
		want  any
		found bool
	}{
		{"team[0].name", "Ada", true},
		{"team.1.name", "Lin", true},
		{"team[-1].name", "Lin", true},
		{"team[-2].langs[-1]", "py", true},
		{"team[2]", nil, false},
		{"team[-3]", nil, false},
		{"team.first", nil, false},
		{"step.stdout[0]", "ñ", true}, // characters, not bytes
		{"step.stdout.-1", "\n", true},
		{"step.stdout.x", nil, false},
		{"byYear.1999", "party", true}, // mapping keys match exactly (Prefect 3.9)
		{"byYear.07", "bond", true},
		{"byYear.7", nil, false},
		{"team.0_1.name", "Lin", true}, // Python int("0_1") == 1
		{"team.१.name", "Lin", true},   // Devanagari one
		{"none", nil, true},
		{"none.x", nil, false},
		{"missing", nil, false},
		{"", nil, false},
	}
	for _, tt := range tests {
		got, found := GetFromDict(values, tt.key)
		if found != tt.found || !py.Equal(got, tt.want) {
			t.Errorf("GetFromDict(%q) = %s, %v; want %s, %v", tt.key, py.Repr(got), found, py.Repr(tt.want), tt.found)
		}
	}
	if _, found := GetFromDict(nil, "a"); found {
		t.Error("nil values found something")
	}
}

func TestKindString(t *testing.T) {
	for k, want := range map[Kind]string{Standard: "standard", EnvVar: "env_var", BlockDocument: "block_document", Variable: "variable", Kind(9): "Kind(9)"} {
		if k.String() != want {
			t.Errorf("%d: %q", int(k), k.String())
		}
	}
}
