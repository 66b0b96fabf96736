package py

import (
	"math"
	"strconv"
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

// TestBuiltinsAgainstPython compares repr, str, ascii and bool with
// Python's on floats at the edges of repr's notations and on strings with
// quotes, escapes and non-ASCII text.
func TestBuiltinsAgainstPython(t *testing.T) {
	floats := []float64{0, -0.0, 1, 1e6, 1e15, 1e16, 1.5e16, 123456789.0, 1e-4, 1e-5, 0.1, 1.0 / 3, 2.5e-300, 1.7976931348623157e308, 5e-324, -42.5}
	strs := []string{"", "a", "it's", `say "hi"`, `both ' and "`, "tab\there\n", "é✓", "\u00a0nbsp", "\u0000\u001f\u007f", "\u200b", "😀", "\\back"}
	values := []any{nil, true, int64(-3), []any{int64(1), "a", nil}, MapOf("k", []any{1.0, MapOf("x", false)}), math.Inf(1)}
	script := `
import json, sys
d = json.load(sys.stdin)
print(json.dumps({
    "floats": [repr(float(f)) for f in d["floats"]],
    "strs": [[repr(s), ascii(s)] for s in d["strs"]],
    "values": [[repr(v), str(v), bool(v)] for v in d["values"] + [float("inf")]],
}))
`
	var want struct {
		Floats []string
		Strs   [][2]string
		Values [][3]any
	}
	floatTexts := make([]string, len(floats))
	for i, f := range floats {
		floatTexts[i] = strconv.FormatFloat(f, 'g', -1, 64)
	}
	askPython(t, script, map[string]any{"floats": floatTexts, "strs": strs, "values": values[:len(values)-1]}, &want)
	for i, f := range floats {
		if got := FloatRepr(f); got != want.Floats[i] {
			t.Errorf("FloatRepr(%v) = %s, Python %s", f, got, want.Floats[i])
		}
	}
	for i, s := range strs {
		if got := StrRepr(s); got != want.Strs[i][0] {
			t.Errorf("StrRepr(%q) = %s, Python %s", s, got, want.Strs[i][0])
		}
		if got := ASCII(s); got != want.Strs[i][1] {
			t.Errorf("ASCII(%q) = %s, Python %s", s, got, want.Strs[i][1])
		}
	}
	for i, v := range values {
		w := want.Values[i]
		if got := Repr(v); got != w[0] {
			t.Errorf("Repr(%#v) = %s, Python %s", v, got, w[0])
		}
		if got := Str(v); got != w[1] {
			t.Errorf("Str(%#v) = %s, Python %s", v, got, w[1])
		}
		if got := Truthy(v); got != w[2] {
			t.Errorf("Truthy(%#v) = %v, Python %v", v, got, w[2])
		}
	}
}

func TestISOFormat(t *testing.T) {
	at := time.Date(2026, 8, 1, 12, 0, 5, 250000000, time.UTC)
	if got := ISOFormat(at); got != "2026-08-01T12:00:05.250000+00:00" {
		t.Errorf("ISOFormat = %s", got)
	}
	if got := (DateTime{Time: at}).ISO(); got != "2026-08-01T12:00:05.250000Z" {
		t.Errorf("pydantic ISO = %s", got)
	}
	odd := time.Date(1900, 1, 1, 0, 0, 0, 0, time.FixedZone("LMT", 561))
	if got := ISOFormat(odd); got != "1900-01-01T00:00:00+00:09:21" {
		t.Errorf("offset with seconds = %s", got)
	}
	if got := Str(DateTime{Time: time.Date(2026, 8, 1, 12, 0, 0, 0, time.UTC), Naive: true}); got != "2026-08-01 12:00:00" {
		t.Errorf("naive str = %s", got)
	}
}
