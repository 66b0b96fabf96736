package py

import "testing"

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

// A map behaves the same below and above the size from which it keeps an
// index: order, overwrite in place, delete and clone.
func TestMapAcrossTheIndexSize(t *testing.T) {
	for _, n := range []int{1, indexFrom - 1, indexFrom, indexFrom + 1, 3 * indexFrom} {
		m := NewMap()
		for i := range n {
			m.Set(Str(int64(i)), int64(i))
		}
		m.Set("0", "first") // keeps its place
		before := m.Keys()
		m.Delete(Str(int64(n / 2)))
		m.Delete("absent")
		if len(before) != n || before[n/2] != Str(int64(n/2)) {
			t.Fatalf("n=%d: Delete changed a key slice handed out before: %v", n, before)
		}
		if m.Len() != n-1 || m.Has(Str(int64(n/2))) {
			t.Fatalf("n=%d: after delete: len %d", n, m.Len())
		}
		c := Clone(m).(*Map)
		for i, k := range m.Keys() {
			want := i
			if i >= n/2 {
				want = i + 1
			}
			if k != Str(int64(want)) {
				t.Fatalf("n=%d: key %d is %q, want %d", n, i, k, want)
			}
			v, _ := m.Get(k)
			cv, ok := c.Get(k)
			if !ok || !Equal(v, cv) {
				t.Fatalf("n=%d: clone lost %q", n, k)
			}
			if k != "0" && v != int64(want) {
				t.Fatalf("n=%d: %q holds %v", n, k, v)
			}
		}
		if v, _ := m.Get("0"); n/2 != 0 && v != "first" {
			t.Fatalf("n=%d: overwrite lost: %v", n, v)
		}
		m.Set("new", true)
		if m.Keys()[m.Len()-1] != "new" || !m.Has("new") || c.Has("new") {
			t.Fatalf("n=%d: a key set after a delete", n)
		}
	}
}
