// Package jobtemplate renders the infrastructure document a Prefect worker
// would create for a flow run of a deployment — the Kubernetes Job of
// prefect-kubernetes' worker, the container of prefect-docker's worker, or,
// for any other pool type, the job configuration Prefect's base worker
// builds — without starting a run.
//
// It follows Prefect 3.9.1's BaseJobConfiguration.resolve_for_flow_run and
// from_template_and_values (prefect/workers/base.py), then the type's
// prepare_for_flow_run (prefect_kubernetes 0.8.0 worker.py, prefect_docker
// 0.7.4 worker.py):
//
//  1. job variables: the deployment's, then the run's on top (env merged key
//     by key, anything else replaced);
//  2. variables: the defaults of the pool's variable schema (non-null ones
//     only), an env default merged into the template's env, dot-delimited
//     keys ("env.FOO") expanded, then the job variables on top;
//  3. apply_values(job_configuration, variables) with remove_notset, then
//     {{ prefect.blocks.* }} and {{ prefect.variables.* }} from the server;
//  4. the worker's own additions for the run: its settings as environment
//     variables, the run's and worker's ids, labels, the name, the command,
//     and the type-specific ones (Kubernetes: env list, slugified labels on
//     Job and pod, generateName, image and args defaults, SIGTERM behaviour;
//     Docker: label format, container name, network mode, the docker-py
//     create arguments).
//
// Values only the worker knows at run time (the flow run's id and name
// when no run is given, the worker's name and id, its settings) are taken
// from Input when known and otherwise shown as "<…>" markers, listed in
// Result.RunTime.
package jobtemplate

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/prefectctl/prefectctl/internal/diag"
	"github.com/prefectctl/prefectctl/internal/py"
	"github.com/prefectctl/prefectctl/internal/template"
)

// Markers shown for values the worker only knows at run time.
const (
	MarkFlowRunID     = "<flow-run-id>"
	MarkFlowRunName   = "<flow-run-name>"
	MarkWorkerName    = "<worker-name>"
	MarkWorkerID      = "<worker-id>"
	MarkPrefectImage  = "<prefecthq/prefect image of the worker's Prefect and Python versions>"
	MarkWorkerSetting = "<from the worker's settings>"
)

// Input is everything the worker reads for a run.
type Input struct {
	// Pool: its type ("kubernetes", "docker", ...), name, id and
	// base_job_template.
	PoolType, PoolName, PoolID string
	BaseJobTemplate            *py.Map

	// Deployment: id, name, last update (a Kubernetes label) and job
	// variables.
	DeploymentID, DeploymentName string
	DeploymentUpdated            time.Time
	DeploymentJobVariables       *py.Map

	// Flow: id and name; FlowDoc is the flow as the API returns it, for
	// {{ ctx.flow.* }} in a templated name (nil: only id and name).
	FlowID, FlowName string
	FlowDoc          *py.Map

	// FlowRun is the run to render for; nil renders a preview, with
	// markers for the run's id and name.
	FlowRun *FlowRun

	// RunJobVariables are the run's job variables (a run's own, or
	// --job-variable overrides for a preview).
	RunJobVariables *py.Map

	// Worker describes the worker that would submit the run.
	Worker Worker

	// Resolver reads prefect.blocks and prefect.variables placeholders;
	// nil leaves them as they are.
	Resolver template.Resolver
}

// FlowRun is the part of a flow run the worker uses.
type FlowRun struct {
	ID, Name string
	// Doc is the flow run as the API returns it, for {{ ctx.flow_run.* }}
	// in a templated name (nil: only id and name).
	Doc *py.Map
}

