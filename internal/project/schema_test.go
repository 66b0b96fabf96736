package project

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/prefectctl/prefectctl/internal/py"
	"github.com/prefectctl/prefectctl/internal/testenv"
)

func schemaProps(t *testing.T, m *py.Map, path ...string) []string {
	t.Helper()
	var cur any = m
	for _, p := range path {
		next, ok := cur.(*py.Map).Get(p)
		if !ok {
			t.Fatalf("schema has no %s", strings.Join(path, "."))
		}
		cur = next
	}
	props, ok := cur.(*py.Map).Get("properties")
	if !ok {
		t.Fatalf("schema %s has no properties", strings.Join(path, "."))
	}
	keys := props.(*py.Map).Keys()
	for _, k := range keys {
		s, _ := props.(*py.Map).Get(k)
		if s.(*py.Map).Len() == 0 {
			t.Errorf("schema %s.%s accepts anything: give the new key a type and description", strings.Join(path, "."), k)
		}
	}
	return keys
}

// TestSchemaMatchesLoader keeps the schema's keys identical to the keys the
// loader knows, level by level, so the editor and `validate` agree.
func TestSchemaMatchesLoader(t *testing.T) {
	s := Schema()
	union := func(lists ...[]string) []string {
		var out []string
		for _, l := range lists {
			for _, k := range l {
				if !slices.Contains(out, k) {
					out = append(out, k)
				}
			}
		}
		return out
	}
	cases := []struct {
		name string
		path []string
		want []string
	}{
		{"top level", nil, topKeys},
		{"deployment", []string{"definitions", "deployment"}, deploymentKeys},
		{"work_pool", []string{"definitions", "work_pool"}, workPoolKeys},
		{"schedule", []string{"definitions", "schedule"}, union(scheduleKeys, wrappedSchKeys)},
		{"concurrency_limit", []string{"definitions", "deployment", "properties", "concurrency_limit", "anyOf", "1"}, concurrencyKey},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var got []string
			if slices.Contains(c.path, "anyOf") {
				dep, _ := s.Get("definitions")
				d, _ := dep.(*py.Map).Get("deployment")
				p, _ := d.(*py.Map).Get("properties")
				cl, _ := p.(*py.Map).Get("concurrency_limit")
				alts, _ := cl.(*py.Map).Get("anyOf")
				obj := alts.([]any)[1].(*py.Map)
				got = schemaProps(t, py.MapOf("x", obj), "x")
			} else {
				got = schemaProps(t, s, c.path...)
			}
			want := slices.Clone(c.want)
			got = slices.Clone(got) // Keys() belongs to the map
			sort.Strings(got)
			sort.Strings(want)
			if !slices.Equal(got, want) {
				t.Errorf("schema keys %v\nloader keys %v", got, want)
			}
		})
	}
}

// TestSchemaValidates checks the schema with a real JSON Schema
// implementation (Python's jsonschema, installed with Prefect): it must be a
// valid draft-07 schema, accept every prefect.yaml of the repository's
// examples and conformance cases, and reject the mistakes the loader warns
// about.
func TestSchemaValidates(t *testing.T) {
	python := testenv.Python(t)
	dir := t.TempDir()
	raw, err := py.EncodeJSON(Schema())
	if err != nil {
		t.Fatal(err)
	}
	schemaPath := filepath.Join(dir, "schema.json")
	if err := os.WriteFile(schemaPath, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	good, _ := filepath.Glob("../../testdata/conformance/*/prefect.yaml")
	good = append(good, "../../examples/flows/prefect.yaml")
	if len(good) < 5 {
		t.Fatalf("expected the conformance prefect.yaml files, found %v", good)
	}
	bad := map[string]string{
		"misplaced.yaml":    "deployments:\n- name: a\n  job_variables: {image: x}\n",
		"typo-top.yaml":     "deploymnts: []\n",
		"typo-pool.yaml":    "deployments:\n- name: a\n  work_pool: {name: p, job_variable: {}}\n",
		"bad-sched.yaml":    "deployments:\n- name: a\n  schedules: [{cron: '* * * * *', timzone: UTC}]\n",
		"two-key-step.yaml": "build:\n- a.b: {}\n  c.d: {}\n",
		"bad-strategy.yaml": "deployments:\n- name: a\n  concurrency_limit: {limit: 1, collision_strategy: DROP}\n",
	}
	var badPaths []string
	for name, content := range bad {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		badPaths = append(badPaths, p)
	}
	sort.Strings(badPaths)
	script := `
import json, sys, yaml, jsonschema
schema = json.load(open(sys.argv[1]))
jsonschema.Draft7Validator.check_schema(schema)
v = jsonschema.Draft7Validator(schema)
out = {}
for path in sys.argv[2:]:
    doc = yaml.safe_load(open(path))
    out[path] = [e.message for e in v.iter_errors(doc)]
print(json.dumps(out))
`
	args := append([]string{"-c", script, schemaPath}, good...)
	args = append(args, badPaths...)
	cmd := exec.Command(python, args...)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("jsonschema: %v", err)
	}
	var res map[string][]string
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	for _, g := range good {
		if errs := res[g]; len(errs) > 0 {
			t.Errorf("%s should be valid: %v", g, errs)
		}
	}
	for _, b := range badPaths {
		if errs := res[b]; len(errs) == 0 {
			t.Errorf("%s should be rejected", filepath.Base(b))
		}
	}
}
