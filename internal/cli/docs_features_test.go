package cli

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// TestFeatureDocsAreTrue keeps docs/environments.md and docs/monorepo.md
// true: their YAML parses, a YAML block headed by a path in the repository
// is that file, every prefectctl command in them parses against the real
// command tree, and every `console` block (cd DIR, then a command that needs
// no server) prints exactly what it shows.
func TestFeatureDocsAreTrue(t *testing.T) {
	root, _ := filepath.Abs(filepath.Join("..", ".."))
	blockRE := regexp.MustCompile("(?s)```(yaml|console|json)?\n(.*?)```")
	cmdRE := regexp.MustCompile(`(?:^|[\s"'$])prefectctl ([a-z][a-z-]*(?: [^|;&#>\n]*)?)`)
	for _, doc := range []string{"environments.md", "monorepo.md"} {
		raw, err := os.ReadFile(filepath.Join(root, "docs", doc))
		if err != nil {
			t.Fatal(err)
		}
		ran := 0
		for _, b := range blockRE.FindAllStringSubmatch(string(raw), -1) {
			kind, body := b[1], b[2]
			if kind == "yaml" {
				var v any
				if err := yaml.Unmarshal([]byte(body), &v); err != nil {
					t.Errorf("%s: YAML block does not parse: %v\n%s", doc, err, body)
				}
				first, _, _ := strings.Cut(body, "\n")
				if path, ok := strings.CutPrefix(first, "# examples/"); ok {
					file, err := os.ReadFile(filepath.Join(root, "examples", path))
					if err != nil || string(file) != strings.TrimPrefix(body, first+"\n") {
						t.Errorf("%s: the block headed %q is not the file examples/%s (%v)", doc, first, path, err)
					}
				}
			}
			for _, line := range strings.Split(body, "\n") {
				for _, m := range cmdRE.FindAllStringSubmatch(line, -1) {
					checkCommandParses(t, doc, strings.Fields(strings.Trim(m[1], `"'`)))
				}
			}
			if kind == "console" {
				ran++
				runConsoleBlock(t, root, doc, body)
			}
		}
		if ran == 0 {
			t.Errorf("%s has no console block to check", doc)
		}
	}
}

func checkCommandParses(t *testing.T, doc string, args []string) {
	t.Helper()
	root := testRoot()
	cmd, rest, err := root.Find(args)
	if err != nil || cmd == root {
		t.Errorf("%s: prefectctl %s: no such command (%v)", doc, strings.Join(args, " "), err)
		return
	}
	if err := cmd.ParseFlags(rest); err != nil {
		t.Errorf("%s: prefectctl %s: %v", doc, strings.Join(args, " "), err)
		return
	}
	if err := cmd.ValidateArgs(cmd.Flags().Args()); err != nil {
		t.Errorf("%s: prefectctl %s: %v", doc, strings.Join(args, " "), err)
	}
}

// runConsoleBlock runs "$ cd DIR" and "$ prefectctl ARGS" from the
// repository's top and compares stdout with the rest of the block.
func runConsoleBlock(t *testing.T, root, doc, body string) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(body, "\n"), "\n")
	env := map[string]string{"PREFECT_API_URL": noAPI(t), "NO_COLOR": "1", "PREFECT_HOME": t.TempDir(), "PREFECTCTL_ENV": ""}
	// "$ export NAME=VALUE" lines after the cd set the command's environment.
	for len(lines) > 2 && strings.HasPrefix(lines[1], "$ export ") {
		name, value, _ := strings.Cut(strings.TrimPrefix(lines[1], "$ export "), "=")
		env[name] = value
		lines = append(lines[:1], lines[2:]...)
	}
	if len(lines) < 2 || !strings.HasPrefix(lines[0], "$ cd ") || !strings.HasPrefix(lines[1], "$ prefectctl ") {
		t.Errorf("%s: a console block starts with \"$ cd DIR\", any \"$ export NAME=VALUE\" and \"$ prefectctl ...\":\n%s", doc, body)
		return
	}
	dir := filepath.Join(root, strings.TrimPrefix(lines[0], "$ cd "))
	args := strings.Fields(strings.TrimPrefix(lines[1], "$ prefectctl "))
	if !slicesContains(args, "--dry-run") && args[0] != "validate" {
		t.Errorf("%s: %s needs a server; show its output in a plain block", doc, lines[1])
		return
	}
	want := strings.Join(lines[2:], "\n")
	if want != "" {
		want += "\n"
	}
	code, stdout, stderr := runIn(t, dir, env, args...)
	// A deployment's version comes from the flow file's hash, or, as
	// Prefect infers it, from the commit of a git checkout with an origin
	// remote (a clone, as in CI): the doc shows one of them.
	stdout, want = versionRE.ReplaceAllString(stdout, "${1}<version>"), versionRE.ReplaceAllString(want, "${1}<version>")
	if code != 0 || stdout != want {
		t.Errorf("%s: %s in %s: exit %d\n--- stdout\n%s--- doc\n%s--- stderr\n%s", doc, lines[1], lines[0], code, stdout, want, stderr)
	}
}

var versionRE = regexp.MustCompile(`(?m)^(  version +)[0-9a-f]+$`)

func slicesContains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}
