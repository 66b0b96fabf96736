package docker

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prefectctl/prefectctl/internal/py"
)

func TestSplitRepositoryPath(t *testing.T) {
	cases := []struct{ in, ns, repo, qualified string }{
		{"a/b/c", "a/b", "c", "a/b/c"},
		{"reg.io/x", "reg.io", "x", "reg.io/x"},
		{"host:5000/x", "host:5000", "x", "host:5000/x"},
		{"127.0.0.1:5000/team/app", "127.0.0.1:5000/team", "app", "127.0.0.1:5000/team/app"},
		{"org/x", "org", "x", "org/x"},
		{"x", "", "x", "ns.example/x"},
		{"a/b/c/d", "a/b", "c/d", "a/b/c/d"},
	}
	for _, c := range cases {
		ns, repo := SplitRepositoryPath(c.in)
		if ns != c.ns || repo != c.repo {
			t.Errorf("SplitRepositoryPath(%q) = %q, %q; want %q, %q", c.in, ns, repo, c.ns, c.repo)
		}
		if got := QualifyImageName(c.in, "ns.example"); got != c.qualified {
			t.Errorf("QualifyImageName(%q) = %q, want %q", c.in, got, c.qualified)
		}
	}
	if got := QualifyImageName("x", ""); got != "x" {
		t.Errorf("no namespace: %q", got)
	}
}

func TestValidateImageName(t *testing.T) {
	for _, bad := range []string{"my image", "a\tb", "x\n"} {
		if ValidateImageName(bad) == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if err := ValidateImageName("reg:5000/a/b"); err != nil {
		t.Error(err)
	}
}

func TestDefaultTag(t *testing.T) {
	cases := []struct {
		t    time.Time
		want string
	}{
		{time.Date(2026, 8, 21, 16, 27, 33, 123456789, time.UTC), "2026-08-21t16-27-33-123456-00-00"},
		{time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), "2026-01-02t03-04-05-00-00"},
		{time.Date(2026, 1, 2, 5, 4, 5, 0, time.FixedZone("X", 2*3600)), "2026-01-02t03-04-05-00-00"},
	}
	for _, c := range cases {
		if got := DefaultTag(c.t); got != c.want {
			t.Errorf("DefaultTag(%v) = %q, want %q", c.t, got, c.want)
		}
	}
}

func TestSlugify(t *testing.T) {
	cases := map[string]string{"Hello, World!": "hello-world", "--a--b--": "a-b", "A_B.c": "a-b-c", "": ""}
	for in, want := range cases {
		if got := Slugify(in); got != want {
			t.Errorf("Slugify(%q) = %q, want %q", in, got, want)
		}
	}
	if got := slugTag("3.9.1+dirty-python3.11", 128); got != "3.9.1-dirty-python3.11" {
		t.Errorf("slugTag = %q", got)
	}
}

func TestParsePlatform(t *testing.T) {
	cases := map[string]string{"linux/amd64": "linux/amd64/", "linux/arm64/v8": "linux/arm64/v8", "amd64": "linux/amd64/", "LINUX/AMD64": "linux/amd64/"}
	for in, want := range cases {
		p, err := ParsePlatform(in)
		if err != nil {
			t.Fatal(err)
		}
		if got := p.OS + "/" + p.Architecture + "/" + p.Variant; got != want {
			t.Errorf("ParsePlatform(%q) = %q, want %q", in, got, want)
		}
	}
	for _, bad := range []string{"", "linux//amd64", "a/b/c/d"} {
		if _, err := ParsePlatform(bad); err == nil {
			t.Errorf("ParsePlatform(%q) accepted", bad)
		}
	}
}

func TestResolveVersionsPrecedence(t *testing.T) {
	env := func(m map[string]string) func(string) (string, bool) {
		return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
	}
	noPython := "/nonexistent/python3"
	cases := []struct {
		name string
		o    Options
		want Versions
	}{
		{"defaults", Options{Python: noPython}, Versions{"3.9.1", "default", "3.11", "default"}},
		{"project", Options{Python: noPython, ProjectPrefectVersion: "3.4.0"}, Versions{"3.4.0", "prefect.yaml prefect-version", "3.11", "default"}},
		{"env beats project", Options{Python: noPython, ProjectPrefectVersion: "3.4.0",
			Environ: env(map[string]string{EnvPrefectImageVersion: "3.8.0", EnvPythonVersion: "3.12.4"})},
			Versions{"3.8.0", EnvPrefectImageVersion, "3.12", EnvPythonVersion}},
		{"option beats env", Options{Python: noPython, PrefectVersion: "3.9.0", PythonVersion: "3.13",
			Environ: env(map[string]string{EnvPrefectImageVersion: "3.8.0"})}, Versions{"3.9.0", "option", "3.13", "option"}},
	}
	for _, c := range cases {
		if got := ResolveVersions(context.Background(), &c.o, t.TempDir()); got != c.want {
			t.Errorf("%s: got %+v, want %+v", c.name, got, c.want)
		}
	}
	v := Versions{Prefect: "3.9.1", Python: "3.11"}
	if got := BaseImage(context.Background(), v, t.TempDir()); got != "prefecthq/prefect:3.9.1-python3.11" {
		t.Errorf("BaseImage = %q", got)
	}
	v.Prefect = "3.9.2.dev3+12.gabcdef012"
	if got := BaseImage(context.Background(), v, t.TempDir()); got != "prefecthq/prefect-dev:sha-abcdef0-python3.11" {
		t.Errorf("BaseImage (local build) = %q", got)
	}
}

func TestTailKeepsLastLinesWithoutEscapes(t *testing.T) {
	tl := &tail{n: 2}
	_, _ = tl.Write([]byte("one\ntwo\n\x1b[91mthree\x1b[0m\nfour"))
	if got := tl.String(); got != "three\nfour" {
		t.Fatalf("tail = %q", got)
	}
}

// Bad names fail before any daemon is contacted (this one is unreachable).
func TestBuildRejectsBadReferenceEarly(t *testing.T) {
	s := New(Options{Environ: func(k string) (string, bool) {
		if k == "DOCKER_HOST" {
			return "unix:///nonexistent/docker.sock", true
		}
		return "", false
	}, Python: "/nonexistent"}, Deps{})
	for _, in := range []*py.Map{
		py.MapOf("image_name", "Upper/Case", "tag", "t"),
		py.MapOf("image_name", "ok/name", "tag", "bad tag!"),
		py.MapOf("image_name", "ok/name", "tag", "t", "additional_tags", []any{":x"}),
	} {
		_, err := s.BuildImage(context.Background(), t.TempDir(), in)
		if err == nil || !strings.Contains(err.Error(), "invalid image reference") {
			t.Errorf("%v: err = %v", in, err)
		}
	}
}

var update = flag.Bool("update", false, "rewrite golden files")

func TestAutoDockerfileGolden(t *testing.T) {
	cases := []struct {
		golden, base, dir string
		reqs              bool
	}{
		{"auto-plain.Dockerfile", "prefecthq/prefect:3.9.1-python3.11", "/src/flows", false},
		// A directory name with a space goes in unquoted, as prefect-docker writes it.
		{"auto-requirements.Dockerfile", "prefecthq/prefect:3.9.1-python3.12", "/src/my project", true},
	}
	for _, c := range cases {
		got := AutoDockerfile(c.base, c.dir, c.reqs)
		p := filepath.Join("testdata", "golden", c.golden)
		if *update {
			if err := os.WriteFile(p, []byte(got), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if got != string(want) {
			t.Errorf("%s:\n%s\nwant:\n%s", c.golden, got, want)
		}
	}
}