// Worker is what the worker process contributes.
type Worker struct {
	// Name and ID of the worker ("" → markers). A worker has an id only
	// on Prefect Cloud (Cloud): a self-hosted server gives none, and the
	// worker then sets no PREFECT__WORKER_ID.
	Name, ID string
	Cloud    bool
	// Settings are the PREFECT_* settings set in the worker's environment,
	// in order, which it passes to every run (Prefect's
	// get_current_settings().to_environment_variables(exclude_unset=True)).
	Settings *py.Map
	// SettingsKnown says Settings is the worker's whole set; otherwise the
	// result notes that the worker may add more.
	SettingsKnown bool
	// PrefectImage is get_prefect_image_name() in the worker, used when
	// nothing sets an image; "" → a marker.
	PrefectImage string
	// PrefectVersion is the worker's Prefect version, for labels ("" →
	// 3.9.1, the version this package follows).
	PrefectVersion string
	// Env resolves {{ $VAR }} placeholders, as the worker's environment
	// would; nil resolves none.
	Env func(string) (string, bool)
}

// Result is a rendered document and how it was made.
type Result struct {
	// Kind is "kubernetes-job", "docker-container" or "job-configuration".
	Kind string `json:"kind"`
	// JobVariables are the merged job variables (deployment, then run).
	JobVariables *py.Map `json:"job_variables"`
	// Variables are what the template was rendered with: schema defaults
	// plus job variables.
	Variables *py.Map `json:"variables"`
	// Configuration is the job configuration after templating, before the
	// worker's additions.
	Configuration *py.Map `json:"configuration"`
	// Document is what the worker submits: the Job manifest, the
	// docker-py containers.create arguments, or the prepared job
	// configuration.
	Document *py.Map `json:"document"`
	// RunTime lists the values the worker fills in at run time and how
	// they are shown here.
	RunTime []RunTimeValue `json:"run_time"`
}

// RunTimeValue is one value filled in by the worker at run time.
type RunTimeValue struct {
	Path   string `json:"path"`
	Source string `json:"source"`
	Shown  string `json:"shown"`
}

// Render renders the document for in.
func Render(ctx context.Context, in Input) (*Result, error) {
	if in.BaseJobTemplate == nil {
		return nil, diag.Errorf(diag.Invalid, "give the pool a base job template (prefect work-pool update --base-job-template FILE)", "work pool %q has no base job template", in.PoolName)
	}
	r := &renderer{in: in, res: &Result{}}
	cfg, err := r.configuration(ctx)
	if err != nil {
		return nil, err
	}
	r.res.Configuration = py.Clone(cfg).(*py.Map)
	switch in.PoolType {
	case "kubernetes":
		r.res.Kind = "kubernetes-job"
		err = r.kubernetes(cfg)
	case "docker":
		r.res.Kind = "docker-container"
		err = r.docker(cfg)
	default:
		r.res.Kind = "job-configuration"
		r.prepareBase(cfg, nil)
		r.res.Document = cfg
	}
	if err != nil {
		return nil, err
	}
	return r.res, nil
}

type renderer struct {
	in  Input
	res *Result
}

func (r *renderer) note(path, source, shown string) {
	r.res.RunTime = append(r.res.RunTime, RunTimeValue{Path: path, Source: source, Shown: shown})
}

// MergeJobVariables is resolve_for_flow_run's merge: the run's env is
// merged into the deployment's env (when that is a mapping); every other
// run variable replaces the deployment's.
func MergeJobVariables(deployment, run *py.Map) *py.Map {
	jv := py.NewMap()
	if deployment != nil {
		jv = py.Clone(deployment).(*py.Map)
	}
	if run == nil {
		return jv
	}
	run = py.Clone(run).(*py.Map)
	if env, ok := getMap(jv, "env"); ok {
		if renv, ok := run.Get("env"); ok {
			if rm, ok := renv.(*py.Map); ok {
				env.Update(rm)
			}
			run.Delete("env")
		}
	}
	jv.Update(run)
	return jv
}

