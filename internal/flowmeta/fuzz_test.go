package flowmeta

import (
	"os"
	"path/filepath"
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
