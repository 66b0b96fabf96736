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
