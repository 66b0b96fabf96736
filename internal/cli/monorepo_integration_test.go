package cli

// A monorepo of three projects deployed in one run against the real
// Prefect server, with an environment overlay each: every project runs its
// build step in its own directory, its relative entrypoint and default
// pull step resolve there, and the run yields one JSON report. A project
// git ignores is never deployed; a flow/name two projects define stops the
// run before anything runs; a failing project stops the projects after it.

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prefectctl/prefectctl/internal/cloudapi"
	"github.com/prefectctl/prefectctl/internal/testenv"
)

type monorepoReport struct {
	OK       bool `json:"ok"`
	Projects []struct {
		Name        string `json:"name"`
		PrefectFile string `json:"prefect_file"`
		Env         string `json:"env"`
		OK          bool   `json:"ok"`
	} `json:"projects"`
	Deployments []struct {
		Project string `json:"project"`
		Name    string `json:"name"`
		Action  string `json:"action"`
		Error   string `json:"error"`
	} `json:"deployments"`
	Plan []struct {
		Project string `json:"project"`
		Name    string `json:"name"`
		Action  string `json:"action"`
	} `json:"plan"`
}

// writeMonorepoProject writes services/<name>: a flow named
// <prefix>-<flow>, a prefect.yaml whose build step leaves a file where it
// runs, and an overlay for prod.
func writeMonorepoProject(t *testing.T, root, name, prefix, flow, pool, build, extraDeployments, prodOverlay string) {
	t.Helper()
	dir := filepath.Join(root, "services", name)
	must(t, os.MkdirAll(filepath.Join(dir, "flows"), 0o755))
	must(t, os.WriteFile(filepath.Join(dir, "flows", "main.py"), []byte(fmt.Sprintf("from prefect import flow\n\n\n@flow(name=%q)\ndef main(n: int = 1):\n    return n\n", prefix+"-"+flow)), 0o644))
	must(t, os.WriteFile(filepath.Join(dir, "prefect.yaml"), []byte(fmt.Sprintf(`name: %s
build:
- prefect.deployments.steps.run_shell_script:
    script: %s
prefectctl:
  values: {tier: dev, pool: %s}
deployments:
- name: daily
  entrypoint: flows/main.py:main
  tags: ["(( values.tier ))", %s]
  work_pool: {name: (( values.pool ))}
%s`, name, build, pool, name, extraDeployments)), 0o644))
	must(t, os.WriteFile(filepath.Join(dir, "prefect.prod.yaml"), []byte("prefectctl: {values: {tier: prod}}\n"+prodOverlay), 0o644))
}

