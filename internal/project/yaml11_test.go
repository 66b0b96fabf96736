package project

import (
	"testing"
	"time"

	"github.com/prefectctl/prefectctl/internal/py"
)

// Each expectation below was checked against PyYAML 6.0.4's safe_load, the
// reader Prefect 3.9.1 uses.
func TestYAML11Scalars(t *testing.T) {
	utc := time.UTC
	cases := []struct {
		in   string
		want any
	}{
		{"y", "y"},
		{"Y", "Y"},
		{"n", "n"},
		{"yes", true},
		{"Yes", true},
		{"yEs", "yEs"},
		{"On", true},
		{"off", false},
		{"NO", false},
		{"true", true},
		{"1e3", "1e3"},
		{"1.0e3", "1.0e3"},
		{"1.0e+3", 1000.0},
		{"010", int64(8)},
		{"0o10", "0o10"},
		{"0x1F", int64(31)},
		{"1_000", int64(1000)},
		{"1:30:00", int64(5400)},
		{"1:30.5", 90.5},
		{"~", nil},
		{"null", nil},
		{"", nil},
		{".5", 0.5},
		{"0b101", int64(5)},
		{"+12", int64(12)},
		{"08", "08"},
		{"0.1_0", 0.1},
		{"3.0", 3.0},
		{"'3.0'", "3.0"},
		{`"yes"`, "yes"},
		{"2024-01-01", py.Date{Year: 2024, Month: 1, Day: 1}},
		{"2024-01-01 10:00:00", py.DateTime{Time: time.Date(2024, 1, 1, 10, 0, 0, 0, utc), Naive: true}},
		{"2024-01-01T10:00:00Z", py.DateTime{Time: time.Date(2024, 1, 1, 10, 0, 0, 0, utc)}},
		{"2024-1-1 1:00:00", py.DateTime{Time: time.Date(2024, 1, 1, 1, 0, 0, 0, utc), Naive: true}},
		{"!!str 12", "12"},
		{"!!float 12", 12.0},
		{"hello world", "hello world"},
		{"{{ $X }}", nil}, // a flow mapping, not a string: see below
	}
	for _, c := range cases {
		if c.in == "{{ $X }}" {
			continue // unquoted {{ }} is a YAML flow mapping, tested separately
		}
		f, err := Parse("t.yaml", []byte("k: "+c.in+"\n"))
		if err != nil {
			t.Errorf("%q: %v", c.in, err)
			continue
		}
		got, _ := f.Raw.(*py.Map).Get("k")
		switch w := c.want.(type) {
		case py.DateTime:
			g, ok := got.(py.DateTime)
			if !ok || !g.Time.Equal(w.Time) || g.Naive != w.Naive {
				t.Errorf("%q: got %#v, want %#v", c.in, got, w)
			}
		default:
			if !py.Equal(got, c.want) || py.TypeName(got) != py.TypeName(c.want) {
				t.Errorf("%q: got %s %s, want %s %s", c.in, py.TypeName(got), py.Repr(got), py.TypeName(c.want), py.Repr(c.want))
			}
		}
	}
}

func TestYAMLTimezoneOffset(t *testing.T) {
	f, err := Parse("t.yaml", []byte("k: 2001-12-14t21:59:43.10-05:00\n"))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := f.Raw.(*py.Map).Get("k")
	dt := got.(py.DateTime)
	if dt.ISO() != "2001-12-14T21:59:43.100000-05:00" {
		t.Fatalf("ISO = %s", dt.ISO())
	}
}

// PyYAML 6.0.4 merges in listed order, and a later merged mapping overrides
// an earlier one for multi-character keys (its dedupe works by string
// identity, which only one-character keys share). Own keys always win.
func TestMergeKeysLikePyYAML(t *testing.T) {
	cases := []struct{ doc, want string }{
		{"x: &a {pp: 1, qq: 2}\ny: &b {qq: 3, rr: 4}\nz:\n  <<: [*a, *b]\n  ss: 5\n  pp: 0\n", "{'pp': 0, 'qq': 3, 'rr': 4, 'ss': 5}"},
		{"x: &a {p: 1, q: 2}\ny: &b {q: 3, r: 4}\nz:\n  <<: [*a, *b]\n  s: 5\n  p: 0\n", "{'p': 0, 'q': 2, 'r': 4, 's': 5}"},
		{"x: &a {name: 1, image: 2}\ny: &b {image: 3, tag: 4}\nz:\n  <<: [*a, *b]\n", "{'name': 1, 'image': 3, 'tag': 4}"},
		{"x: &a {pp: 1}\nz:\n  <<: *a\n  pp: 2\n", "{'pp': 2}"},
		{"a: 1\na: 2\nz: {}\n", "{}"},
	}
	for _, c := range cases {
		f, err := Parse("t.yaml", []byte(c.doc))
		if err != nil {
			t.Fatalf("%q: %v", c.doc, err)
		}
		z, _ := f.Raw.(*py.Map).Get("z")
		if got := py.Repr(z); got != c.want {
			t.Errorf("%q:\n got %s\nwant %s", c.doc, got, c.want)
		}
	}
	f, _ := Parse("t.yaml", []byte("a: 1\na: 2\n"))
	if a, _ := f.Raw.(*py.Map).Get("a"); a != int64(2) {
		t.Errorf("duplicate keys: last should win, got %v", a)
	}
}

func TestAliasBombIsBounded(t *testing.T) {
	doc := "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
	prev := "a"
	for i := 0; i < 9; i++ {
		name := string(rune('b' + i))
		doc += name + ": &" + name + " [*" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + "]\n"
		prev = name
	}
	if _, err := Parse("bomb.yaml", []byte(doc)); err == nil {
		t.Fatal("an alias bomb was expanded without limit")
	}
}
