package deploy

// This file is the action layer of `prefectctl deployment run`: it reads
// the run options the way Prefect 3.9.1's `prefect deployment run` does
// (cli/deployment.py::run and cli/_utilities.py::load_json_key_values),
// creates the flow run, and watches it by polling.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/prefectctl/prefectctl/internal/cloudapi"
	"github.com/prefectctl/prefectctl/internal/diag"
	"github.com/prefectctl/prefectctl/internal/py"
)

// RunOptions is what `deployment run` was asked to do.
type RunOptions struct {
	Name           string    // FLOW/DEPLOYMENT, the flow's registered name
	ID             string    // or the deployment id
	Params         []string  // --param k=v (repeatable)
	ParamsJSON     string    // --params: a JSON object, or "-" for Stdin
	Stdin          io.Reader // read when ParamsJSON is "-"
	JobVariables   []string  // --job-variable k=v (repeatable)
	Tags           []string  // --tag (repeatable)
	StartIn        string    // --start-in "5 minutes"
	StartAt        string    // --start-at "2026-08-01 17:30"
	FlowRunName    string    // --flow-run-name, a Python str.format template
	IdempotencyKey string    // --idempotency-key

	Now      func() time.Time // nil = time.Now
	Location *time.Location   // zone of naive --start-at times; nil = time.Local
}

// RunPlan is a checked flow run request, ready to send.
type RunPlan struct {
	Deployment     *cloudapi.Deployment
	Flow           *cloudapi.Flow
	Parameters     *py.Map // the values the user gave; the server merges them over the deployment's
	JobVariables   *py.Map
	Tags           []string
	Name           string // formatted --flow-run-name; "" lets the server pick one
	IdempotencyKey string
	Scheduled      time.Time // UTC
	When           string    // "now", "in 5 minutes", "3 days ago"
	Notes          []string  // things Prefect prints before creating the run
}

// FullName is "flow/deployment".
func (p *RunPlan) FullName() string { return p.Flow.Name + "/" + p.Deployment.Name }

// ParseRunInputs reads the parts of o that need no API: parameters, job
// variables and the start time. Prefect checks these before connecting.
func ParseRunInputs(o RunOptions) (*RunPlan, error) {
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	p := &RunPlan{Tags: o.Tags, IdempotencyKey: o.IdempotencyKey}
	multi := py.NewMap()
	if o.ParamsJSON != "" {
		raw := o.ParamsJSON
		if raw == "-" {
			if o.Stdin == nil {
				return nil, runUsage("No data passed to stdin", "pipe a JSON object into the command, or pass it to --params directly")
			}
			b, err := io.ReadAll(o.Stdin)
			if err != nil {
				return nil, diag.Wrap(diag.Runtime, err, "", "cannot read --params from stdin")
			}
			if len(b) == 0 {
				return nil, runUsage("No data passed to stdin", "pipe a JSON object into the command, or pass it to --params directly")
			}
			raw = string(b)
		}
		v, err := py.DecodeJSON([]byte(raw))
		if err != nil {
			return nil, runUsage("Failed to parse JSON: "+err.Error(), `--params takes a JSON object, e.g. --params '{"name": "Arthur"}'`)
		}
		m, ok := v.(*py.Map)
		if !ok {
			return nil, runUsage(fmt.Sprintf("--params must be a JSON object, got %s", jsonKind(v)), `--params takes a JSON object, e.g. --params '{"name": "Arthur"}'`)
		}
		multi = m
	}
	cli, err := ParseKeyValues(o.Params, "parameter")
	if err != nil {
		return nil, err
	}
	var conflicts []string
	for _, k := range cli.Keys() {
		if multi.Has(k) {
			conflicts = append(conflicts, k)
		}
	}
	if len(conflicts) > 0 {
		sort.Strings(conflicts)
		p.Notes = append(p.Notes, "The following parameters were specified by `--param` and `--params`, the `--param` value will be used: {"+pyListRepr(conflicts)+"}")
	}
	params := py.Clone(multi).(*py.Map)
	params.Update(cli)
	p.Parameters = params
	if p.JobVariables, err = ParseKeyValues(o.JobVariables, "job variable"); err != nil {
		return nil, err
	}
	loc := o.Location
	if loc == nil {
		loc = time.Local
	}
	p.Scheduled, p.When, err = ParseStartTime(o.StartIn, o.StartAt, now(), loc)
	if err != nil {
		return nil, err
	}
	return p, nil
}

