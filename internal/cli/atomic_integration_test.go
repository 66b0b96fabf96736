package cli

// deploy --atomic against the real Prefect servers (SQLite and
// PostgreSQL): a write failed by the fault proxy, the k-th for every k of
// the run; a real rejection by the server; and Ctrl-C in the middle of the
// writes. After each, a full read of the project's deployments (schedules
// and global concurrency limits included), its flows and every automation
// that acts on or is named for them equals the read taken before the run,
// but for the fields listed in atomicIgnored, which the server changes by
// itself.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prefectctl/prefectctl/internal/cloudapi"
	"github.com/prefectctl/prefectctl/internal/py"
	"github.com/prefectctl/prefectctl/internal/testenv/faultproxy"
)

// The deployments before the run: a has two schedules (one with a slug,
// one without), a concurrency limit, job variables and a trigger; b is a
// legacy-style deployment with a slug-less schedule.
const atomicV1 = `pull: []
deployments:
- name: a
  entrypoint: flows/f.py:f
  description: first
  version: "1"
  tags: [t1]
  parameters: {x: 1}
  concurrency_limit: 2
  work_pool: {name: POOL, job_variables: {env: {A: "1"}}}
  schedules:
  - cron: "0 1 * * *"
    slug: nightly
  - interval: 3600
    parameters: {x: 7}
  triggers:
  - match: {prefect.resource.id: "upstream.PFX"}
    expect: [upstream.done]
- name: b
  entrypoint: flows/f.py:f
  version: "1"
  tags: [t2]
  parameters: {x: 2}
  work_pool: {name: POOL}
  schedules:
  - interval: 600
`

// The run that fails: every field of a and b changes, c is new, d is new
// with a new flow. LAST is what d adds (a trigger the server rejects, for
// the real rejection).
const atomicV2 = `pull: []
deployments:
- name: a
  entrypoint: flows/f.py:f
  description: second
  version: "2"
  tags: [t1, more]
  parameters: {x: 10}
  concurrency_limit: 5
  work_pool: {name: POOL, job_variables: {env: {A: "2"}}}
  schedules:
  - cron: "0 2 * * *"
    slug: nightly
    active: false
  triggers:
  - name: renamed
    match: {prefect.resource.id: "upstream.PFX"}
    expect: [upstream.changed]
  - match: {prefect.resource.id: "other.PFX"}
    expect: [other.done]
- name: b
  entrypoint: flows/f.py:f
  version: "2"
  tags: []
  paused: true
  parameters: {x: 20}
  work_pool: {name: POOL}
  schedules:
  - cron: "*/5 * * * *"
    slug: five
- name: c
  entrypoint: flows/f.py:f
  concurrency_limit: 3
  work_pool: {name: POOL}
  schedules:
  - interval: 60
- name: d
  entrypoint: flows/g.py:g
  work_pool: {name: POOL}
LAST`

// atomicIgnored are the fields the comparison leaves out, each changed by
// the server itself, never by a restore:
//   - updated, updated_by (deployments, schedules, concurrency limits,
//     automations): written by the server on every write, the restore's own
//     included;
//   - status, last_polled: set by the server from worker polls;
//   - a schedule's id and created: a schedule the failed run replaced was
//     deleted by the server (an update without slugs recreates every
//     schedule), and no endpoint lets a client choose a schedule's id;
//     schedules are compared by what they hold;
//   - an automation's id and created: likewise for an automation the failed
//     run deleted (a deploy deletes the deployment's owned automations); the
//     restore recreates it, and the server gives its trigger a new id too
//     (the id sent with it is not kept).
var atomicIgnored = []string{"updated", "updated_by", "status", "last_polled"}

type atomicProject struct {
	t       *testing.T
	c       *cloudapi.Client
	api     string
	prefix  string
	pool    string
	userOwn string // a user's automation that runs deployment a
	// seen are the ids of every deployment of the project the test has
	// seen, on the server or in a deploy's report: only their concurrency
	// limits are the project's (other tests on the shared server leave
	// limits behind when they delete flows).
	seen map[string]bool
}

