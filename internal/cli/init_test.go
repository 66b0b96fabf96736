package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/prefectctl/prefectctl/internal/testenv"
)

// TestInitMatchesPrefect runs the real `prefect init` (3.9.1) and
// `prefectctl init` with the same arguments in the same directory and
// compares what they write: the same YAML data, the same lines apart from
// comments, and the same .prefectignore patterns.
func TestInitMatchesPrefect(t *testing.T) {
	python := testenv.Python(t)
	cases := []struct {
		name  string
		setup func(t *testing.T, dir string)
		args  []string
		dir   string
	}{
		{name: "local guessed"},
		{name: "named", args: []string{"--name", "etl-project", "--recipe", "local"}},
		{name: "docker", args: []string{"--recipe", "docker", "--field", "image_name=registry.example.com/team/flows", "-f", "tag=v1.2"}},
		{name: "docker with Dockerfile", setup: dockerfile, args: []string{"--recipe", "docker", "--field", "image_name=img", "--field", "tag=latest"}},
		{name: "docker guessed from Dockerfile", setup: dockerfile},
		{name: "git guessed", setup: gitRepo("https://github.com/acme/flows.git", false)},
		{name: "git with a branch", setup: gitRepo("git@github.com:acme/flows.git", true), args: []string{"--recipe", "git"}},
		{name: "docker-git guessed", setup: func(t *testing.T, dir string) {
			gitRepo("https://gitlab.com/acme/flows", true)(t, dir)
			dockerfile(t, dir)
		}, args: []string{"--field", "image_name=img", "--field", "tag=2"}},
		{name: "extra field", args: []string{"--recipe", "local", "--field", "unused=1"}},
	}
	// Prefect's CLI takes seconds to start, so one Python process runs
	// `prefect init` for every case, each in its own directory.
	var batch []any
	for i := range cases {
		c := &cases[i]
		c.dir = filepath.Join(t.TempDir(), "my-flows")
		if err := os.Mkdir(c.dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if c.setup != nil {
			c.setup(t, c.dir)
		}
		batch = append(batch, []any{c.dir, append([]string{"prefect", "init"}, c.args...)})
	}
	spec, _ := json.Marshal(batch)
	cmd := exec.Command(python, "-c", `
import json, os, sys
from prefect.cli import app
for d, argv in json.loads(sys.argv[1]):
    os.chdir(d)
    sys.argv = argv
    try:
        app()
    except SystemExit as e:
        if e.code not in (0, None):
            raise
`, string(spec))
	cmd.Env = append(os.Environ(), "PREFECT_HOME="+t.TempDir(), "PREFECT_CLI_PROMPT=false", "NO_COLOR=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("prefect init: %v\n%s", err, out)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := c.dir
			wantYAML := readAndRemove(t, filepath.Join(dir, "prefect.yaml"))
			wantIgnore := readAndRemove(t, filepath.Join(dir, ".prefectignore"))

			t.Chdir(dir)
			var stdout, stderr bytes.Buffer
			if code := Main(append([]string{"init"}, c.args...), strings.NewReader(""), &stdout, &stderr); code != 0 {
				t.Fatalf("prefectctl init exited %d: %s", code, stderr.String())
			}
			if got := stdout.String(); got != ".prefectignore\nprefect.yaml\n" {
				t.Errorf("stdout lists %q, want both files", got)
			}
			gotYAML := readAndRemove(t, filepath.Join(dir, "prefect.yaml"))
			gotIgnore := readAndRemove(t, filepath.Join(dir, ".prefectignore"))

			var want, got any
			if err := yaml.Unmarshal([]byte(wantYAML), &want); err != nil {
				t.Fatal(err)
			}
			if err := yaml.Unmarshal([]byte(gotYAML), &got); err != nil {
				t.Fatalf("prefectctl's prefect.yaml does not parse: %v\n%s", err, gotYAML)
			}
			if !reflect.DeepEqual(want, got) {
				t.Errorf("data differs\nprefect:\n%s\nprefectctl:\n%s", wantYAML, gotYAML)
			}
			if w, g := nonComment(wantYAML), nonComment(gotYAML); w != g {
				t.Errorf("layout differs\nprefect:\n%s\nprefectctl:\n%s", w, g)
			}
			if w, g := nonComment(wantIgnore), nonComment(gotIgnore); w != g {
				t.Errorf(".prefectignore patterns differ\nprefect:\n%s\nprefectctl:\n%s", w, g)
			}
		})
	}
}

func dockerfile(t *testing.T, dir string) {
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM scratch\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

// gitRepo makes dir a git repository with an origin remote; with commit it
// also has a commit on branch "feature/x", else HEAD is unborn.
func gitRepo(remote string, commit bool) func(t *testing.T, dir string) {
	return func(t *testing.T, dir string) {
		run := func(args ...string) {
			cmd := exec.Command("git", args...)
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com")
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("git %v: %v\n%s", args, err, out)
			}
		}
		run("init", "-q", "-b", "trunk")
		run("remote", "add", "origin", remote)
		if commit {
			run("checkout", "-q", "-b", "feature/x")
			run("commit", "-q", "--allow-empty", "-m", "first")
		}
	}
}

func readAndRemove(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// nonComment drops comment and blank lines: prefectctl words its comments
// itself.
func nonComment(s string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l == "" || strings.HasPrefix(strings.TrimSpace(l), "#") {
			continue
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}

func TestInitNeverOverwrites(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"prefect.yaml", ".prefectignore"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte("mine\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Chdir(dir)
	var stdout, stderr bytes.Buffer
	if code := Main([]string{"init", "--recipe", "local"}, strings.NewReader(""), &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if stdout.Len() != 0 || !strings.Contains(stderr.String(), "no new files created") {
		t.Errorf("stdout %q stderr %q", stdout.String(), stderr.String())
	}
	for _, f := range []string{"prefect.yaml", ".prefectignore"} {
		if b, _ := os.ReadFile(filepath.Join(dir, f)); string(b) != "mine\n" {
			t.Errorf("%s was overwritten: %q", f, b)
		}
	}
}

func TestInitErrors(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"init", "--recipe", "nope"}, `unknown recipe "nope"`},
		{[]string{"init", "--recipe", "docker"}, "--field image_name=... "},
		{[]string{"init", "--recipe", "docker-git", "--field", "image_name=x"}, "--field tag=... "},
		{[]string{"init", "--field", "novalue"}, `--field "novalue" is not key=value`},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			dir := t.TempDir()
			t.Chdir(dir)
			var stdout, stderr bytes.Buffer
			if code := Main(c.args, strings.NewReader(""), &stdout, &stderr); code != ExitUsage {
				t.Fatalf("exit %d, want %d: %s", code, ExitUsage, stderr.String())
			}
			if !strings.Contains(stderr.String(), c.want) {
				t.Errorf("stderr %q lacks %q", stderr.String(), c.want)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Errorf("files were written: %v", entries)
			}
		})
	}
}