func TestMonorepoDeploysInOneRun(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the real Prefect server")
	}
	api := testenv.Prefect(t)
	isolate(t)
	t.Setenv("PREFECT_API_URL", api)
	ctx := context.Background()
	c, err := cloudapi.New(cloudapi.Options{BaseURL: api, MaxRetries: 5})
	if err != nil {
		t.Fatal(err)
	}
	prefix, pool := scratchPool(t, c, "mono", "process")

	root, _ := os.Getwd()
	if out, err := exec.Command("git", "init", "-q", root).CombinedOutput(); err != nil {
		t.Fatalf("git init: %v\n%s", err, out)
	}
	const mark = "touch built-here"
	writeMonorepoProject(t, root, "ingest", prefix, "ingest", pool, mark, "- name: hourly\n  entrypoint: flows/main.py:main\n  work_pool: {name: (( values.pool ))}\n", "")
	writeMonorepoProject(t, root, "ml", prefix, "ml", pool, mark, "", "")
	writeMonorepoProject(t, root, "report", prefix, "report", pool, mark, "", "deployments:\n  daily: {parameters: {n: 7}}\n")
	// A copy git ignores: were it deployed, it would clash with ingest.
	must(t, os.WriteFile(filepath.Join(root, ".gitignore"), []byte("/attic/\n"), 0o644))
	writeMonorepoProject(t, filepath.Join(root, "attic"), "ingest", prefix, "ingest", pool, mark, "", "")

	deploy := func(wantCode int, args ...string) (monorepoReport, string) {
		t.Helper()
		code, out, errOut := run(append([]string{"deploy", "--all", "--recursive", "--env", "prod", "-o", "json"}, args...)...)
		if code != wantCode {
			t.Fatalf("deploy %v: exit %d, want %d\n%s\n%s", args, code, wantCode, out, lastLines(errOut, 30))
		}
		var r monorepoReport
		if code != ExitUsage {
			if err := json.Unmarshal([]byte(out), &r); err != nil {
				t.Fatalf("not JSON: %v\n%s", err, out)
			}
		}
		return r, errOut
	}

	r, errOut := deploy(0)
	if !r.OK || len(r.Projects) != 3 || len(r.Deployments) != 4 {
		t.Fatalf("report: %+v", r)
	}
	got := map[string]string{}
	for _, d := range r.Deployments {
		got[d.Project+" "+d.Name] = d.Action
	}
	for _, want := range []string{"ingest " + prefix + "-ingest/daily", "ingest " + prefix + "-ingest/hourly", "ml " + prefix + "-ml/daily", "report " + prefix + "-report/daily"} {
		if got[want] != "created" {
			t.Errorf("%s: %q (all: %v)", want, got[want], got)
		}
	}
	// One progress view: each line names the project.
	if !strings.Contains(errOut, "services/report › "+prefix+"-report/daily: created") {
		t.Errorf("progress does not name the project:\n%s", errOut)
	}
	for _, name := range []string{"ingest", "ml", "report"} {
		dir := filepath.Join(root, "services", name)
		if _, err := os.Stat(filepath.Join(dir, "built-here")); err != nil {
			t.Errorf("the build step of %s did not run in its directory: %v", name, err)
		}
		real, _ := filepath.EvalSymlinks(dir)
		d, err := c.ReadDeploymentByName(ctx, prefix+"-"+name, "daily")
		if err != nil {
			t.Fatalf("%s/daily: %v", name, err)
		}
		raw := string(d.Raw)
		for _, want := range []string{
			`"tags":["prod","` + name + `"]`,
			`"pull_steps":[{"prefect.deployments.steps.set_working_directory":{"directory":"` + real + `"}}]`,
			`"entrypoint":"flows/main.py:main"`,
			`"work_pool_name":"` + pool + `"`,
		} {
			if !strings.Contains(strings.ReplaceAll(raw, " ", ""), want) {
				t.Errorf("%s/daily lacks %s:\n%s", name, want, raw)
			}
		}
	}
	for _, f := range []string{filepath.Join(root, "built-here"), filepath.Join(root, "attic", "services", "ingest", "built-here")} {
		if _, err := os.Stat(f); err == nil {
			t.Errorf("%s: a step ran outside its project or in an ignored one", f)
		}
	}
	if d, _ := c.ReadDeploymentByName(ctx, prefix+"-report", "daily"); !strings.Contains(string(d.Raw), `"parameters":{"n":7}`) {
		t.Errorf("the prod overlay's parameters are not on the server: %s", d.Raw)
	}

	// One plan: nothing to do.
	r, _ = deploy(0, "--plan")
	if len(r.Plan) != 4 {
		t.Fatalf("plan: %+v", r)
	}
	for _, it := range r.Plan {
		if it.Action != "unchanged" || it.Project == "" {
			t.Errorf("plan after deploy: %+v", it)
		}
	}

	// A work pool missing for the last project: no project's steps run.
	for _, name := range []string{"ingest", "ml", "report"} {
		must(t, os.Remove(filepath.Join(root, "services", name, "built-here")))
	}
	must(t, os.WriteFile(filepath.Join(root, "services", "report", "prefect.prod.yaml"), []byte("prefectctl: {values: {tier: prod, pool: "+prefix+"-missing}}\n"), 0o644))
	_, errOut = deploy(ExitUsage)
	if !strings.Contains(errOut, "services/report/prefect.yaml: "+prefix+"-report/daily.work_pool.name: work pool \""+prefix+"-missing\" does not exist") {
		t.Errorf("a missing work pool in the last project:\n%s", errOut)
	}
	for _, name := range []string{"ingest", "ml", "report"} {
		if _, err := os.Stat(filepath.Join(root, "services", name, "built-here")); err == nil {
			t.Errorf("%s ran its steps although a project's work pool is missing", name)
		}
	}
	must(t, os.WriteFile(filepath.Join(root, "services", "report", "prefect.prod.yaml"), []byte("prefectctl: {values: {tier: prod}}\ndeployments:\n  daily: {parameters: {n: 7}}\n"), 0o644))

	// A fourth project defining ingest's flow/name again: nothing runs.
	writeMonorepoProject(t, root, "zz-copy", prefix, "ingest", pool, mark, "- name: only-here\n  entrypoint: flows/main.py:main\n  work_pool: {name: (( values.pool ))}\n", "")
	_, errOut = deploy(ExitUsage)
	if !strings.Contains(errOut, "services/zz-copy/prefect.yaml:8:9: deployments[0].name: deployment "+prefix+"-ingest/daily is also defined in services/ingest/prefect.yaml:8 (project services/ingest)") {
		t.Errorf("duplicate flow/name:\n%s", errOut)
	}
	if _, err := os.Stat(filepath.Join(root, "services", "zz-copy", "built-here")); err == nil {
		t.Error("a step ran although the run was invalid")
	}
	if _, err := c.ReadDeploymentByName(ctx, prefix+"-ingest", "only-here"); err == nil {
		t.Error("a deployment was registered although the run was invalid")
	}
	must(t, os.RemoveAll(filepath.Join(root, "services", "zz-copy")))

	// ml's build fails: ingest (before it) is applied, report (after it) is
	// not, and the exit code says the work failed.
	writeMonorepoProject(t, root, "ml", prefix, "ml", pool, "sh -c 'exit 3'", "", "")
	must(t, os.WriteFile(filepath.Join(root, "services", "report", "prefect.prod.yaml"), []byte("prefectctl: {values: {tier: prod}}\ndeployments:\n  daily: {parameters: {n: 8}}\n"), 0o644))
	r, _ = deploy(ExitFailure)
	actions := map[string]string{}
	for _, d := range r.Deployments {
		actions[d.Name] = d.Action
	}
	if r.OK || actions[prefix+"-ingest/daily"] != "unchanged" || actions[prefix+"-ml/daily"] != "failed" || actions[prefix+"-report/daily"] != "not-applied" {
		t.Errorf("after a failing project: ok=%v %v", r.OK, actions)
	}
	if d, _ := c.ReadDeploymentByName(ctx, prefix+"-report", "daily"); !strings.Contains(string(d.Raw), `"parameters":{"n":7}`) {
		t.Errorf("a project after the failing one was changed: %s", d.Raw)
	}
}