func newAtomicProject(t *testing.T, kind string) *atomicProject {
	t.Helper()
	api := serverAPI(t, kind)
	isolate(t)
	t.Setenv("NO_COLOR", "1")
	c, err := cloudapi.New(cloudapi.Options{BaseURL: api, MaxRetries: 5})
	if err != nil {
		t.Fatal(err)
	}
	ap := &atomicProject{t: t, c: c, api: api, prefix: uniquePrefix("atomic"), seen: map[string]bool{}}
	ap.pool = ap.prefix + "-pool"
	ctx := context.Background()
	if _, err := c.CreateWorkPool(ctx, py.MapOf("name", ap.pool, "type", "process")); err != nil {
		t.Fatal(err)
	}
	must(t, os.MkdirAll("flows", 0o755))
	for _, f := range []string{"f", "g"} {
		must(t, os.WriteFile(filepath.Join("flows", f+".py"), []byte(fmt.Sprintf("from prefect import flow\n\n\n@flow(name=%q)\ndef %s(x: int = 1):\n    return x\n", ap.prefix+"-"+f, f)), 0o644))
	}
	t.Cleanup(func() {
		ctx := context.Background()
		for _, f := range []string{"f", "g"} {
			if fl, err := c.ReadFlowByName(ctx, ap.prefix+"-"+f); err == nil {
				for _, d := range ap.deployments(ctx) {
					c.DeleteAutomationsOwnedBy(ctx, "prefect.deployment."+d.ID)
					c.DeleteDeployment(ctx, d.ID) // with its concurrency limit, which a flow's delete leaves
				}
				c.DeleteFlow(ctx, fl.ID)
			}
		}
		if ap.userOwn != "" {
			c.DeleteAutomation(ctx, ap.userOwn)
		}
		c.DeleteWorkPool(ctx, ap.pool)
	})
	t.Setenv("PREFECT_API_URL", api)
	ap.write(atomicV1, "")
	if code, out, errOut := run("deploy", "--all"); code != 0 {
		t.Fatalf("first deploy: %d\n%s\n%s", code, out, errOut)
	}
	// A user's automation that runs a: it is not owned by a, and no deploy
	// or rollback may touch it.
	a := ap.deployment(ctx, "a")
	// A schedule's max_scheduled_runs, set through the API (prefect.yaml
	// has no such key): an update's schedules would lose it.
	scheds, err := c.ReadDeploymentSchedules(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range scheds {
		if s.Slug == nil {
			if err := c.UpdateDeploymentSchedule(ctx, a.ID, s.ID, py.MapOf("max_scheduled_runs", int64(5))); err != nil {
				t.Fatal(err)
			}
		}
	}
	own, err := c.CreateAutomation(ctx, py.MapOf("name", ap.prefix+"-users-own", "description", "", "enabled", true, "tags", []any{},
		"trigger", py.MapOf("type", "event", "match", py.NewMap(), "match_related", py.NewMap(), "after", []any{}, "expect", []any{"x.y"},
			"for_each", []any{}, "posture", "Reactive", "threshold", int64(1), "within", 0.0),
		"actions", []any{py.MapOf("type", "run-deployment", "source", "selected", "deployment_id", a.ID, "parameters", nil, "job_variables", nil)},
		"actions_on_trigger", []any{}, "actions_on_resolve", []any{}))
	if err != nil {
		t.Fatal(err)
	}
	ap.userOwn = own.ID
	if st := ap.state(); !strings.Contains(st, `\"max_scheduled_runs\":5`) || !strings.Contains(st, `"limit":2`) || !strings.Contains(st, "a__automation_1") {
		t.Fatalf("the starting state lacks what the test restores:\n%s", st)
	}
	return ap
}

func (ap *atomicProject) write(yaml, last string) {
	r := strings.NewReplacer("POOL", ap.pool, "PFX", ap.prefix, "LAST", last)
	must(ap.t, os.WriteFile("prefect.yaml", []byte(r.Replace(yaml)), 0o644))
}

func (ap *atomicProject) deployments(ctx context.Context) []cloudapi.Deployment {
	list, err := ap.c.FilterDeployments(ctx, py.MapOf("flows", py.MapOf("name", py.MapOf("any_", []any{ap.prefix + "-f", ap.prefix + "-g"}))))
	if err != nil {
		ap.t.Fatal(err)
	}
	return list
}

func (ap *atomicProject) deployment(ctx context.Context, name string) *cloudapi.Deployment {
	d, err := ap.c.ReadDeploymentByName(ctx, ap.prefix+"-f", name)
	if err != nil {
		ap.t.Fatal(err)
	}
	return d
}

// state is a full read of what a deploy of the project can change, as
// canonical JSON lines, the ignored fields left out.
func (ap *atomicProject) state() string {
	t := ap.t
	ctx := context.Background()
	var lines []string
	ids := map[string]bool{}
	for _, d := range ap.deployments(ctx) {
		ids[d.ID] = true
		ap.seen[d.ID] = true
		var m *py.Map
		if _, err := ap.c.Do(ctx, "GET", "/deployments/"+d.ID, nil, nil, &m); err != nil {
			t.Fatal(err)
		}
		drop(m, atomicIgnored...)
		if gcl, ok := get(m, "global_concurrency_limit").(*py.Map); ok {
			drop(gcl, atomicIgnored...)
		}
		var scheds []string
		for _, s := range asList(get(m, "schedules")) {
			drop(s.(*py.Map), append([]string{"id", "created"}, atomicIgnored...)...)
			scheds = append(scheds, canon(t, s))
		}
		sort.Strings(scheds)
		m.Set("schedules", scheds)
		// The same schedules through their own endpoint (max_scheduled_runs
		// is only there).
		var own []*py.Map
		if _, err := ap.c.Do(ctx, "GET", "/deployments/"+d.ID+"/schedules", nil, nil, &own); err != nil {
			t.Fatal(err)
		}
		var ownScheds []string
		for _, s := range own {
			drop(s, append([]string{"id", "created"}, atomicIgnored...)...)
			ownScheds = append(ownScheds, canon(t, s))
		}
		sort.Strings(ownScheds)
		m.Set("schedules_endpoint", ownScheds)
		lines = append(lines, "deployment "+canon(t, m))
	}
	for _, f := range []string{"f", "g"} {
		var fl *py.Map
		if _, err := ap.c.Do(ctx, "GET", "/flows/name/"+ap.prefix+"-"+f, nil, nil, &fl); err == nil {
			lines = append(lines, "flow "+canon(t, fl))
		}
	}
	var autos []*py.Map
	if _, err := ap.c.Do(ctx, "POST", "/automations/filter", nil, py.NewMap(), &autos); err != nil {
		t.Fatal(err)
	}
	for _, a := range autos {
		related := strings.Contains(py.Str(get(a, "name")), ap.prefix) || strings.HasPrefix(py.Str(get(a, "name")), "a__") || strings.HasPrefix(py.Str(get(a, "name")), "renamed")
		for _, act := range asList(get(a, "actions")) {
			if ids[py.Str(get(act.(*py.Map), "deployment_id"))] {
				related = true
			}
		}
		if !related {
			continue
		}
		if get(a, "id") != ap.userOwn {
			drop(a, "id", "created")
			if tr, ok := get(a, "trigger").(*py.Map); ok {
				drop(tr, "id")
			}
		}
		drop(a, atomicIgnored...)
		lines = append(lines, "automation "+canon(t, a))
	}
	var gcls []*py.Map
	if _, err := ap.c.Do(ctx, "POST", "/v2/concurrency_limits/filter", nil, py.MapOf("limit", int64(200)), &gcls); err != nil {
		t.Fatal(err)
	}
	for _, g := range gcls {
		if id, ok := strings.CutPrefix(py.Str(get(g, "name")), "deployment:"); ok && !ids[id] && ap.seen[id] {
			// A limit of a deployment that no longer exists: left behind.
			lines = append(lines, "orphan concurrency limit "+canon(t, g))
		}
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

func drop(m *py.Map, keys ...string) {
	for _, k := range keys {
		m.Delete(k)
	}
}

func canon(t *testing.T, v any) string {
	b, err := py.EncodeJSON(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// isWriteRequest: a request that changes something (not a GET, not a
// filter or count query).
func isWriteRequest(r *http.Request) bool {
	p := strings.TrimSuffix(r.URL.Path, "/")
	return r.Method != http.MethodGet && !strings.HasSuffix(p, "/filter") && !strings.HasSuffix(p, "/count") && !strings.HasSuffix(p, "/paginate")
}

type atomicResult struct {
	OK          bool
	Deployments []struct{ Name, Action, Error, ID string }
	Rollback    *struct {
		Complete    bool
		Deployments []struct {
			Name, Action, Error, ID string
			Fields                  []string
		}
		Flows []struct{ Name, Action, Error, Reason string }
	}
}

// deploy runs deploy --all --atomic -o json through a proxy configured by
// cfg.
func (ap *atomicProject) deploy(cfg faultproxy.Config) (int, atomicResult, string) {
	ap.t.Helper()
	cfg.Lifetime = 10 * time.Minute
	p, err := faultproxy.Start(ap.api, cfg)
	if err != nil {
		ap.t.Fatal(err)
	}
	defer p.Close()
	ap.t.Setenv("PREFECT_API_URL", p.URL)
	code, out, errOut := run("deploy", "--all", "--atomic", "-o", "json")
	var r atomicResult
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		ap.t.Fatalf("deploy: %d, not JSON: %v\n%s\n%s", code, err, out, errOut)
	}
	for _, d := range r.Deployments {
		ap.seen[d.ID] = true
	}
	if r.Rollback != nil {
		for _, d := range r.Rollback.Deployments {
			ap.seen[d.ID] = true
		}
	}
	return code, r, out + "\n" + errOut
}

func (ap *atomicProject) checkRestored(what, before string, code int, r atomicResult, out string) {
	t := ap.t
	t.Helper()
	if code == 0 || r.OK || r.Rollback == nil || !r.Rollback.Complete {
		t.Fatalf("%s: exit %d, want a failure with a complete rollback:\n%s", what, code, out)
	}
	if after := ap.state(); after != before {
		t.Fatalf("%s: the server differs from before the run:\n%s\n\nbefore:\n%s\n\nafter:\n%s\n\noutput:\n%s", what, lineDiff(before, after), before, after, out)
	}
}

func lineDiff(a, b string) string {
	in := map[string]int{}
	for _, l := range strings.Split(a, "\n") {
		in[l]++
	}
	var out []string
	for _, l := range strings.Split(b, "\n") {
		if in[l] > 0 {
			in[l]--
			continue
		}
		out = append(out, "+ "+l)
	}
	for l, n := range in {
		for ; n > 0; n-- {
			out = append(out, "- "+l)
		}
	}
	sort.Strings(out)
	return strings.Join(out, "\n")
}

// The k-th write of the run fails (a 500 the client does not retry), for
// every k until the run has fewer writes than k; after each failure the
// server is as it was.
func TestAtomicKthWriteFails(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the real Prefect servers")
	}
	for _, kind := range []string{"sqlite", "postgres"} {
		t.Run(kind, func(t *testing.T) {
			ap := newAtomicProject(t, kind)
			ap.write(atomicV2, "")
			before := ap.state()
			for k := 1; ; k++ {
				var mu sync.Mutex
				writes := 0
				code, r, out := ap.deploy(faultproxy.Config{MaxFaults: 1, Rates: map[faultproxy.Kind]float64{faultproxy.Status500: 1},
					Match: func(req *http.Request) bool {
						if !isWriteRequest(req) {
							return false
						}
						mu.Lock()
						defer mu.Unlock()
						writes++
						return writes == k
					}})
				if code == 0 {
					if k < 9 { // a, its automations (delete, two creates), b, flow g, c, d

						t.Fatalf("the run succeeded with the %d-th write failed: it has fewer writes than expected\n%s", k, out)
					}
					t.Logf("%s: %d writes failed one at a time, each rolled back", kind, k-1)
					break
				}
				ap.checkRestored(fmt.Sprintf("write %d failed", k), before, code, r, out)
			}
		})
	}
}

// The server itself refuses the last deployment's trigger (a posture no
// client check knows); the deployments written before it are put back.
func TestAtomicServerRejection(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the real Prefect servers")
	}
	for _, kind := range []string{"sqlite", "postgres"} {
		t.Run(kind, func(t *testing.T) {
			ap := newAtomicProject(t, kind)
			ap.write(atomicV2, "  triggers:\n  - match: {prefect.resource.id: \"x\"}\n    expect: [x.done]\n    within: -5\n")
			before := ap.state()
			code, r, out := ap.deploy(faultproxy.Config{})
			ap.checkRestored("server rejection", before, code, r, out)
			if !strings.Contains(out, "422") {
				t.Fatalf("want the server's 422 reported:\n%s", out)
			}
			restored := map[string]string{}
			for _, d := range r.Rollback.Deployments {
				restored[d.Name] = d.Action
			}
			if restored[ap.prefix+"-f/a"] != "restored" || restored[ap.prefix+"-f/c"] != "deleted" {
				t.Fatalf("rollback report: %+v\n%s", r.Rollback, out)
			}
			// The same in text.
			ap.t.Setenv("PREFECT_API_URL", ap.api)
			code, text, errOut := run("deploy", "--all", "--atomic")
			for _, want := range []string{"Rollback (--atomic):", "Deployment '" + ap.prefix + "-f/a' restored (", "Deployment '" + ap.prefix + "-f/c' deleted (this deploy created it)",
				"Flow '" + ap.prefix + "-g' deleted", "was applied, then rolled back (--atomic)"} {
				if code != ExitFailure || !strings.Contains(text, want) {
					t.Fatalf("text output: exit %d, want %q:\n%s\n%s", code, want, text, errOut)
				}
			}
			if !strings.Contains(errOut, ap.prefix+"-f/a: rolling back (--atomic)") || !strings.Contains(errOut, ap.prefix+"-f/a: rolled back: restored") {
				t.Fatalf("no rollback progress on stderr:\n%s", errOut)
			}
			t.Logf("text output:\n%s", text)
			if after := ap.state(); after != before {
				t.Fatalf("the text run left the server changed:\n%s", lineDiff(before, after))
			}
			// Without --atomic the same run stops and leaves what it wrote.
			code, out2, errOut := run("deploy", "--all", "-o", "json")
			if code == 0 || strings.Contains(out2, "rollback") || ap.state() == before {
				t.Fatalf("without --atomic: %d\n%s\n%s", code, out2, errOut)
			}
		})
	}
}

// Ctrl-C (SIGINT to this process, which prefectctl's Main catches) as the
// k-th write is on its way, for a few k: the write may or may not be done
// by the server; either way the server ends as it was.
func TestAtomicInterrupt(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the real Prefect servers")
	}
	for _, kind := range []string{"sqlite", "postgres"} {
		t.Run(kind, func(t *testing.T) {
			ap := newAtomicProject(t, kind)
			ap.write(atomicV2, "")
			before := ap.state()
			for _, k := range []int{1, 2, 4, 6, 8} {
				var mu sync.Mutex
				writes := 0
				code, r, out := ap.deploy(faultproxy.Config{Match: func(req *http.Request) bool {
					if isWriteRequest(req) {
						mu.Lock()
						writes++
						if writes == k {
							syscall.Kill(os.Getpid(), syscall.SIGINT)
						}
						mu.Unlock()
					}
					return false
				}})
				if code != ExitInterrupted {
					t.Fatalf("interrupt at write %d: exit %d\n%s", k, code, out)
				}
				ap.checkRestored(fmt.Sprintf("interrupt at write %d", k), before, code, r, out)
				if len(r.Rollback.Deployments) == 0 {
					t.Fatalf("interrupt at write %d: the rollback has nothing recorded, though a write was sent:\n%s", k, out)
				}
			}
		})
	}
}

// A lost connection: from the k-th write on, the server does the work but
// its answer is lost, six times in a row (more than a write and its one retry; the client cannot
// know whether the write landed); then the connection comes back. The
// rollback finds out by reading, and the server ends as it was.
func TestAtomicLostConnection(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the real Prefect server")
	}
	ap := newAtomicProject(t, "sqlite")
	ap.write(atomicV2, "")
	t.Setenv("PREFECT_CLIENT_MAX_RETRIES", "1")
	before := ap.state()
	for _, k := range []int{1, 3, 5, 7} {
		var mu sync.Mutex
		writes := 0
		code, r, out := ap.deploy(faultproxy.Config{MaxFaults: 6, Rates: map[faultproxy.Kind]float64{faultproxy.DropAfter: 1},
			Match: func(req *http.Request) bool {
				if !isWriteRequest(req) {
					return false
				}
				mu.Lock()
				defer mu.Unlock()
				writes++
				return writes >= k
			}})
		if !strings.Contains(out, "EOF") && !strings.Contains(out, "connection") {
			t.Fatalf("write %d: the failure is not a lost connection:\n%s", k, out)
		}
		ap.checkRestored(fmt.Sprintf("answers lost from write %d", k), before, code, r, out)
	}
}

