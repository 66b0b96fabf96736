package codelayer

import (
	"archive/tar"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/types"
)

func TestWalkOrderIsDockers(t *testing.T) {
	// Observed in a Docker COPY layer: components compared, not whole
	// paths, so "a/x" comes before "a-b" (a global sort puts "a-b" first).
	in := []string{"a.b/y", "a-b", "_u", "a/x", "Dockerfile", "a", "A", "a.b"}
	var es []Entry
	for _, p := range in {
		typ := byte(tar.TypeReg)
		if p == "a" || p == "a.b" {
			typ = tar.TypeDir
		}
		es = append(es, Entry{Path: p, Type: typ, Mode: 0o644, Data: []byte(p)})
	}
	var got []string
	for _, e := range ordered(es) {
		got = append(got, e.Path)
	}
	want := "A Dockerfile _u a a/x a-b a.b a.b/y"
	if strings.Join(got, " ") != want {
		t.Fatalf("order = %v\nwant   %s", got, want)
	}
}

func TestOrderedAddsMissingParents(t *testing.T) {
	// build/ excluded, build/keep.txt re-included: the context has no
	// build/ entry and the daemon creates it 0755.
	got := ordered([]Entry{{Path: "build/keep.txt", Type: tar.TypeReg, Mode: 0o600}})
	if len(got) != 2 || got[0].Path != "build" || got[0].Type != tar.TypeDir || got[0].Mode != 0o755 {
		t.Fatalf("ordered = %+v", got)
	}
}

// project writes a small tree with the cases Docker's COPY keeps: modes,
// symlinks (dangling and absolute too), an empty directory, a long and a
// non-ASCII name.
func writeProject(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	write := func(rel, content string, mode os.FileMode) {
		p := filepath.Join(dir, rel)
		must(os.MkdirAll(filepath.Dir(p), 0o755))
		must(os.WriteFile(p, []byte(content), mode))
		must(os.Chmod(p, mode))
	}
	write("flow.py", "print('hi')\n", 0o644)
	write("run.sh", "#!/bin/sh\n", 0o755)
	write("secret.txt", "s", 0o600)
	write("sub/a.py", "a", 0o664)
	write("sub/"+strings.Repeat("x", 120)+".txt", "long", 0o644)
	write("café.py", "c", 0o644)
	must(os.Chmod(filepath.Join(dir, "sub"), 0o700))
	must(os.Mkdir(filepath.Join(dir, "empty"), 0o755))
	must(os.Symlink("flow.py", filepath.Join(dir, "link")))
	must(os.Symlink("nowhere", filepath.Join(dir, "dangling")))
	must(os.Symlink("/etc/passwd", filepath.Join(dir, "abslink")))
	return dir
}