// TestEnvironmentsAgainstPrefect: one project deployed for prod; the plan
// for prod then has nothing to do, the plan for dev shows exactly what the
// overlays change, and a deploy without --env is the file as written.
func TestEnvironmentsAgainstPrefect(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the real Prefect server")
	}
	sp := newServerProject(t, "pctl-env", "process")
	sp.write(fmt.Sprintf(`pull: []
prefectctl:
  values: {tier: dev, team: data}
deployments:
- name: d
  entrypoint: flows/f.py:f
  tags: [(( values.tier ))]
  description: owned by (( values.team )) ((values.tier))
  work_pool: {name: %s}
`, sp.pool))
	must(t, os.WriteFile(filepath.Join(sp.work, "prefect.prod.yaml"), []byte("prefectctl: {values: {tier: prod}}\ndeployments:\n  d: {parameters: {x: 5}}\n"), 0o644))
	must(t, os.WriteFile(filepath.Join(sp.work, "prefect.dev.yaml"), []byte("{}\n"), 0o644))
	code, out, errOut := run("deploy", "--all", "--env", "prod", "-o", "json")
	if code != 0 {
		t.Fatalf("deploy --env prod: %d\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(errOut, "Environment prod: prefect.prod.yaml merged over prefect.yaml") {
		t.Errorf("stderr does not name the environment:\n%s", errOut)
	}
	d, err := sp.c.ReadDeploymentByName(sp.ctx, sp.flow, "d")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sp.c.DeleteDeployment(context.Background(), d.ID) })
	raw := string(d.Raw)
	for _, want := range []string{`"tags":["prod"]`, `"parameters":{"x":5}`, `"description":"owned by data prod"`} {
		if !strings.Contains(raw, want) {
			t.Errorf("prod deployment lacks %s: %s", want, raw)
		}
	}
	plan := func(env string) []string {
		t.Helper()
		code, out, errOut := run("deploy", "--all", "--plan", "--env", env, "-o", "json")
		var p struct {
			Plan []struct {
				Action  string `json:"action"`
				Changes []struct {
					Field string `json:"field"`
				} `json:"changes"`
			} `json:"plan"`
		}
		if code != 0 || json.Unmarshal([]byte(out), &p) != nil || len(p.Plan) != 1 {
			t.Fatalf("plan --env %s: %d\n%s\n%s", env, code, out, errOut)
		}
		fields := []string{p.Plan[0].Action}
		for _, c := range p.Plan[0].Changes {
			fields = append(fields, c.Field)
		}
		return fields
	}
	if got := strings.Join(plan("prod"), " "); got != "unchanged" {
		t.Errorf("plan --env prod after deploying prod: %s", got)
	}
	if got := strings.Join(plan("dev"), " "); got != "update description parameters tags" {
		t.Errorf("plan --env dev: %s", got)
	}
}
