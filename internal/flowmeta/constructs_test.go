package flowmeta

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Conditions on sys.version_info are decided for the Pythons Prefect 3.9.1
// runs on (3.11 and later); other branches of an if keep the first one.
func TestIfBranchesOnVersion(t *testing.T) {
	for _, tc := range []struct {
		name, src, want string
		alt             bool
	}{
		{"always true", "if sys.version_info >= (3, 8):\n    X = 1\nelse:\n    X = 2\n", "1", false},
		{"slice always true", "if sys.version_info[:2] > (3, 10):\n    X = 1\nelse:\n    X = 2\n", "1", false},
		{"always false", "if sys.version_info < (3, 11):\n    X = 1\nelse:\n    X = 2\n", "2", false},
		{"false then true", "if sys.version_info < (3, 10):\n    X = 1\nelif sys.version_info >= (3, 11):\n    X = 2\nelse:\n    X = 3\n", "2", false},
		{"depends", "if sys.version_info >= (3, 12):\n    X = 1\nelse:\n    X = 2\n", "1", true},
		{"platform", "if sys.platform == 'win32':\n    X = 1\nelse:\n    X = 2\n", "1", true},
		{"slice colon in header", "if x[1:2]:\n    X = 1\n", "1", false},
		{"dict in header", "if {'a': 1}.get('a'):\n    X = 1\n", "1", false},
		{"try fallback import", "try:\n    from lib import X\nexcept ImportError:\n    X = 2\n", "lib.X", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := parseModule("m.py", "", []byte("import sys\n"+tc.src))
			if err != nil {
				t.Fatal(err)
			}
			b := m.top.names["X"]
			got := ""
			switch {
			case b == nil:
			case b.imp != nil:
				got = b.imp.module + "." + b.imp.attr
			case b.val != nil:
				got = exprText(b.val)
			}
			if got != tc.want || m.top.alts["X"] != tc.alt {
				t.Errorf("X = %q (alternatives %v), want %q (%v)", got, m.top.alts["X"], tc.want, tc.alt)
			}
		})
	}
}

func TestUndefinedDecoratorIsAnError(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "f.py", "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from prefect import flow\n\n@flow\ndef f():\n    pass\n")
	_, err := Load("f.py:f", Options{ProjectDir: dir})
	if err == nil || !strings.Contains(err.Error(), "name flow in decorator @flow is not defined when the module runs") {
		t.Fatalf("got %v", err)
	}
	// A name that may come from a library's star import is not refused.
	write(t, dir, "g.py", "from prefect import flow\nfrom mylib import *\n\n@flow\n@retrying\ndef g():\n    pass\n")
	if _, err := Load("g.py:g", Options{ProjectDir: dir}); err != nil {
		t.Fatal(err)
	}
}

func write(t *testing.T, dir, name, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