// PrepareRun checks o and resolves the deployment, as Prefect does before
// it creates a run: local input first, then the deployment and its flow,
// then parameter names and the flow run name.
func PrepareRun(ctx context.Context, c *cloudapi.Client, o RunOptions) (*RunPlan, error) {
	p, err := ParseRunInputs(o)
	if err != nil {
		return nil, err
	}
	if err := p.Resolve(ctx, c, o); err != nil {
		return nil, err
	}
	return p, nil
}

// Resolve reads the deployment named by o and its flow, checks the
// parameter names against the deployment's schema, and formats
// o.FlowRunName over the deployment's and the run's parameters.
func (p *RunPlan) Resolve(ctx context.Context, c *cloudapi.Client, o RunOptions) error {
	var err error
	if p.Deployment, err = ResolveDeployment(ctx, c, o.Name, o.ID); err != nil {
		return err
	}
	if p.Flow, err = c.ReadFlow(ctx, p.Deployment.FlowID); err != nil {
		return err
	}
	if err := CheckParameterNames(p.Deployment, p.Parameters); err != nil {
		err.Hint = "see the deployment's parameters with 'prefectctl deployment inspect " + p.FullName() + "'"
		return err
	}
	if o.FlowRunName == "" {
		return nil
	}
	merged := py.NewMap()
	if p.Deployment.Parameters != nil {
		merged.Update(p.Deployment.Parameters)
	}
	merged.Update(p.Parameters)
	name, err := py.Format(o.FlowRunName, merged)
	var ke *py.FormatKeyError
	switch {
	case errors.As(err, &ke):
		return runUsage(fmt.Sprintf("Missing parameter for flow run name: '%s' is undefined", ke.Key), "every {field} of --flow-run-name must be a parameter of the run or the deployment")
	case err != nil:
		return runUsage("Failed to format flow run name: "+err.Error(), "--flow-run-name is a Python format string: {name} inserts a parameter, {{ and }} are literal braces")
	}
	p.Name = name
	return nil
}

// ResolveDeployment reads a deployment by FLOW/NAME or by id, with
// Prefect's messages for the usual mistakes.
func ResolveDeployment(ctx context.Context, c *cloudapi.Client, name, id string) (*cloudapi.Deployment, error) {
	const hint = "list deployments with 'prefectctl deployment ls'"
	switch {
	case name != "" && id != "":
		return nil, runUsage("Only provide a deployed flow's name or id", "pass FLOW/DEPLOYMENT or --id, not both")
	case name == "" && id == "":
		return nil, runUsage("Must provide a deployed flow's name or id", "pass FLOW/DEPLOYMENT or --id ID")
	case id != "":
		if !runUUIDRe.MatchString(id) {
			return nil, runUsage(fmt.Sprintf("Invalid deployment ID: %s", py.Repr(id)), "a deployment id is a UUID such as 0b5c4f3e-6f1a-4a8e-9d47-2a4f6f1f9a11")
		}
		d, err := c.ReadDeployment(ctx, id)
		if errors.Is(err, cloudapi.ErrNotFound) {
			return nil, diag.Errorf(diag.Runtime, hint, "Deployment %s not found!", py.Repr(id))
		}
		return d, err
	}
	flow, dep, ok := strings.Cut(name, "/")
	if !ok || flow == "" || dep == "" || strings.Contains(dep, "/") {
		return nil, runUsage("Invalid deployment name. Expected '<flow-name>/<deployment-name>'", "use the flow's registered name, e.g. hello/arthur")
	}
	d, err := c.ReadDeploymentByName(ctx, flow, dep)
	if errors.Is(err, cloudapi.ErrNotFound) {
		return nil, diag.Errorf(diag.Runtime, hint, "Deployment %s not found!", py.Repr(name))
	}
	return d, err
}

var runUUIDRe = regexp.MustCompile(`^(?i)(urn:uuid:)?\{?[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}\}?$`)

