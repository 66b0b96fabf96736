package cli

// Registration at network speed, checked at the HTTP level against the
// real servers (SQLite and PostgreSQL): the requests of a deploy counted by
// a proxy in front of the server, not by the client; and the rule that
// decides when a deployment's owned automations are deleted, against the
// real automations API (it never says which resource owns an automation).

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prefectctl/prefectctl/internal/py"
	"github.com/prefectctl/prefectctl/internal/testenv"
	"github.com/prefectctl/prefectctl/internal/testenv/faultproxy"
)

// serverAPI is the API URL of the real server of that kind.
func serverAPI(t *testing.T, kind string) string {
	t.Helper()
	if kind == "postgres" {
		return testenv.PrefectPostgres(t)
	}
	return testenv.Prefect(t)
}

// countingProxy puts a proxy that logs every request between prefectctl
// and the server at api, and points PREFECT_API_URL at it.
func countingProxy(t *testing.T, api string) *faultproxy.Proxy {
	t.Helper()
	p, err := faultproxy.Start(api, faultproxy.Config{Lifetime: 20 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	t.Setenv("PREFECT_API_URL", p.URL)
	return p
}

// requestShapes counts requests by method and path, ids left out; an
// answer the client retried (503, a locked database) counts too.
func requestShapes(log []faultproxy.Entry) map[string]int {
	out := map[string]int{}
	for _, e := range log {
		path, _, _ := strings.Cut(e.Path, "?")
		parts := strings.Split(path, "/")
		for i, p := range parts {
			if len(p) == 36 && strings.Count(p, "-") == 4 || strings.HasPrefix(p, "prefect.deployment.") {
				parts[i] = "{id}"
			}
		}
		out[e.Method+" "+strings.Join(parts, "/")]++
	}
	return out
}

// taken keeps the requests the server took (answered 2xx): a request it
// turned away as busy is sent again and would count twice.
func taken(log []faultproxy.Entry) []faultproxy.Entry {
	var ok []faultproxy.Entry
	for _, e := range log {
		if e.Status >= 200 && e.Status <= 299 {
			ok = append(ok, e)
		}
	}
	return ok
}

// successShapes is requestShapes of the requests the server took.
func successShapes(log []faultproxy.Entry) map[string]int { return requestShapes(taken(log)) }

// succeeded is writes(log) the server took.
func succeeded(log []faultproxy.Entry) []string { return writes(taken(log)) }

// answered lists each request with the server's answer, for a failure
// message.
func answered(log []faultproxy.Entry) string {
	var b strings.Builder
	for _, e := range log {
		fmt.Fprintf(&b, "  %s %s -> %d\n", e.Method, e.Path, e.Status)
	}
	return b.String()
}

func writes(log []faultproxy.Entry) []string {
	var out []string
	for _, e := range log {
		if e.Method != http.MethodGet && !strings.HasSuffix(strings.SplitN(e.Path, "?", 2)[0], "/filter") {
			out = append(out, e.Method+" "+e.Path)
		}
	}
	return out
}

// A redeploy of 50 unchanged deployments costs the snapshot's reads and
// nothing else: a constant number of requests (at most 6, the same as for
// one deployment), none of them a write. A first deploy creates each flow
// once, and a change to one deployment sends one update.
func TestRegistrationRequestsAtTheHTTPLevel(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the real Prefect servers")
	}
	for _, kind := range []string{"sqlite", "postgres"} {
		t.Run(kind, func(t *testing.T) {
			api := serverAPI(t, kind)
			g := newGeneratedProject(t, api, "count", 10, 5)
			p := countingProxy(t, api)
			deploy := func(args ...string) (applyResult, []faultproxy.Entry) {
				t.Helper()
				code, out, errOut := run(append([]string{"deploy", "-o", "json"}, args...)...)
				if code != 0 {
					t.Fatalf("deploy %v: exit %d\n%s", args, code, lastLines(errOut, 20))
				}
				return parseApply(t, out), p.Log()
			}
			actions := func(r applyResult) map[string]int {
				out := map[string]int{}
				for _, d := range r.Deployments {
					out[d.Action]++
				}
				return out
			}

			r, log := deploy("--all")
			shapes := successShapes(log)
			t.Logf("first deploy of 50: %d requests %v", len(log), requestShapes(log))
			if a := actions(r); a["created"] != 50 {
				t.Fatalf("first deploy: %v", a)
			}
			if shapes["POST /flows/"] != 10 || shapes["POST /deployments/"] != 50 || shapes["DELETE /automations/owned-by/{id}"] != 0 {
				t.Errorf("first deploy: want each of the 10 flows created once, 50 deployments and no automation deleted: %v", shapes)
			}

			r, log = deploy("--all")
			t.Logf("nothing changed, 50 deployments: %d requests %v", len(log), requestShapes(log))
			if a := actions(r); a["unchanged"] != 50 {
				t.Fatalf("nothing-changed redeploy: %v", a)
			}
			// Counted as the server took them: a read it turned away as
			// busy (its own background services write too) is sent again.
			if len(taken(log)) > 6 || len(writes(log)) > 0 {
				t.Errorf("nothing-changed redeploy of 50: %d requests (want at most 6), writes %v\n%s", len(taken(log)), writes(log), answered(log))
			}
			_, one := deploy("-n", "f0/d0") // the flow function's name, as prefect.yaml knows it
			if len(taken(one)) != len(taken(log)) {
				t.Errorf("the requests do not stay constant: %d for 50 deployments, %d for one\n%s", len(taken(log)), len(taken(one)), answered(one))
			}

			// One deployment changes: one update, nothing else written.
			y, err := os.ReadFile("prefect.yaml")
			if err != nil {
				t.Fatal(err)
			}
			changed := strings.Replace(string(y), "description: deployment 3 of flow 0", "description: deployment 3 of flow 0, changed", 1)
			if changed == string(y) {
				t.Fatal("the generated project changed shape")
			}
			must(t, os.WriteFile("prefect.yaml", []byte(changed), 0o644))
			r, log = deploy("--all")
			if a := actions(r); a["updated"] != 1 || a["unchanged"] != 49 {
				t.Fatalf("one changed: %v", a)
			}
			// A write the SQLite server turned away as busy (503) did
			// nothing and is sent again: every attempt must be that one
			// PATCH, and one of them succeeded.
			w, done := writes(log), succeeded(log)
			if len(done) != 1 || !strings.HasPrefix(done[0], "PATCH /deployments/") {
				t.Errorf("one changed: writes that succeeded %v (all: %v), want one PATCH", done, w)
			}
			for _, x := range w {
				if len(done) == 1 && x != done[0] {
					t.Errorf("one changed: a write other than %s was sent: %v", done[0], w)
					break
				}
			}
			if got, _ := snapshot(context.Background(), t, g.c, g.prefix); len(got) != 50 {
				t.Errorf("%d deployments on the server, want 50", len(got))
			}
		})
	}
}

// The rule for owned automations, against the real server: a deploy
// deletes (and recreates from the triggers) the automations owned by a
// deployment when prefect.yaml declares triggers or the server holds
// automations that may be owned by it (they act on it, or carry the name
// prefect deploy gives them); otherwise it sends nothing. An automation a
// user made to run the deployment is a candidate but survives the delete,
// and the deploy reports the deployment unchanged.
func TestOwnedAutomationsAgainstTheServer(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the real Prefect server")
	}
	sp := newServerProject(t, "pctl-autos", "process")
	ctx, c := sp.ctx, sp.c
	p := countingProxy(t, testenv.Prefect(t))
	write := func(triggers string) {
		sp.write(fmt.Sprintf(`pull: []
deployments:
- name: d
  entrypoint: flows/f.py:f
  work_pool: {name: %s}
%s`, sp.pool, triggers))
	}
	const trigger = `  triggers:
  - match: {prefect.resource.id: "upstream.x"}
    expect: [upstream.x.done]
`
	type result struct {
		Action  string   `json:"action"`
		ID      string   `json:"id"`
		Changes []string `json:"changes"`
	}
	deploy := func(args ...string) (result, []faultproxy.Entry) {
		t.Helper()
		code, out, errOut := run(append([]string{"deploy", "--all", "-o", "json"}, args...)...)
		var r struct{ Deployments []result }
		if code != 0 || json.Unmarshal([]byte(out), &r) != nil || len(r.Deployments) != 1 {
			t.Fatalf("deploy %v: %d\n%s\n%s", args, code, out, lastLines(errOut, 20))
		}
		return r.Deployments[0], p.Log()
	}
	related := func(id string) []string {
		t.Helper()
		var list []*py.Map
		if _, err := c.Do(ctx, "GET", "/automations/related-to/prefect.deployment."+id, nil, nil, &list); err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, a := range list {
			names = append(names, py.Str(get(a, "name")))
		}
		sort.Strings(names)
		return names
	}
	// Deletes the server took: a delete answered 503 or "database is
	// locked" under load is retried and would count twice.
	deleted := func(log []faultproxy.Entry) int { return successShapes(log)["DELETE /automations/owned-by/{id}"] }

	write(trigger)
	r, log := deploy()
	id := r.ID
	t.Cleanup(func() {
		c.DeleteAutomationsOwnedBy(context.Background(), "prefect.deployment."+id)
		c.DeleteDeployment(context.Background(), id)
	})
	if r.Action != "created" || deleted(log) != 0 || strings.Join(related(id), ",") != "d__automation_1" {
		t.Fatalf("first deploy: %+v, %d deletes, automations %v", r, deleted(log), related(id))
	}
	// A user's own automation that runs the deployment (not owned by it).
	own, err := c.CreateAutomation(ctx, py.MapOf("name", "users-own", "description", "", "enabled", true, "tags", []any{},
		"trigger", py.MapOf("type", "event", "match", py.NewMap(), "match_related", py.NewMap(), "after", []any{}, "expect", []any{"x.y"},
			"for_each", []any{}, "posture", "Reactive", "threshold", int64(1), "within", 0.0),
		"actions", []any{py.MapOf("type", "run-deployment", "source", "selected", "deployment_id", id, "parameters", nil, "job_variables", nil)},
		"actions_on_trigger", []any{}, "actions_on_resolve", []any{}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Do(context.Background(), "DELETE", "/automations/"+own.ID, nil, nil, nil) })

	// Triggers declared: recreated, as prefect deploy does; the user's stays.
	r, log = deploy()
	if r.Action != "updated" || deleted(log) != 1 || strings.Join(related(id), ",") != "d__automation_1,users-own" {
		t.Fatalf("redeploy with triggers: %+v, %d deletes, automations %v\n%s", r, deleted(log), related(id), answered(log))
	}
	// Triggers removed: the owned automation goes, the user's stays, and
	// the deploy says which went.
	write("")
	r, log = deploy()
	if r.Action != "updated" || deleted(log) != 1 || strings.Join(related(id), ",") != "users-own" || strings.Join(r.Changes, ",") != "automations" {
		t.Fatalf("triggers removed: %+v, %d deletes, automations %v\n%s", r, deleted(log), related(id), answered(log))
	}
	// Nothing left to delete but the user's automation, which still looks
	// like a candidate: one delete that removes nothing, and the
	// deployment is unchanged.
	r, log = deploy()
	if r.Action != "unchanged" || deleted(log) != 1 || len(succeeded(log)) != 1 || strings.Join(related(id), ",") != "users-own" {
		t.Fatalf("only the user's automation: %+v, automations %v\n%s", r, related(id), answered(log))
	}
	// Without any candidate nothing is sent.
	if _, err := c.Do(ctx, "DELETE", "/automations/"+own.ID, nil, nil, nil); err != nil {
		t.Fatal(err)
	}
	r, log = deploy()
	if r.Action != "unchanged" || len(writes(log)) != 0 {
		t.Fatalf("no automations: %+v, writes %v", r, writes(log))
	}

	// The one case the rule cannot see: an owned automation edited to
	// neither act on its deployment nor keep its name. prefect deploy
	// deletes it on every deploy; prefectctl only with --force.
	write(trigger)
	deploy()
	var list []*py.Map
	if _, err := c.Do(ctx, "GET", "/automations/related-to/prefect.deployment."+id, nil, nil, &list); err != nil || len(list) != 1 {
		t.Fatalf("automations %v (%v)", list, err)
	}
	edited := py.Clone(list[0]).(*py.Map)
	for _, k := range []string{"id", "created", "updated"} {
		edited.Delete(k)
	}
	edited.Set("name", "renamed-by-hand")
	edited.Set("actions", []any{py.MapOf("type", "do-nothing")})
	if _, err := c.Do(ctx, "PUT", "/automations/"+py.Str(get(list[0], "id")), nil, edited, nil); err != nil {
		t.Fatal(err)
	}
	write("")
	if _, log = deploy(); deleted(log) != 0 {
		t.Fatalf("the edited automation was a candidate after all:\n%s", answered(log))
	}
	if _, log = deploy("--force"); deleted(log) != 1 {
		t.Fatalf("--force must delete owned automations as prefect deploy does:\n%s", answered(log))
	}
	var left []*py.Map
	if _, err := c.Do(ctx, "POST", "/automations/filter", nil, py.NewMap(), &left); err != nil {
		t.Fatal(err)
	}
	for _, a := range left {
		if get(a, "name") == "renamed-by-hand" {
			t.Fatal("--force left the owned automation")
		}
	}
}

