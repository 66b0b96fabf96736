package py

import (
	"errors"
	"testing"
)

func TestFormat(t *testing.T) {
	params := MapOf("name", "Arthur", "n", int64(7), "x", 3.14159, "ok", true, "tags", []any{"a", "b"},
		"cfg", MapOf("env", "prod"), "none", nil)
	cases := []struct{ tmpl, want, wantErr string }{
		{tmpl: "run-{name}", want: "run-Arthur"},
		{tmpl: "{{literal}} {name}", want: "{literal} Arthur"},
		{tmpl: "{n:03d}-{x:.2f}-{n:>4}|{name:<8}|{name:^9}|", want: "007-3.14-   7|Arthur  | Arthur  |"},
		{tmpl: "{name!r} {tags} {cfg} {none} {ok}", want: "'Arthur' ['a', 'b'] {'env': 'prod'} None True"},
		{tmpl: "{tags[1]}-{cfg[env]}-{name[0]}", want: "b-prod-A"},
		{tmpl: "{n:{n}}", want: "      7"},
		{tmpl: "{x:e}|{x:g}|{x:%}|{n:x}|{n:#b}|{n:+}", want: "3.141590e+00|3.14159|314.159000%|7|0b111|+7"},
		{tmpl: "{name:.3}", want: "Art"},
		{tmpl: "{missing}", wantErr: "'missing'"},
		{tmpl: "{cfg[nope]}", wantErr: "'nope'"},
		{tmpl: "{}", wantErr: "Replacement index 0 out of range for positional args tuple"},
		{tmpl: "{0}", wantErr: "Replacement index 0 out of range for positional args tuple"},
		{tmpl: "}", wantErr: "Single '}' encountered in format string"},
		{tmpl: "{", wantErr: "Single '{' encountered in format string"},
		{tmpl: "{name", wantErr: "expected '}' before end of string"},
		{tmpl: "{name!x}", wantErr: "Unknown conversion specifier x"},
		{tmpl: "{name:d}", wantErr: "Unknown format code 'd' for object of type 'str'"},
		{tmpl: "{tags:>5}", wantErr: "unsupported format string passed to list.__format__"},
		{tmpl: "{tags[5]}", wantErr: "list index out of range"},
		{tmpl: "{cfg.env}", wantErr: "'dict' object has no attribute 'env'"},
	}
	for _, c := range cases {
		got, err := Format(c.tmpl, params)
		if c.wantErr != "" {
			if err == nil || err.Error() != c.wantErr {
				t.Errorf("%q: want error %q, got %q, %v", c.tmpl, c.wantErr, got, err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%q: got %q, %v; want %q", c.tmpl, got, err, c.want)
		}
	}
}

// TestFormatAgainstPython runs the same templates through str.format.
func TestFormatAgainstPython(t *testing.T) {
	params := `{"name": "Arthur", "n": 7, "neg": -1234567, "x": 3.14159, "big": 1234567.891, "ok": true, "tags": ["a", "b"], "cfg": {"env": "prod"}, "none": null, "s": "héllo"}`
	templates := []string{"run-{name}", "{{x}}", "{n:03d}", "{n:>5}", "{n:<5}|", "{n:^5}", "{n:+d}", "{neg:,}", "{neg:_}", "{big:,.2f}",
		"{x:.2f}", "{x:.3}", "{x:e}", "{x:E}", "{x:g}", "{x:%}", "{x:10.4f}", "{x:*^12.1f}", "{x:+.1f}", "{n:x}", "{n:#x}", "{n:#o}", "{n:b}",
		"{neg:=+12d}", "{ok}", "{ok:d}", "{ok:>6}", "{none}", "{tags}", "{cfg}", "{name!r}", "{name!s:>8}", "{s!a}", "{name:.2}",
		"{name:-<10}", "{tags[0]}", "{cfg[env]}", "{name[1]}", "{missing}", "{}", "{0}", "}", "{", "{name", "{name!x}", "{name:d}",
		"{tags:>3}", "{tags[9]}", "{cfg.env}", "{n:{n}}", "{x:.{n}f}", "{n:c}", "{name:=>8}", "{x}", "{big}", "{name:s}", "{n:.2}", "{s:^9}"}
	script := `
import json, sys
data = json.load(sys.stdin)
params = json.loads(data["params"])
out = []
for t in data["templates"]:
    try:
        out.append({"ok": t.format(**params)})
    except KeyError as e:
        out.append({"key": str(e.args[0])})
    except Exception as e:
        out.append({"err": str(e)})
print(json.dumps(out))
`
	var results []struct{ OK, Key, Err *string }
	askPython(t, script, map[string]any{"params": params, "templates": templates}, &results)
	pv, err := DecodeJSON([]byte(params))
	if err != nil {
		t.Fatal(err)
	}
	for i, tmpl := range templates {
		got, err := Format(tmpl, pv.(*Map))
		r := results[i]
		var ke *FormatKeyError
		switch {
		case r.OK != nil:
			if err != nil || got != *r.OK {
				t.Errorf("%q: Python %q, prefectctl %q, %v", tmpl, *r.OK, got, err)
			}
		case r.Key != nil:
			if !errors.As(err, &ke) || ke.Key != *r.Key {
				t.Errorf("%q: Python KeyError %q, prefectctl %q, %v", tmpl, *r.Key, got, err)
			}
		default:
			if err == nil || err.Error() != *r.Err {
				t.Errorf("%q: Python error %q, prefectctl %q, %v", tmpl, *r.Err, got, err)
			}
		}
	}
}