// When the server refuses the rollback's writes too, the report says
// which objects were not put back, and the error that stopped the deploy
// stays the one reported first, with its exit code.
func TestAtomicRollbackThatCannotFinish(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the real Prefect server")
	}
	ap := newAtomicProject(t, "sqlite")
	ap.write(atomicV2, "")
	var mu sync.Mutex
	order := map[string]int{} // each write's place among distinct writes
	failing := false
	code, r, out := ap.deploy(faultproxy.Config{MaxFaults: 1000, Rates: map[faultproxy.Kind]float64{faultproxy.Status500: 1},
		Match: func(req *http.Request) bool {
			if !isWriteRequest(req) {
				return false
			}
			mu.Lock()
			defer mu.Unlock()
			// The third write fails, and every write after it: the
			// rollback's too. A write the SQLite server turned away as busy
			// is sent again and keeps its place.
			key := req.Method + " " + req.URL.Path
			if _, ok := order[key]; !ok {
				order[key] = len(order) + 1
			}
			failing = failing || order[key] >= 3
			return failing
		}})
	if code != ExitFailure || r.Rollback == nil || r.Rollback.Complete {
		t.Fatalf("exit %d, want 1 and an incomplete rollback:\n%s", code, out)
	}
	failed := 0
	for _, d := range r.Rollback.Deployments {
		if d.Action == "failed" && strings.Contains(d.Error, "500") {
			failed++
		}
	}
	errOut := out[strings.LastIndex(out, "}")+1:]
	first := strings.Index(errOut, "Error:")
	if failed == 0 || first < 0 || !strings.Contains(errOut[first:], "500") || !strings.Contains(errOut, "--atomic could not put back") ||
		strings.Index(errOut, "--atomic could not put back") > strings.LastIndex(errOut, "Error: ") {
		t.Fatalf("want the failed restores reported and the original error kept:\n%s", out)
	}
}

