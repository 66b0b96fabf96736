package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prefectctl/prefectctl/internal/cloudapi"
	"github.com/prefectctl/prefectctl/internal/cloudapi/apimock"
	"github.com/prefectctl/prefectctl/internal/py"
	"github.com/prefectctl/prefectctl/internal/testenv"
	"github.com/prefectctl/prefectctl/internal/testenv/cloudproxy"
)

const (
	tDepID  = "2c52f75a-6180-43db-9e60-48720da64b9b"
	tFlowID = "5d1f3a9e-1b2c-4d3e-8f40-5a6b7c8d9e0f"
	tRunID  = "e48a322e-d69d-422b-9d1c-439f61b18095"
)

var tDeployment = `{"id": "` + tDepID + `", "created": "2026-08-01T10:00:00Z", "updated": "2026-08-01T10:00:00Z",
 "name": "arthur", "version": "1", "description": "Say hello", "flow_id": "` + tFlowID + `", "paused": false,
 "schedules": [{"id": "9a0b1c2d-0000-4000-8000-000000000001", "schedule": {"cron": "0 9 * * *", "timezone": "UTC", "day_or": true}, "active": true},
               {"id": "9a0b1c2d-0000-4000-8000-000000000002", "schedule": {"interval": 600.0, "anchor_date": "2026-01-01T00:00:00Z"}, "active": false}],
 "job_variables": {"env": {"A": "1"}}, "parameters": {"name": "Arthur"}, "tags": ["demo"],
 "work_queue_name": "default", "work_pool_name": "local",
 "parameter_openapi_schema": {"type": "object", "properties": {"name": {"type": "string", "title": "name"}}},
 "pull_steps": [{"prefect.deployments.steps.set_working_directory": {"directory": "/srv/app"}}],
 "entrypoint": "flows/hello.py:hello", "enforce_parameter_schema": true}`

const tCreatePath = "deployments/" + tDepID + "/create_flow_run"

// depAPI is a fake Prefect API with one deployment, hello/arthur, whose
// run goes through states, one per read of the run, with a log line per
// state; with final "" it never ends. create answers create_flow_run (nil:
// the run is created).
func depAPI(t *testing.T, final string, create apimock.Responder) *apimock.Registry {
	reg := apimock.New(t)
	reg.CSRFOff()
	reg.Always(apimock.REST("GET", "deployments/name/hello/arthur"), apimock.Reply(200, tDeployment))
	reg.Always(apimock.REST("GET", "deployments/"+tDepID), apimock.Reply(200, tDeployment))
	reg.Always(apimock.PathPrefix("GET", "deployments/"), apimock.Reply(404, `{"detail": "Deployment not found"}`))
	reg.Always(apimock.REST("GET", "flows/"+tFlowID), apimock.Reply(200, `{"id": "`+tFlowID+`", "name": "hello"}`))
	reg.Always(apimock.REST("POST", "flows/filter"), apimock.Reply(200, `[{"id": "`+tFlowID+`", "name": "hello"}]`))
	reg.Always(apimock.REST("POST", "deployments/filter"), apimock.Reply(200, "["+tDeployment+"]"))
	reg.Always(apimock.REST("GET", "automations/related-to/prefect.deployment."+tDepID), apimock.Reply(200, `[{"id": "a1", "name": "notify", "enabled": true}]`))

	var mu sync.Mutex
	reads := 0
	states := []string{"SCHEDULED", "PENDING", "RUNNING", final}
	state := func(i int) string {
		typ := states[i]
		name := strings.ToUpper(typ[:1]) + strings.ToLower(typ[1:])
		msg := "null"
		if typ == "FAILED" {
			msg = `"Flow run encountered an exception: ValueError: kaboom"`
		}
		return fmt.Sprintf(`{"id": "00000000-0000-4000-8000-%012d", "type": %q, "name": %q, "message": %s, "timestamp": "2026-08-01T12:00:%02d.250000Z"}`, i, typ, name, msg, i*2)
	}
	runJSON := func(i int) string {
		return `{"id": "` + tRunID + `", "name": "bouncy-galago", "flow_id": "` + tFlowID + `", "parameters": {"name": "Arthur"},
			"job_variables": {}, "tags": ["demo"], "state": ` + state(i) + `}`
	}
	if create == nil {
		create = apimock.Reply(201, runJSON(0))
	}
	reg.Always(apimock.REST("POST", tCreatePath), create)
	reg.Always(apimock.REST("GET", "flow_runs/"+tRunID), func(*apimock.Request) (int, string) {
		mu.Lock()
		defer mu.Unlock()
		i := min(reads, len(states)-1)
		if final == "" { // never ends
			i = min(reads, 2)
		}
		reads++
		return 200, runJSON(i)
	})
	reg.Always(apimock.REST("GET", "flow_run_states/"), func(*apimock.Request) (int, string) {
		mu.Lock()
		defer mu.Unlock()
		var out []string
		for i := 0; i < min(reads, len(states)); i++ {
			if states[i] != "" {
				out = append(out, state(i))
			}
		}
		return 200, "[" + strings.Join(out, ",") + "]"
	})
	reg.Always(apimock.REST("POST", "logs/filter"), func(*apimock.Request) (int, string) {
		mu.Lock()
		defer mu.Unlock()
		var out []string
		msgs := []string{"Worker submitting flow run", "Running 1 deployment pull step(s)", "Hello, Arthur!\nand a second line", "Finished"}
		for i := 0; i < min(reads, len(msgs)); i++ {
			out = append(out, fmt.Sprintf(`{"id": "log-%d", "message": %q, "level": 20, "flow_run_id": %q, "timestamp": "2026-08-01T12:00:%02d.500000Z"}`, i, msgs[i], tRunID, i*2))
		}
		return 200, "[" + strings.Join(out, ",") + "]"
	})
	return reg
}

