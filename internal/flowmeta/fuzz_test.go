package flowmeta

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// FuzzFlowmeta feeds arbitrary source to the reader: it must return a
// flow or an error, never panic, and finish quickly (bounded input).
func FuzzFlowmeta(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join(flowsDir, "project", "*.py"))
	for _, s := range seeds {
		if b, err := os.ReadFile(s); err == nil {
			f.Add(b, "hello")
		}
	}
	f.Add([]byte("from prefect import flow\n@flow\ndef f(a: 'int' = 1):\n    '''doc'''\n"), "f")
	f.Add([]byte("@flow(name=f'{x!r:{y}}')\ndef f(*, a=[1, {2: (3,)}], **k): pass\n"), "f")
	f.Add([]byte("class A:\n\tclass B:\n\t\t@flow\n\t\tdef m(self, x: list[int | None] = ()): ...\n"), "A.B.m")
	f.Add([]byte("if (x := 1):\n  match x:\n    case [1, *r]: pass\n"), "x")
	f.Fuzz(func(t *testing.T, src []byte, fn string) {
		if len(src) > 64<<10 || len(fn) > 200 {
			return
		}
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "flow.py"), src, 0o644); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		fl, err := Load("flow.py:"+fn, Options{ProjectDir: dir})
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("Load took %v on %d bytes", d, len(src))
		}
		if err == nil && (fl == nil || fl.ParameterSchema == nil) {
			t.Fatal("nil flow without an error")
		}
	})
}

// FuzzParse drives the lexer, statement reader, docstring parser and
// f-string splitter directly (no files), for many more inputs per second.
func FuzzParse(f *testing.F) {
	f.Add("def f(a: 'int' = 1, *b, c=f'{x!r}', **d):\n    '''Doc.\n\n    Args:\n        a: x\n    '''\n")
	f.Add("class C(Base, metaclass=M):\n\tx: int = 1\n\tdef m(self): ...\n")
	f.Add("match p:\n    case {'a': [1, *_]} if x: pass\n")
	f.Add("x = f\"{a:{b}} {c!s} {{}} {d['k']}\"\n")
	f.Fuzz(func(t *testing.T, src string) {
		if len(src) > 64<<10 {
			return
		}
		m, err := parseModule("f.py", "", []byte(src))
		if err == nil && m == nil {
			t.Fatal("nil module without an error")
		}
		_ = paramDocs(src)
		_, _ = parseFString("f'"+strings.ReplaceAll(src, "'", "")+"'", 1)
	})
}
