package flowrun

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prefectctl/prefectctl/internal/cloudapi"
	"github.com/prefectctl/prefectctl/internal/cloudapi/apimock"
	"github.com/prefectctl/prefectctl/internal/diag"
	"github.com/prefectctl/prefectctl/internal/py"
)

// Fixtures of the fake API: one deployment, hello/arthur, its flow, and a
// run whose state advances on each read of the run.
const (
	helloDeploymentID = "0b5c4f3e-6f1a-4a8e-9d47-2a4f6f1f9a11"
	helloFlowID       = "9f1a2b3c-0000-4000-8000-000000000001"
	helloRunID        = "7d0f6a52-1111-4222-8333-444455556666"
	helloSchema       = `{"type": "object", "properties": {"name": {"type": "string"}, "count": {"type": "integer"}}}`
)

// helloAPI answers for hello/arthur (by name or id, with schema as its
// parameter schema) and its flow; other deployments are not found.
func helloAPI(t *testing.T, schema string) *apimock.Registry {
	reg := apimock.New(t)
	dep := apimock.Reply(200, `{"id": "`+helloDeploymentID+`", "name": "arthur", "flow_id": "`+helloFlowID+`", "parameters": {"name": "Arthur"},
		"parameter_openapi_schema": `+schema+`, "tags": ["t1"], "work_pool_name": "pool"}`)
	reg.Always(apimock.REST("GET", "deployments/name/hello/arthur"), dep)
	reg.Always(apimock.REST("GET", "deployments/"+helloDeploymentID), dep)
	reg.Always(apimock.PathPrefix("GET", "deployments/"), apimock.Reply(404, `{"detail": "Deployment not found"}`))
	reg.Always(apimock.REST("GET", "flows/"+helloFlowID), apimock.Reply(200, `{"id": "`+helloFlowID+`", "name": "hello"}`))
	return reg
}

const createPath = "deployments/" + helloDeploymentID + "/create_flow_run"

// helloRun adds the run: created SCHEDULED when asked, then one state of states per
// read of the run, its state history so far, and on the n-th log request
// the logs written before second n.
func helloRun(reg *apimock.Registry, states []string, logs []cloudapi.Log) {
	var mu sync.Mutex
	reads, logCalls := 0, 0
	state := func(i int) *py.Map {
		typ := states[i]
		name := strings.ToUpper(typ[:1]) + strings.ToLower(typ[1:])
		msg := any(nil)
		if typ == "FAILED" {
			msg = "Flow run encountered an exception: ValueError: kaboom"
		}
		ts := time.Date(2026, 8, 1, 12, 0, i, 0, time.UTC).Format(time.RFC3339Nano)
		return py.MapOf("id", fmt.Sprintf("00000000-0000-4000-8000-%012d", i), "type", typ, "name", name, "timestamp", ts, "message", msg)
	}
	run := func(st *py.Map) apimock.Responder {
		return apimock.JSON(py.MapOf("id", helloRunID, "name", "bouncy-galago", "flow_id", helloFlowID,
			"parameters", py.MapOf("name", "Arthur"), "job_variables", py.NewMap(), "tags", []any{"t1"}, "state", st))
	}
	reg.Always(apimock.REST("POST", createPath), func(r *apimock.Request) (int, string) {
		_, body := run(state(0))(r)
		return 201, body
	})
	reg.Always(apimock.REST("GET", "flow_runs/"+helloRunID), func(r *apimock.Request) (int, string) {
		mu.Lock()
		i := min(reads, len(states)-1)
		reads++
		mu.Unlock()
		return run(state(i))(r)
	})
	reg.Always(apimock.REST("GET", "flow_run_states/"), func(r *apimock.Request) (int, string) {
		mu.Lock()
		defer mu.Unlock()
		out := []any{}
		for i := 0; i < min(reads, len(states)); i++ {
			out = append(out, state(i))
		}
		return apimock.JSON(out)(r)
	})
	reg.Always(apimock.REST("POST", "logs/filter"), func(*apimock.Request) (int, string) {
		mu.Lock()
		logCalls++
		n := logCalls
		mu.Unlock()
		visible := []cloudapi.Log{}
		for _, l := range logs {
			if l.Timestamp.Before(time.Date(2026, 8, 1, 12, 0, n, 0, time.UTC)) {
				visible = append(visible, l)
			}
		}
		b, _ := json.Marshal(visible)
		return 200, string(b)
	})
}

