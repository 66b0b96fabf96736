package project

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prefectctl/prefectctl/internal/diag"
	"github.com/prefectctl/prefectctl/internal/py"
)

const overlayBase = `name: shop
prefect-version: 3.9.1
pull:
- prefect.deployments.steps.set_working_directory:
    directory: /opt/shop
definitions:
  pool: &pool
    name: dev-pool
    job_variables:
      image: shop:dev
      env: {LOG: debug}
deployments:
- name: daily
  entrypoint: flows/etl.py:etl
  tags: [dev]
  schedules: [{cron: "0 9 * * *"}]
  work_pool: *pool
- name: daily
  entrypoint: flows/report.py:report
  work_pool: *pool
- name: hourly
  entrypoint: flows/etl.py:etl
  parameters: {n: 1, mode: fast}
  work_pool:
    <<: *pool
    name: hourly-pool
`

// loadEnv writes prefect.yaml and prefect.prod.yaml (when overlay is not
// "") into a new directory and loads the project for env prod from there.
func loadEnv(t *testing.T, base, overlay string) (*Project, error) {
	t.Helper()
	dir := t.TempDir()
	t.Chdir(dir)
	if err := os.WriteFile("prefect.yaml", []byte(base), 0o644); err != nil {
		t.Fatal(err)
	}
	opt := LoadOptions{}
	if overlay != "" {
		if err := os.WriteFile("prefect.prod.yaml", []byte(overlay), 0o644); err != nil {
			t.Fatal(err)
		}
		opt.Env = "prod"
	}
	return LoadWith("prefect.yaml", opt)
}

func problems(err error) string {
	var lines []string
	for _, e := range diag.AsList(err) {
		lines = append(lines, e.Error()+" | "+e.Hint)
	}
	return strings.Join(lines, "\n")
}

func field(t *testing.T, p *Project, i int, path string) string {
	t.Helper()
	var cur any = p.Deployments[i].Config
	for _, k := range strings.Split(path, ".") {
		m, ok := cur.(*py.Map)
		if !ok {
			return "<missing>"
		}
		if cur, ok = m.Get(k); !ok {
			return "<missing>"
		}
	}
	b, _ := py.EncodeJSON(cur)
	return string(b)
}

// TestOverlayMerge: what an overlay changes, and what it leaves alone.
func TestOverlayMerge(t *testing.T) {
	for _, tc := range []struct {
		name, overlay string
		want          map[string]string // "i:path" → JSON in deployment i, or "top:key"
	}{
		{"top-level keys replace", "name: shop-prod\npull:\n- prefect.deployments.steps.git_clone: {repository: https://example.com/shop.git}\n",
			map[string]string{"top:name": `"shop-prod"`, "top:pull": `[{"prefect.deployments.steps.git_clone":{"repository":"https://example.com/shop.git"}}]`, "0:tags": `["dev"]`}},
		{"mappings merge deeply, lists replace", "deployments:\n- name: etl/daily\n  tags: [prod]\n  work_pool: {name: prod-pool, job_variables: {env: {REGION: eu}}}\n",
			map[string]string{
				"0:tags":      `["prod"]`,
				"0:work_pool": `{"name":"prod-pool","job_variables":{"image":"shop:dev","env":{"LOG":"debug","REGION":"eu"}}}`,
				"1:work_pool": `{"name":"dev-pool","job_variables":{"image":"shop:dev","env":{"LOG":"debug"}}}`,
			}},
		{"null removes", "deployments:\n- name: etl/daily\n  schedules: null\n  work_pool: {job_variables: {env: {LOG: null}}}\n",
			map[string]string{"0:schedules": "<missing>", "0:work_pool.job_variables.env": `{}`, "2:work_pool.name": `"hourly-pool"`}},
		{"a unique name selects without its flow", "deployments:\n- name: hourly\n  parameters: {n: 24}\n",
			map[string]string{"2:parameters": `{"n":24,"mode":"fast"}`}},
		{"the mapping form renames and removes", "deployments:\n  report/daily: {name: daily-report}\n  hourly: null\n",
			map[string]string{"1:name": `"daily-report"`, "count": "2"}},
		{"anchors within the overlay", "definitions:\n  prod: &prod {name: prod-pool}\ndeployments:\n  etl/daily: {work_pool: *prod}\n  report/daily: {work_pool: *prod}\n",
			map[string]string{"0:work_pool.name": `"prod-pool"`, "1:work_pool.name": `"prod-pool"`, "0:work_pool.job_variables.image": `"shop:dev"`}},
		{"an empty overlay changes nothing", "# nothing differs in prod\n",
			map[string]string{"0:work_pool.name": `"dev-pool"`, "count": "3"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := loadEnv(t, overlayBase, tc.overlay)
			if err != nil {
				t.Fatal(problems(err))
			}
			for k, want := range tc.want {
				var got string
				switch {
				case k == "count":
					got = py.Str(int64(len(p.Deployments)))
				case strings.HasPrefix(k, "top:"):
					v, _ := p.File.Raw.(*py.Map).Get(strings.TrimPrefix(k, "top:"))
					b, _ := py.EncodeJSON(v)
					got = string(b)
				default:
					i := int(k[0] - '0')
					got = field(t, p, i, k[2:])
				}
				if got != want {
					t.Errorf("%s = %s, want %s", k, got, want)
				}
			}
		})
	}
}

