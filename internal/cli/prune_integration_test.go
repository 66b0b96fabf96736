package cli

// --prune against the real Prefect server, with the real `prefect deploy`
// beside it: two projects share one flow on one server; a deployment the
// real prefect deploy created is never touched; a deployment prefectctl
// marked keeps its mark when the real prefect deploy updates it; a renamed
// deployment is planned, then (after a failed run that must not prune)
// paused, then deleted; each project of a multi-project run prunes only
// its own.

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
	"github.com/prefectctl/prefectctl/internal/deploy"
	"github.com/prefectctl/prefectctl/internal/py"
	"github.com/prefectctl/prefectctl/internal/testenv"
)

type pruneReport struct {
	OK          bool `json:"ok"`
	Deployments []struct {
		Name   string `json:"name"`
		Action string `json:"action"`
	} `json:"deployments"`
	Pruned []struct {
		Name   string `json:"name"`
		ID     string `json:"id"`
		Action string `json:"action"`
	} `json:"pruned"`
	Projects []struct {
		Name   string `json:"name"`
		Pruned []struct {
			Name   string `json:"name"`
			Action string `json:"action"`
		} `json:"pruned"`
	} `json:"projects"`
	Plan []struct {
		Project string `json:"project"`
		Name    string `json:"name"`
		Action  string `json:"action"`
		Reason  string `json:"reason"`
	} `json:"plan"`
}

// prunedState is a deployment as the server holds it.
type prunedState struct {
	mark   string
	paused bool
	tags   []string
}

// deploymentsOf reads every deployment of the flow, by name.
func deploymentsOf(t *testing.T, c *cloudapi.Client, flow string) map[string]prunedState {
	t.Helper()
	ds, err := c.FilterDeployments(context.Background(), py.MapOf("flows", py.MapOf("name", py.MapOf("any_", []any{flow})), "limit", int64(200)))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]prunedState{}
	for _, d := range ds {
		st := prunedState{paused: d.Paused, tags: d.Tags}
		if d.Labels != nil {
			st.mark, _ = get(d.Labels, deploy.MarkLabel).(string)
		}
		out[d.Name] = st
	}
	return out
}

// writePruneProject writes dir/prefect.yaml (project name, one deployment
// per entry of deployments, each a YAML mapping's body) and the flow.
func writePruneProject(t *testing.T, dir, name, flow, pool string, deployments ...string) {
	t.Helper()
	must(t, os.MkdirAll(filepath.Join(dir, "flows"), 0o755))
	must(t, os.WriteFile(filepath.Join(dir, "flows", "f.py"), []byte(fmt.Sprintf("from prefect import flow\n\n\n@flow(name=%q)\ndef f(n: int = 1):\n    return n\n", flow)), 0o644))
	var b strings.Builder
	fmt.Fprintf(&b, "name: %s\npull:\n- prefect.deployments.steps.set_working_directory:\n    directory: %s\ndeployments:\n", name, dir)
	for _, d := range deployments {
		fmt.Fprintf(&b, "- entrypoint: flows/f.py:f\n  work_pool: {name: %s}\n  %s\n", pool, strings.ReplaceAll(d, "\n", "\n  "))
	}
	must(t, os.WriteFile(filepath.Join(dir, "prefect.yaml"), []byte(b.String()), 0o644))
}