// configuration is from_template_and_values: the job configuration with
// the variables applied and blocks and variables resolved.
func (r *renderer) configuration(ctx context.Context) (*py.Map, error) {
	tmpl := r.in.BaseJobTemplate
	jc, ok := getMap(tmpl, "job_configuration")
	if !ok {
		return nil, diag.Errorf(diag.Invalid, "a base job template has two parts, job_configuration and variables; see `prefect work-pool get-default-base-job-template`",
			"work pool %q's base job template has no job_configuration", r.in.PoolName)
	}
	base := py.Clone(jc).(*py.Map)
	variables := py.NewMap()
	if schema, ok := getMap(tmpl, "variables"); ok {
		if props, ok := getMap(schema, "properties"); ok {
			for _, k := range props.Keys() {
				attrs, _ := props.Get(k)
				if am, ok := attrs.(*py.Map); ok {
					if d, ok := am.Get("default"); ok && d != nil {
						variables.Set(k, py.Clone(d))
					}
				}
			}
		}
	}
	if envDefault, ok := variables.Get("env"); ok && py.Truthy(envDefault) {
		if be, ok := getMap(base, "env"); ok {
			if dm, ok := envDefault.(*py.Map); ok {
				merged := py.Clone(be).(*py.Map)
				merged.Update(py.Clone(dm).(*py.Map))
				base.Set("env", merged)
			}
		} else {
			base.Set("env", py.Clone(envDefault))
		}
	}
	jv := MergeJobVariables(r.in.DeploymentJobVariables, r.in.RunJobVariables)
	r.res.JobVariables = py.Clone(jv).(*py.Map)
	transformed := py.NewMap()
	for _, k := range jv.Keys() {
		if strings.Contains(k, ".") {
			v, _ := jv.Get(k)
			if err := setInDict(transformed, k, py.Clone(v)); err != nil {
				return nil, &diag.Error{Kind: diag.Invalid, Path: "job_variables." + k, Msg: err.Error(),
					Hint: "a dotted job variable (env.FOO) needs a mapping at each step of its path"}
			}
		}
	}
	for _, k := range jv.Keys() {
		if strings.Contains(k, ".") {
			continue
		}
		v, _ := jv.Get(k)
		cur, _ := transformed.Get(k)
		cm, curIsMap := cur.(*py.Map)
		vm, vIsMap := v.(*py.Map)
		if transformed.Has(k) && curIsMap && vIsMap {
			transformed.Set(k, deepMerge(cm, vm))
		} else {
			transformed.Set(k, py.Clone(v))
		}
	}
	variables.Update(transformed)
	if be, ok := getMap(base, "env"); ok {
		if denv, ok := variables.Get("env"); ok && py.Truthy(denv) {
			if dm, ok := denv.(*py.Map); ok {
				merged := py.Clone(be).(*py.Map)
				merged.Update(py.Clone(dm).(*py.Map))
				base.Set("env", merged)
			}
		}
	}
	r.res.Variables = py.Clone(variables).(*py.Map)
	envLookup := r.in.Worker.Env
	if envLookup == nil {
		envLookup = func(string) (string, bool) { return "", false }
	}
	out, err := template.ApplyValues(base, variables, template.Options{RemoveNotSet: true, Env: envLookup})
	if err != nil {
		return nil, err
	}
	if r.in.Resolver != nil {
		if out, err = template.ResolveBlockReferences(ctx, out, r.in.Resolver); err != nil {
			return nil, err
		}
		if out, err = template.ResolveVariables(ctx, out, r.in.Resolver); err != nil {
			return nil, err
		}
	}
	cfg, ok := out.(*py.Map)
	if !ok {
		return nil, diag.Errorf(diag.Invalid, "check the pool's base job template", "work pool %q: the rendered job configuration is not a mapping", r.in.PoolName)
	}
	return cfg, nil
}

// setInDict is Prefect's set_in_dict for a dotted key ("a.b[0]" → a, b, 0).
func setInDict(d *py.Map, key string, v any) error {
	keys := strings.Split(strings.ReplaceAll(strings.ReplaceAll(key, "[", "."), "]", ""), ".")
	cur := d
	for _, k := range keys[:len(keys)-1] {
		next, ok := cur.Get(k)
		if !ok {
			m := py.NewMap()
			cur.Set(k, m)
			cur = m
			continue
		}
		m, isMap := next.(*py.Map)
		if !isMap {
			return fmt.Errorf("Key path exists and contains a non-dict value: %s", py.Repr(anyStrings(keys)))
		}
		cur = m
	}
	cur.Set(keys[len(keys)-1], v)
	return nil
}

