package flowmeta

import (
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prefectctl/prefectctl/internal/diag"
	"github.com/prefectctl/prefectctl/internal/py"
)

func TestLexer(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		want      string // token values joined by spaces; NEWLINE=;, INDENT=>, DEDENT=<
		err       string
	}{
		{"simple", "x = 1\n", "x = 1 ;", ""},
		{"indent", "if a:\n  b\nc\n", "if a : ; > b ; < c ;", ""},
		{"tabs to 8", "if a:\n\tb\n        c\n", "if a : ; > b ; c ; <", ""},
		{"brackets join lines", "f(a,\n  b)\n", "f ( a , b ) ;", ""},
		{"continuation", "x = 1 + \\\n    2\n", "x = 1 + 2 ;", ""},
		{"comments and blank lines", "# c\n\nx  # t\n   # deeper comment\ny\n", "x ; y ;", ""},
		{"string prefixes", "rb'a' F\"b\" u'c' Rf'd'\n", "rb'a' F\"b\" u'c' Rf'd' ;", ""},
		{"triple quoted over lines", "s = '''a\nb'''\n", "s = '''a\nb''' ;", ""},
		{"nested f-string 3.12", "f\"{x:{'>'}{10}} {f\"{y}\"}\"\n", "f\"{x:{'>'}{10}} {f\"{y}\"}\" ;", ""},
		{"raw f-string backslash before brace", "rf'(\\{{%)({x})' + 1\n", "rf'(\\{{%)({x})' + 1 ;", ""},
		{"f-string doubled braces", "f'{{a}} {b!r}'\n", "f'{{a}} {b!r}' ;", ""},
		{"f-string dict inside", "f'{ {\"a\": 1}[\"a\"] }'\n", "f'{ {\"a\": 1}[\"a\"] }' ;", ""},
		{"numbers", "1_000 0x1F 1e-3 .5 5. 1j 0o7\n", "1_000 0x1F 1e-3 .5 5. 1j 0o7 ;", ""},
		{"operators", "a **= b // c -> d := e ...\n", "a **= b // c -> d := e ... ;", ""},
		{"unicode names", "ñame = 变量\n", "ñame = 变量 ;", ""},
		{"no final newline", "x", "x ;", ""},
		{"dedent at eof", "def f():\n  x = 1", "def f ( ) : ; > x = 1 ; <", ""},
		{"bad dedent", "if a:\n    b\n  c\n", "", "unindent does not match"},
		{"unterminated string", "x = 'abc\n", "", "unterminated string"},
		{"unmatched bracket", "x = )\n", "", "unmatched"},
		{"bad character", "x = $\n", "", "invalid character"},
		{"unterminated triple", "'''abc\n", "", "unterminated string"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			toks, err := lex(tc.src)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var parts []string
			for _, tk := range toks {
				switch tk.kind {
				case tNewline:
					parts = append(parts, ";")
				case tIndent:
					parts = append(parts, ">")
				case tDedent:
					parts = append(parts, "<")
				case tEOF:
				default:
					parts = append(parts, tk.val)
				}
			}
			if got := strings.Join(parts, " "); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

// The lexer leaves out def bodies after their first statement; the
// statements after the body must still come out right.
func TestLexerSkipsDefBodies(t *testing.T) {
	src := "def f(a):\n    '''doc'''\n    if a:\n        return [1,\n2]\n    s = '''x\ny'''\nclass C:\n    def m(self): return 1\n    z = 3\n"
	toks, err := lex(src)
	if err != nil {
		t.Fatal(err)
	}
	var parts []string
	for _, tk := range toks {
		if tk.kind == tName || tk.kind == tString {
			parts = append(parts, tk.val)
		}
	}
	want := "def f a '''doc''' class C def m self return z"
	if got := strings.Join(parts, " "); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestDecodeStringLiteral(t *testing.T) {
	for _, tc := range []struct {
		tok, want string
		bytes     bool
	}{
		{`'a\tb'`, "a\tb", false},
		{`"\x41\101\u00e9\U0001F600"`, "AAé😀", false},
		{`r'\n'`, `\n`, false},
		{`b'\xff\n'`, "\xff\n", true},
		{`'line\` + "\n" + `cont'`, "linecont", false},
		{`'\q'`, `\q`, false},
		{`"""a"b"""`, `a"b`, false},
		{`''`, "", false},
	} {
		got, isBytes, _, err := decodeStringLiteral(tc.tok)
		if err != nil || got != tc.want || isBytes != tc.bytes {
			t.Errorf("%s: got %q bytes=%v err=%v, want %q", tc.tok, got, isBytes, err, tc.want)
		}
	}
	if _, _, _, err := decodeStringLiteral(`'\N{BULLET}'`); !errors.Is(err, errUnicodeName) {
		t.Errorf("\\N escapes must be reported, got %v", err)
	}
}

func TestCleandoc(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"One line.", "One line."},
		{"\n    Summary.\n\n    Body\n      indented\n    ", "Summary.\n\nBody\n  indented"},
		{"   First keeps nothing.\n        more\n    back", "First keeps nothing.\n    more\nback"},
		{"Tabs\n\tx\n\t\ty", "Tabs\nx\n        y"},
		{"", ""},
		{"   ", ""},
		{"Trailing   \n  \n  Second.   \n  ", "Trailing   \n\nSecond.   "},
	} {
		if got := cleandoc(tc.in); got != tc.want {
			t.Errorf("cleandoc(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// Expected values were checked against prefect.utilities.callables.parameter_docstrings
// (griffe) in the test venv.
func TestParamDocs(t *testing.T) {
	for _, tc := range []struct {
		doc  string
		want map[string]string
	}{
		{"Parameters:\n    a: the a", map[string]string{}},
		{"Doc.\n\nParameters:\n    a: the a", map[string]string{"a": "the a"}},
		{"Doc.\n\nArgs:\n        a: the a", map[string]string{"a": "the a"}},
		{"Doc\n\nArgs:\n    a: x\nArgs:\n    b: y", map[string]string{"a": "x"}},
		{"Args:\n    a: x\n\nmore", map[string]string{"a": "x"}},
		{"Args:\n    a: x\n    b: y", map[string]string{}},
		{"S\n\nArgs:\n    a: x\n\nArgs:\n    b: y", map[string]string{"b": "y"}},
		{"S\n\nArgs:\n\n    a: x", map[string]string{}},
		{"S\n\nArgs:\n    a: x\n     b: y\n   c: z", map[string]string{"a": "x\nb: y"}},
		{"S\n\nArgs:\n    y (str): required typed argument y\n        with second line", map[string]string{"y": "required typed argument y\nwith second line"}},
		{"S\n\nArgs:\n    a the a without colon", map[string]string{}},
		{"", map[string]string{}},
	} {
		got := paramDocs(tc.doc)
		if len(got) != len(tc.want) {
			t.Errorf("%q: got %v, want %v", tc.doc, got, tc.want)
			continue
		}
		for k, v := range tc.want {
			if got[k] != v {
				t.Errorf("%q: %s = %q, want %q", tc.doc, k, got[k], v)
			}
		}
	}
}

// Expected values are pydantic's TypeAdapter(timedelta).dump_json output.
func TestISODuration(t *testing.T) {
	for _, tc := range []struct {
		micros int64
		want   string
	}{
		{86400e6, "P1D"},
		{86400e6 + 2*3600e6 + 5, "P1DT2H0.000005S"},
		{-1e6, "-PT1S"},
		{0, "PT0S"},
		{25*3600e6 + 5e5, "P1DT1H0.5S"},
		{21 * 86400e6, "P21D"},
		{5e6, "PT5S"},
		{121e6, "PT2M1S"},
	} {
		if got := isoDuration(big.NewInt(tc.micros)); got != tc.want {
			t.Errorf("%d µs: got %s, want %s", tc.micros, got, tc.want)
		}
	}
}

func TestPyTitle(t *testing.T) {
	for in, want := range map[string]string{
		"zip_code": "Zip Code", "x": "X", "already_Title": "Already Title", "a1b": "A1B",
		"_private": "Private", "trailing_": "Trailing", "éte_x": "Éte X", "HTTPServer": "Httpserver",
	} {
		if got := pyTitle(in); got != want {
			t.Errorf("pyTitle(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestEvalExpressions(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"1 + 2 * 3", "7"},
		{"-7 // 2", "-4"},
		{"-7 % 3", "2"},
		{"7 % -3", "-2"},
		{"2 ** 100", "1267650600228229401496703205376"},
		{"1 / 4", "0.25"},
		{"'ab' * 3", `"ababab"`},
		{"[1] + [2]", "[1,2]"},
		{"(1,) + (2,)", "[1,2]"},
		{"-(1.5)", "-1.5"},
		{"~5", "-6"},
		{"1 << 4", "16"},
		{"{'a': (1, None), 2: True}", `{"a":[1,null],"2":true}`},
		{"1 + 2j", `"1+2j"`}, // pydantic-core writes complex without parentheses
		{"-1j", `"-1j"`},
	} {
		t.Run(tc.src, func(t *testing.T) {
			toks, err := lex(tc.src)
			if err != nil {
				t.Fatal(err)
			}
			e, err := (&parser{toks: toks}).test()
			if err != nil {
				t.Fatal(err)
			}
			ev := &evaluator{l: &loader{mods: map[string]*module{}, warn: func(string, int, string, ...any) {}}}
			v, err := ev.eval(&module{top: newScope()}, e, 0)
			if err != nil {
				t.Fatal(err)
			}
			j, ok, err := toJSON(v)
			if err != nil || !ok {
				t.Fatalf("toJSON: %v %v", ok, err)
			}
			got := jsonString(t, j)
			if got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, src string) {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("ok.py", "from prefect import flow\n@flow\ndef f(): pass\ndef g(): pass\nx = 1\n")
	write("syntax.py", "from prefect import flow\n@flow\ndef f(:\n")
	write("badname.py", "from prefect import flow\n@flow(name='a<b')\ndef f(): pass\n")
	for _, tc := range []struct {
		ep, msg string
		line    int
	}{
		{"ok.py:missing", `Flow function with name "missing" not found`, 0},
		{"ok.py:g", "is not a flow", 4},
		{"ok.py:x", "is not a flow", 0},
		{"nofile.py:f", "flow file not found", 0},
		{"syntax.py:f", "cannot read flow file", 3},
		{"badname.py:f", "contains an invalid character", 3},
		{"noseparator", "invalid entrypoint", 0},
		{"ok.py:", "no function name", 0},
		{"not.a.module:f", "not found in the project", 0},
	} {
		_, err := Load(tc.ep, Options{ProjectDir: dir})
		var d *diag.Error
		if !errors.As(err, &d) || d.Kind != diag.Invalid || !strings.Contains(d.Error(), tc.msg) || d.Line != tc.line || d.Hint == "" {
			t.Errorf("%s: got %#v, want Invalid with %q at line %d and a hint", tc.ep, err, tc.msg, tc.line)
		}
	}
	if f, err := Load("ok.py:f", Options{ProjectDir: dir}); err != nil || f.Name != "f" {
		t.Errorf("ok.py:f: %v %+v", err, f)
	}
}

func jsonString(t *testing.T, v any) string {
	t.Helper()
	b, err := py.EncodeJSON(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