// depServe points the isolated environment at reg and returns its base
// URL (without /api).
func depServe(t *testing.T, reg *apimock.Registry) string {
	t.Helper()
	isolate(t)
	t.Setenv("PREFECT_API_URL", reg.URL())
	t.Setenv("PREFECT_CLIENT_MAX_RETRIES", "0")
	return strings.TrimSuffix(reg.URL(), "/api")
}

func TestDeploymentRunExitCodes(t *testing.T) {
	cases := []struct {
		name     string
		final    string            // the run's last state
		create   apimock.Responder // answers create_flow_run
		args     []string
		code     int
		stdout   []string // substrings, in order
		stderr   []string
		noCreate bool
	}{
		{name: "completed", final: "COMPLETED", args: []string{"hello/arthur", "--watch", "--watch-interval", "100ms"},
			code: 0, stdout: []string{
				"Created flow run 'bouncy-galago'.\n└── UUID: " + tRunID + "\n└── Parameters: {'name': 'Arthur'}\n└── Job Variables: {}\n└── Scheduled start time: ",
				"(now)\n└── URL: ",
				"/runs/flow-run/" + tRunID + "\n",
				"● 12:00:00.250 439f61b18095 prefect.flow-run.Scheduled * bouncy-galago\n",
				"▪         .500 439f61b18095 Worker submitting flow run\n",
				"●      :02.250 439f61b18095 prefect.flow-run.Pending * bouncy-galago\n",
				"▪         .500 439f61b18095 Hello, Arthur!\n" + strings.Repeat(" ", len("▪ .500 439f61b18095 ")-len("▪")+1) + "and a second line\n",
				"prefect.flow-run.Completed * bouncy-galago\n",
				"▪         .500 439f61b18095 Finished\n",
				"Flow run finished successfully in 'Completed'.\n"},
			stderr: []string{"Creating flow run for deployment 'hello/arthur'..."}},
		{name: "failed", final: "FAILED", args: []string{"hello/arthur", "--watch", "--watch-interval", "0.1"},
			code: ExitRunFailed, stdout: []string{"prefect.flow-run.Failed * bouncy-galago"},
			stderr: []string{"Error: Flow run finished in state 'Failed'.", "hint: the state message says: Flow run encountered an exception: ValueError: kaboom"}},
		{name: "crashed", final: "CRASHED", args: []string{"--id", tDepID, "--watch", "--watch-interval", "100ms"},
			code: ExitRunFailed, stderr: []string{"Error: Flow run finished in state 'Crashed'."}},
		{name: "timeout", args: []string{"hello/arthur", "--watch", "--watch-interval", "100ms", "--timeout", "0.5"},
			code: ExitTimeout, stderr: []string{"Error: Flow run with ID " + tRunID + " exceeded watch timeout of 500ms"}},
		{name: "unknown parameter", args: []string{"hello/arthur", "-p", "nmae=Ford"}, code: ExitUsage, noCreate: true,
			stderr: []string{"Error: The following parameters were specified but not found on the deployment: 'nmae'\nThe following parameters are available on the deployment: 'name'\n"}},
		{name: "missing deployment", args: []string{"hello/nobody"}, code: ExitFailure, noCreate: true,
			stderr: []string{"Error: Deployment 'hello/nobody' not found!", "hint: list deployments with 'prefectctl deployment ls'"}},
		{name: "422", create: apimock.Reply(422, `{"detail": "Error creating flow run: Validation failed for field 'cpu'. Failure reason: 'fast' is not of type 'number'"}`), args: []string{"hello/arthur", "--job-variable", "cpu=fast"}, code: ExitFailure,
			stderr: []string{"Error: Error creating flow run: Validation failed for field 'cpu'. Failure reason: 'fast' is not of type 'number'\n"}},
		{name: "idempotent", create: apimock.Reply(200, `{"id": "`+tRunID+`", "name": "bouncy-galago", "flow_id": "`+tFlowID+`", "parameters": {}, "state": {"type": "RUNNING", "name": "Running"}}`), args: []string{"hello/arthur", "--idempotency-key", "nightly-1"}, code: 0,
			stdout: []string{"Found flow run 'bouncy-galago' created earlier with idempotency key 'nightly-1'; no new run was created.\n└── UUID: " + tRunID}},
		{name: "bad param JSON", args: []string{"hello/arthur", "-p", `x={"a"`}, code: ExitUsage, noCreate: true,
			stderr: []string{"Failed to parse JSON for parameter 'x' with value\n\n\t{\"a\"\n\nJSON Error: Expecting ':' delimiter: line 1 column 5 (char 4)"}},
		{name: "both times", args: []string{"hello/arthur", "--start-in", "1m", "--start-at", "17:00"}, code: ExitUsage, noCreate: true,
			stderr: []string{"Only one of `--start-in` or `--start-at` can be set, not both."}},
		{name: "no target", args: nil, code: ExitUsage, noCreate: true,
			stderr: []string{"Must provide a deployed flow's name or id"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			reg := depAPI(t, c.final, c.create)
			depServe(t, reg)
			code, out, errOut := run(append([]string{"deployment", "run"}, c.args...)...)
			if code != c.code {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, c.code, out, errOut)
			}
			depInOrder(t, "stdout", out, c.stdout)
			depInOrder(t, "stderr", errOut, c.stderr)
			if c.noCreate && reg.Calls("POST", tCreatePath) > 0 {
				t.Errorf("a flow run was created")
			}
		})
	}
}

