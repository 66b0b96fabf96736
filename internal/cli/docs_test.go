package cli

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"
)

func testRoot() *cobra.Command {
	var out, errOut bytes.Buffer
	return newRootCmd(&app{io: newIOStreams(strings.NewReader(""), &out, &errOut)})
}

// TestDocsUpToDate fails when docs/cli no longer matches the command tree:
// run `make docs` and commit the result.
func TestDocsUpToDate(t *testing.T) {
	dir := filepath.Join("..", "..", "docs", "cli")
	pages := docPages(testRoot())
	if len(pages) < 10 {
		t.Fatalf("only %d pages generated", len(pages))
	}
	onDisk, _ := filepath.Glob(filepath.Join(dir, "*.md"))
	var extra []string
	for _, f := range onDisk {
		if _, ok := pages[filepath.Base(f)]; !ok {
			extra = append(extra, filepath.Base(f))
		}
	}
	if len(extra) > 0 {
		t.Errorf("docs/cli has pages of no command: %v (run make docs)", extra)
	}
	names := make([]string, 0, len(pages))
	for n := range pages {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		got, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			t.Errorf("docs/cli/%s is missing (run make docs)", n)
			continue
		}
		if !bytes.Equal(got, pages[n]) {
			t.Errorf("docs/cli/%s is stale (run make docs)", n)
		}
	}
}

// TestWriteDocsRemovesStalePages checks the generator itself: it writes
// every page and deletes pages of commands that no longer exist.
func TestWriteDocsRemovesStalePages(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "prefectctl_gone.md"), []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("kept"), 0o644); err != nil {
		t.Fatal(err)
	}
	root := testRoot()
	if err := writeDocs(root, dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "prefectctl_gone.md")); err == nil {
		t.Error("stale page was kept")
	}
	if _, err := os.Stat(filepath.Join(dir, "notes.txt")); err != nil {
		t.Error("a non-page file was removed")
	}
	page, err := os.ReadFile(filepath.Join(dir, "prefectctl_deployment_run.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"# prefectctl deployment run", "## Usage", "## Flags", "--watch", "## Global flags", "[prefectctl deployment](prefectctl_deployment.md)"} {
		if !bytes.Contains(page, []byte(want)) {
			t.Errorf("deployment run page lacks %q", want)
		}
	}
	for _, hidden := range []string{"prefectctl___gen-docs.md", "prefectctl_help.md", "prefectctl___complete.md"} {
		if _, err := os.Stat(filepath.Join(dir, hidden)); err == nil {
			t.Errorf("%s should not be documented", hidden)
		}
	}
}

// TestEnvironmentTopicIsComplete scans the non-test Go source for the
// environment variables it names and requires each in `help environment`.
func TestEnvironmentTopicIsComplete(t *testing.T) {
	envName := regexp.MustCompile(`"((?:PREFECT|PREFECTCTL|DOCKER|GITHUB|SSL_CERT)_[A-Z0-9_]*[A-Z0-9]|NO_COLOR|TERM|HOME|PATH)"`)
	documented := map[string]bool{}
	for _, v := range envVars {
		documented[v.name] = true
	}
	found := map[string]string{}
	for _, top := range []string{"internal", "cmd"} {
		root := filepath.Join("..", "..", top)
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(filepath.Join("..", ".."), path)
			// testenv and zz* packages are test machinery, not the product; jobtemplate names
			// the variables a Prefect worker sets in a run's environment, which prefectctl
			// writes into a rendered document and never reads.
			if d.IsDir() && (rel == filepath.Join("internal", "testenv") || rel == filepath.Join("internal", "jobtemplate") ||
				strings.HasPrefix(d.Name(), "zz") || d.Name() == "testdata") {
				return filepath.SkipDir
			}
			if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return nil
			}
			src, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			for _, m := range envName.FindAllSubmatch(src, -1) {
				found[string(m[1])] = rel
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(found) < 20 {
		t.Fatalf("found only %d variable names; is the scan broken? %v", len(found), found)
	}
	for name, file := range found {
		if !documented[name] {
			t.Errorf("%s (named in %s) is missing from `prefectctl help environment`", name, file)
		}
	}
	var out, errOut bytes.Buffer
	if code := Main([]string{"help", "environment"}, strings.NewReader(""), &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	for _, v := range envVars {
		if !strings.Contains(out.String(), v.name) {
			t.Errorf("help environment does not print %s", v.name)
		}
	}
}

// TestCIDocIsValid keeps docs/ci.md working: its YAML parses, it uses the
// release archive names goreleaser.yaml produces, and every prefectctl
// command in it parses against the real command tree.
func TestCIDocIsValid(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "docs", "ci.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```(yaml|dockerfile)\n(.*?)```").FindAllStringSubmatch(string(raw), -1)
	if len(blocks) < 4 {
		t.Fatalf("found %d code blocks", len(blocks))
	}
	cmdRE := regexp.MustCompile(`(?:^|[\s"'])prefectctl ([a-z][a-z-]*(?: [^|;&#\n]*)?)`)
	argsRE := regexp.MustCompile(`^\s*args: (.*)$`)
	var commands [][]string
	for _, b := range blocks {
		if b[1] == "yaml" {
			var doc any
			if err := yaml.Unmarshal([]byte(b[2]), &doc); err != nil {
				t.Errorf("YAML block does not parse: %v\n%s", err, b[2])
			}
		}
		for _, line := range strings.Split(b[2], "\n") {
			if m := argsRE.FindStringSubmatch(line); m != nil {
				commands = append(commands, strings.Fields(m[1]))
			}
			for _, m := range cmdRE.FindAllStringSubmatch(line, -1) {
				commands = append(commands, strings.Fields(strings.Trim(m[1], `"'`)))
			}
		}
	}
	if len(commands) < 6 {
		t.Fatalf("found only %d prefectctl commands: %v", len(commands), commands)
	}
	for _, args := range commands {
		root := testRoot()
		cmd, rest, err := root.Find(args)
		if err != nil || cmd == root {
			t.Errorf("prefectctl %s: no such command (%v)", strings.Join(args, " "), err)
			continue
		}
		if err := cmd.ParseFlags(rest); err != nil {
			t.Errorf("prefectctl %s: %v", strings.Join(args, " "), err)
			continue
		}
		if err := cmd.ValidateArgs(cmd.Flags().Args()); err != nil {
			t.Errorf("prefectctl %s: %v", strings.Join(args, " "), err)
		}
	}
	// The archive name the jobs download is the one goreleaser.yaml writes.
	cfg, err := os.ReadFile(filepath.Join("..", "..", "goreleaser.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(cfg, []byte(`name_template: "{{ .ProjectName }}_{{ .Version }}_{{ .Os }}_{{ .Arch }}"`)) ||
		!bytes.Contains(raw, []byte("archive=prefectctl_${PREFECTCTL_VERSION}_linux_amd64.tar.gz")) {
		t.Error("docs/ci.md and goreleaser.yaml disagree on the archive name")
	}
}