// CheckParameterNames rejects parameters the deployment's schema does not
// list, client-side, with Prefect's message.
func CheckParameterNames(d *cloudapi.Deployment, params *py.Map) *diag.Error {
	var known []string
	if d.ParameterOpenAPISchema != nil {
		if props, ok := d.ParameterOpenAPISchema.Get("properties"); ok {
			if m, ok := props.(*py.Map); ok {
				known = m.Keys()
			}
		}
	}
	isKnown := map[string]bool{}
	for _, k := range known {
		isKnown[k] = true
	}
	var unknown []string
	for _, k := range params.Keys() {
		if !isKnown[k] {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	sort.Strings(unknown) // Prefect prints a set, in no fixed order
	avail := "This deployment does not accept parameters."
	if len(known) > 0 {
		avail = "The following parameters are available on the deployment: " + pyListRepr(known)
	}
	return runUsage("The following parameters were specified but not found on the deployment: "+pyListRepr(unknown)+"\n"+avail,
		"see the deployment's parameters with 'prefectctl deployment inspect'")
}

// Body is the POST /deployments/{id}/create_flow_run body, field for
// field what Prefect's client sends.
func (p *RunPlan) Body() *py.Map {
	tags := []any{}
	for _, t := range p.Tags {
		tags = append(tags, t)
	}
	var name, key any
	if p.Name != "" {
		name = p.Name
	}
	if p.IdempotencyKey != "" {
		key = p.IdempotencyKey
	}
	jv := p.JobVariables
	if jv == nil {
		jv = py.NewMap()
	}
	params := p.Parameters
	if params == nil {
		params = py.NewMap()
	}
	state := py.MapOf(
		"type", "SCHEDULED", "name", "Scheduled", "message", nil,
		"state_details", py.MapOf("scheduled_time", py.DateTime{Time: p.Scheduled.UTC()}.ISO(), "traceparent", nil),
		"data", nil)
	return py.MapOf(
		"state", state, "name", name, "parameters", params, "context", py.NewMap(),
		"tags", tags, "idempotency_key", key, "parent_task_run_id", nil,
		"job_variables", jv, "labels", py.NewMap())
}

// Create posts the flow run. created is false when the idempotency key
// matched an existing run. An HTTP error with a detail is reported as that
// detail, as Prefect does.
func (p *RunPlan) Create(ctx context.Context, c *cloudapi.Client) (run *cloudapi.FlowRun, created bool, err error) {
	run, created, err = c.CreateFlowRunFromDeployment(ctx, p.Deployment.ID, p.Body())
	var ae *cloudapi.APIError
	if err != nil && errors.As(err, &ae) && (ae.Detail != "" || len(ae.Issues) > 0) {
		msg := ae.Detail
		if len(ae.Issues) > 0 {
			msg = strings.TrimSpace(msg + "\n" + strings.Join(ae.Issues, "\n"))
		}
		return nil, false, &diag.Error{Kind: diag.Runtime, Msg: msg, Hint: ae.Hint, Err: errNoRepeat{ae}}
	}
	return run, created, err
}

// errNoRepeat keeps an APIError reachable by errors.As without printing
// its text a second time after the detail.
type errNoRepeat struct{ e *cloudapi.APIError }

func (e errNoRepeat) Error() string { return e.e.Detail }
func (e errNoRepeat) Unwrap() error { return e.e }

func runUsage(msg, hint string) *diag.Error {
	return &diag.Error{Kind: diag.Usage, Msg: msg, Hint: hint}
}

func pyListRepr(items []string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = py.Repr(s)
	}
	return strings.Join(q, ", ")
}

// ---- key=value arguments ----

// ParseKeyValues reads "key=value" arguments as Prefect's
// load_json_key_values does: the value is JSON; when that fails with
// "Expecting value" or "Extra data" and the text holds no double quote, it
// is taken as a string. A missing "=" gives an empty-string value, as in
// Prefect. what names the option in messages ("parameter", "job variable").
func ParseKeyValues(args []string, what string) (*py.Map, error) {
	out := py.NewMap()
	for _, a := range args {
		k, raw, _ := strings.Cut(a, "=")
		v, err := castJSONValue(raw)
		if err != nil {
			indented := "\t" + strings.ReplaceAll(raw, "\n", "\n\t")
			if raw == "" {
				indented = ""
			}
			return nil, runUsage(fmt.Sprintf("Failed to parse JSON for %s %s with value\n\n%s\n\nJSON Error: %v", what, py.Repr(k), indented, err),
				fmt.Sprintf("quote the value as a JSON string, e.g. %s='\"text\"', or pass valid JSON", k))
		}
		out.Set(k, v)
	}
	return out, nil
}

func castJSONValue(raw string) (any, error) {
	v, err := py.DecodeJSON([]byte(raw))
	if err == nil {
		return v, nil
	}
	msg := err.Error()
	if (strings.Contains(msg, "Extra data") || strings.Contains(msg, "Expecting value")) && !strings.Contains(raw, `"`) {
		return castJSONValue(`"` + raw + `"`)
	}
	return nil, err
}

// jsonKind names a JSON value's type in a sentence: "a list", "null".
func jsonKind(v any) string {
	switch py.JSONType(v) {
	case "null":
		return "null"
	case "array":
		return "a list"
	case "string":
		return "a string"
	case "boolean":
		return "a boolean"
	case "integer", "number":
		return "a number"
	}
	return py.TypeName(v)
}

// ---- start time ----

// ParseStartTime turns --start-in / --start-at into a UTC time and the
// human form Prefect prints ("now", "in 5 minutes"). Prefect hands the text
// to the dateparser package; prefectctl accepts this documented subset:
//
//	--start-in: "5 minutes", "in 2 hours", "1 hour and 30 minutes", "1.5 hours",
//	            "an hour", "90s", "1h30m"; units s/sec/second, m/min/minute,
//	            h/hr/hour, d/day, w/week, month, year (plurals too).
//	--start-at: ISO 8601 with a zone ("2026-08-01T17:30:00Z", "...+02:00"),
//	            "2026-08-01 17:30[:00]", "2026-08-01" (midnight), "17:30", "5pm",
//	            "5:30pm", "now", "today"/"tomorrow" optionally followed by
//	            [at] a time.
//
// Times without a zone are in loc (the local zone, as dateparser assumes).
// A bare time of day already past today means tomorrow, like dateparser's
// PREFER_DATES_FROM=future. "tomorrow" alone is this time tomorrow.
func ParseStartTime(startIn, startAt string, now time.Time, loc *time.Location) (time.Time, string, error) {
	now = now.UTC()
	switch {
	case startIn != "" && startAt != "":
		return time.Time{}, "", runUsage("Only one of `--start-in` or `--start-at` can be set, not both.", "keep one of them")
	case startIn == "" && startAt == "":
		return now, "now", nil
	}
	var t time.Time
	var ok bool
	raw := "in " + startIn
	if startIn != "" {
		t, ok = py.ParseRelativeTime(startIn, now)
	} else {
		raw = "at " + startAt
		t, ok = py.ParseDateTime(startAt, now, loc)
	}
	if !ok {
		return time.Time{}, "", runUsage(fmt.Sprintf("Unable to parse scheduled start time %s.", py.Repr(raw)),
			`use e.g. --start-in "5 minutes", --start-in "1h30m", --start-at "2026-08-01 17:30", --start-at "tomorrow 9:00" or an ISO 8601 time`)
	}
	return t.UTC(), py.HumanDiff(t, now), nil
}

// ---- watching ----

// WatchOptions control Watch.
type WatchOptions struct {
	Interval time.Duration // between polls; default 2s
	Timeout  time.Duration // 0 = wait for ever
	// LogGrace is how long logs are still collected after the run reached
	// a final state: the flow's process ships its last log lines in a batch
	// after it reports the state. Default 5s.
	LogGrace time.Duration
	// OnState and OnLog receive each state the run entered and each log
	// line once; what one poll finds is delivered in timestamp order.
	OnState func(run *cloudapi.FlowRun, st cloudapi.State)
	OnLog   func(l cloudapi.Log)
}

// logLookback is how far before the newest log seen each poll looks again:
// a run's logs come from several processes in batches, so a line can
// arrive after a later one. Lines already shown are skipped by id.
const logLookback = 30 * time.Second

// ErrWatchTimeout is the cause of the context when Watch's timeout ran out.
var ErrWatchTimeout = errors.New("watch timeout")

// Watch polls the run, its state history and its logs until it is in a
// final state. It returns the final run, and an error of kind RunFailed
// unless it ended COMPLETED, or of kind Timeout when o.Timeout ran out
// first. Prefect itself streams websockets here; polling gives the same
// lines and works behind proxies that drop websockets.
func Watch(ctx context.Context, c *cloudapi.Client, runID string, o WatchOptions) (*cloudapi.FlowRun, error) {
	if o.Interval <= 0 {
		o.Interval = 2 * time.Second
	}
	if o.LogGrace <= 0 {
		o.LogGrace = 5 * time.Second
	}
	parent := ctx
	if o.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, o.Timeout, ErrWatchTimeout)
		defer cancel()
	}
	w := &runWatcher{c: c, runID: runID, o: o, seenLog: map[string]bool{}, seenState: map[string]bool{}}
	timedOut := func(err error) error {
		if parent.Err() == nil && errors.Is(context.Cause(ctx), ErrWatchTimeout) {
			return &diag.Error{Kind: diag.Timeout,
				Msg:  fmt.Sprintf("Flow run with ID %s exceeded watch timeout of %s", runID, o.Timeout),
				Hint: "the run goes on without the watch; follow it in the UI, or watch again with a longer --timeout"}
		}
		return err
	}
	for {
		run, err := c.ReadFlowRun(ctx, runID)
		if err != nil {
			return nil, timedOut(err)
		}
		if _, err := w.poll(ctx, run); err != nil {
			return nil, timedOut(err)
		}
		if run.State.Terminal() {
			w.drain(parent, run)
			return run, finalStateError(run)
		}
		select {
		case <-ctx.Done():
			return nil, timedOut(ctx.Err())
		case <-time.After(o.Interval):
		}
	}
}

