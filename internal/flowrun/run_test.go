package flowrun

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prefectctl/prefectctl/internal/cloudapi"
	"github.com/prefectctl/prefectctl/internal/diag"
	"github.com/prefectctl/prefectctl/internal/py"
)

// runFakeAPI is just enough of the Prefect API for deployment run: one
// deployment hello/arthur, its flow, a run whose states and logs advance
// on each poll.
type runFakeAPI struct {
	mu         sync.Mutex
	t          *testing.T
	schema     string // parameter_openapi_schema JSON
	createResp func() (int, string)
	states     []string // state types the run goes through, one per GET /flow_runs/{id}
	logs       []cloudapi.Log
	reads      int
	logCalls   int
	lenient    bool    // answer unknown calls with 404 instead of failing
	created    *py.Map // last create_flow_run body
	posts      int
}

const (
	runFakeDeploymentID = "0b5c4f3e-6f1a-4a8e-9d47-2a4f6f1f9a11"
	runFakeFlowID       = "9f1a2b3c-0000-4000-8000-000000000001"
	runFakeRunID        = "7d0f6a52-1111-4222-8333-444455556666"
)

func (f *runFakeAPI) handler(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	write := func(code int, body string) {
		w.WriteHeader(code)
		w.Write([]byte(body))
	}
	switch p := strings.TrimPrefix(r.URL.Path, "/api/"); {
	case r.Method == "GET" && (p == "deployments/name/hello/arthur" || p == "deployments/"+runFakeDeploymentID):
		write(200, `{"id": "`+runFakeDeploymentID+`", "name": "arthur", "flow_id": "`+runFakeFlowID+`", "parameters": {"name": "Arthur"},
			"parameter_openapi_schema": `+f.schema+`, "tags": ["t1"], "work_pool_name": "pool"}`)
	case r.Method == "GET" && strings.HasPrefix(p, "deployments/"):
		write(404, `{"detail": "Deployment not found"}`)
	case r.Method == "GET" && p == "flows/"+runFakeFlowID:
		write(200, `{"id": "`+runFakeFlowID+`", "name": "hello"}`)
	case r.Method == "POST" && p == "deployments/"+runFakeDeploymentID+"/create_flow_run":
		f.posts++
		v, err := py.DecodeJSON(runTestBody(r))
		if err != nil {
			f.t.Errorf("create_flow_run body: %v", err)
		}
		f.created, _ = v.(*py.Map)
		if f.createResp != nil {
			write(f.createResp())
			return
		}
		write(201, f.runJSON("SCHEDULED"))
	case r.Method == "GET" && p == "flow_runs/"+runFakeRunID:
		i := min(f.reads, len(f.states)-1)
		f.reads++
		write(200, f.runJSON(f.states[i]))
	case r.Method == "GET" && p == "flow_run_states/":
		var out []any
		for i := 0; i < min(f.reads, len(f.states)); i++ {
			out = append(out, f.state(i))
		}
		b, _ := py.EncodeJSON(append([]any{}, out...))
		write(200, string(b))
	case r.Method == "POST" && p == "logs/filter":
		// Call n shows the logs written before second n, all of them each
		// time, like the overlap of the watcher's lookback window.
		f.logCalls++
		visible := []cloudapi.Log{}
		for _, l := range f.logs {
			if l.Timestamp.Before(time.Date(2026, 8, 1, 12, 0, f.logCalls, 0, time.UTC)) {
				visible = append(visible, l)
			}
		}
		b, _ := json.Marshal(visible)
		write(200, string(b))
	case f.lenient:
		write(404, `{"detail": "Not Found"}`)
	default:
		f.t.Errorf("unexpected call %s %s", r.Method, r.URL.Path)
		write(404, `{"detail": "Not Found"}`)
	}
}

func runTestBody(r *http.Request) []byte {
	var b bytes.Buffer
	b.ReadFrom(r.Body)
	return b.Bytes()
}

