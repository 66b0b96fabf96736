package project

import (
	"errors"
	"strings"
	"testing"

	"github.com/prefectctl/prefectctl/internal/diag"
	"github.com/prefectctl/prefectctl/internal/py"
)

const threeConfigs = `
deployments:
- name: test-name-1
  entrypoint: ./flows/hello.py:my_flow
  work_pool: {name: pool}
- name: test-name-2
  entrypoint: ./flows/hello.py:my_flow
  work_pool: {name: pool}
- name: dont-deploy-me
  entrypoint: ./flows/hello.py:my_flow
  work_pool: {name: pool}
`

func mustProject(t *testing.T, doc string) *Project {
	t.Helper()
	f, err := Parse("prefect.yaml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	p, err := validate(f)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func names(sel *Selection) string {
	var out []string
	for _, it := range sel.Items {
		out = append(out, it.Label())
	}
	return strings.Join(out, ",")
}

// The cases of Prefect's TestDeployPattern and TestMultiDeploy.
func TestSelectPatterns(t *testing.T) {
	p := mustProject(t, threeConfigs)
	for _, pats := range [][]string{
		{"my-flow/test-name-*"}, {"*-name-*"}, {"*/t*"}, {"my-flow/t*"},
		{"my-f*/test-name-1", "my-f*/test-name-2"},
		{"test-name-1", "test-name-2"},
		{"my-flow/test-name-1", "my_flow/test-name-2"},
	} {
		sel, err := p.Select(SelectOptions{Names: pats})
		if err != nil {
			t.Fatalf("%v: %v", pats, err)
		}
		if got := names(sel); got != "test-name-1,test-name-2" {
			t.Errorf("%v selected %s", pats, got)
		}
		if sel.Single {
			t.Errorf("%v: two deployments is a multi deploy", pats)
		}
	}
}

func TestSelectErrorsAndWarnings(t *testing.T) {
	p := mustProject(t, threeConfigs)
	if _, err := p.Select(SelectOptions{}); err == nil || !strings.Contains(err.Error(), "no name was given") {
		t.Errorf("no name with 3 configs: %v", err)
	}
	var de *diag.Error
	_, err := p.Select(SelectOptions{All: true, Names: []string{"x"}})
	if !errors.As(err, &de) || de.Kind != diag.Usage {
		t.Errorf("--all with -n: %v", err)
	}
	sel, err := p.Select(SelectOptions{Names: []string{"test-name-1", "nope"}})
	if err != nil {
		t.Fatal(err)
	}
	if names(sel) != "test-name-1" || len(sel.Warnings) != 1 || !strings.Contains(sel.Warnings[0].Msg, "could not be found") {
		t.Errorf("partial match: %s %v", names(sel), sel.Warnings)
	}
	if _, err := p.Select(SelectOptions{Names: []string{"nope"}}); err == nil {
		t.Error("no match and no entrypoint must be an error")
	}
	sel, err = p.Select(SelectOptions{All: true, Overrides: Overrides{Crons: []string{"0 4 * * *"}}})
	if err != nil || len(sel.Items) != 3 || len(sel.Warnings) != 1 || !strings.Contains(sel.Warnings[0].Msg, "will be ignored") {
		t.Errorf("--all with --cron: %v %v", err, sel.Warnings)
	}
	for _, it := range sel.Items {
		if s, _ := it.Config.Get("schedules"); s != nil {
			t.Errorf("options must be ignored in a multi deploy, got schedules %v", py.Repr(s))
		}
	}
}

func TestSelectSingleAppliesOverrides(t *testing.T) {
	p := mustProject(t, `
deployments:
- name: only
  entrypoint: flows/hello.py:hello
  parameters: {number: 1, message: hello}
  work_pool: {name: pool, job_variables: {keep: me}}
  schedules: [{cron: "0 9 * * *", timezone: America/Chicago}]
`)
	jv := py.MapOf("env", "prod", "resources", py.MapOf("limits", py.MapOf("cpu", int64(1))))
	params := py.MapOf("number", int64(2))
	sel, err := p.Select(SelectOptions{Names: []string{"renamed"}, Overrides: Overrides{
		JobVariables: jv, Params: params, Timezone: "Europe/Berlin", Crons: []string{"0 4 * * *"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	cfg := sel.Items[0].Config
	checks := map[string]string{
		"name":       "'renamed'",
		"parameters": "{'number': 2, 'message': 'hello'}",
		"work_pool":  "{'name': 'pool', 'job_variables': {'env': 'prod', 'resources': {'limits': {'cpu': 1}}}, 'work_queue_name': None}",
		"schedules":  "[{'cron': '0 9 * * *', 'timezone': 'Europe/Berlin'}, {'cron': '0 4 * * *', 'timezone': 'Europe/Berlin'}]",
	}
	for k, want := range checks {
		v, _ := cfg.Get(k)
		if got := py.Repr(v); got != want {
			t.Errorf("%s:\n got %s\nwant %s", k, got, want)
		}
	}
	if len(sel.Warnings) != 1 {
		t.Errorf("renaming the only deployment should warn, got %v", sel.Warnings)
	}
}

func TestIntervals(t *testing.T) {
	cases := map[any]float64{int64(600): 600, 600.5: 600.5, "PT10M": 600, "PT1H30M": 5400, "P1D": 86400, "1:30:00": 5400, "P1W": 604800, "1d": 86400, "1 day, 1:00:00": 90000}
	for in, want := range cases {
		got, err := IntervalSeconds(in)
		if err != nil || got != want {
			t.Errorf("%v: %v %v", in, got, err)
		}
	}
	for _, bad := range []any{"600", int64(0), int64(-5), "{{ x }}"} {
		if _, err := IntervalSeconds(bad); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}

func TestCron(t *testing.T) {
	for _, ok := range []string{"0 9 * * *", "*/5 * * * *", "0 0 1 JAN MON-FRI", "@daily", "0 0 L * *", "0 0 * * 5L", "0 0 * * 1#2", "0 9 * * * 30"} {
		if err := ValidateCron(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "* * *", "60 * * * *", "* 24 * * *", "0 9 * * MOON", "H * * * *", "R R * * *", "*/0 * * * *"} {
		if err := ValidateCron(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
