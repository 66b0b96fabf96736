package py

import (
	"testing"
	"time"
)

func TestRepr(t *testing.T) {
	cases := []struct {
		in   any
		want string
	}{
		{nil, "None"},
		{true, "True"},
		{false, "False"},
		{int64(-3), "-3"},
		{1.0, "1.0"},
		{1e-05, "1e-05"},
		{0.0001, "0.0001"},
		{1e16, "1e+16"},
		{1e15, "1000000000000000.0"},
		{0.1, "0.1"},
		{1.5e300, "1.5e+300"},
		{"a", "'a'"},
		{"it's", `"it's"`},
		{`it's "x"`, `'it\'s "x"'`},
		{"tab\there\n", `'tab\there\n'`},
		{"é✓", "'é✓'"},
		{"\u00a0", `'\xa0'`},
		{[]any{int64(1), "a"}, "[1, 'a']"},
		{MapOf("key", "val"), "{'key': 'val'}"},
		{MapOf("b", int64(1), "a", []any{nil, true}), "{'b': 1, 'a': [None, True]}"},
		{Date{2024, time.January, 2}, "datetime.date(2024, 1, 2)"},
	}
	for _, c := range cases {
		if got := Repr(c.in); got != c.want {
			t.Errorf("Repr(%#v) = %s, want %s", c.in, got, c.want)
		}
	}
	if got := Str("plain"); got != "plain" {
		t.Errorf("Str = %q", got)
	}
	if got := Str(Date{2024, time.January, 2}); got != "2024-01-02" {
		t.Errorf("Str(date) = %q", got)
	}
	dt := DateTime{Time: time.Date(2024, 1, 1, 10, 0, 0, 0, time.UTC)}
	if got := Str(dt); got != "2024-01-01 10:00:00+00:00" {
		t.Errorf("Str(datetime) = %q", got)
	}
	if got := dt.ISO(); got != "2024-01-01T10:00:00Z" {
		t.Errorf("ISO = %q", got)
	}
}

func TestJSONRoundTrip(t *testing.T) {
	in := `{"z":1,"a":[1.0,2.5,"x",null,true],"m":{"k":{"n":-1e-05}}}`
	v, err := DecodeJSON([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	m := v.(*Map)
	if got := m.Keys(); got[0] != "z" || got[1] != "a" || got[2] != "m" {
		t.Fatalf("order lost: %v", got)
	}
	out, err := EncodeJSON(v)
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != in {
		t.Fatalf("round trip:\n got %s\nwant %s", out, in)
	}
	if _, err := DecodeJSON([]byte(`{"a":1} x`)); err == nil {
		t.Fatal("trailing data accepted")
	}
}

func TestMapOps(t *testing.T) {
	m := MapOf("a", int64(1), "b", int64(2), "c", int64(3))
	m.Set("a", int64(9))
	m.Delete("b")
	if got := Repr(m); got != "{'a': 9, 'c': 3}" {
		t.Fatal(got)
	}
	c := Clone(m).(*Map)
	c.Set("d", int64(4))
	if m.Len() != 2 || c.Len() != 3 {
		t.Fatal("clone shares state")
	}
	if !Equal(MapOf("x", 1.0), MapOf("x", int64(1))) {
		t.Fatal("1.0 == 1 in Python")
	}
}

func TestTruthy(t *testing.T) {
	for _, v := range []any{nil, false, int64(0), 0.0, "", []any{}, NewMap()} {
		if Truthy(v) {
			t.Errorf("Truthy(%s) = true", Repr(v))
		}
	}
	for _, v := range []any{true, int64(-1), 0.5, "0", []any{nil}, MapOf("a", nil), Date{Year: 2024, Month: 1, Day: 1}} {
		if !Truthy(v) {
			t.Errorf("Truthy(%s) = false", Repr(v))
		}
	}
}