func TestPrepareRunAndCreate(t *testing.T) {
	reg := helloAPI(t, helloSchema)
	helloRun(reg, []string{"SCHEDULED"}, nil)
	c := reg.Client()
	now := time.Date(2026, 8, 1, 12, 0, 0, 123456000, time.UTC)
	p, err := Prepare(context.Background(), c, Target{Name: "hello/arthur"}, Inputs{
		Parameters: py.MapOf("count", int64(3)), Tags: []string{"adhoc"}, NameTemplate: "{name}-{count:02d}",
		JobVariables: py.MapOf("env", py.NewMap()), IdempotencyKey: "k1", Scheduled: now.Add(10 * time.Minute),
	})
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != "Arthur-03" || p.FullName() != "hello/arthur" {
		t.Fatalf("request %q %q", p.Name, p.FullName())
	}
	run, created, err := Create(context.Background(), c, p)
	if err != nil || !created || run.ID != helloRunID {
		t.Fatalf("create: %v %v %v", run, created, err)
	}
	got, _ := py.EncodeJSON(reg.Last("POST", createPath).JSON())
	golden := filepath.Join("testdata", "create_flow_run_body.json")
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(string(want)) != string(got) {
		t.Errorf("create_flow_run body\n got %s\nwant %s", got, want)
	}
}

func TestRunErrorPaths(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name     string
		schema   string
		create   apimock.Responder // answers create_flow_run; nil: no run may be created
		target   Target
		in       Inputs
		wantKind diag.Kind
		want     string
		noPost   bool
	}{
		{name: "unknown parameter", target: Target{Name: "hello/arthur"}, in: Inputs{Parameters: py.MapOf("nmae", "x", "zz", int64(1))},
			wantKind: diag.Usage, noPost: true,
			want: "The following parameters were specified but not found on the deployment: 'nmae', 'zz'\nThe following parameters are available on the deployment: 'name', 'count'"},
		{name: "no parameters accepted", schema: `{"type": "object", "properties": {}}`, target: Target{Name: "hello/arthur"}, in: Inputs{Parameters: py.MapOf("a", int64(1))},
			wantKind: diag.Usage, noPost: true,
			want: "The following parameters were specified but not found on the deployment: 'a'\nThis deployment does not accept parameters."},
		{name: "missing deployment", target: Target{Name: "hello/nobody"}, wantKind: diag.Runtime, noPost: true,
			want: "Deployment 'hello/nobody' not found!"},
		{name: "missing id", target: Target{ID: "11111111-2222-4333-8444-555555555555"}, wantKind: diag.Runtime, noPost: true,
			want: "Deployment '11111111-2222-4333-8444-555555555555' not found!"},
		{name: "bad id", target: Target{ID: "nope"}, wantKind: diag.Usage, noPost: true, want: "Invalid deployment ID: 'nope'"},
		{name: "name and id", target: Target{Name: "a/b", ID: helloDeploymentID}, wantKind: diag.Usage, noPost: true,
			want: "Only provide a deployed flow's name or id"},
		{name: "neither", target: Target{}, wantKind: diag.Usage, noPost: true, want: "Must provide a deployed flow's name or id"},
		{name: "bad name", target: Target{Name: "arthur"}, wantKind: diag.Usage, noPost: true,
			want: "Invalid deployment name. Expected '<flow-name>/<deployment-name>'"},
		{name: "run name key", target: Target{Name: "hello/arthur"}, in: Inputs{NameTemplate: "{who}"}, wantKind: diag.Usage, noPost: true,
			want: "Missing parameter for flow run name: 'who' is undefined"},
		{name: "run name syntax", target: Target{Name: "hello/arthur"}, in: Inputs{NameTemplate: "{name"}, wantKind: diag.Usage, noPost: true,
			want: "Failed to format flow run name: expected '}' before end of string"},
		{name: "422 with detail", target: Target{Name: "hello/arthur"}, in: Inputs{JobVariables: py.MapOf("cpu", "fast")}, wantKind: diag.Runtime,
			create: apimock.Reply(422, `{"detail": "Error creating flow run: Validation failed for field 'cpu'. Failure reason: 'fast' is not of type 'number'"}`),
			want:   "Error creating flow run: Validation failed for field 'cpu'. Failure reason: 'fast' is not of type 'number'"},
		{name: "409 parameters", target: Target{Name: "hello/arthur"}, in: Inputs{Parameters: py.MapOf("count", "x")}, wantKind: diag.Runtime,
			create: apimock.Reply(409, `{"detail": "Error creating flow run: Validation failed for field 'count'. Failure reason: 'x' is not of type 'integer'"}`),
			want:   "Error creating flow run: Validation failed for field 'count'. Failure reason: 'x' is not of type 'integer'"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			schema := c.schema
			if schema == "" {
				schema = helloSchema
			}
			reg := helloAPI(t, schema)
			if c.create != nil {
				reg.Register(apimock.REST("POST", createPath), c.create)
			}
			cl := reg.Client()
			p, err := Prepare(ctx, cl, c.target, c.in)
			if err == nil {
				_, _, err = Create(ctx, cl, p)
			}
			if err == nil {
				t.Fatal("no error")
			}
			if diag.KindOf(err) != c.wantKind {
				t.Errorf("kind %v, want %v", diag.KindOf(err), c.wantKind)
			}
			var d *diag.Error
			if !errors.As(err, &d) || d.Msg != c.want {
				t.Errorf("message\n got %q\nwant %q", err, c.want)
			}
			if d != nil && d.Hint == "" {
				t.Errorf("no hint")
			}
			if c.noPost && reg.Calls("POST", createPath) != 0 {
				t.Errorf("a flow run was created")
			}
		})
	}
}

