package docker

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// A build context with symlink loops is sent as Docker sends it: each link
// as a link, never followed, so a loop cannot hang or blow up the tar.
func TestContextWithSymlinkLoops(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "flows"), 0o755)
	os.WriteFile(filepath.Join(root, "flows", "hello.py"), []byte("print('hi')\n"), 0o644)
	for link, target := range map[string]string{"a": "b", "b": "a", "flows/self": "..", "flows/here": "."} {
		if err := os.Symlink(target, filepath.Join(root, link)); err != nil {
			t.Fatal(err)
		}
	}
	files, err := contextFiles(root, nil)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := writeContextTar(context.Background(), &buf, root, files, nil); err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(&buf)
	links := map[string]string{}
	var names []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
		if h.Typeflag == tar.TypeSymlink {
			links[h.Name] = h.Linkname
		}
	}
	sort.Strings(names)
	if len(names) > 10 {
		t.Fatalf("a loop was followed: %v", names)
	}
	want := map[string]string{"a": "b", "b": "a", "flows/self": "..", "flows/here": "."}
	for k, v := range want {
		if links[k] != v {
			t.Errorf("link %s = %q, want %q (entries %s)", k, links[k], v, strings.Join(names, ", "))
		}
	}
}
