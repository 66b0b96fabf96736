package cli

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"

	"github.com/prefectctl/prefectctl/internal/cloudapi/apimock"
)

var update = flag.Bool("update", false, "rewrite golden files")

// chdirMu serialises tests that change the process's working directory.
var chdirMu sync.Mutex

// runIn runs prefectctl in dir with args and returns its exit code, stdout
// and stderr.
func runIn(t *testing.T, dir string, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	chdirMu.Lock()
	defer chdirMu.Unlock()
	old, _ := os.Getwd()
	if err := os.Chdir(dir); err != nil {
		t.Fatal(err)
	}
	defer os.Chdir(old)
	for k, v := range env {
		t.Setenv(k, v)
	}
	var out, errOut bytes.Buffer
	code := Main(args, strings.NewReader(""), &out, &errOut)
	return code, out.String(), errOut.String()
}

// noAPI is a Prefect API that fails the test on any request (a registry
// with no stub): invalid projects must be rejected before anything is
// sent.
func noAPI(t *testing.T) string { return apimock.New(t).URL() }

// TestInvalidCorpus runs every project under testdata/invalid: each must
// fail with exit code 2, the golden error text, no panic and no API call
// (cases run as `deploy --all` prove that a real deploy sends nothing).
// Run with -update to rewrite the golden sections.
func TestInvalidCorpus(t *testing.T) {
	root := filepath.Join("..", "..", "testdata", "invalid")
	files, err := filepath.Glob(filepath.Join(root, "*.txtar"))
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	if len(files) < 40 {
		t.Fatalf("the invalid corpus has %d cases, want at least 40", len(files))
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".txtar")
		t.Run(name, func(t *testing.T) {
			ar, err := txtar.ParseFile(file)
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			args := []string{"deploy", "--all", "--dry-run"}
			var want string
			wantIdx := -1
			for i, f := range ar.Files {
				switch f.Name {
				case "args":
					args = strings.Fields(string(f.Data))
				case "want":
					want, wantIdx = string(f.Data), i
				case "env":
					// NAME=value sets a variable, -NAME makes sure it is unset.
					for _, line := range strings.Split(strings.TrimSpace(string(f.Data)), "\n") {
						if name, ok := strings.CutPrefix(line, "-"); ok {
							if old, was := os.LookupEnv(name); was {
								os.Unsetenv(name)
								t.Cleanup(func() { os.Setenv(name, old) })
							}
						} else if k, v, ok := strings.Cut(line, "="); ok {
							t.Setenv(k, v)
						}
					}
				case "big.yaml.lines":
					// A file too large to keep in the repository: the line
					// given, repeated until the file passes 8 MiB.
					line := strings.TrimRight(string(f.Data), "\n") + "\n"
					big := strings.Repeat(line, (9<<20)/len(line)+1)
					if err := os.WriteFile(filepath.Join(dir, "big.yaml"), []byte(big), 0o644); err != nil {
						t.Fatal(err)
					}
				default:
					p := filepath.Join(dir, f.Name)
					if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(p, f.Data, 0o644); err != nil {
						t.Fatal(err)
					}
				}
			}
			env := map[string]string{"PREFECT_API_URL": noAPI(t), "NO_COLOR": "1", "PREFECT_HOME": t.TempDir()}
			code, stdout, stderr := runIn(t, dir, env, args...)
			got := fmt.Sprintf("exit: %d\n%s", code, stderr)
			if strings.Contains(stderr, "panic") || strings.Contains(stdout, "panic") {
				t.Fatalf("panic:\n%s", stderr)
			}
			if *update {
				if wantIdx < 0 {
					ar.Files = append(ar.Files, txtar.File{Name: "want"})
					wantIdx = len(ar.Files) - 1
				}
				ar.Files[wantIdx].Data = []byte(got)
				if err := os.WriteFile(file, txtar.Format(ar), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if code != ExitUsage {
				t.Errorf("exit code %d, want %d\nstderr:\n%s", code, ExitUsage, stderr)
			}
			if got != want {
				t.Errorf("output differs from golden (run go test ./internal/cli -run TestInvalidCorpus -update)\n--- got\n%s--- want\n%s", got, want)
			}
		})
	}
}