// runWatcher remembers what was already reported.
type runWatcher struct {
	c         *cloudapi.Client
	runID     string
	o         WatchOptions
	seenLog   map[string]bool
	seenState map[string]bool
	newest    time.Time // newest log timestamp seen
}

type runWatchItem struct {
	at    time.Time
	state *cloudapi.State
	log   *cloudapi.Log
}

// poll reports the states and logs not seen yet, oldest first, and says
// how many there were.
func (w *runWatcher) poll(ctx context.Context, run *cloudapi.FlowRun) (int, error) {
	var items []runWatchItem
	states, err := w.c.ReadFlowRunStates(ctx, w.runID)
	if err != nil {
		return 0, err
	}
	if run.State != nil && len(states) == 0 {
		states = []cloudapi.State{*run.State}
	}
	for i := range states {
		st := &states[i]
		key := st.ID
		if key == "" {
			key = st.Type + "/" + st.Name + "/" + st.Timestamp.String()
		}
		if w.seenState[key] {
			continue
		}
		w.seenState[key] = true
		items = append(items, runWatchItem{at: st.Timestamp, state: st})
	}
	logs, err := w.logs(ctx)
	if err != nil {
		return 0, err
	}
	for i := range logs {
		items = append(items, runWatchItem{at: logs[i].Timestamp, log: &logs[i]})
	}
	sort.SliceStable(items, func(i, j int) bool { return items[i].at.Before(items[j].at) })
	for _, it := range items {
		switch {
		case it.state != nil && w.o.OnState != nil:
			w.o.OnState(run, *it.state)
		case it.log != nil && w.o.OnLog != nil:
			w.o.OnLog(*it.log)
		}
	}
	return len(items), nil
}

