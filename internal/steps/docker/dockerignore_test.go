package docker

import (
	"os"
	"path"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestDockerignore(t *testing.T) {
	cases := []struct {
		name     string
		patterns string
		excluded []string
		included []string
	}{
		{"plain", "*.pyc\n# comment\n\n  .git  \n", []string{"a.pyc", ".git", ".git/config"}, []string{"sub/a.pyc", "a.py", "# comment"}},
		{"double star", "**/*.pyc\n**/__pycache__", []string{"a.pyc", "x/y/z.pyc", "__pycache__/m.pyc", "p/__pycache__/x"}, []string{"a.py", "pyc"}},
		{"exception", "*.md\n!README.md", []string{"CHANGES.md"}, []string{"README.md", "docs/x.md"}},
		{"later wins", "!keep.txt\n*.txt", []string{"keep.txt", "a.txt"}, []string{"a.py"}},
		{"dir with exception inside", "data\n!data/keep", []string{"data", "data/big.bin"}, []string{"data/keep", "data/keep/inner"}},
		{"leading slash and dot segments", "/build/\n./dist/../out", []string{"build", "build/x", "out/y"}, []string{"dist/a", "src/build"}},
		{"question and class", "file?.txt\nlog[0-9]\nx[^a]y", []string{"file1.txt", "log7", "xby"}, []string{"file10.txt", "logx", "xay"}},
		{"escapes", `a\*b` + "\n" + `c\?`, []string{"a*b", "c?"}, []string{"axb", "cd"}},
		{"star does not cross dirs", "*/tmp", []string{"a/tmp", "a/tmp/f"}, []string{"a/b/tmp", "tmp"}},
		{"dot ignored", ".\n!.", nil, []string{"a"}},
		{"everything but", "*\n!flows\n!requirements.txt", []string{"x.py", "Dockerfile"}, []string{"flows/hello.py", "requirements.txt"}},
		{"bom", "\ufeff*.log", []string{"a.log"}, []string{"b.txt"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ig, err := ParseDockerignore(strings.NewReader(c.patterns))
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range c.excluded {
				if !ig.Excluded(f) {
					t.Errorf("%q not excluded by %q", f, ig.Patterns())
				}
			}
			for _, f := range c.included {
				if ig.Excluded(f) {
					t.Errorf("%q excluded by %q", f, ig.Patterns())
				}
			}
		})
	}
	for _, bad := range []string{"!", "a[", "[]a]"} {
		if _, err := NewIgnore([]string{bad}); err == nil {
			t.Errorf("pattern %q accepted", bad)
		}
	}
}

func TestContextFiles(t *testing.T) {
	root := t.TempDir()
	for _, f := range []string{"flows/hello.py", "flows/__pycache__/hello.pyc", "data/big.bin", "data/keep/me.txt", "requirements.txt", "Dockerfile", ".dockerignore", ".git/HEAD"} {
		p := filepath.Join(root, filepath.FromSlash(f))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(f), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ig, err := NewIgnore([]string{"**/__pycache__", ".git", "data", "!data/keep", "Dockerfile", ".dockerignore"})
	if err != nil {
		t.Fatal(err)
	}
	got, err := contextFiles(root, ig, "Dockerfile", ".dockerignore")
	if err != nil {
		t.Fatal(err)
	}
	// The Dockerfile and .dockerignore are always sent: the daemon reads
	// them and drops them from COPY itself.
	want := []string{".dockerignore", "Dockerfile", "data/keep", "data/keep/me.txt", "flows", "flows/hello.py", "requirements.txt"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("context = %q\nwant      %q", got, want)
	}
}

// FuzzDockerignore checks the matcher never panics, agrees with
// path.Match for patterns without Docker's extensions, and excludes
// everything below an excluded directory when there are no exceptions.
func FuzzDockerignore(f *testing.F) {
	for _, s := range []string{"*.py", "**/x", "a/**/b", "[a-c]?", `\*`, "!a", "a/b/", "**", "x[^y]z", "*/tmp"} {
		f.Add(s, "a/b/c.py")
	}
	f.Fuzz(func(t *testing.T, pattern, file string) {
		if strings.ContainsAny(pattern, "\n\r") || file == "" || strings.HasPrefix(file, "/") || strings.Contains(file, "//") {
			return
		}
		file = path.Clean(file)
		if file == "." || strings.HasPrefix(file, "..") {
			return
		}
		ig, err := NewIgnore([]string{pattern})
		if err != nil {
			return
		}
		ex := ig.Excluded(file)
		if len(ig.patterns) == 0 {
			if ex {
				t.Fatalf("no patterns but %q excluded", file)
			}
			return
		}
		p := ig.patterns[0]
		if utf8.ValidString(file) && !p.exclusion && !strings.Contains(p.text, "**") && !strings.Contains(p.text, `\`) && !strings.Contains(p.text, "[") {
			direct, err := path.Match(p.text, file)
			if err == nil && direct != p.re.MatchString(file) {
				t.Fatalf("pattern %q on %q: regexp %v, path.Match %v", p.text, file, !direct, direct)
			}
		}
		if ex && !p.exclusion {
			if !ig.Excluded(file + "/child") {
				t.Fatalf("%q excluded but %q is not", file, file+"/child")
			}
		}
	})
}