func (f *runFakeAPI) state(i int) *py.Map {
	typ := f.states[i]
	name := strings.ToUpper(typ[:1]) + strings.ToLower(typ[1:])
	msg := any(nil)
	if typ == "FAILED" {
		msg = "Flow run encountered an exception: ValueError: kaboom"
	}
	ts := time.Date(2026, 8, 1, 12, 0, i, 0, time.UTC).Format(time.RFC3339Nano)
	return py.MapOf("id", fmt.Sprintf("00000000-0000-4000-8000-%012d", i), "type", typ, "name", name, "timestamp", ts, "message", msg)
}

func (f *runFakeAPI) runJSON(typ string) string {
	st := py.MapOf("id", "00000000-0000-4000-8000-0000000000ff", "type", typ, "name", "Scheduled", "timestamp", "2026-08-01T12:00:00Z")
	for j, s := range f.states {
		if s == typ {
			st = f.state(j)
			break
		}
	}
	b, _ := py.EncodeJSON(py.MapOf("id", runFakeRunID, "name", "bouncy-galago", "flow_id", runFakeFlowID,
		"parameters", py.MapOf("name", "Arthur"), "job_variables", py.NewMap(), "tags", []any{"t1"}, "state", st))
	return string(b)
}

func newRunFakeAPI(t *testing.T, f *runFakeAPI) *cloudapi.Client {
	t.Helper()
	f.t = t
	if f.schema == "" {
		f.schema = `{"type": "object", "properties": {"name": {"type": "string"}, "count": {"type": "integer"}}}`
	}
	srv := httptest.NewServer(http.HandlerFunc(f.handler))
	t.Cleanup(srv.Close)
	c, err := cloudapi.New(cloudapi.Options{BaseURL: srv.URL + "/api", MaxRetries: 0})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestPrepareRunAndCreate(t *testing.T) {
	f := &runFakeAPI{}
	c := newRunFakeAPI(t, f)
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
	if err != nil || !created || run.ID != runFakeRunID {
		t.Fatalf("create: %v %v %v", run, created, err)
	}
	got, _ := py.EncodeJSON(f.created)
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
		f        *runFakeAPI
		target   Target
		in       Inputs
		wantKind diag.Kind
		want     string
		noPost   bool
	}{
		{name: "unknown parameter", f: &runFakeAPI{}, target: Target{Name: "hello/arthur"}, in: Inputs{Parameters: py.MapOf("nmae", "x", "zz", int64(1))},
			wantKind: diag.Usage, noPost: true,
			want: "The following parameters were specified but not found on the deployment: 'nmae', 'zz'\nThe following parameters are available on the deployment: 'name', 'count'"},
		{name: "no parameters accepted", f: &runFakeAPI{schema: `{"type": "object", "properties": {}}`}, target: Target{Name: "hello/arthur"}, in: Inputs{Parameters: py.MapOf("a", int64(1))},
			wantKind: diag.Usage, noPost: true,
			want: "The following parameters were specified but not found on the deployment: 'a'\nThis deployment does not accept parameters."},
		{name: "missing deployment", f: &runFakeAPI{}, target: Target{Name: "hello/nobody"}, wantKind: diag.Runtime, noPost: true,
			want: "Deployment 'hello/nobody' not found!"},
		{name: "missing id", f: &runFakeAPI{}, target: Target{ID: "11111111-2222-4333-8444-555555555555"}, wantKind: diag.Runtime, noPost: true,
			want: "Deployment '11111111-2222-4333-8444-555555555555' not found!"},
		{name: "bad id", f: &runFakeAPI{}, target: Target{ID: "nope"}, wantKind: diag.Usage, noPost: true, want: "Invalid deployment ID: 'nope'"},
		{name: "name and id", f: &runFakeAPI{}, target: Target{Name: "a/b", ID: runFakeDeploymentID}, wantKind: diag.Usage, noPost: true,
			want: "Only provide a deployed flow's name or id"},
		{name: "neither", f: &runFakeAPI{}, target: Target{}, wantKind: diag.Usage, noPost: true, want: "Must provide a deployed flow's name or id"},
		{name: "bad name", f: &runFakeAPI{}, target: Target{Name: "arthur"}, wantKind: diag.Usage, noPost: true,
			want: "Invalid deployment name. Expected '<flow-name>/<deployment-name>'"},
		{name: "run name key", f: &runFakeAPI{}, target: Target{Name: "hello/arthur"}, in: Inputs{NameTemplate: "{who}"}, wantKind: diag.Usage, noPost: true,
			want: "Missing parameter for flow run name: 'who' is undefined"},
		{name: "run name syntax", f: &runFakeAPI{}, target: Target{Name: "hello/arthur"}, in: Inputs{NameTemplate: "{name"}, wantKind: diag.Usage, noPost: true,
			want: "Failed to format flow run name: expected '}' before end of string"},
		{name: "422 with detail", target: Target{Name: "hello/arthur"}, in: Inputs{JobVariables: py.MapOf("cpu", "fast")}, wantKind: diag.Runtime,
			f: &runFakeAPI{createResp: func() (int, string) {
				return 422, `{"detail": "Error creating flow run: Validation failed for field 'cpu'. Failure reason: 'fast' is not of type 'number'"}`
			}},
			want: "Error creating flow run: Validation failed for field 'cpu'. Failure reason: 'fast' is not of type 'number'"},
		{name: "409 parameters", target: Target{Name: "hello/arthur"}, in: Inputs{Parameters: py.MapOf("count", "x")}, wantKind: diag.Runtime,
			f: &runFakeAPI{createResp: func() (int, string) {
				return 409, `{"detail": "Error creating flow run: Validation failed for field 'count'. Failure reason: 'x' is not of type 'integer'"}`
			}},
			want: "Error creating flow run: Validation failed for field 'count'. Failure reason: 'x' is not of type 'integer'"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cl := newRunFakeAPI(t, c.f)
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
			if c.noPost && c.f.posts != 0 {
				t.Errorf("a flow run was created")
			}
		})
	}
}