func depInOrder(t *testing.T, what, s string, parts []string) {
	t.Helper()
	rest := s
	for _, p := range parts {
		i := strings.Index(rest, p)
		if i < 0 {
			t.Errorf("%s lacks (in order) %q:\n%s", what, p, s)
			return
		}
		rest = rest[i+len(p):]
	}
}

func TestDeploymentRunJSONAndCloudURL(t *testing.T) {
	reg := depAPI(t, "COMPLETED", nil)
	base := depServe(t, reg)
	// A Cloud-shaped workspace URL gives a Cloud-shaped UI link.
	t.Setenv("PREFECT_CLOUD_API_URL", base+"/api")
	t.Setenv("PREFECT_API_URL", base+"/api/accounts/acc-1/workspaces/ws-2")
	t.Setenv("PREFECT_API_KEY", "pnu_secret")
	code, out, errOut := depRunWithStdin(`{"name": "Ford"}`, "deployment", "run", "hello/arthur", "--params", "-", "-p", "name=Zaphod",
		"--tag", "adhoc", "--flow-run-name", "hi-{name}", "--idempotency-key", "k-1", "--start-in", "5 minutes", "--watch", "--watch-interval", "100ms", "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	var got struct {
		Deployment string
		Created    bool
		FlowRun    struct{ ID, Name, URL string } `json:"flow_run"`
		FinalState struct{ Type, Name string }    `json:"final_state"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("stdout is not one JSON document: %v\n%s", err, out)
	}
	wantURL := base + "/account/acc-1/workspace/ws-2/runs/flow-run/" + tRunID
	if got.Deployment != "hello/arthur" || !got.Created || got.FlowRun.URL != wantURL || got.FinalState.Type != "COMPLETED" {
		t.Errorf("got %+v, want url %s", got, wantURL)
	}
	// Watch lines go to stderr so stdout stays JSON.
	depInOrder(t, "stderr", errOut, []string{"The following parameters were specified by `--param` and `--params`, the `--param` value will be used: {'name'}",
		"Hello, Arthur!"})
	m := reg.Last("POST", tCreatePath).JSON()
	for k, want := range map[string]string{"name": "'hi-Zaphod'", "parameters": "{'name': 'Zaphod'}", "tags": "['adhoc']", "idempotency_key": "'k-1'"} {
		if v, _ := m.Get(k); py.Repr(v) != want {
			t.Errorf("body %s = %s, want %s", k, py.Repr(v), want)
		}
	}
	st, _ := m.Get("state")
	sched, _ := st.(*py.Map).Get("state_details")
	ts, _ := sched.(*py.Map).Get("scheduled_time")
	when, err := time.Parse(time.RFC3339Nano, py.Str(ts))
	if d := time.Until(when); err != nil || d < 4*time.Minute || d > 5*time.Minute {
		t.Errorf("scheduled_time %v (%v)", ts, err)
	}
	if strings.Contains(out+errOut, "pnu_secret") {
		t.Error("API key printed")
	}
}

func depRunWithStdin(stdin string, args ...string) (int, string, string) {
	var out, errb strings.Builder
	code := Main(args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func TestDeploymentLsAndInspect(t *testing.T) {
	depServe(t, depAPI(t, "", nil))
	for _, c := range []struct {
		golden string
		args   []string
	}{
		{"ls.txt", []string{"deployment", "ls"}},
		{"ls.json", []string{"deployment", "ls", "-o", "json"}},
		{"inspect.yaml", []string{"deployment", "inspect", "hello/arthur"}},
		{"inspect.json", []string{"deployments", "inspect", "--id", tDepID, "-o", "json"}},
	} {
		code, out, errOut := run(c.args...)
		if code != 0 {
			t.Fatalf("%v: exit %d\n%s", c.args, code, errOut)
		}
		deploymentGolden(t, filepath.Join(deploymentTestDir, "testdata", "deployment", c.golden), out)
	}
	if code, _, errOut := run("deployment", "inspect", "hello/nobody"); code != ExitFailure || !strings.Contains(errOut, "Deployment 'hello/nobody' not found!") {
		t.Errorf("missing: %d %s", code, errOut)
	}
	if code, _, errOut := run("deployment", "inspect", "arthur"); code != ExitUsage || !strings.Contains(errOut, "Expected '<flow-name>/<deployment-name>'") {
		t.Errorf("bad name: %d %s", code, errOut)
	}
}

// deploymentTestDir is the package directory, read before any test
// changes the working directory.
var deploymentTestDir, _ = os.Getwd()

// deploymentGolden compares got with a golden file;
// PREFECTCTL_UPDATE_GOLDEN=1 rewrites it.
func deploymentGolden(t *testing.T, path, got string) {
	t.Helper()
	if os.Getenv("PREFECTCTL_UPDATE_GOLDEN") == "1" {
		os.MkdirAll(filepath.Dir(path), 0o755)
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (PREFECTCTL_UPDATE_GOLDEN=1 creates it)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs:\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// TestDeploymentRunWatchAgainstPrefect is the acceptance test: a real
// server, a real process worker, `prefectctl deploy` then `prefectctl
// deployment run hello/arthur --watch`.
func TestDeploymentRunWatchAgainstPrefect(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the real Prefect server and a worker")
	}
	api := testenv.Prefect(t)
	prefectCLI := testenv.PrefectCLI(t)
	isolate(t)
	t.Setenv("PREFECT_API_URL", api)
	work, _ := os.Getwd()
	ctx := context.Background()
	c, err := cloudapi.New(cloudapi.Options{BaseURL: api})
	if err != nil {
		t.Fatal(err)
	}
	pool := "pctl-run-" + strconv.FormatInt(time.Now().UnixNano(), 36) // other tests share the server

	// The worker creates its process pool; prefectctl deploy needs it first.
	// Cleanups run last-in first-out: the pool goes after the worker has
	// stopped, or the worker would create it again.
	t.Cleanup(func() { c.DeleteWorkPool(context.Background(), pool) })
	worker := depStartWorker(t, prefectCLI, api, pool)
	depWaitFor(t, 60*time.Second, worker, func() bool { _, err := c.ReadWorkPool(ctx, pool); return err == nil })

	os.MkdirAll(filepath.Join(work, "flows"), 0o755)
	depWriteFile(t, filepath.Join(work, "flows", "hello.py"), `from prefect import flow, get_run_logger


@flow(name="hello")
def hello(name: str = "world"):
    get_run_logger().info(f"Hello, {name}!")


@flow(name="pctl-run-boom")
def boom():
    raise ValueError("kaboom")
`)
	depWriteFile(t, filepath.Join(work, "prefect.yaml"), fmt.Sprintf(`name: run-test
pull:
- prefect.deployments.steps.set_working_directory:
    directory: %s
deployments:
- name: arthur
  entrypoint: flows/hello.py:hello
  parameters: {name: Arthur}
  work_pool: {name: %s}
- name: fail
  entrypoint: flows/hello.py:boom
  work_pool: {name: %s}
`, work, pool, pool))
	if code, out, errOut := run("deploy", "--all"); code != 0 {
		t.Fatalf("deploy: %d\n%s\n%s", code, out, errOut)
	}
	for _, name := range []string{"hello/arthur", "pctl-run-boom/fail"} {
		flow, dep, _ := strings.Cut(name, "/")
		if d, err := c.ReadDeploymentByName(ctx, flow, dep); err == nil {
			t.Cleanup(func() { c.DeleteDeployment(context.Background(), d.ID) })
		}
	}

	code, out, errOut := run("deployment", "inspect", "hello/arthur", "-o", "json")
	var doc struct {
		WorkPoolName string         `json:"work_pool_name"`
		Parameters   map[string]any `json:"parameters"`
		Automations  []any          `json:"automations"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &doc) != nil || doc.WorkPoolName != pool || doc.Parameters["name"] != "Arthur" || doc.Automations == nil {
		t.Fatalf("inspect: %d %+v\n%s\n%s", code, doc, out, errOut)
	}
	if code, out, _ := run("deployment", "ls", "hello", "pctl-run-boom"); code != 0 || !strings.Contains(out, "hello/arthur") || !strings.Contains(out, "pctl-run-boom/fail") {
		t.Fatalf("ls: %d\n%s", code, out)
	}

	// `deployment inspect -o json` prints what Prefect's prints; the fields
	// a polling worker changes are left out of the comparison.
	// Python starts slowly, so it runs while the rest of the test goes on.
	var pyDoc strings.Builder
	pyInspect := exec.Command(prefectCLI, "deployment", "inspect", "hello/arthur", "-o", "json")
	pyInspect.Env = append(os.Environ(), "COLUMNS=300")
	pyInspect.Stdout = &pyDoc
	if err := pyInspect.Start(); err != nil {
		t.Fatal(err)
	}
	_, ourDoc, _ := run("deployment", "inspect", "hello/arthur", "-o", "json")

	// Through Cloud-shaped URLs with a key, the run's link is the Cloud UI
	// form. It starts in an hour so the worker leaves it alone.
	proxy, err := cloudproxy.Start(api, "pnu_runkey", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	t.Setenv("PREFECT_CLOUD_API_URL", proxy.CloudAPIURL)
	t.Setenv("PREFECT_API_URL", proxy.WorkspaceURL(0))
	t.Setenv("PREFECT_API_KEY", "pnu_runkey")
	code, out, errOut = run("deployment", "run", "hello/arthur", "-p", "name=Trillian", "--start-in", "1 hour", "-o", "json")
	var cloudRun struct {
		FlowRun struct {
			ID, URL    string
			Parameters map[string]any
		} `json:"flow_run"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &cloudRun) != nil {
		t.Fatalf("run through the Cloud proxy: %d\n%s\n%s", code, out, errOut)
	}
	t.Cleanup(func() { c.Do(context.Background(), "DELETE", "flow_runs/"+cloudRun.FlowRun.ID, nil, nil, nil) })
	ws := cloudproxy.Default[0]
	wantURL := strings.TrimSuffix(proxy.CloudAPIURL, "/api") + "/account/" + ws.AccountID + "/workspace/" + ws.WorkspaceID + "/runs/flow-run/" + cloudRun.FlowRun.ID
	if cloudRun.FlowRun.URL != wantURL || cloudRun.FlowRun.Parameters["name"] != "Trillian" {
		t.Errorf("cloud run: %+v, want URL %s", cloudRun.FlowRun, wantURL)
	}
	if fr, err := c.ReadFlowRun(ctx, cloudRun.FlowRun.ID); err != nil || fr.State == nil || fr.State.Type != "SCHEDULED" {
		t.Errorf("the run on the server: %+v %v", fr, err)
	}
	t.Setenv("PREFECT_API_URL", api)
	os.Unsetenv("PREFECT_API_KEY")
	os.Unsetenv("PREFECT_CLOUD_API_URL")

	// Both runs at once: the worker runs them side by side.
	type result struct {
		code     int
		out, err string
	}
	var ok, failed result
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		ok.code, ok.out, ok.err = run("deployment", "run", "hello/arthur", "--watch", "--watch-interval", "500ms", "--timeout", "120s")
	}()
	go func() {
		defer wg.Done()
		failed.code, failed.out, failed.err = run("deployment", "run", "pctl-run-boom/fail", "--watch", "--watch-interval", "500ms", "--timeout", "120s")
	}()
	wg.Wait()
	if err := pyInspect.Wait(); err != nil {
		t.Errorf("prefect deployment inspect: %v", err)
	} else if a, b := depNormalizeDoc(t, ourDoc), depNormalizeDoc(t, pyDoc.String()); a != b {
		t.Errorf("inspect -o json differs\n--- prefectctl\n%s\n--- prefect\n%s", a, b)
	}
	if ok.code != 0 || !strings.Contains(ok.out, "Hello, Arthur!") || !strings.Contains(ok.out, "Flow run finished successfully in 'Completed'.") ||
		!strings.Contains(ok.out, "/runs/flow-run/") {
		t.Errorf("hello/arthur: exit %d\n%s\n%s\nworker:\n%s", ok.code, ok.out, ok.err, worker.log())
	}
	if strings.Count(ok.out, "Hello, Arthur!") != 1 {
		t.Errorf("log line shown %d times", strings.Count(ok.out, "Hello, Arthur!"))
	}
	if failed.code != ExitRunFailed || !strings.Contains(failed.err, "Flow run finished in state 'Failed'.") || !strings.Contains(failed.out, "ValueError: kaboom") {
		t.Errorf("fail: exit %d\n%s\n%s\nworker:\n%s", failed.code, failed.out, failed.err, worker.log())
	}
}

