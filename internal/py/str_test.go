package py

import (
	"encoding/json"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

var shlexCases = []string{
	`echo Hello World`,
	`echo 'single quoted  spaces'`,
	`echo "double \"quoted\" \\ \$x \n"`,
	`a\ b c\\d \'e`,
	`a"b c"d`,
	`x '' "" y`,
	"tab\tseparated\r\nwords",
	`git rev-parse --short HEAD`,
	`echo $X ${Y}`,
	`  leading and trailing   `,
	`"unterminated`,
	`'unterminated`,
	`trailing\`,
	`"esc at end\`,
	`a#b # not a comment`,
	`ünïcödé "wörds"`,
	`a'b'"c"\d`,
	``,
}

func TestShlexSplitTable(t *testing.T) {
	cases := []struct {
		in   string
		want []string
		err  string
	}{
		{`echo Hello World`, []string{"echo", "Hello", "World"}, ""},
		{`a"b c"d`, []string{"ab cd"}, ""},
		{`x '' "" y`, []string{"x", "", "", "y"}, ""},
		{`"a \"b\" \x"`, []string{`a "b" \x`}, ""},
		{`a\ b`, []string{"a b"}, ""},
		{`'a\b'`, []string{`a\b`}, ""},
		{`"open`, nil, "No closing quotation"},
		{`end\`, nil, "No escaped character"},
		{"   ", nil, ""},
	}
	for _, c := range cases {
		got, err := ShlexSplit(c.in)
		if c.err != "" {
			if err == nil || err.Error() != c.err {
				t.Errorf("ShlexSplit(%q) error = %v, want %q", c.in, err, c.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("ShlexSplit(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
}

// TestStrAgainstPython compares shlex, splitlines and safe_substitute
// with Python itself on a corpus of tricky inputs.
func TestStrAgainstPython(t *testing.T) {
	lines := []string{"a\nb", "a\r\nb\rc", "a\vb\fc\x1cd\x1de\x1ef", "a\u0085b\u2028c\u2029d", "a\n\nb\n", "\n", "", "x\r"}
	env := map[string]string{"A": "1", "B_2": "two", "lower": "l"}
	subs := []string{"$A ${B_2} $$ $1 $C ${C} $", "${A}${lower}$lower$A_", "$$A", "${ A}", "cost: $5 $$5", "${B_2"}
	var reqs []map[string]any
	for _, s := range shlexCases {
		reqs = append(reqs, map[string]any{"kind": "shlex", "s": s})
	}
	for _, s := range lines {
		reqs = append(reqs, map[string]any{"kind": "splitlines", "s": s})
	}
	for _, s := range subs {
		reqs = append(reqs, map[string]any{"kind": "substitute", "s": s, "env": env})
	}
	script := `
import json, shlex, string, sys
out = []
for r in json.load(sys.stdin):
    try:
        if r["kind"] == "shlex":
            out.append({"ok": shlex.split(r["s"])})
        elif r["kind"] == "splitlines":
            out.append({"ok": r["s"].splitlines()})
        else:
            out.append({"ok": string.Template(r["s"]).safe_substitute(r["env"])})
    except Exception as e:
        out.append({"error": "%s: %s" % (type(e).__name__, e)})
print(json.dumps(out))
`
	var ans []struct {
		OK    json.RawMessage `json:"ok"`
		Error string          `json:"error"`
	}
	askPython(t, script, reqs, &ans)
	for i, r := range reqs {
		s := r["s"].(string)
		switch r["kind"] {
		case "shlex":
			got, err := ShlexSplit(s)
			if ans[i].Error != "" {
				if err == nil || !strings.HasSuffix(ans[i].Error, err.Error()) {
					t.Errorf("ShlexSplit(%q): err %v, Python %s", s, err, ans[i].Error)
				}
				continue
			}
			var want []string
			_ = json.Unmarshal(ans[i].OK, &want)
			if err != nil || !reflect.DeepEqual(got, want) && !(len(got) == 0 && len(want) == 0) {
				t.Errorf("ShlexSplit(%q) = %q, %v; Python %q", s, got, err, want)
			}
		case "splitlines":
			var want []string
			_ = json.Unmarshal(ans[i].OK, &want)
			if got := SplitLines(s); !reflect.DeepEqual(got, want) && !(len(got) == 0 && len(want) == 0) {
				t.Errorf("SplitLines(%q) = %q; Python %q", s, got, want)
			}
		case "substitute":
			var want string
			_ = json.Unmarshal(ans[i].OK, &want)
			got := SafeSubstitute(s, func(k string) (string, bool) { v, ok := env[k]; return v, ok })
			if got != want {
				t.Errorf("SafeSubstitute(%q) = %q; Python %q", s, got, want)
			}
		}
	}
}

// TestSpaceClass checks that the regexp class and IsSpace agree on every
// character below U+3100 (the last one either names).
func TestSpaceClass(t *testing.T) {
	re := regexp.MustCompile(`^[` + SpaceClass + `]$`)
	for r := rune(0); r < 0x3100; r++ {
		if re.MatchString(string(r)) != IsSpace(r) {
			t.Errorf("U+%04X: class %v, IsSpace %v", r, re.MatchString(string(r)), IsSpace(r))
		}
	}
}

// TestStrPredicatesAgainstPython compares IsSpace with str.isspace and
// ParseInt with int() on characters and texts Python treats specially.
func TestStrPredicatesAgainstPython(t *testing.T) {
	var chars []string
	for r := rune(0); r < 0x3100; r++ {
		chars = append(chars, string(r))
	}
	ints := []string{"0", "-5", "+7", " 12 ", "1_000", "1__0", "_1", "1_", "\u0663\u0664", "١٢", "0x10", "1.0", "", " ", "9223372036854775807", "-9223372036854775808", "9223372036854775808", "\u00a05\u2003"}
	script := `
import json, sys
d = json.load(sys.stdin)
def toint(s):
    try:
        n = int(s)
        return n if -2**63 <= n < 2**63 else None
    except ValueError:
        return None
print(json.dumps({"space": [c.isspace() for c in d["chars"]], "int": [toint(s) for s in d["ints"]]}))
`
	var want struct {
		Space []bool
		Int   []*int64
	}
	askPython(t, script, map[string]any{"chars": chars, "ints": ints}, &want)
	for i, c := range chars {
		if got := IsSpace([]rune(c)[0]); got != want.Space[i] {
			t.Errorf("IsSpace(U+%04X) = %v, Python %v", []rune(c)[0], got, want.Space[i])
		}
	}
	for i, s := range ints {
		got, ok := ParseInt(s)
		switch w := want.Int[i]; {
		case w == nil && ok:
			t.Errorf("ParseInt(%q) = %d, Python rejects it", s, got)
		case w != nil && (!ok || got != *w):
			t.Errorf("ParseInt(%q) = %d, %v; Python %d", s, got, ok, *w)
		}
	}
}

func TestParseInt(t *testing.T) {
	for s, want := range map[string]int64{
		"0": 0, "-0": 0, "+7": 7, "007": 7, "1_000": 1000, " 12\t": 12, "-9223372036854775808": -1 << 63,
		"٤٢": 42, "9223372036854775807": 1<<63 - 1,
	} {
		if got, ok := ParseInt(s); !ok || got != want {
			t.Errorf("ParseInt(%q) = %d, %v; want %d", s, got, ok, want)
		}
	}
	for _, s := range []string{"", "-", "_1", "1_", "1__0", "1.0", "0x1", "1e3", "--1", "9223372036854775808", "١a"} {
		if got, ok := ParseInt(s); ok {
			t.Errorf("ParseInt(%q) = %d, want failure", s, got)
		}
	}
}
