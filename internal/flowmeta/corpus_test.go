package flowmeta

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReadsRealPythonCorpus parses every module of the test venv's
// site-packages (about 5,700 files of real Python, Prefect and pydantic
// included): the reader must accept all of them. Set FLOWMETA_CORPUS to
// use another tree.
func TestReadsRealPythonCorpus(t *testing.T) {
	if testing.Short() {
		t.Skip("long corpus test")
	}
	root := os.Getenv("FLOWMETA_CORPUS")
	if root == "" {
		home, _ := os.UserHomeDir()
		root = filepath.Join(home, ".cache/prefectctl-testenv/venv-prefect-3.9.1/lib/python3.11/site-packages")
	}
	if _, err := os.Stat(root); err != nil {
		t.Skipf("no corpus at %s", root)
	}
	n := 0
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".py") {
			return err
		}
		src, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		n++
		if _, err := parseModule(p, "", src); err != nil {
			t.Errorf("%s: %v", p, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 100 {
		t.Fatalf("only %d files under %s", n, root)
	}
}