func asList(x any) []any {
	l, _ := x.([]any)
	return l
}

// With several projects, a failure in the last project rolls back the
// projects applied before it too.
func TestAtomicSeveralProjects(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the real Prefect server")
	}
	api := serverAPI(t, "sqlite")
	isolate(t)
	t.Setenv("PREFECT_API_URL", api)
	t.Setenv("NO_COLOR", "1")
	ctx := context.Background()
	c, err := cloudapi.New(cloudapi.Options{BaseURL: api, MaxRetries: 5})
	if err != nil {
		t.Fatal(err)
	}
	prefix, pool := scratchPool(t, c, "atomicmono", "process")
	root, _ := os.Getwd()
	must(t, os.WriteFile(filepath.Join(root, ".gitignore"), nil, 0o644))
	write := func(name, extra string) {
		writeMonorepoProject(t, root, name, prefix, name, pool, "echo built", extra, "")
	}
	write("one", "")
	write("two", "")
	if code, out, errOut := run("deploy", "--all", "--recursive"); code != 0 {
		t.Fatalf("first deploy: %d\n%s\n%s", code, out, errOut)
	}
	read := func() string {
		var lines []string
		for _, name := range []string{"one", "two"} {
			d, err := c.ReadDeploymentByName(ctx, prefix+"-"+name, "daily")
			if err != nil {
				t.Fatal(err)
			}
			v, _ := py.DecodeJSON(d.Raw)
			m := v.(*py.Map)
			drop(m, atomicIgnored...)
			lines = append(lines, canon(t, m))
		}
		return strings.Join(lines, "\n")
	}
	before := read()
	// one changes (its tags), two gets a second deployment whose trigger the
	// server refuses.
	writeMonorepoProject(t, root, "one", prefix, "one", pool, "echo built", "", "deployments:\n  daily: {tags: [changed]}\n")
	write("two", "- name: weekly\n  entrypoint: flows/main.py:main\n  work_pool: {name: (( values.pool ))}\n  triggers:\n  - expect: [x.done]\n    within: -5\n")
	code, out, errOut := run("deploy", "--all", "--recursive", "--env", "prod", "--atomic", "-o", "json")
	var r struct {
		OK       bool
		Projects []struct {
			Name     string
			OK       bool
			Rollback *struct {
				Complete    bool
				Deployments []struct{ Name, Action string }
			}
		}
	}
	if code != ExitFailure || json.Unmarshal([]byte(out), &r) != nil || len(r.Projects) != 2 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	for _, p := range r.Projects {
		if p.OK || p.Rollback == nil || !p.Rollback.Complete || len(p.Rollback.Deployments) == 0 {
			t.Fatalf("project %s: %+v\n%s\n%s", p.Name, p, out, errOut)
		}
	}
	if after := read(); after != before {
		t.Fatalf("the projects were not put back:\n%s", lineDiff(before, after))
	}
	if _, err := c.ReadDeploymentByName(ctx, prefix+"-two", "weekly"); !errors.Is(err, cloudapi.ErrNotFound) {
		t.Fatalf("the created deployment is still there: %v", err)
	}
}
