package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"github.com/prefectctl/prefectctl/internal/cloudapi"
	"github.com/prefectctl/prefectctl/internal/config"
	"github.com/prefectctl/prefectctl/internal/deploy"
	"github.com/prefectctl/prefectctl/internal/diag"
	"github.com/prefectctl/prefectctl/internal/py"
)

func newDeploymentCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "deployment",
		Aliases: []string{"deployments"},
		Short:   "Run, list and inspect deployments on the Prefect server",
	}
	cmd.AddCommand(newDeploymentRunCmd(a), newDeploymentLsCmd(a), newDeploymentInspectCmd(a))
	return cmd
}

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

type runFlags struct {
	o        deploy.RunOptions
	watch    bool
	interval time.Duration
	timeout  time.Duration
	output   string
}

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
				f.o.Name = args[0]
			}
			f.o.Stdin = a.io.In
			return runDeployment(cmd.Context(), a, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.o.ID, "id", "", "a deployment id, instead of FLOW/DEPLOYMENT")
	fl.StringArrayVarP(&f.o.Params, "param", "p", nil, "flow parameter key=value; the value is read as JSON, or as a string if it is not JSON (repeatable)")
	fl.StringVar(&f.o.ParamsJSON, "params", "", "flow parameters as a JSON object; '-' reads it from stdin")
	fl.StringArrayVar(&f.o.JobVariables, "job-variable", nil, "job variable key=value for this run, read like --param (repeatable)")
	fl.StringArrayVar(&f.o.Tags, "tag", nil, "flow run tag, added to the deployment's tags (repeatable)")
	fl.StringVar(&f.o.StartIn, "start-in", "", `start after this long, e.g. "5 minutes" or "1h30m"`)
	fl.StringVar(&f.o.StartAt, "start-at", "", `start at this time, e.g. "2026-08-01 17:30" or "tomorrow 9:00"`)
	fl.StringVar(&f.o.FlowRunName, "flow-run-name", "", `flow run name, a Python format string over the parameters, e.g. "run-{name}"`)
	fl.StringVar(&f.o.IdempotencyKey, "idempotency-key", "", "reuse the run created earlier with this key instead of creating another")
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
	plan, err := deploy.ParseRunInputs(f.o)
	if err != nil {
		return err
	}
	client, settings, err := a.apiClient()
	if err != nil {
		return err
	}
	if err := plan.Resolve(ctx, client, f.o); err != nil {
		return err
	}
	for _, n := range plan.Notes {
		a.ui.infof("%s", n)
	}
	a.ui.infof("Creating flow run for deployment '%s'...", plan.FullName())
	run, created, err := plan.Create(ctx, client)
	if err != nil {
		return err
	}
	url := flowRunURL(settings, run.ID)
	jsonOut := f.output == "json"
	if jsonOut {
		if !f.watch {
			return writeJSON(a.io.Out, runJSON(plan, run, created, url, nil))
		}
	} else {
		printRunSummary(a, plan, run, created, url)
	}
	if !f.watch {
		return nil
	}
	w := a.io.Out
	if jsonOut {
		w = a.io.ErrOut // keep stdout a single JSON document
	}
	fm := &watchFormatter{u: a.ui, w: w}
	final, werr := deploy.Watch(ctx, client, run.ID, deploy.WatchOptions{
		Interval: f.interval,
		Timeout:  f.timeout,
		OnState:  fm.state,
		OnLog:    fm.log,
	})
	if jsonOut {
		if err := writeJSON(a.io.Out, runJSON(plan, run, created, url, final)); err != nil {
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

func printRunSummary(a *app, plan *deploy.RunPlan, run *cloudapi.FlowRun, created bool, url string) {
	w := a.io.Out
	if created {
		fmt.Fprintf(w, "Created flow run %s.\n", py.Repr(run.Name))
	} else {
		fmt.Fprintf(w, "Found flow run %s created earlier with idempotency key %s; no new run was created.\n", py.Repr(run.Name), py.Repr(plan.IdempotencyKey))
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
	when := plan.Scheduled.In(time.Local).Format("2006-01-02 15:04:05 MST") + " (" + plan.When + ")"
	fmt.Fprintf(w, "└── UUID: %s\n", run.ID)
	fmt.Fprintf(w, "└── Parameters: %s\n", py.Repr(params))
	fmt.Fprintf(w, "└── Job Variables: %s\n", py.Repr(jv))
	fmt.Fprintf(w, "└── Scheduled start time: %s\n", when)
	fmt.Fprintf(w, "└── URL: %s\n", url)
}

func runJSON(plan *deploy.RunPlan, run *cloudapi.FlowRun, created bool, url string, final *cloudapi.FlowRun) *py.Map {
	fr := py.MapOf("id", run.ID, "name", run.Name, "url", nilIfEmpty(url),
		"parameters", mapOrEmpty(run.Parameters), "job_variables", mapOrEmpty(run.JobVariables),
		"tags", stringsAny(run.Tags), "scheduled_start_time", plan.Scheduled.UTC().Format(time.RFC3339Nano),
		"state", stateJSON(run.State))
	out := py.MapOf("deployment", plan.FullName(), "deployment_id", plan.Deployment.ID, "created", created, "flow_run", fr)
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

// ---- ls ----

func newDeploymentLsCmd(a *app) *cobra.Command {
	var output string
	var byCreated bool
	cmd := &cobra.Command{
		Use:     "ls [FLOW_NAME...]",
		Aliases: []string{"list"},
		Short:   "List deployments, optionally only those of some flows",
		Example: `  prefectctl deployment ls
  prefectctl deployment ls hello -o json`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			client, _, err := a.apiClient()
			if err != nil {
				return err
			}
			deps, flows, err := listDeployments(cmd.Context(), client, args)
			if err != nil {
				return err
			}
			if output == "json" { // in the server's order, as Prefect prints it
				items := []any{}
				for _, d := range deps {
					doc, err := deploymentDoc(d)
					if err != nil {
						return err
					}
					items = append(items, doc)
				}
				return writeJSON(a.io.Out, items)
			}
			name := func(d cloudapi.Deployment) string { return flows[d.FlowID] + "/" + d.Name }
			sort.SliceStable(deps, func(i, j int) bool {
				if byCreated {
					return deps[i].Created.After(deps[j].Created)
				}
				fi, fj := flows[deps[i].FlowID], flows[deps[j].FlowID]
				if fi != fj {
					return fi < fj
				}
				return deps[i].Name < deps[j].Name
			})
			if len(deps) == 0 {
				a.ui.infof("No deployments found.")
				return nil
			}
			tw := tabwriter.NewWriter(a.io.Out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tID\tWORK POOL\tSCHEDULES\tPAUSED")
			for _, d := range deps {
				pool := "-"
				if d.WorkPoolName != nil && *d.WorkPoolName != "" {
					pool = *d.WorkPoolName
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", name(d), d.ID, pool, scheduleSummary(d.Schedules), yesNo(d.Paused))
			}
			return tw.Flush()
		},
	}
	addOutputFlag(cmd, &output)
	cmd.Flags().BoolVar(&byCreated, "by-created", false, "newest first instead of by name")
	return cmd
}

// listDeployments reads every deployment (page by page; the server caps a
// page at 200) and the names of their flows.
func listDeployments(ctx context.Context, c *cloudapi.Client, flowNames []string) ([]cloudapi.Deployment, map[string]string, error) {
	const page = 200
	var all []cloudapi.Deployment
	for offset := 0; ; offset += page {
		body := py.MapOf("limit", int64(page), "offset", int64(offset), "sort", "NAME_ASC")
		if len(flowNames) > 0 {
			body.Set("flows", py.MapOf("name", py.MapOf("any_", stringsAny(flowNames))))
		}
		got, err := c.FilterDeployments(ctx, body)
		if err != nil {
			return nil, nil, err
		}
		all = append(all, got...)
		if len(got) < page {
			break
		}
	}
	ids := map[string]bool{}
	var idList []any
	for _, d := range all {
		if !ids[d.FlowID] {
			ids[d.FlowID] = true
			idList = append(idList, d.FlowID)
		}
	}
	flows := map[string]string{}
	for start := 0; start < len(idList); start += page {
		chunk := idList[start:min(start+page, len(idList))]
		got, err := c.FilterFlows(ctx, py.MapOf("flows", py.MapOf("id", py.MapOf("any_", chunk)), "limit", int64(page)))
		if err != nil {
			return nil, nil, err
		}
		for _, f := range got {
			flows[f.ID] = f.Name
		}
	}
	return all, flows, nil
}

// shortDuration drops zero tails: 10m rather than 10m0s, 1h rather than 1h0m0s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// scheduleSummary is a short description of a deployment's schedules.
func scheduleSummary(ss []cloudapi.Schedule) string {
	var parts []string
	for _, s := range ss {
		if s.Schedule == nil {
			continue
		}
		var p string
		if v, ok := s.Schedule.Get("cron"); ok {
			p = "cron " + py.Str(v)
		} else if v, ok := s.Schedule.Get("interval"); ok {
			if f, ok := v.(float64); ok {
				p = "every " + shortDuration(time.Duration(f*float64(time.Second)))
			} else {
				p = "every " + py.Str(v) + "s"
			}
		} else if _, ok := s.Schedule.Get("rrule"); ok {
			p = "rrule"
		} else {
			continue
		}
		if !s.Active {
			p += " (inactive)"
		}
		parts = append(parts, p)
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, ", ")
}

// ---- inspect ----

func newDeploymentInspectCmd(a *app) *cobra.Command {
	var output, id string
	jf := &jobFlags{}
	cmd := &cobra.Command{
		Use:   "inspect FLOW/DEPLOYMENT | --id ID",
		Short: "Show everything the server holds for a deployment",
		Long: `Show a deployment as the server returns it, plus the automations related to it,
as 'prefect deployment inspect' does. -o json prints the JSON document; the
default is the same content as YAML.`,
		Example: `  prefectctl deployment inspect hello/arthur
  prefectctl deployment inspect hello/arthur -o json`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			name := ""
			if len(args) == 1 {
				name = args[0]
			}
			client, _, err := a.apiClient()
			if err != nil {
				return err
			}
			if err := jf.check(cmd); err != nil {
				return err
			}
			d, err := deploy.ResolveDeployment(cmd.Context(), client, name, id)
			if err != nil {
				return err
			}
			if jf.job {
				return inspectJob(cmd.Context(), a, client, d, jf, output)
			}
			doc, err := deploymentDoc(*d)
			if err != nil {
				return err
			}
			autos, err := client.ReadRelatedAutomations(cmd.Context(), "prefect.deployment."+d.ID)
			if err != nil && !errors.Is(err, cloudapi.ErrNotFound) { // servers without automations answer 404
				return err
			}
			list := []any{}
			for _, m := range autos {
				list = append(list, m)
			}
			doc.Set("automations", list)
			if output == "json" {
				return writeJSON(a.io.Out, doc)
			}
			enc := yaml.NewEncoder(a.io.Out)
			enc.SetIndent(2)
			if err := enc.Encode(yamlNode(doc)); err != nil {
				return err
			}
			return enc.Close()
		},
	}
	cmd.Flags().StringVar(&id, "id", "", "a deployment id, instead of FLOW/DEPLOYMENT")
	addOutputFlag(cmd, &output)
	addInspectJobFlags(cmd, jf)
	return cmd
}

// Field orders of Prefect 3.9.1's client models DeploymentResponse and
// DeploymentSchedule, which `prefect deployment inspect/ls -o json` print.
var (
	deploymentFields = []string{"id", "created", "updated", "name", "version", "version_id", "version_info", "branch", "base", "root",
		"description", "flow_id", "concurrency_limit", "global_concurrency_limit", "concurrency_options", "paused", "schedules",
		"job_variables", "parameters", "pull_steps", "tags", "labels", "work_queue_name", "last_polled", "parameter_openapi_schema",
		"path", "entrypoint", "storage_document_id", "infrastructure_document_id", "created_by", "updated_by", "work_queue_id",
		"enforce_parameter_schema", "work_pool_name", "status"}
	scheduleFields = []string{"id", "created", "updated", "deployment_id", "schedule", "active", "max_scheduled_runs", "parameters", "slug"}
)

// deploymentDoc is a deployment as Prefect's CLI prints it: the client
// model's fields in its order, null when the server did not send one.
// Fields a newer server adds, which Prefect 3.9.1 would drop, are kept at
// the end.
func deploymentDoc(d cloudapi.Deployment) (*py.Map, error) {
	v, err := py.DecodeJSON(d.Raw)
	raw, ok := v.(*py.Map)
	if err != nil || !ok {
		return nil, diag.Errorf(diag.Runtime, "", "the server's answer for deployment %s is not a JSON object", d.ID)
	}
	doc := inModelOrder(raw, deploymentFields)
	if ss, ok := doc.Get("schedules"); ok {
		if list, ok := ss.([]any); ok {
			for i, s := range list {
				if m, ok := s.(*py.Map); ok {
					list[i] = inModelOrder(m, scheduleFields)
				}
			}
		}
	}
	return doc, nil
}

func inModelOrder(raw *py.Map, fields []string) *py.Map {
	out := py.NewMap()
	for _, k := range fields {
		v, _ := raw.Get(k)
		out.Set(k, v)
	}
	for _, k := range raw.Keys() {
		if !out.Has(k) {
			v, _ := raw.Get(k)
			out.Set(k, v)
		}
	}
	return out
}

// yamlNode converts a dynamic value to a YAML node, keeping map order.
func yamlNode(v any) *yaml.Node {
	switch t := v.(type) {
	case *py.Map:
		n := &yaml.Node{Kind: yaml.MappingNode}
		for _, k := range t.Keys() {
			x, _ := t.Get(k)
			n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: k}, yamlNode(x))
		}
		return n
	case []any:
		n := &yaml.Node{Kind: yaml.SequenceNode}
		for _, x := range t {
			n.Content = append(n.Content, yamlNode(x))
		}
		return n
	case nil:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}
	case string:
		n := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: t}
		if strings.Contains(t, "\n") {
			n.Style = yaml.LiteralStyle
		}
		return n
	case bool:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: strconv.FormatBool(t)}
	case int64:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.FormatInt(t, 10)}
	case float64:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!float", Value: py.FloatRepr(t)}
	}
	return &yaml.Node{Kind: yaml.ScalarNode, Value: py.Str(v)}
}
