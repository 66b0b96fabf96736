package py

import "testing"

// TestLaxAgainstPydantic compares LaxBool and LaxInt with pydantic's own
// lax validation of bool and int.
func TestLaxAgainstPydantic(t *testing.T) {
	values := []any{true, false, int64(0), int64(1), int64(2), 0.0, 1.0, 1.5, "yes", "No", " on ", "OFF", "t", "F", "y", "n", "1", "0",
		"true", "TRUE", "", "maybe", "2", " 7 ", "-3", "1.0", "1e3", "1_000", "1.00", "+5", "00", "1.", ".0", " yes", "yes ", "\tno", "-0.0", "3.000001", "1__0", "١٢", "_1", "1_", "9223372036854775807", nil}
	script := `
import json, sys
from pydantic import TypeAdapter, ValidationError
out = []
for v in json.load(sys.stdin):
    r = []
    for t in (bool, int):
        try:
            r.append(TypeAdapter(t).validate_python(v))
        except ValidationError:
            r.append(None)
    out.append(r)
print(json.dumps(out))
`
	var want [][2]any
	askPython(t, script, values, &want)
	for i, v := range values {
		b, ok := LaxBool(v)
		if wb, _ := want[i][0].(bool); ok != (want[i][0] != nil) || ok && b != wb {
			t.Errorf("LaxBool(%s) = %v, %v; pydantic %v", Repr(v), b, ok, want[i][0])
		}
		n, ok := LaxInt(v)
		wn, _ := want[i][1].(float64) // JSON numbers
		if ok != (want[i][1] != nil) || ok && float64(n) != wn {
			t.Errorf("LaxInt(%s) = %v, %v; pydantic %v", Repr(v), n, ok, want[i][1])
		}
	}
}