func runFakeLogs() []cloudapi.Log {
	id := runFakeRunID
	var logs []cloudapi.Log
	at := []int{500, 1500, 2300, 2600, 3500} // ms after the first state
	for i, m := range []string{"Worker submitting", "Running 1 pull step", "Beginning flow run", "Hello, Arthur!", "Finished in state Completed()"} {
		logs = append(logs, cloudapi.Log{ID: "log-" + string(rune('a'+i)), Message: m, FlowRunID: &id,
			Timestamp: time.Date(2026, 8, 1, 12, 0, 0, 0, time.UTC).Add(time.Duration(at[i]) * time.Millisecond)})
	}
	return logs
}

func TestWatchOrdersStatesAndLogsOnce(t *testing.T) {
	f := &runFakeAPI{states: []string{"SCHEDULED", "PENDING", "RUNNING", "COMPLETED"}, logs: runFakeLogs()}
	c := newRunFakeAPI(t, f)
	var lines []string
	run, err := Watch(context.Background(), c, runFakeRunID, WatchOptions{
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
	f := &runFakeAPI{states: []string{"SCHEDULED", "RUNNING", "FAILED"}, logs: runFakeLogs()[:2]}
	c := newRunFakeAPI(t, f)
	run, err := Watch(context.Background(), c, runFakeRunID, WatchOptions{Interval: 10 * time.Millisecond, LogGrace: 20 * time.Millisecond})
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
	f := &runFakeAPI{states: []string{"SCHEDULED", "RUNNING"}}
	c := newRunFakeAPI(t, f)
	start := time.Now()
	_, err := Watch(context.Background(), c, runFakeRunID, WatchOptions{Interval: 20 * time.Millisecond, Timeout: 150 * time.Millisecond})
	if diag.KindOf(err) != diag.Timeout || !strings.Contains(err.Error(), "exceeded watch timeout of 150ms") {
		t.Fatalf("error %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %v", d)
	}
	// Cancelling the caller's context is an interruption, not a timeout.
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	_, err = Watch(ctx, c, runFakeRunID, WatchOptions{Interval: 20 * time.Millisecond, Timeout: time.Hour})
	if err == nil || diag.KindOf(err) == diag.Timeout || !errors.Is(err, context.Canceled) {
		t.Fatalf("cancel: %v", err)
	}
}