func helloLogs() []cloudapi.Log {
	id := helloRunID
	var logs []cloudapi.Log
	at := []int{500, 1500, 2300, 2600, 3500} // ms after the first state
	for i, m := range []string{"Worker submitting", "Running 1 pull step", "Beginning flow run", "Hello, Arthur!", "Finished in state Completed()"} {
		logs = append(logs, cloudapi.Log{ID: "log-" + string(rune('a'+i)), Message: m, FlowRunID: &id,
			Timestamp: time.Date(2026, 8, 1, 12, 0, 0, 0, time.UTC).Add(time.Duration(at[i]) * time.Millisecond)})
	}
	return logs
}

func TestWatchOrdersStatesAndLogsOnce(t *testing.T) {
	reg := helloAPI(t, helloSchema)
	helloRun(reg, []string{"SCHEDULED", "PENDING", "RUNNING", "COMPLETED"}, helloLogs())
	c := reg.Client()
	var lines []string
	run, err := Watch(context.Background(), c, helloRunID, WatchOptions{
		Interval: 10 * time.Millisecond, LogGrace: 50 * time.Millisecond,
		OnState: func(_ *cloudapi.FlowRun, st cloudapi.State) { lines = append(lines, "state "+st.Name) },
		OnLog:   func(l cloudapi.Log) { lines = append(lines, "log "+l.Message) },
	})
	if err != nil || run.State.Type != "COMPLETED" {
		t.Fatalf("watch: %v %v", run, err)
	}
	want := []string{"state Scheduled", "log Worker submitting", "state Pending", "log Running 1 pull step",
		"state Running", "log Beginning flow run", "log Hello, Arthur!", "state Completed", "log Finished in state Completed()"}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
}

func TestWatchFailedRun(t *testing.T) {
	reg := helloAPI(t, helloSchema)
	helloRun(reg, []string{"SCHEDULED", "RUNNING", "FAILED"}, helloLogs()[:2])
	c := reg.Client()
	run, err := Watch(context.Background(), c, helloRunID, WatchOptions{Interval: 10 * time.Millisecond, LogGrace: 20 * time.Millisecond})
	if run == nil || run.State.Type != "FAILED" {
		t.Fatalf("run %v", run)
	}
	var d *diag.Error
	if !errors.As(err, &d) || d.Kind != diag.RunFailed || d.Msg != "Flow run finished in state 'Failed'." ||
		!strings.Contains(d.Hint, "ValueError: kaboom") {
		t.Fatalf("error %#v", err)
	}
}

func TestWatchTimeout(t *testing.T) {
	reg := helloAPI(t, helloSchema)
	helloRun(reg, []string{"SCHEDULED", "RUNNING"}, nil)
	c := reg.Client()
	start := time.Now()
	_, err := Watch(context.Background(), c, helloRunID, WatchOptions{Interval: 20 * time.Millisecond, Timeout: 150 * time.Millisecond})
	if diag.KindOf(err) != diag.Timeout || !strings.Contains(err.Error(), "exceeded watch timeout of 150ms") {
		t.Fatalf("error %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %v", d)
	}
	// Cancelling the caller's context is an interruption, not a timeout.
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	_, err = Watch(ctx, c, helloRunID, WatchOptions{Interval: 20 * time.Millisecond, Timeout: time.Hour})
	if err == nil || diag.KindOf(err) == diag.Timeout || !errors.Is(err, context.Canceled) {
		t.Fatalf("cancel: %v", err)
	}
}
