package deploy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prefectctl/prefectctl/internal/cloudapi"
	"github.com/prefectctl/prefectctl/internal/diag"
	"github.com/prefectctl/prefectctl/internal/py"
	"github.com/prefectctl/prefectctl/internal/py/pyoracle"
	"github.com/prefectctl/prefectctl/internal/testenv"
)

// ---- local parsing ----

func TestParseKeyValues(t *testing.T) {
	cases := []struct {
		arg     string
		want    any    // decoded value
		wantErr string // substring of the error
	}{
		{arg: "x=hello", want: "hello"},
		{arg: "x=1", want: int64(1)},
		{arg: "x=1.5", want: 1.5},
		{arg: "x=-0", want: int64(0)},
		{arg: "x=1e3", want: 1000.0},
		{arg: "x=true", want: true},
		{arg: "x=null", want: nil},
		{arg: "x=[1, 2]", want: []any{int64(1), int64(2)}},
		{arg: `x={"a": {"b": [true]}}`, want: py.MapOf("a", py.MapOf("b", []any{true}))},
		{arg: `x="quoted"`, want: "quoted"},
		{arg: "x=", want: ""},
		{arg: "x", want: ""},
		{arg: "x=hello world", want: "hello world"},
		{arg: "x=[1, hello]", want: "[1, hello]"},
		{arg: "x=1 2", want: "1 2"},
		{arg: "x=01", want: "01"},
		{arg: "x=tru", want: "tru"},
		{arg: "x=a=b", want: "a=b"},
		{arg: `x=C:\\dir`, want: `C:\dir`},
		{arg: "x=[1,2", wantErr: "JSON Error: Expecting ',' delimiter: line 1 column 5 (char 4)"},
		{arg: "x={a: 1}", wantErr: "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"},
		{arg: `x="open`, wantErr: "Unterminated string starting at: line 1 column 1 (char 0)"},
		{arg: `x=C:\dir`, wantErr: `Invalid \escape: line 1 column 4 (char 3)`},
		{arg: `x=say "hi"`, wantErr: "Expecting value: line 1 column 1 (char 0)"},
	}
	for _, c := range cases {
		t.Run(c.arg, func(t *testing.T) {
			got, err := ParseKeyValues([]string{c.arg}, "parameter")
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) || diag.KindOf(err) != diag.Usage {
					t.Fatalf("want usage error containing %q, got %v", c.wantErr, err)
				}
				if !strings.HasPrefix(err.Error(), "Failed to parse JSON for parameter 'x' with value") {
					t.Fatalf("message does not start like Prefect's: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			v, _ := got.Get("x")
			if !py.Equal(v, c.want) {
				t.Fatalf("got %s, want %s", py.Repr(v), py.Repr(c.want))
			}
		})
	}
}

// TestParseKeyValuesAgainstPrefect runs Prefect's own load_json_key_values
// on the same arguments and compares values and JSON error messages.
func TestParseKeyValuesAgainstPrefect(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the Prefect venv")
	}
	args := []string{"x=hello", "x=1", "x=-1.25e-3", "x=[1, 2]", `x={"a": [1, {"b": null}]}`, "x=", "x", "x=hello world",
		"x=[1, hello]", "x=1 2", "x=01", "x=tru", "x=a=b", `x=C:\\dir`, `x=C:\dir`, "x=[1,2", "x={a: 1}", `x="open`,
		`x=say "hi"`, `x=\u00e9t\u00e9`, `x="\u00e9t\u00e9"`, "x=[1,]", `x={"a":1,}`, "x= 5 ", "x=\t", "x={}", "x=[]",
		`x={"a" 1}`, "x=[1 2]", "x=-", "x=.5", "x=1.", "x=é", "=v", "x=\"\\ud83d\\ude00\"", `x={"k": "v", "k": "w"}`, "x=\ufeff1", "x=-0", "x=nullx", "x=12345678901234567890.5"}
	script := `
import io, json, sys, contextlib
from prefect.cli._utilities import load_json_key_values
out = []
for spec in json.load(sys.stdin):
    buf = io.StringIO()
    try:
        with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(buf):
            out.append({"ok": load_json_key_values([spec], "parameter")})
    except SystemExit:
        out.append({"err": buf.getvalue()})
print(json.dumps(out))
`
	var results []struct {
		OK  json.RawMessage `json:"ok"`
		Err string          `json:"err"`
	}
	runPyOracle(t, script, args, &results)
	for i, a := range args {
		got, err := ParseKeyValues([]string{a}, "parameter")
		want := results[i]
		if want.Err != "" {
			wantLine := runJSONErrorPart(want.Err)
			if err == nil || runJSONErrorPart(err.Error()) != wantLine {
				t.Errorf("%q: Prefect fails with %q, prefectctl: %v", a, wantLine, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: Prefect accepts (%s), prefectctl: %v", a, want.OK, err)
			continue
		}
		wantV, _ := py.DecodeJSON(want.OK)
		if !py.Equal(got, wantV) {
			t.Errorf("%q: Prefect gives %s, prefectctl %s", a, py.Repr(wantV), py.Repr(got))
		}
	}
}

// runJSONErrorPart is the "JSON Error: ..." part of a message, with the
// line wrapping of Prefect's console undone.
func runJSONErrorPart(s string) string {
	_, after, _ := strings.Cut(s, "JSON Error:")
	return strings.Join(strings.Fields(after), " ")
}

// runPyOracle runs script with the venv's Python, feeding it args as JSON.
func runPyOracle(t *testing.T, script string, args any, out any) {
	t.Helper()
	pyoracle.Run(t, args, out, "-c", script)
}

func TestParseRunInputs(t *testing.T) {
	now := time.Date(2026, 8, 1, 12, 0, 0, 0, time.UTC)
	p, err := ParseRunInputs(RunOptions{
		Params: []string{"a=1", "b=two"}, ParamsJSON: `{"b": "from-params", "c": [1]}`,
		JobVariables: []string{`env={"K": "V"}`}, Now: func() time.Time { return now },
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := py.Repr(p.Parameters); got != "{'b': 'two', 'c': [1], 'a': 1}" {
		t.Errorf("parameters %s", got)
	}
	if got := py.Repr(p.JobVariables); got != "{'env': {'K': 'V'}}" {
		t.Errorf("job variables %s", got)
	}
	if len(p.Notes) != 1 || !strings.Contains(p.Notes[0], "the `--param` value will be used: {'b'}") {
		t.Errorf("notes %q", p.Notes)
	}
	if !p.Scheduled.Equal(now) || p.When != "now" {
		t.Errorf("scheduled %v %q", p.Scheduled, p.When)
	}

	p, err = ParseRunInputs(RunOptions{ParamsJSON: "-", Stdin: strings.NewReader(`{"name": "Ford"}`)})
	if err != nil || py.Repr(p.Parameters) != "{'name': 'Ford'}" {
		t.Fatalf("stdin params: %v %v", p, err)
	}

	for _, c := range []struct {
		o    RunOptions
		want string
	}{
		{RunOptions{ParamsJSON: "-", Stdin: strings.NewReader("")}, "No data passed to stdin"},
		{RunOptions{ParamsJSON: "{"}, "Failed to parse JSON: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"},
		{RunOptions{ParamsJSON: "[1]"}, "--params must be a JSON object, got a list"},
		{RunOptions{StartIn: "5 minutes", StartAt: "17:00"}, "Only one of `--start-in` or `--start-at` can be set, not both."},
		{RunOptions{StartIn: "soon"}, "Unable to parse scheduled start time 'in soon'."},
		{RunOptions{StartAt: "foobar"}, "Unable to parse scheduled start time 'at foobar'."},
		{RunOptions{JobVariables: []string{"x=[1"}}, "Failed to parse JSON for job variable 'x'"},
	} {
		_, err := ParseRunInputs(c.o)
		if err == nil || !strings.Contains(err.Error(), c.want) || diag.KindOf(err) != diag.Usage {
			t.Errorf("%+v: want usage error %q, got %v", c.o, c.want, err)
		}
	}
}

// ---- against a fake API ----

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
	p, err := PrepareRun(context.Background(), c, RunOptions{
		Name: "hello/arthur", Params: []string{"count=3"}, Tags: []string{"adhoc"}, FlowRunName: "{name}-{count:02d}",
		JobVariables: []string{"env={}"}, IdempotencyKey: "k1", StartIn: "10 minutes", Now: func() time.Time { return now },
	})
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != "Arthur-03" || p.FullName() != "hello/arthur" || p.When != "in 10 minutes" {
		t.Fatalf("plan %q %q %q", p.Name, p.FullName(), p.When)
	}
	run, created, err := p.Create(context.Background(), c)
	if err != nil || !created || run.ID != runFakeRunID {
		t.Fatalf("create: %v %v %v", run, created, err)
	}
	got, _ := py.EncodeJSON(f.created)
	golden := filepath.Join("testdata", "run", "create_flow_run_body.json")
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
		o        RunOptions
		wantKind diag.Kind
		want     string
		noPost   bool
	}{
		{name: "unknown parameter", f: &runFakeAPI{}, o: RunOptions{Name: "hello/arthur", Params: []string{"nmae=x", "zz=1"}},
			wantKind: diag.Usage, noPost: true,
			want: "The following parameters were specified but not found on the deployment: 'nmae', 'zz'\nThe following parameters are available on the deployment: 'name', 'count'"},
		{name: "no parameters accepted", f: &runFakeAPI{schema: `{"type": "object", "properties": {}}`}, o: RunOptions{Name: "hello/arthur", Params: []string{"a=1"}},
			wantKind: diag.Usage, noPost: true,
			want: "The following parameters were specified but not found on the deployment: 'a'\nThis deployment does not accept parameters."},
		{name: "missing deployment", f: &runFakeAPI{}, o: RunOptions{Name: "hello/nobody"}, wantKind: diag.Runtime, noPost: true,
			want: "Deployment 'hello/nobody' not found!"},
		{name: "missing id", f: &runFakeAPI{}, o: RunOptions{ID: "11111111-2222-4333-8444-555555555555"}, wantKind: diag.Runtime, noPost: true,
			want: "Deployment '11111111-2222-4333-8444-555555555555' not found!"},
		{name: "bad id", f: &runFakeAPI{}, o: RunOptions{ID: "nope"}, wantKind: diag.Usage, noPost: true, want: "Invalid deployment ID: 'nope'"},
		{name: "name and id", f: &runFakeAPI{}, o: RunOptions{Name: "a/b", ID: runFakeDeploymentID}, wantKind: diag.Usage, noPost: true,
			want: "Only provide a deployed flow's name or id"},
		{name: "neither", f: &runFakeAPI{}, o: RunOptions{}, wantKind: diag.Usage, noPost: true, want: "Must provide a deployed flow's name or id"},
		{name: "bad name", f: &runFakeAPI{}, o: RunOptions{Name: "arthur"}, wantKind: diag.Usage, noPost: true,
			want: "Invalid deployment name. Expected '<flow-name>/<deployment-name>'"},
		{name: "run name key", f: &runFakeAPI{}, o: RunOptions{Name: "hello/arthur", FlowRunName: "{who}"}, wantKind: diag.Usage, noPost: true,
			want: "Missing parameter for flow run name: 'who' is undefined"},
		{name: "run name syntax", f: &runFakeAPI{}, o: RunOptions{Name: "hello/arthur", FlowRunName: "{name"}, wantKind: diag.Usage, noPost: true,
			want: "Failed to format flow run name: expected '}' before end of string"},
		{name: "422 with detail", o: RunOptions{Name: "hello/arthur", JobVariables: []string{"cpu=fast"}}, wantKind: diag.Runtime,
			f: &runFakeAPI{createResp: func() (int, string) {
				return 422, `{"detail": "Error creating flow run: Validation failed for field 'cpu'. Failure reason: 'fast' is not of type 'number'"}`
			}},
			want: "Error creating flow run: Validation failed for field 'cpu'. Failure reason: 'fast' is not of type 'number'"},
		{name: "409 parameters", o: RunOptions{Name: "hello/arthur", Params: []string{"count=x"}}, wantKind: diag.Runtime,
			f: &runFakeAPI{createResp: func() (int, string) {
				return 409, `{"detail": "Error creating flow run: Validation failed for field 'count'. Failure reason: 'x' is not of type 'integer'"}`
			}},
			want: "Error creating flow run: Validation failed for field 'count'. Failure reason: 'x' is not of type 'integer'"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cl := newRunFakeAPI(t, c.f)
			p, err := PrepareRun(ctx, cl, c.o)
			if err == nil {
				_, _, err = p.Create(ctx, cl)
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

// TestCreateBodyMatchesPrefectCLI sends the same run through the real
// `prefect deployment run` and through prefectctl, against the same fake
// API, and compares the create_flow_run bodies.
func TestCreateBodyMatchesPrefectCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the Prefect venv")
	}
	prefectCLI := testenv.PrefectCLI(t)
	f := &runFakeAPI{lenient: true}
	c := newRunFakeAPI(t, f)
	args := []string{"deployment", "run", "hello/arthur", "--param", "count=3", "--params", `{"name": "Ford", "count": 1}`,
		"--tag", "adhoc", "--tag", "b", "--flow-run-name", "{name}-{count:02d}", "--job-variable", `env={"A": "1"}`,
		"--job-variable", "image=x:1", "--start-at", "2030-01-02T03:04:05Z"}
	cmd := exec.Command(prefectCLI, args...)
	cmd.Env = append(os.Environ(), "PREFECT_API_URL="+c.BaseURL(), "PREFECT_HOME="+t.TempDir(), "PREFECT_CLIENT_CSRF_SUPPORT_ENABLED=false")
	out, err := cmd.CombinedOutput()
	if err != nil || f.created == nil {
		t.Fatalf("prefect: %v\n%s", err, out)
	}
	want, _ := py.EncodeJSON(f.created)

	f.created = nil
	p, err := PrepareRun(context.Background(), c, RunOptions{Name: "hello/arthur", Params: []string{"count=3"}, ParamsJSON: `{"name": "Ford", "count": 1}`,
		Tags: []string{"adhoc", "b"}, FlowRunName: "{name}-{count:02d}", JobVariables: []string{`env={"A": "1"}`, "image=x:1"},
		StartAt: "2030-01-02T03:04:05Z"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := p.Create(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	got, _ := py.EncodeJSON(f.created)
	if string(got) != string(want) {
		t.Errorf("create_flow_run body\nprefectctl %s\nprefect    %s", got, want)
	}
}
