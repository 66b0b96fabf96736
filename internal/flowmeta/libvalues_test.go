package flowmeta

import (
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
)

// TestLibraryValuesLikePython computes library default values with the
// test venv's Python and pydantic (to_jsonable_python, as pydantic writes a
// default into a schema) and checks the reader gives the same text, or
// refuses the value.
func TestLibraryValuesLikePython(t *testing.T) {
	py := os.Getenv("PREFECTCTL_PYTHON")
	if py == "" {
		home, _ := os.UserHomeDir()
		py = filepath.Join(home, ".cache/prefectctl-testenv/venv-prefect-3.9.1/bin/python")
	}
	if _, err := os.Stat(py); err != nil {
		t.Skipf("no Python with pydantic at %s (set PREFECTCTL_PYTHON)", py)
	}
	type tc struct {
		Kind string `json:"kind"`
		Args []any  `json:"args"`
	}
	var cases []tc
	for _, s := range []string{"1.50", "+1e3", ".5", "-0", "1_000.0", "0.000001", "0.0000001", "123E-10", " 7 ", "NaN",
		"-Infinity", "1E+2", "12345678901234567890.123e5", "0e-10", "-0.00", "100", "1.000e2", "5.", "0.1e1", "-12.5E-3", "9e999"} {
		cases = append(cases, tc{"decimal_str", []any{s}})
	}
	for _, f := range []float64{0.1, 1.1, 2.5, -3.75, 1e-7, 1e20, 0, 123456.789} {
		cases = append(cases, tc{"decimal_float", []any{f}})
	}
	for _, u := range []string{"https://Example.COM", "http://example.com:80/a?q=1#f", "https://example.com:8443/",
		"postgres://user:pw@db:5432/app", "s3://Bucket/Key", "HTTPS://WWW.Example.org:443", "https://x.org/p/",
		"ftp://ftp.example.com:21", "ws://h:80/x", "mailto:x@y.z", "redis://localhost:6379/0", "file:///tmp/x",
		"https://a.b.c/d/e?x=1&y=2", "http://127.0.0.1:8080", "https://user@host/", "http://h:0080/", "https://h/a/./b",
		"https://h/a%20b", "sftp://User@Host.Example/Path"} {
		cases = append(cases, tc{"url", []any{u}})
	}
	for _, a := range []string{"1.2.3.4", "0.0.0.0", "255.255.255.255", "::", "::1", "1::", "2001:db8::1", "2001:DB8:0:0:1:0:0:1",
		"fe80::1:0:0:0", "1:0:0:2:0:0:0:3", "2001:db8:0:1:1:1:1:1"} {
		cases = append(cases, tc{"ip_address", []any{a}})
	}
	for _, n := range []string{"10.0.0.0/8", "10.1.0.0/16", "::/0", "2001:db8::/32", "192.168.1.1/32", "10.0.0.1"} {
		cases = append(cases, tc{"ip_network", []any{n}}, tc{"ip_interface", []any{n}})
	}
	for _, c := range [][2]float64{{1, -2}, {-1, 0}, {0, 0}, {1, math.Copysign(0, -1)}, {0, 1e20}, {2, 1e-7}, {1.5, 2.5}, {0, -1}, {1e300, 1}, {-2.5, 0.125}} {
		// as text: JSON has no negative zero
		cases = append(cases, tc{"complex", []any{strconv.FormatFloat(c[0], 'g', -1, 64), strconv.FormatFloat(c[1], 'g', -1, 64)}})
	}
	for _, f := range [][]any{{1.0, 3.0}, {2.0, 4.0}, {-6.0, 4.0}, {"3/9"}, {5.0}, {0.0, 5.0}, {" -10/4 "}} {
		cases = append(cases, tc{"fraction", f})
	}
	in, _ := json.Marshal(cases)
	script := `
import json, sys, decimal, fractions, ipaddress
from pydantic import AnyUrl
from pydantic_core import to_jsonable_python
out = []
for c in json.load(sys.stdin):
    k, a = c["kind"], c["args"]
    try:
        if k == "decimal_str": v = decimal.Decimal(a[0])
        elif k == "decimal_float": v = decimal.Decimal(a[0])
        elif k == "url": v = AnyUrl(a[0])
        elif k == "ip_address": v = ipaddress.ip_address(a[0])
        elif k == "ip_network": v = ipaddress.ip_network(a[0])
        elif k == "ip_interface": v = ipaddress.ip_interface(a[0])
        elif k == "complex": v = complex(float(a[0]), float(a[1]))
        elif k == "fraction": v = fractions.Fraction(*[int(x) if isinstance(x, float) else x for x in a])
        out.append(to_jsonable_python(v))
    except Exception as e:
        out.append(None)
print(json.dumps(out))
`
	cmd := exec.Command(py, "-c", script)
	stdin, _ := cmd.StdinPipe()
	go func() { stdin.Write(in); stdin.Close() }()
	raw, err := cmd.Output()
	if err != nil {
		t.Fatalf("python: %v", err)
	}
	var want []any
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatal(err)
	}
	refused := 0
	for i, c := range cases {
		var got any
		var gerr error
		switch c.Kind {
		case "decimal_str", "decimal_float":
			got, gerr = decimalStr(c.Args[0])
		case "url":
			got, gerr = normalizeURL(c.Args[0].(string), "AnyUrl")
		case "ip_address", "ip_network", "ip_interface":
			got, gerr = ipString(c.Kind, c.Args[0])
		case "complex":
			re, _ := strconv.ParseFloat(c.Args[0].(string), 64)
			im, _ := strconv.ParseFloat(c.Args[1].(string), 64)
			got = pydanticComplex(pyComplex{re, im})
		case "fraction":
			args := make([]any, len(c.Args))
			for j, a := range c.Args {
				if f, ok := a.(float64); ok {
					args[j] = int64(f)
				} else {
					args[j] = a
				}
			}
			got, gerr = fractionStr(args, nil)
		}
		switch {
		case gerr != nil:
			refused++ // the reader may refuse what it cannot render exactly
		case want[i] == nil:
			t.Errorf("%s %v: Python refuses it, the reader gives %v", c.Kind, c.Args, got)
		case got != want[i]:
			t.Errorf("%s %v: got %v, Python %v", c.Kind, c.Args, got, want[i])
		}
	}
	t.Logf("%d of %d cases refused", refused, len(cases))
	if refused > len(cases)/5 {
		t.Errorf("the reader refused %d of %d cases", refused, len(cases))
	}
}
