package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/prefectctl/prefectctl/internal/cloudapi"
	"github.com/prefectctl/prefectctl/internal/config"
	"github.com/prefectctl/prefectctl/internal/diag"
	"github.com/prefectctl/prefectctl/internal/flowrun"
	"github.com/prefectctl/prefectctl/internal/py"
)

// secondsFlag takes "30" (seconds, as Prefect's CLI does) or a Go
// duration such as "90s" or "5m".
type secondsFlag struct{ d *time.Duration }

func (f secondsFlag) String() string {
	if f.d == nil || *f.d == 0 {
		return "0"
	}
	return f.d.String()
}

func (f secondsFlag) Set(s string) error {
	if n, err := strconv.ParseFloat(s, 64); err == nil {
		if n < 0 {
			return errors.New("must not be negative")
		}
		*f.d = time.Duration(n * float64(time.Second))
		return nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("want seconds or a duration such as 90s or 5m")
	}
	if d < 0 {
		return errors.New("must not be negative")
	}
	*f.d = d
	return nil
}

func (f secondsFlag) Type() string { return "duration" }

func newDeploymentRunCmd(a *app) *cobra.Command {
	f := &runFlags{interval: 2 * time.Second}
	cmd := &cobra.Command{
		Use:   "run FLOW/DEPLOYMENT | --id ID",
		Short: "Create a flow run of a deployment, and optionally watch it to the end",
		Long: `Create a flow run for a deployment, as 'prefect deployment run' does. The run is
scheduled now unless --start-in or --start-at says otherwise; a worker polling
the deployment's work pool executes it.

--param values are JSON when they parse as JSON, and plain strings otherwise
(name=Arthur, n=3, items='[1, 2]'). --params takes a whole JSON object, or '-'
to read it from stdin; --param wins over --params for the same key.
--flow-run-name is a Python format string over the parameters ("run-{name}").

--start-in takes "5 minutes", "in 2 hours", "1 hour and 30 minutes", "1h30m";
--start-at takes an ISO 8601 time, "2026-08-01 17:30", "17:30", "5pm", or
"tomorrow 9:00". Times without a zone are local.

With --watch the command follows the run, printing its state changes and log
lines, and exits 0 when it ends COMPLETED, 3 when it ends FAILED, CRASHED or
CANCELLED, and 4 when --timeout runs out (the run itself goes on).`,
		Example: `  prefectctl deployment run hello/arthur
  prefectctl deployment run hello/arthur --param name=Marvin --watch
  prefectctl deployment run --id 0b5c4f3e-6f1a-4a8e-9d47-2a4f6f1f9a11 --start-in "10 minutes"
  echo '{"name": "Ford"}' | prefectctl deployment run hello/arthur --params - -o json`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkOutput(f.output); err != nil {
				return err
			}
			if len(args) == 1 {
				f.name = args[0]
			}
			return runDeployment(cmd.Context(), a, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.id, "id", "", "a deployment id, instead of FLOW/DEPLOYMENT")
	fl.StringArrayVarP(&f.params, "param", "p", nil, "flow parameter key=value; the value is read as JSON, or as a string if it is not JSON (repeatable)")
	fl.StringVar(&f.paramsJSON, "params", "", "flow parameters as a JSON object; '-' reads it from stdin")
	fl.StringArrayVar(&f.jobVariables, "job-variable", nil, "job variable key=value for this run, read like --param (repeatable)")
	fl.StringArrayVar(&f.tags, "tag", nil, "flow run tag, added to the deployment's tags (repeatable)")
	fl.StringVar(&f.startIn, "start-in", "", `start after this long, e.g. "5 minutes" or "1h30m"`)
	fl.StringVar(&f.startAt, "start-at", "", `start at this time, e.g. "2026-08-01 17:30" or "tomorrow 9:00"`)
	fl.StringVar(&f.flowRunName, "flow-run-name", "", `flow run name, a Python format string over the parameters, e.g. "run-{name}"`)
	fl.StringVar(&f.idempotencyKey, "idempotency-key", "", "reuse the run created earlier with this key instead of creating another")
	fl.BoolVar(&f.watch, "watch", false, "follow the run's states and logs until it ends")
	fl.Var(secondsFlag{&f.interval}, "watch-interval", "how often to poll the run while watching (seconds or a duration)")
	fl.Var(secondsFlag{&f.timeout}, "timeout", "stop watching after this long and exit 4 (seconds or a duration; 0 = no limit)")
	fl.Var(secondsFlag{&f.timeout}, "watch-timeout", "same as --timeout, Prefect's spelling")
	_ = fl.MarkHidden("watch-timeout")
	addOutputFlag(cmd, &f.output)
	return cmd
}

func runDeployment(ctx context.Context, a *app, f *runFlags) error {
	if f.watch && f.interval < 100*time.Millisecond {
		return usageErr("pass --watch-interval 0.1 or more (seconds), or a duration such as 500ms", "--watch-interval must be at least 100ms, got %s", f.interval)
	}
	// Local input is checked before any setting or API is needed, as in Prefect.
	in, err := readRunInputs(f, a.io.In, time.Now(), time.Local)
	if err != nil {
		return err
	}
	client, settings, err := a.apiClient()
	if err != nil {
		return err
	}
	req, err := flowrun.Prepare(ctx, client, flowrun.Target{Name: f.name, ID: f.id}, in.Inputs)
	if err != nil {
		return withRunHints(err)
	}
	for _, n := range in.notes {
		a.ui.infof("%s", n)
	}
	a.ui.infof("Creating flow run for deployment '%s'...", req.FullName())
	run, created, err := flowrun.Create(ctx, client, req)
	if err != nil {
		return err
	}
	url := flowRunURL(settings, run.ID)
	jsonOut := f.output == "json"
	if jsonOut {
		if !f.watch {
			return writeJSON(a.io.Out, runJSON(req, run, created, url, nil))
		}
	} else {
		printRunSummary(a, req, in.when, run, created, url)
	}
	if !f.watch {
		return nil
	}
	w := a.io.Out
	if jsonOut {
		w = a.io.ErrOut // keep stdout a single JSON document
	}
	fm := &watchFormatter{u: a.ui, w: w}
	final, werr := flowrun.Watch(ctx, client, run.ID, flowrun.WatchOptions{
		Interval: f.interval,
		Timeout:  f.timeout,
		OnState:  fm.state,
		OnLog:    fm.log,
	})
	if jsonOut {
		if err := writeJSON(a.io.Out, runJSON(req, run, created, url, final)); err != nil {
			return err
		}
	}
	if werr != nil {
		if ctx.Err() != nil && url != "" {
			a.ui.infof("Stopped watching; the flow run goes on: %s", url)
		}
		return werr
	}
	if !jsonOut {
		fmt.Fprintf(a.io.Out, "%s\n", a.ui.p.ok.Render("Flow run finished successfully in "+py.Repr(final.State.Name)+"."))
	}
	return nil
}

// flowRunURL is Prefect's url_for(flow_run): the UI URL (Cloud's
// /account/…/workspace/… form included) plus /runs/flow-run/ID.
func flowRunURL(s *config.Settings, id string) string {
	ui := strings.TrimRight(s.UIURL(), "/")
	if ui == "" {
		return ""
	}
	return ui + "/runs/flow-run/" + id
}

func printRunSummary(a *app, req *flowrun.Request, when string, run *cloudapi.FlowRun, created bool, url string) {
	w := a.io.Out
	if created {
		fmt.Fprintf(w, "Created flow run %s.\n", py.Repr(run.Name))
	} else {
		fmt.Fprintf(w, "Found flow run %s created earlier with idempotency key %s; no new run was created.\n", py.Repr(run.Name), py.Repr(req.IdempotencyKey))
	}
	params, jv := any(py.NewMap()), any(py.NewMap())
	if run.Parameters != nil {
		params = run.Parameters
	}
	if run.JobVariables != nil {
		jv = run.JobVariables
	}
	if url == "" {
		url = "<no dashboard available>"
	}
	when = req.Scheduled.In(time.Local).Format("2006-01-02 15:04:05 MST") + " (" + when + ")"
	fmt.Fprintf(w, "└── UUID: %s\n", run.ID)
	fmt.Fprintf(w, "└── Parameters: %s\n", py.Repr(params))
	fmt.Fprintf(w, "└── Job Variables: %s\n", py.Repr(jv))
	fmt.Fprintf(w, "└── Scheduled start time: %s\n", when)
	fmt.Fprintf(w, "└── URL: %s\n", url)
}

func runJSON(req *flowrun.Request, run *cloudapi.FlowRun, created bool, url string, final *cloudapi.FlowRun) *py.Map {
	fr := py.MapOf("id", run.ID, "name", run.Name, "url", nilIfEmpty(url),
		"parameters", mapOrEmpty(run.Parameters), "job_variables", mapOrEmpty(run.JobVariables),
		"tags", stringsAny(run.Tags), "scheduled_start_time", req.Scheduled.UTC().Format(time.RFC3339Nano),
		"state", stateJSON(run.State))
	out := py.MapOf("deployment", req.FullName(), "deployment_id", req.Deployment.ID, "created", created, "flow_run", fr)
	if final != nil {
		out.Set("final_state", stateJSON(final.State))
	}
	return out
}

func stateJSON(s *cloudapi.State) any {
	if s == nil {
		return nil
	}
	var msg any
	if s.Message != nil {
		msg = *s.Message
	}
	return py.MapOf("type", s.Type, "name", s.Name, "message", msg, "timestamp", s.Timestamp.UTC().Format(time.RFC3339Nano))
}

func mapOrEmpty(m *py.Map) *py.Map {
	if m == nil {
		return py.NewMap()
	}
	return m
}

func stringsAny(ss []string) []any {
	out := []any{}
	for _, s := range ss {
		out = append(out, s)
	}
	return out
}

// watchFormatter prints states and logs like Prefect's FlowRunFormatter:
// a time that only repeats the parts that changed, the last 12 characters
// of the run id, then the text.
type watchFormatter struct {
	u    *ui
	w    io.Writer
	last [4]string
	prev time.Time
}

func (f *watchFormatter) stamp(t time.Time) string {
	t = t.UTC()
	cur := [4]string{t.Format("15"), t.Format("04"), t.Format("05"), fmt.Sprintf("%03d", t.Nanosecond()/1e6)}
	defer func() { f.last, f.prev = cur, t }()
	if !f.prev.IsZero() && t.Before(f.prev) {
		return fmt.Sprintf("%s:%s:%s.%s", cur[0], cur[1], cur[2], cur[3])
	}
	from := 3
	for i := range cur {
		if cur[i] != f.last[i] {
			from = i
			break
		}
	}
	var s string
	switch from {
	case 0:
		s = fmt.Sprintf("%s:%s:%s.%s", cur[0], cur[1], cur[2], cur[3])
	case 1:
		s = fmt.Sprintf(":%s:%s.%s", cur[1], cur[2], cur[3])
	case 2:
		s = fmt.Sprintf(":%s.%s", cur[2], cur[3])
	default:
		s = "." + cur[3]
	}
	return fmt.Sprintf("%12s", s)
}

func shortID(id string) string {
	if len(id) > 12 {
		return id[len(id)-12:]
	}
	return fmt.Sprintf("%12s", id)
}

func (f *watchFormatter) state(run *cloudapi.FlowRun, st cloudapi.State) {
	p := f.u.p
	dot := p.dim
	switch st.Type {
	case "COMPLETED":
		dot = p.ok
	case "FAILED", "CRASHED":
		dot = p.err
	case "SCHEDULED":
		dot = p.warn
	case "RUNNING":
		dot = p.key
	}
	fmt.Fprintf(f.w, "%s %s %s prefect.flow-run.%s * %s\n", dot.Render("●"), f.stamp(st.Timestamp), p.dim.Render(shortID(run.ID)), st.Name, p.bold.Render(run.Name))
}

func (f *watchFormatter) log(l cloudapi.Log) {
	id := "............"
	if l.TaskRunID != nil && *l.TaskRunID != "" {
		id = shortID(*l.TaskRunID)
	} else if l.FlowRunID != nil && *l.FlowRunID != "" {
		id = shortID(*l.FlowRunID)
	}
	ts := f.stamp(l.Timestamp)
	lines := strings.Split(l.Message, "\n")
	fmt.Fprintf(f.w, "%s %s %s %s\n", f.u.p.dim.Render("▪"), ts, f.u.p.dim.Render(id), lines[0])
	// Prefect indents continuation lines by the unpadded prefix width.
	indent := strings.Repeat(" ", 2+len(strings.TrimSpace(ts))+1+len(strings.TrimSpace(id))+1)
	for _, line := range lines[1:] {
		fmt.Fprintf(f.w, "%s%s\n", indent, line)
	}
}

// withRunHints phrases the hints of flowrun's errors with the commands
// that help: `deployment ls` for a deployment that does not exist,
// `deployment inspect` for parameters it does not take.
func withRunHints(err error) error {
	var de *diag.Error
	if !errors.As(err, &de) {
		return err
	}
	var nf *flowrun.NotFoundError
	var up *flowrun.UnknownParametersError
	switch {
	case errors.As(err, &nf):
		de.Hint = "list deployments with 'prefectctl deployment ls'"
	case errors.As(err, &up):
		de.Hint = "see the deployment's parameters with 'prefectctl deployment inspect " + up.Deployment + "'"
	}
	return err
}
