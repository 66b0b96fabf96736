package py

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// jsonCases are texts json.loads reads or refuses, with the positions its
// messages give (characters, not bytes).
var jsonCases = []string{
	`1`, `-0`, `1.5`, `1e3`, `-1.25e-3`, `1E+2`, `true`, `null`, `"x"`, ` 5 `, "\t[]\n", `{}`,
	`[1, 2]`, `{"a": {"b": [true]}}`, `{"k": "v", "k": "w", "j": 1}`, `"\u00e9t\u00e9"`, `"\ud83d\ude00"`, `"a\/b\\c\"d\n"`,
	`NaN`, `Infinity`, `-Infinity`, `[NaN, 1]`, `1.`, `.5`, `01`, `-`, `1 2`, `[1,]`, `{"a":1,}`, `{"a" 1}`, `[1 2]`,
	`{a: 1}`, `"open`, `"tab	in"`, `"bad \x"`, `"\u12"`, `[1,2`, `tru`, `nullx`, "", "é", "\ufeff1", `"é" x`,
	"[\n1,\n\"é\" 2]", `{"a": [1, {"b": null}]}`, `12345678901234567890.5`, `1e400`, `"\ud800"`,
}

func TestDecodeJSONAgainstPython(t *testing.T) {
	script := `
import json, sys
out = []
for s in json.load(sys.stdin):
    try:
        out.append({"repr": repr(json.loads(s))})
    except json.JSONDecodeError as e:
        out.append({"err": str(e)})
print(json.dumps(out))
`
	var want []struct{ Repr, Err *string }
	askPython(t, script, jsonCases, &want)
	for i, in := range jsonCases {
		got, err := DecodeJSON([]byte(in))
		w := want[i]
		switch {
		case w.Err != nil:
			if err == nil || err.Error() != *w.Err {
				t.Errorf("%q: Python fails with %q, prefectctl: %v (%s)", in, *w.Err, err, Repr(got))
			}
		case err != nil:
			t.Errorf("%q: Python reads %s, prefectctl: %v", in, *w.Repr, err)
		case strings.Contains(in, `\ud800`):
			// Go strings cannot hold a lone surrogate: it becomes U+FFFD.
			if got != "\ufffd" {
				t.Errorf("%q: got %s", in, Repr(got))
			}
		case Repr(got) != *w.Repr:
			t.Errorf("%q: Python reads %s, prefectctl %s", in, *w.Repr, Repr(got))
		}
	}
}

func TestDecodeJSONLimits(t *testing.T) {
	// Python keeps integers whole at any size; prefectctl's are 64 bits, and
	// it refuses rather than rounds.
	_, err := DecodeJSON([]byte(`[1, 123456789012345678901234]`))
	var je *JSONError
	if !errors.As(err, &je) || je.Msg != "Integer out of the range prefectctl supports (64 bits)" || je.Pos != 4 {
		t.Errorf("big integer: %v", err)
	}
	deep := strings.Repeat("[", maxJSONDepth+2) + strings.Repeat("]", maxJSONDepth+2)
	if _, err := DecodeJSON([]byte(deep)); err == nil {
		t.Error("nesting without limit")
	}
	// Invalid UTF-8 in a string reads as U+FFFD, one per byte, and counts
	// one character each in positions.
	got, err := DecodeJSON([]byte("\"a\xff\xfeb\""))
	if err != nil || got != "a\ufffd\ufffdb" {
		t.Errorf("invalid UTF-8: %q %v", got, err)
	}
	_, err = DecodeJSON([]byte("\"\xff\" x"))
	if !errors.As(err, &je) || je.Pos != 4 || je.Msg != "Extra data" {
		t.Errorf("position after invalid UTF-8: %v", err)
	}
}

func TestJSONType(t *testing.T) {
	for v, want := range map[any]string{nil: "null", true: "boolean", int64(1): "integer", 1.0: "number", "s": "string"} {
		if got := JSONType(v); got != want {
			t.Errorf("JSONType(%#v) = %s, want %s", v, got, want)
		}
	}
	if JSONType([]any{}) != "array" || JSONType(NewMap()) != "object" || JSONType(Date{}) != "" {
		t.Error("containers")
	}
}

func TestEncodeJSONSortedKeys(t *testing.T) {
	v := MapOf("b", []any{MapOf("z", 1.0, "a", nil)}, "a", int64(1))
	got, err := EncodeJSONSortedKeys(v)
	if err != nil || string(got) != `{"a":1,"b":[{"a":null,"z":1.0}]}` {
		t.Errorf("got %s, %v", got, err)
	}
	if plain, _ := EncodeJSON(v); string(plain) != `{"b":[{"z":1.0,"a":null}],"a":1}` {
		t.Errorf("insertion order lost: %s", plain)
	}
}

// FuzzDecodeJSON: json.loads never panics, accepts what encoding/json
// accepts (apart from integers beyond 64 bits), and what it reads encodes
// and reads back the same.
func FuzzDecodeJSON(f *testing.F) {
	for _, c := range jsonCases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := DecodeJSON(data)
		var je *JSONError
		if err != nil {
			if !errors.As(err, &je) {
				t.Fatalf("%q: error %T %v is not a JSONError", data, err, err)
			}
			if json.Valid(data) && !strings.Contains(je.Msg, "64 bits") && !strings.Contains(je.Msg, "too deep") && !bytes.HasPrefix(data, []byte("\ufeff")) {
				t.Fatalf("%q: valid JSON refused: %v", data, err)
			}
			return
		}
		b, err := EncodeJSON(v)
		if err != nil {
			return // NaN and infinities are read but not written
		}
		back, err := DecodeJSON(b)
		if err != nil || !Equal(back, v) {
			t.Fatalf("%q → %s → %v (%v)", data, b, back, err)
		}
	})
}