func entriesOf(t *testing.T, dir string) []Entry {
	t.Helper()
	var out []Entry
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		e, ok, err := EntryFor(dir, filepath.ToSlash(rel))
		if err != nil {
			return err
		}
		if ok {
			out = append(out, e)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

type tarEntry struct {
	name, link string
	typ        byte
	mode       int64
	uid, gid   int
	mtime      time.Time
	content    string
	uname      string
}

func readLayer(t *testing.T, l *Layer) []tarEntry {
	t.Helper()
	rc, err := l.Compressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	zr, err := gzip.NewReader(rc)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	var out []tarEntry
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(tr)
		out = append(out, tarEntry{h.Name, h.Linkname, h.Typeflag, h.Mode, h.Uid, h.Gid, h.ModTime, string(b), h.Uname})
	}
}

func TestLayerHoldsWhatCopyWrites(t *testing.T) {
	dir := writeProject(t)
	p := Placement{Dest: "/opt/prefect/proj/", Dirs: []Dir{{Path: "opt/prefect", Mode: 0o775, UID: 1000, GID: 1000}}, MTime: DefaultMTime}
	l, err := BuildLayer(entriesOf(t, dir), p, types.DockerLayer, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer l.Remove()
	got := readLayer(t, l)
	var lines []string
	for _, e := range got {
		if !e.mtime.Equal(DefaultMTime) || e.uname != "" {
			t.Errorf("%s: mtime %v uname %q", e.name, e.mtime, e.uname)
		}
		line := fmt.Sprintf("%c %o %d:%d %s", e.typ, e.mode, e.uid, e.gid, e.name)
		if e.link != "" {
			line += " -> " + e.link
		}
		lines = append(lines, line)
	}
	long := strings.Repeat("x", 120)
	want := []string{
		"5 755 0:0 opt/",
		"5 775 1000:1000 opt/prefect/", // the layer below's owner and mode, kept
		"5 755 0:0 opt/prefect/proj/",
		"2 777 0:0 opt/prefect/proj/abslink -> /etc/passwd",
		"0 644 0:0 opt/prefect/proj/café.py",
		"2 777 0:0 opt/prefect/proj/dangling -> nowhere",
		"5 755 0:0 opt/prefect/proj/empty/",
		"0 644 0:0 opt/prefect/proj/flow.py",
		"2 777 0:0 opt/prefect/proj/link -> flow.py",
		"0 755 0:0 opt/prefect/proj/run.sh",
		"0 600 0:0 opt/prefect/proj/secret.txt",
		"5 700 0:0 opt/prefect/proj/sub/",
		"0 664 0:0 opt/prefect/proj/sub/a.py",
		"0 644 0:0 opt/prefect/proj/sub/" + long + ".txt",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Fatalf("layer:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
}

func TestLayerIsReproducible(t *testing.T) {
	dir := writeProject(t)
	p := Placement{Dest: "/app/", MTime: DefaultMTime, UID: 1000, GID: 1000}
	build := func() (string, string, string) {
		l, err := BuildLayer(entriesOf(t, dir), p, types.DockerLayer, t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		defer l.Remove()
		d, _ := l.Digest()
		id, _ := l.DiffID()
		tree, err := Tree(entriesOf(t, dir), p)
		if err != nil {
			t.Fatal(err)
		}
		return d.String(), id.String(), tree
	}
	d1, id1, t1 := build()
	// Times on disk never reach the layer.
	old := time.Date(2011, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := os.Chtimes(filepath.Join(dir, "flow.py"), old, old); err != nil {
		t.Fatal(err)
	}
	d2, id2, t2 := build()
	if d1 != d2 || id1 != id2 || t1 != t2 {
		t.Fatalf("same files, different layer: %s %s %s / %s %s %s", d1, id1, t1, d2, id2, t2)
	}
	// A mode is content.
	if err := os.Chmod(filepath.Join(dir, "flow.py"), 0o600); err != nil {
		t.Fatal(err)
	}
	d3, _, t3 := build()
	if d3 == d1 || t3 == t1 {
		t.Fatal("a changed mode gave the same layer and tree")
	}
	// So is one byte.
	if err := os.WriteFile(filepath.Join(dir, "flow.py"), []byte("print('ho')\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	d4, _, t4 := build()
	if d4 == d3 || t4 == t3 {
		t.Fatal("a changed file gave the same layer and tree")
	}
}

func TestTreeDependsOnPlacementNotTime(t *testing.T) {
	es := []Entry{{Path: "a.py", Type: tar.TypeReg, Mode: 0o644, Data: []byte("x")}}
	base, _ := Tree(es, Placement{Dest: "/app/", MTime: DefaultMTime})
	same, _ := Tree(es, Placement{Dest: "/app", MTime: time.Unix(5, 0), Dirs: []Dir{{Path: "app", Mode: 0o700}}})
	moved, _ := Tree(es, Placement{Dest: "/srv/", MTime: DefaultMTime})
	owned, _ := Tree(es, Placement{Dest: "/app/", UID: 1000, GID: 1000})
	if base != same {
		t.Error("the tree depends on the time or the directories above the project")
	}
	if base == moved || base == owned {
		t.Error("the tree ignores where the files go or who owns them")
	}
}

func TestMTime(t *testing.T) {
	env := func(v string) func(string) (string, bool) {
		return func(k string) (string, bool) { return v, k == "SOURCE_DATE_EPOCH" && v != "" }
	}
	if m, _ := MTime(env("")); !m.Equal(DefaultMTime) {
		t.Errorf("default = %v", m)
	}
	if m, _ := MTime(env("1700000000")); m.Unix() != 1700000000 {
		t.Errorf("SOURCE_DATE_EPOCH = %v", m)
	}
	if _, err := MTime(env("yesterday")); err == nil || !strings.Contains(err.Error(), "SOURCE_DATE_EPOCH") {
		t.Errorf("bad SOURCE_DATE_EPOCH: %v", err)
	}
}

func TestEntryForSkipsSpecialFiles(t *testing.T) {
	dir := t.TempDir()
	names := []string{}
	if err := os.WriteFile(filepath.Join(dir, "f"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "pipe"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, e := range entriesOf(t, dir) {
		names = append(names, e.Path)
	}
	sort.Strings(names)
	if strings.Join(names, ",") != "f" {
		t.Fatal(names)
	}
}
