package project

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// tree writes files (path → content) under dir.
func tree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for p, content := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// monorepo is a repository with projects, and prefect.yaml files git
// ignores or that belong to tools rather than to the repository.
var monorepo = map[string]string{
	".git/info/exclude":                            "scratch/\n",
	".gitignore":                                   "# build output\nbuild/\n*.tmp.d/\n",
	"prefect.yaml":                                 "name: root\n",
	"prefect.prod.yaml":                            "name: overlay-not-a-project\n",
	"services/ingest/prefect.yaml":                 "name: ingest\n",
	"services/ingest/prefect.dev.yaml":             "{}\n",
	"services/report/prefect.yaml":                 "name: report\n",
	"services/report/.gitignore":                   "/old/\n!keep/\n",
	"services/report/old/prefect.yaml":             "name: old\n",
	"services/report/keep/prefect.yaml":            "name: keep\n",
	"services/ml/deploy/prefect.yaml":              "name: ml\n",
	"services/ml/x.tmp.d/prefect.yaml":             "name: ignored-by-glob-pattern\n",
	"build/prefect.yaml":                           "name: built\n",
	"scratch/prefect.yaml":                         "name: excluded\n",
	".github/prefect.yaml":                         "name: hidden\n",
	"venv/pyvenv.cfg":                              "home = /usr/bin\n",
	"venv/lib/prefect/recipes/docker/prefect.yaml": "name: recipe\n",
	"docs/prefect.yml":                             "name: not-the-name\n",
}

func TestFindProjects(t *testing.T) {
	dir := t.TempDir()
	tree(t, dir, monorepo)
	t.Chdir(dir)
	for _, tc := range []struct {
		root string
		want []string
	}{
		{".", []string{"prefect.yaml", "services/ingest/prefect.yaml", "services/ml/deploy/prefect.yaml", "services/report/keep/prefect.yaml", "services/report/prefect.yaml"}},
		// From below the top, the top's ignore files still apply.
		{"services", []string{"services/ingest/prefect.yaml", "services/ml/deploy/prefect.yaml", "services/report/keep/prefect.yaml", "services/report/prefect.yaml"}},
		{"services/report", []string{"services/report/keep/prefect.yaml", "services/report/prefect.yaml"}},
		{"nowhere", nil},
	} {
		got, err := FindProjects(tc.root)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(slashes(got), tc.want) {
			t.Errorf("FindProjects(%q) = %v, want %v", tc.root, got, tc.want)
		}
	}
}

func TestGlobProjects(t *testing.T) {
	dir := t.TempDir()
	tree(t, dir, monorepo)
	t.Chdir(dir)
	for _, tc := range []struct {
		pattern string
		want    []string
	}{
		{"services/*/prefect.yaml", []string{"services/ingest/prefect.yaml", "services/report/prefect.yaml"}},
		{"services/**/prefect.yaml", []string{"services/ingest/prefect.yaml", "services/ml/deploy/prefect.yaml", "services/report/keep/prefect.yaml", "services/report/prefect.yaml"}},
		{"**/prefect.*.yaml", []string{"prefect.prod.yaml", "services/ingest/prefect.dev.yaml"}},
		{"services/[ir]*/prefect.yaml", []string{"services/ingest/prefect.yaml", "services/report/prefect.yaml"}},
		{"*/prefect.yml", []string{"docs/prefect.yml"}},
		{"services/ml/**", []string{"services/ml/deploy/prefect.yaml"}},
		{"services/none-*/prefect.yaml", nil},
		{filepath.Join(dir, "services", "*", "prefect.yaml"), []string{filepath.ToSlash(filepath.Join(dir, "services/ingest/prefect.yaml")), filepath.ToSlash(filepath.Join(dir, "services/report/prefect.yaml"))}},
	} {
		got, err := GlobProjects(tc.pattern)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(slashes(got), tc.want) {
			t.Errorf("GlobProjects(%q) = %v, want %v", tc.pattern, got, tc.want)
		}
	}
	if _, err := GlobProjects("services/[/prefect.yaml"); err == nil || !strings.Contains(err.Error(), "invalid pattern") {
		t.Errorf("a broken pattern: %v", err)
	}
}

// TestFindProjectsAgreesWithGit: the projects found are exactly the
// prefect.yaml files real git would add, minus the dot-directories and
// virtual environments skipped on purpose.
func TestFindProjectsAgreesWithGit(t *testing.T) {
	gitBin, err := exec.LookPath("git")
	if err != nil {
		t.Fatal("git is needed: ", err)
	}
	dir := t.TempDir()
	files := map[string]string{}
	for k, v := range monorepo {
		if !strings.HasPrefix(k, ".git/") {
			files[k] = v
		}
	}
	tree(t, dir, files)
	git := func(args ...string) string {
		cmd := exec.Command(gitBin, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	git("init", "-q")
	tree(t, dir, map[string]string{".git/info/exclude": monorepo[".git/info/exclude"]})
	var want []string
	for _, f := range strings.Fields(git("ls-files", "--others", "--exclude-standard")) {
		if filepath.Base(f) == DefaultFile && !strings.HasPrefix(f, ".") && !strings.HasPrefix(f, "venv/") {
			want = append(want, f)
		}
	}
	slices.Sort(want)
	t.Chdir(dir)
	got, err := FindProjects(".")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(slashes(got), want) {
		t.Errorf("found %v, git lists %v", got, want)
	}
}

func slashes(l []string) []string {
	var out []string
	for _, p := range l {
		out = append(out, filepath.ToSlash(p))
	}
	return out
}