func TestPruneAgainstPrefect(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the real Prefect server")
	}
	api := testenv.Prefect(t)
	prefectCLI := testenv.PrefectCLI(t)
	home := isolate(t)
	t.Setenv("PREFECT_API_URL", api)
	c, err := cloudapi.New(cloudapi.Options{BaseURL: api, MaxRetries: 5})
	if err != nil {
		t.Fatal(err)
	}
	prefix, pool := scratchPool(t, c, "prune", "process")
	flow := prefix + "-flow" // both projects deploy this one flow
	root, _ := os.Getwd()
	dirA, dirB := filepath.Join(root, "a"), filepath.Join(root, "b")
	nameA, nameB := prefix+"-a", prefix+"-b"

	prefectDeploy := func(dir, name string) {
		t.Helper()
		cmd := exec.Command(prefectCLI, "--no-prompt", "deploy", "-n", name)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "PREFECT_API_URL="+api, "PREFECT_HOME="+home)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("prefect deploy -n %s: %v\n%s", name, err, out)
		}
	}
	pctl := func(dir string, wantCode int, args ...string) (pruneReport, string, string) {
		t.Helper()
		t.Chdir(dir)
		code, out, errOut := run(append([]string{"deploy"}, args...)...)
		if code != wantCode {
			t.Fatalf("deploy %v: exit %d, want %d\n%s\n%s", args, code, wantCode, out, lastLines(errOut, 30))
		}
		var r pruneReport
		if contains(args, "json") {
			if err := json.Unmarshal([]byte(out), &r); err != nil {
				t.Fatalf("not JSON: %v\n%s", err, out)
			}
		}
		return r, out, errOut
	}

	// Project a: "legacy" comes from the real prefect deploy (unmarked);
	// "keep" and "old" from prefectctl --prune (marked). Project b shares
	// the flow.
	writePruneProject(t, dirA, nameA, flow, pool, "name: keep", "name: old", "name: legacy")
	prefectDeploy(dirA, "legacy")
	_, _, errOut := pctl(dirA, 0, "--all", "--prune")
	if !strings.Contains(errOut, flow+"/legacy") || !strings.Contains(errOut, "will never be pruned") {
		t.Errorf("no warning that legacy cannot be marked:\n%s", errOut)
	}
	writePruneProject(t, dirB, nameB, flow, pool, "name: b1", "name: b2")
	pctl(dirB, 0, "--all", "--prune")
	got := deploymentsOf(t, c, flow)
	for name, mark := range map[string]string{"keep": nameA, "old": nameA, "legacy": "", "b1": nameB, "b2": nameB} {
		if got[name].mark != mark {
			t.Errorf("%s: mark %q, want %q (all: %+v)", name, got[name].mark, mark, got)
		}
	}

	// The real prefect deploy updates "old": the mark stays.
	writePruneProject(t, dirA, nameA, flow, pool, "name: keep", "name: old\ntags: [by-prefect]", "name: legacy")
	prefectDeploy(dirA, "old")
	if st := deploymentsOf(t, c, flow)["old"]; st.mark != nameA || len(st.tags) != 1 || st.tags[0] != "by-prefect" {
		t.Fatalf("after prefect deploy: %+v", st)
	}

	// Rename old to new and drop legacy from prefect.yaml: only old is a
	// candidate.
	writePruneProject(t, dirA, nameA, flow, pool, "name: keep", "name: new")
	_, out, _ := pctl(dirA, 0, "--all", "--prune", "--plan")
	if !strings.Contains(out, "- "+flow+"/old (removed from prefect.yaml)") || strings.Contains(out, "legacy") || strings.Contains(out, "/b1") || strings.Contains(out, "/b2") {
		t.Errorf("plan:\n%s", out)
	}
	r, _, _ := pctl(dirA, 0, "--all", "--prune", "--plan", "-o", "json")
	var removed []string
	for _, it := range r.Plan {
		if it.Action == "delete" {
			removed = append(removed, it.Name+" "+it.Reason)
		}
	}
	if len(removed) != 1 || removed[0] != flow+"/old removed from prefect.yaml" {
		t.Errorf("plan -o json: %+v", r.Plan)
	}
	// Without --prune nothing is planned for removal.
	if _, out, _ := pctl(dirA, 0, "--all", "--plan"); strings.Contains(out, "removed from prefect.yaml") {
		t.Errorf("plan without --prune:\n%s", out)
	}

	// A failing deployment: nothing is pruned.
	writePruneProject(t, dirA, nameA, flow, pool, "name: keep", "name: new",
		"name: broken\nbuild:\n- prefect.deployments.steps.run_shell_script:\n    script: 'false'")
	r, _, _ = pctl(dirA, ExitFailure, "--all", "--prune", "-o", "json")
	if r.OK || len(r.Pruned) != 1 || r.Pruned[0].Action != "skipped" {
		t.Errorf("prune after a failure: %+v", r)
	}
	if _, ok := deploymentsOf(t, c, flow)["old"]; !ok {
		t.Fatal("old was pruned although a deployment failed")
	}

	// --prune=pause pauses it; --prune then deletes it.
	writePruneProject(t, dirA, nameA, flow, pool, "name: keep", "name: new")
	r, _, _ = pctl(dirA, 0, "--all", "--prune=pause", "-o", "json")
	if !r.OK || len(r.Pruned) != 1 || r.Pruned[0].Name != flow+"/old" || r.Pruned[0].Action != "paused" {
		t.Errorf("--prune=pause: %+v", r)
	}
	if st, ok := deploymentsOf(t, c, flow)["old"]; !ok || !st.paused {
		t.Errorf("old after --prune=pause: %+v (exists %v)", st, ok)
	}
	r, _, _ = pctl(dirA, 0, "--all", "--prune", "-o", "json")
	if !r.OK || len(r.Pruned) != 1 || r.Pruned[0].Action != "deleted" {
		t.Errorf("--prune: %+v", r)
	}
	got = deploymentsOf(t, c, flow)
	for _, name := range []string{"keep", "new", "legacy", "b1", "b2"} {
		if _, ok := got[name]; !ok {
			t.Errorf("%s was removed (left: %+v)", name, got)
		}
	}
	if _, ok := got["old"]; ok {
		t.Errorf("old was not deleted")
	}

	// Both projects in one run: b no longer defines b2; each prunes its own.
	writePruneProject(t, dirB, nameB, flow, pool, "name: b1")
	r, _, _ = pctl(root, 0, "--all", "--prefect-file", "a/prefect.yaml", "--prefect-file", "b/prefect.yaml", "--prune", "-o", "json")
	pruned := map[string]string{}
	for _, p := range r.Projects {
		for _, it := range p.Pruned {
			pruned[p.Name] += it.Name + ":" + it.Action + " "
		}
	}
	if !r.OK || pruned[nameA] != "" || pruned[nameB] != flow+"/b2:deleted " {
		t.Errorf("two projects: %+v", r)
	}
	got = deploymentsOf(t, c, flow)
	if _, ok := got["b2"]; ok || len(got) != 4 {
		t.Errorf("after the two-project prune: %+v", got)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestPruneFlagErrors(t *testing.T) {
	isolate(t)
	must(t, os.WriteFile("prefect.yaml", []byte("deployments:\n- name: a\n  entrypoint: f.py:f\n"), 0o644))
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--all", "--prune=remove"}, `unknown --prune mode "remove"`},
		{[]string{"-n", "a", "--prune"}, "--prune needs --all"},
		{[]string{"--all", "--prune", "--dry-run"}, "--prune cannot be used with --dry-run"},
		{[]string{"--all", "--project="}, "--project needs a name"},
		{[]string{"--all", "--prune"}, "--prune needs the project's name, and prefect.yaml has none"},
	} {
		t.Setenv("PREFECT_API_URL", "http://127.0.0.1:9/api")
		code, _, errOut := run(append([]string{"deploy"}, tc.args...)...)
		if code != ExitUsage || !strings.Contains(errOut, tc.want) || !strings.Contains(errOut, "hint:") {
			t.Errorf("%v: exit %d\n%s", tc.args, code, errOut)
		}
	}
}