// TestOverlayPositions: every problem names the file and line that set
// the value at fault.
func TestOverlayPositions(t *testing.T) {
	for _, tc := range []struct {
		name, base, overlay string
		want                string // problems, one per line: "file:line:col: path: message | hint"
	}{
		{"a bad value from the overlay", overlayBase, "deployments:\n- name: hourly\n  work_pool: {name: 7}\n",
			`prefect.prod.yaml:3:21: deployments[2].work_pool.name: expected a string, got int 7 | quote it: name: "7"`},
		{"a bad value left in the base", strings.Replace(overlayBase, "tags: [dev]", "tags: 5", 1), "name: x\n",
			`prefect.yaml:15:9: deployments[0].tags: tags must be a list or a string, got int | write tags: [a, b]`},
		{"after a removed deployment, lines still match", overlayBase + "- name: broken\n  entrypoint: flows/etl.py:etl\n  paused: maybe\n",
			"deployments:\n  report/daily: null\n",
			`prefect.yaml:29:11: deployments[2].paused: expected a boolean, got str 'maybe' | use true or false`},
		{"an overlay naming no deployment", overlayBase, "deployments:\n- name: weekly\n  tags: [x]\n",
			`prefect.prod.yaml:2:3: deployments[0]: "weekly" names no deployment in prefect.yaml | deployments in prefect.yaml: etl/daily, report/daily, etl/hourly; an overlay changes the deployments of prefect.yaml; add new ones there`},
		{"a name two flows share", overlayBase, "deployments:\n- name: daily\n  tags: [x]\n",
			`prefect.prod.yaml:2:3: deployments[0]: "daily" names 2 deployments in prefect.yaml | name one of them as flow/name: etl/daily, report/daily`},
		{"a deployment changed twice", overlayBase, "deployments:\n- name: hourly\n  tags: [a]\n- name: etl/hourly\n  tags: [b]\n",
			`prefect.prod.yaml:4:3: deployments[1]: etl/hourly is changed twice in this overlay | merge the two entries into one (the other is at line 2)`},
		{"an entry without a name", overlayBase, "deployments:\n- tags: [a]\n",
			`prefect.prod.yaml:2:3: deployments[0]: an overlay deployment needs the name of the deployment it changes | start the entry with the name of the deployment it changes (name: daily, or name: flow/daily); to rename a deployment, write deployments as a mapping: {daily: {name: new-name}}`},
		{"deployments of the wrong type", overlayBase, "deployments: 3\n",
			`prefect.prod.yaml:1:14: deployments: expected a list or a mapping of deployments, got int | write a list like prefect.yaml's (- name: daily ...) or a mapping of names to fields (daily: {...})`},
		{"an overlay that is not a mapping", overlayBase, "- a\n",
			`prefect.prod.yaml:1:1: the overlay's top level is a list, expected a mapping | an overlay is a mapping of the prefect.yaml keys it changes, e.g. deployments: [{name: daily, work_pool: {name: prod}}]`},
		{"YAML errors name the overlay", overlayBase, "name: [\n",
			`prefect.prod.yaml:1: invalid YAML: did not find expected node content | fix the YAML syntax; a YAML linter or your editor's YAML support shows the exact spot`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := loadEnv(t, tc.base, tc.overlay)
			if got := problems(err); got != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

// TestOverlayWarningsNameTheOverlay: an unknown key the overlay adds is
// reported in the overlay.
func TestOverlayWarningsNameTheOverlay(t *testing.T) {
	p, err := loadEnv(t, overlayBase, "deployments:\n- name: hourly\n  work_pool: {job_variable: {image: x}}\n")
	if err != nil {
		t.Fatal(problems(err))
	}
	if len(p.Warnings) != 1 || p.Warnings[0].Location() != "prefect.prod.yaml:3:15" {
		t.Fatalf("warnings: %v", p.Warnings)
	}
	if p.Env != "prod" || p.EnvFile != "prefect.prod.yaml" {
		t.Errorf("Env %q, EnvFile %q", p.Env, p.EnvFile)
	}
}

// TestOverlayFiles: where the overlay is looked for, and what is said when
// it is missing.
func TestOverlayFiles(t *testing.T) {
	for _, tc := range [][2]string{
		{"prefect.yaml", "prefect.prod.yaml"}, {"deploy/ci.yml", "deploy/ci.prod.yml"}, {"", "prefect.prod.yaml"},
	} {
		if got := OverlayPath(tc[0], "prod"); got != tc[1] {
			t.Errorf("OverlayPath(%q) = %q, want %q", tc[0], got, tc[1])
		}
	}
	dir := t.TempDir()
	t.Chdir(dir)
	for _, f := range []string{"prefect.yaml", "prefect.dev.yaml", "prefect.staging.yaml"} {
		os.WriteFile(f, []byte(overlayBase), 0o644)
	}
	_, err := LoadWith("prefect.yaml", LoadOptions{Env: "prod"})
	want := `prefect.prod.yaml: environment "prod" has no overlay file | create prefect.prod.yaml with what differs in prod (an empty file if nothing does), or pass --env-file PATH; environments beside prefect.yaml: dev, staging`
	if got := problems(err); got != want || diag.KindOf(err) != diag.Usage {
		t.Errorf("got %s\nwant %s", got, want)
	}
	if _, err := LoadWith("prefect.yaml", LoadOptions{Env: "../x"}); err == nil || !strings.Contains(err.Error(), "invalid environment name") {
		t.Errorf("a path as environment name: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "ci.yaml"), []byte("name: from-ci\n"), 0o644)
	p, err := LoadWith("prefect.yaml", LoadOptions{EnvFile: "ci.yaml"})
	if err != nil || p.Name != "from-ci" || p.EnvFile != "ci.yaml" {
		t.Errorf("--env-file: %v %+v", err, p)
	}
}

// TestNoOverlayKeepsTheFile: without an environment and without values, the
// document is exactly what Parse reads.
func TestNoOverlayKeepsTheFile(t *testing.T) {
	p, err := loadEnv(t, overlayBase, "")
	if err != nil {
		t.Fatal(err)
	}
	f, _ := Parse("prefect.yaml", []byte(overlayBase))
	plain, _ := validate(f)
	if !py.Equal(p.File.Raw, plain.File.Raw) || len(p.Warnings) != len(plain.Warnings) {
		t.Error("loading without an environment changed the document")
	}
	for i := range p.Deployments {
		if !py.Equal(p.Deployments[i].Config, plain.Deployments[i].Config) {
			t.Errorf("deployment %d differs", i)
		}
	}
}

const valuesBase = `prefectctl:
  values:
    pool: dev-pool
    replicas: 1
    image: {name: shop, tag: dev}
deployments:
- name: etl
  entrypoint: flows/etl.py:etl
  concurrency_limit: (( values.replicas ))
  tags: ["(( values.image.tag ))", "{{ $USER }}"]
  parameters: {image: (( values.image )), ref: "(( values.image.name )):(( values.image.tag ))"}
  work_pool: {name: (( values.pool )), job_variables: {replicas: "x(( values.replicas ))"}}
`

// TestValues: placeholders take the value's type when they are the whole
// string, its str() within text, and Prefect's own {{ }} stay for Prefect.
func TestValues(t *testing.T) {
	for _, tc := range []struct {
		name, overlay string
		want          map[string]string
	}{
		{"the file's own values", "", map[string]string{
			"concurrency_limit": "1", "tags": `["dev","{{ $USER }}"]`, "parameters": `{"image":{"name":"shop","tag":"dev"},"ref":"shop:dev"}`,
			"work_pool": `{"name":"dev-pool","job_variables":{"replicas":"x1"}}`,
		}},
		{"the overlay's values win", "prefectctl: {values: {pool: prod-pool, replicas: 3, image: {tag: v1.2.0}}}\n", map[string]string{
			"concurrency_limit": "3", "tags": `["v1.2.0","{{ $USER }}"]`, "parameters": `{"image":{"name":"shop","tag":"v1.2.0"},"ref":"shop:v1.2.0"}`,
			"work_pool": `{"name":"prod-pool","job_variables":{"replicas":"x3"}}`,
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := loadEnv(t, valuesBase, tc.overlay)
			if err != nil {
				t.Fatal(problems(err))
			}
			for k, want := range tc.want {
				if got := field(t, p, 0, k); got != want {
					t.Errorf("%s = %s, want %s", k, got, want)
				}
			}
		})
	}
}

func TestValuesProblems(t *testing.T) {
	for _, tc := range []struct {
		name, base, overlay, want string
	}{
		{"an unknown value", valuesBase, "deployments:\n- name: etl\n  description: (( values.team ))\n",
			`prefect.prod.yaml:3:16: deployments[0].description: (( values.team )): there is no value "team" | values defined: image.name, image.tag, pool, replicas; define it under prefectctl: {values: {...}} in prefect.yaml or in the environment's overlay (prefect.ENV.yaml)`},
		{"a value of the wrong type is reported where it is set", valuesBase, "prefectctl: {values: {pool: 12}}\n",
			`prefect.prod.yaml:1:29: deployments[0].work_pool.name: expected a string, got int 12 | quote it: name: "12"`},
		{"a mapping inside text", strings.Replace(valuesBase, `"x(( values.replicas ))"`, `"x(( values.image ))"`, 1), "",
			`prefect.yaml:12:66: deployments[0].work_pool.job_variables.replicas: (( values.image )) is a dict and cannot be part of a text | use the placeholder alone as the whole value to insert a dict, or refer to one of its entries: (( values.image.KEY ))`},
		{"values referring to values", "prefectctl: {values: {a: x, b: (( values.a ))}}\n", "",
			`prefect.yaml:1:32: prefectctl.values.b: a value cannot hold a (( values.* )) placeholder | write the value itself; values cannot refer to other values`},
		{"values that are not a mapping", "prefectctl: {values: [a]}\n", "",
			`prefect.yaml:1:22: prefectctl.values: expected a mapping of values, got list | write values as a mapping: prefectctl: {values: {pool: my-pool}}`},
		{"no values at all", "deployments:\n- name: x\n  entrypoint: f.py:f\n  work_pool: {name: (( values.pool ))}\n", "",
			`prefect.yaml:4:21: deployments[0].work_pool.name: (( values.pool )): there is no value "pool" | no values are defined; define it under prefectctl: {values: {...}} in prefect.yaml or in the environment's overlay (prefect.ENV.yaml), and check that --env names the environment`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := loadEnv(t, tc.base, tc.overlay)
			if got := problems(err); got != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
	p, err := loadEnv(t, "deployments:\n- name: x\n  entrypoint: f.py:f\n  description: ((value.pool)) and (( i + 1 ))\n", "")
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Warnings) != 1 || !strings.Contains(p.Warnings[0].Error(), "prefect.yaml:4:16: deployments[0].description: ((value.pool)) is left as written") ||
		p.Warnings[0].Hint != "did you mean ((values.pool))?" {
		t.Errorf("warnings: %v", p.Warnings)
	}
}

// TestMergedYAML: the merged document reads back as the same values.
func TestMergedYAML(t *testing.T) {
	p, err := loadEnv(t, strings.Replace(valuesBase, "parameters: {", "parameters: {f: 3600.0, big: 1.0e+20, s: 1e20, when: 2024-01-02 03:04:05, utc: 2024-01-02T03:04:05Z, day: 2024-01-02, ", 1),
		"prefectctl: {values: {pool: prod-pool}}\n")
	if err != nil {
		t.Fatal(problems(err))
	}
	back, err := Parse("merged.yaml", []byte(p.YAML()))
	if err != nil {
		t.Fatalf("%v\n%s", err, p.YAML())
	}
	asJSON := func(v any) string { b, _ := py.EncodeJSON(jsonMode(py.Clone(v))); return string(b) }
	if asJSON(back.Raw) != asJSON(p.File.Raw) || !strings.Contains(asJSON(back.Raw), `"s":"1e20"`) {
		t.Errorf("the merged YAML reads back differently:\n%s", p.YAML())
	}
	if !strings.Contains(p.YAML(), "name: prod-pool") {
		t.Errorf("merged:\n%s", p.YAML())
	}
}