// logs fetches the run's log lines not seen yet, from a little before the
// newest one seen, page by page.
func (w *runWatcher) logs(ctx context.Context) ([]cloudapi.Log, error) {
	const page = 200 // the server's default and maximum limit
	after := ""
	if !w.newest.IsZero() {
		after = py.DateTime{Time: w.newest.Add(-logLookback).UTC()}.ISO()
	}
	var fresh []cloudapi.Log
	for offset := 0; ; offset += page {
		filter := py.MapOf("flow_run_id", py.MapOf("any_", []any{w.runID}))
		if after != "" {
			filter.Set("timestamp", py.MapOf("after_", after))
		}
		body := py.MapOf("logs", filter, "sort", "TIMESTAMP_ASC", "limit", int64(page), "offset", int64(offset))
		got, err := w.c.FilterLogs(ctx, body)
		if err != nil {
			return nil, err
		}
		for _, l := range got {
			if w.seenLog[l.ID] {
				continue
			}
			w.seenLog[l.ID] = true
			if l.Timestamp.After(w.newest) {
				w.newest = l.Timestamp
			}
			fresh = append(fresh, l)
		}
		if len(got) < page {
			return fresh, nil
		}
	}
}

// drain keeps reading logs after the run ended, for up to LogGrace, and
// stops early once a poll finds nothing new after two seconds (the flow
// process flushes its last batch as it exits, just after the final state).
func (w *runWatcher) drain(ctx context.Context, run *cloudapi.FlowRun) {
	step := min(w.o.Interval, time.Second)
	start := time.Now()
	for time.Since(start) < w.o.LogGrace {
		select {
		case <-ctx.Done():
			return
		case <-time.After(step):
		}
		n, err := w.poll(ctx, run)
		if err != nil {
			return // the run's outcome is known; missing tail lines are not worth failing for
		}
		if n == 0 && time.Since(start) >= 2*time.Second {
			return
		}
	}
}

// finalStateError is nil for COMPLETED and a RunFailed problem otherwise.
func finalStateError(run *cloudapi.FlowRun) error {
	if run.State.Type == "COMPLETED" {
		return nil
	}
	hint := "see the run's logs above or in the UI"
	if run.State.Message != nil && *run.State.Message != "" {
		hint = "the state message says: " + *run.State.Message
	}
	return &diag.Error{Kind: diag.RunFailed, Msg: fmt.Sprintf("Flow run finished in state %s.", py.Repr(run.State.Name)), Hint: hint}
}