// The pool's status in the snapshot says whether a worker polls it, so the
// "start a worker" hint costs no request; a worker's heartbeat makes the
// pool READY at once.
func TestWorkerHintFromThePoolStatus(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the real Prefect server")
	}
	sp := newServerProject(t, "pctl-worker", "process")
	p := countingProxy(t, testenv.Prefect(t))
	sp.write(fmt.Sprintf("pull: []\ndeployments:\n- name: d\n  entrypoint: flows/f.py:f\n  tags: [t1]\n  work_pool: {name: %s}\n", sp.pool))
	code, out, errOut := run("deploy", "--all")
	if code != 0 || !strings.Contains(errOut+out, "start a worker") {
		t.Fatalf("no worker: the hint is missing (%d)\n%s\n%s", code, out, errOut)
	}
	if n := requestShapes(p.Log())["POST /work_pools/{pool}/workers/filter"]; n != 0 {
		t.Errorf("%d workers filters", n)
	}
	t.Cleanup(func() {
		if d, err := sp.c.ReadDeploymentByName(context.Background(), sp.flow, "d"); err == nil {
			sp.c.DeleteDeployment(context.Background(), d.ID)
		}
	})
	if _, err := sp.c.Do(sp.ctx, "POST", "/work_pools/"+sp.pool+"/workers/heartbeat", nil, py.MapOf("name", "w1", "heartbeat_interval_seconds", int64(30)), nil); err != nil {
		t.Fatal(err)
	}
	sp.write(fmt.Sprintf("pull: []\ndeployments:\n- name: d\n  entrypoint: flows/f.py:f\n  tags: [t2]\n  work_pool: {name: %s}\n", sp.pool))
	code, out, errOut = run("deploy", "--all")
	if code != 0 || strings.Contains(errOut+out, "start a worker") || !strings.Contains(out, "updated") {
		t.Fatalf("a worker polls the pool: no hint expected (%d)\n%s\n%s", code, out, errOut)
	}
}
