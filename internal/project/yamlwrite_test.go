package project

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/prefectctl/prefectctl/internal/testenv"
)

// TestYAMLScalarMatchesPyYAML checks the quoting of init's YAML writer
// against PyYAML's yaml.dump, which prefect init uses.
func TestYAMLScalarMatchesPyYAML(t *testing.T) {
	python := testenv.Python(t)
	inputs := []string{
		"plain", "with space", "/opt/prefect/flows", "prefect-docker>=0.3.1", "{{ build_image.image }}",
		"https://github.com/acme/flows.git", "git@github.com:acme/flows.git", "a: b", "a #b", "a#b", "trailing:",
		"yes", "No", "on", "null", "~", "1", "1.0", "1e3", "0x1F", "012", "1_000", "12:30", "2024-01-02", ".inf",
		"-", "- a", "-a", "?x", ":x", "@x", "`x", "%x", "!x", "&x", "*x", "|x", ">x", "'q'", `"q"`, "it's",
		" lead", "trail ", "", "v1.2", "latest", "feature/x", "registry.example.com:5000/team/img", "a,b", "[x]",
		"ünïcode", "日本", "tab\there", `back\slash`, "y", "n", "Y", "yEs", "NULL", "nUll", "0o17", "+1", "1:2:3",
	}
	// Multi-line strings: PyYAML folds them inside single quotes; prefectctl
	// writes them double-quoted. Both must read back the same.
	for _, in := range []string{"new\nline", "a\n\nb"} {
		var back map[string]string
		if err := yaml.Unmarshal([]byte("k: "+yamlScalar(in)), &back); err != nil || back["k"] != in {
			t.Errorf("yamlScalar(%q) reads back as %q (%v)", in, back["k"], err)
		}
	}
	spec, _ := json.Marshal(inputs)
	out, err := exec.Command(python, "-c", `
import json, sys, yaml
for s in json.loads(sys.argv[1]):
    print(json.dumps(yaml.dump({"k": s}, sort_keys=False, width=1000)))
`, string(spec)).Output()
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != len(inputs) {
		t.Fatalf("got %d lines for %d inputs", len(lines), len(inputs))
	}
	for i, in := range inputs {
		var want string
		if err := json.Unmarshal([]byte(lines[i]), &want); err != nil {
			t.Fatal(err)
		}
		want = strings.TrimSuffix(strings.TrimPrefix(want, "k: "), "\n")
		if got := yamlScalar(in); got != want {
			// Both spellings must at least read back as the same string.
			var back map[string]string
			if err := yaml.Unmarshal([]byte("k: "+got), &back); err != nil || back["k"] != in {
				t.Errorf("yamlScalar(%q) = %s reads back as %q (%v)", in, got, back["k"], err)
			} else {
				t.Errorf("yamlScalar(%q) = %s, PyYAML writes %s", in, got, want)
			}
		}
	}
}