// depNormalizeDoc re-encodes a deployment document with the fields that
// change while a worker polls blanked, keeping the key order.
func depNormalizeDoc(t *testing.T, doc string) string {
	t.Helper()
	v, err := py.DecodeJSON([]byte(doc))
	m, ok := v.(*py.Map)
	if err != nil || !ok {
		t.Fatalf("not a JSON object: %v\n%s", err, doc)
	}
	for _, k := range []string{"updated", "last_polled", "status"} {
		if m.Has(k) {
			m.Set(k, "<volatile>")
		}
	}
	b, _ := py.EncodeJSON(m)
	return string(b)
}

func depWriteFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

type depWorker struct {
	cmd  *exec.Cmd
	path string
	done chan struct{}
}

func (w *depWorker) log() string {
	b, _ := os.ReadFile(w.path)
	return string(b)
}

func (w *depWorker) exited() bool {
	select {
	case <-w.done:
		return true
	default:
		return false
	}
}

// startWorker runs `prefect worker start` in its own process group and
// ends that group (the worker and any flow run it started) at cleanup.
func depStartWorker(t *testing.T, prefectCLI, api, pool string) *depWorker {
	t.Helper()
	logPath := filepath.Join(t.TempDir(), "worker.log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(prefectCLI, "worker", "start", "--pool", pool, "--type", "process")
	cmd.Env = append(os.Environ(), "PREFECT_API_URL="+api, "PREFECT_WORKER_QUERY_SECONDS=1", "PREFECT_WORKER_HEARTBEAT_SECONDS=5")
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w := &depWorker{cmd: cmd, path: logPath, done: make(chan struct{})}
	go func() { cmd.Wait(); logf.Close(); close(w.done) }()
	t.Cleanup(func() {
		pgid := cmd.Process.Pid
		syscall.Kill(-pgid, syscall.SIGTERM)
		select {
		case <-w.done:
		case <-time.After(10 * time.Second):
			syscall.Kill(-pgid, syscall.SIGKILL)
			<-w.done
		}
	})
	return w
}

func depWaitFor(t *testing.T, limit time.Duration, w *depWorker, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if w.exited() {
			t.Fatalf("the worker exited:\n%s", w.log())
		}
		if time.Now().After(deadline) {
			t.Fatalf("gave up after %v; worker:\n%s", limit, w.log())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestDeploymentRunOutputMatchesPrefect runs the real `prefect deployment
// run` and prefectctl against the same fake API and compares the summary.
func TestDeploymentRunOutputMatchesPrefect(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the Prefect venv")
	}
	prefectCLI := testenv.PrefectCLI(t)
	base := depServe(t, depAPI(t, "", nil))
	t.Setenv("TZ", "UTC")
	args := []string{"deployment", "run", "hello/arthur", "-p", "name=Ford", "--start-at", "2030-01-02 03:04:05"}
	cmd := exec.Command(prefectCLI, args...)
	cmd.Env = append(os.Environ(), "PREFECT_API_URL="+base+"/api", "COLUMNS=250")
	pyOut, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("prefect: %v\n%s", err, pyOut)
	}
	code, out, errOut := run(args...)
	if code != 0 {
		t.Fatalf("prefectctl: %d\n%s", code, errOut)
	}
	summary := func(s string) string {
		var keep []string
		for _, l := range strings.Split(s, "\n") {
			if strings.HasPrefix(l, "Created flow run") || strings.HasPrefix(l, "└── ") {
				keep = append(keep, strings.TrimRight(l, " "))
			}
		}
		return strings.Join(keep, "\n")
	}
	want, got := summary(string(pyOut)), summary(out)
	if want == "" || got != want {
		t.Errorf("summary differs\n--- prefectctl\n%s\n--- prefect\n%s", got, want)
	}
	if !strings.Contains(string(pyOut), "Creating flow run for deployment 'hello/arthur'...") || !strings.Contains(errOut, "Creating flow run for deployment 'hello/arthur'...") {
		t.Errorf("progress line:\n%s\n%s", pyOut, errOut)
	}
}