func anyStrings(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// deepMerge is Prefect's deep_merge: a copy of a with b merged in,
// mappings recursively.
func deepMerge(a, b *py.Map) *py.Map {
	out := py.Clone(a).(*py.Map)
	for _, k := range b.Keys() {
		bv, _ := b.Get(k)
		av, _ := out.Get(k)
		am, aIsMap := av.(*py.Map)
		bm, bIsMap := bv.(*py.Map)
		if out.Has(k) && aIsMap && bIsMap {
			out.Set(k, deepMerge(am, bm))
		} else {
			out.Set(k, py.Clone(bv))
		}
	}
	return out
}

func getMap(m *py.Map, k string) (*py.Map, bool) {
	if m == nil {
		return nil, false
	}
	v, ok := m.Get(k)
	if !ok {
		return nil, false
	}
	mm, ok := v.(*py.Map)
	return mm, ok && mm != nil
}

// pyStrValues is the job configurations' env validator: each non-null
// value becomes Python's str() of it.
func pyStrValues(m *py.Map) *py.Map {
	out := py.NewMap()
	for _, k := range m.Keys() {
		v, _ := m.Get(k)
		if v != nil {
			v = py.Str(v)
		}
		out.Set(k, v)
	}
	return out
}

func (r *renderer) flowRunID() string {
	if r.in.FlowRun != nil {
		return r.in.FlowRun.ID
	}
	return MarkFlowRunID
}

func (r *renderer) flowRunName() string {
	if r.in.FlowRun != nil {
		return r.in.FlowRun.Name
	}
	return MarkFlowRunName
}

func (r *renderer) prefectVersion() string {
	if r.in.Worker.PrefectVersion != "" {
		return r.in.Worker.PrefectVersion
	}
	return "3.9.1"
}

// baseEnv is the worker's additions to env, in Prefect's order: its
// settings, the run's id, then the attribution variables.
func (r *renderer) baseEnv(settings *py.Map) *py.Map {
	env := py.NewMap()
	if settings != nil {
		env.Update(settings)
	}
	if !r.in.Worker.SettingsKnown {
		r.note("env", "the PREFECT_* settings set in the worker's own environment (e.g. PREFECT_API_URL, PREFECT_API_KEY)",
			"the API URL prefectctl uses and Prefect's default-profile setting, or those given with --worker-env; the worker adds any other it has")
	}
	env.Set("PREFECT__FLOW_RUN_ID", r.flowRunID())
	if r.in.FlowRun == nil {
		r.note("env.PREFECT__FLOW_RUN_ID", "the flow run's id", MarkFlowRunID)
	}
	switch {
	case r.in.Worker.ID != "":
		env.Set("PREFECT__WORKER_ID", r.in.Worker.ID)
	case r.in.Worker.Cloud:
		env.Set("PREFECT__WORKER_ID", MarkWorkerID)
		r.note("env.PREFECT__WORKER_ID", "the worker's id on Prefect Cloud", MarkWorkerID)
	}
	env.Set("PREFECT__WORKER_NAME", r.workerName())
	if r.in.FlowID != "" {
		env.Set("PREFECT__FLOW_ID", r.in.FlowID)
	}
	if r.in.FlowName != "" {
		env.Set("PREFECT__FLOW_NAME", r.in.FlowName)
	}
	if r.in.DeploymentID != "" {
		env.Set("PREFECT__DEPLOYMENT_ID", r.in.DeploymentID)
	}
	if r.in.DeploymentName != "" {
		env.Set("PREFECT__DEPLOYMENT_NAME", r.in.DeploymentName)
	}
	return env
}

func (r *renderer) workerName() string {
	if r.in.Worker.Name != "" {
		return r.in.Worker.Name
	}
	return MarkWorkerName
}

// baseLabels is the base worker's labels for a run; typ adds or replaces
// the type-specific ones (Kubernetes' app.kubernetes.io labels).
func (r *renderer) baseLabels() *py.Map {
	l := py.NewMap()
	l.Set("prefect.io/flow-run-id", r.flowRunID())
	l.Set("prefect.io/flow-run-name", r.flowRunName())
	l.Set("prefect.io/version", r.prefectVersion())
	if r.in.PoolName != "" {
		l.Set("prefect.io/work-pool-name", r.in.PoolName)
		l.Set("prefect.io/work-pool-id", r.in.PoolID)
	}
	l.Set("prefect.io/worker-name", r.workerName())
	if r.in.Worker.Name == "" {
		r.note("labels.prefect.io/worker-name", "the worker's name", MarkWorkerName)
	}
	if r.in.FlowID != "" {
		l.Set("prefect.io/flow-id", r.in.FlowID)
		l.Set("prefect.io/flow-name", r.in.FlowName)
	}
	if r.in.DeploymentID != "" {
		l.Set("prefect.io/deployment-id", r.in.DeploymentID)
		l.Set("prefect.io/deployment-name", r.in.DeploymentName)
		if !r.in.DeploymentUpdated.IsZero() {
			l.Set("prefect.io/deployment-updated", pyISOFormatUTC(r.in.DeploymentUpdated))
		}
	}
	return l
}

// pyISOFormatUTC is datetime.astimezone(UTC).isoformat().
func pyISOFormatUTC(t time.Time) string {
	t = t.UTC()
	s := t.Format("2006-01-02T15:04:05")
	if us := t.Nanosecond() / 1000; us != 0 {
		s += fmt.Sprintf(".%06d", us)
	}
	return s + "+00:00"
}

// prepareBase is BaseJobConfiguration.prepare_for_flow_run on the
// configuration mapping: env, labels, name and command. labels, when not
// nil, replaces the base labels (a worker type's own set).
func (r *renderer) prepareBase(cfg *py.Map, labels *py.Map) {
	settings := r.in.Worker.Settings
	env := r.baseEnv(settings)
	if own, ok := getMap(cfg, "env"); ok {
		env.Update(pyStrValues(own))
	}
	clean := py.NewMap()
	for _, k := range env.Keys() {
		if v, _ := env.Get(k); v != nil {
			clean.Set(k, v)
		}
	}
	cfg.Set("env", clean)
	if labels == nil {
		labels = r.baseLabels()
	}
	if own, ok := getMap(cfg, "labels"); ok {
		labels.Update(own)
	}
	cfg.Set("labels", labels)
	name, _ := cfg.Get("name")
	if s, ok := name.(string); ok && s != "" {
		rendered, _ := template.ApplyValues(s, py.MapOf("ctx", py.MapOf("flow", r.flowDoc(), "flow_run", r.flowRunDoc())),
			template.Options{RemoveNotSet: true, Env: func(string) (string, bool) { return "", false }})
		if rs, ok := rendered.(string); ok {
			name = rs
		}
	}
	if s, ok := name.(string); !ok || s == "" {
		name = r.flowRunName()
		if r.in.FlowRun == nil {
			r.note("name", "the flow run's name (no name in the job configuration)", MarkFlowRunName)
		}
	}
	cfg.Set("name", name)
	if c, _ := cfg.Get("command"); c == nil || c == "" {
		cfg.Set("command", "prefect flow-run execute")
	}
}

func (r *renderer) flowDoc() *py.Map {
	if r.in.FlowDoc != nil {
		return r.in.FlowDoc
	}
	return py.MapOf("id", r.in.FlowID, "name", r.in.FlowName)
}

func (r *renderer) flowRunDoc() *py.Map {
	if r.in.FlowRun != nil && r.in.FlowRun.Doc != nil {
		return r.in.FlowRun.Doc
	}
	return py.MapOf("id", r.flowRunID(), "name", r.flowRunName())
}
