package deploy

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync/atomic"

	"github.com/prefectctl/prefectctl/internal/cloudapi"
	"github.com/prefectctl/prefectctl/internal/diag"
	"github.com/prefectctl/prefectctl/internal/jsonschema"
	"github.com/prefectctl/prefectctl/internal/memo"
	"github.com/prefectctl/prefectctl/internal/project"
	"github.com/prefectctl/prefectctl/internal/py"
	"github.com/prefectctl/prefectctl/internal/steps"
	"github.com/prefectctl/prefectctl/internal/steps/docker"
	"github.com/prefectctl/prefectctl/internal/template"
)

// EventKind says what happened to a deployment during an apply.
type EventKind string

const (
	EventPrepared     EventKind = "prepared"
	EventRunningSteps EventKind = "running-steps"
	EventSteps        EventKind = "steps"
	EventRegistering  EventKind = "registering"
	EventApplied      EventKind = "applied"
	EventFailed       EventKind = "failed"
	EventSkipped      EventKind = "skipped"
	// EventRollingBack and EventRolledBack are --atomic's rollback of a
	// deployment the Apply wrote to.
	EventRollingBack EventKind = "rolling-back"
	EventRolledBack  EventKind = "rolled-back"
	// EventImage says how an image will be made: "full build" or "code
	// layer", and why.
	EventImage EventKind = "image"
)

// Event reports progress; the CLI renders it.
type Event struct {
	Kind    EventKind
	Name    string // flow/deployment
	Message string
}

// Result is the outcome for one deployment.
type Result struct {
	Name         string // flow/deployment
	ID           string
	Action       string   // created, updated, unchanged, failed, not-applied
	Changes      []Change // for an update: what differs from the server
	WorkPool     string
	Error        error
	Image        string
	WorkerOnline bool
	Spec         *Spec

	// mayHaveDeleted are automations whose deletion is not settled yet.
	mayHaveDeleted []*py.Map

	// Images says how each of the deployment's images was made.
	Images []*docker.Decision
}

// Report is the outcome of Apply.
type Report struct {
	Results []*Result
	// Snapshot is the server's state for the selection as it was before
	// anything was written (nil when Apply stopped before reading it).
	Snapshot *Snapshot
	// Prune are the project's marked deployments that prefect.yaml no
	// longer defines (with Options.Prune): what Prune would remove once
	// the whole run has succeeded. Apply itself never prunes.
	Prune []*PruneItem
	// Rollback is what --atomic put back after a failure (nil when it
	// did not run).
	Rollback *Rollback

	journal *journal // what was written, for a rollback
}

// Failed reports whether any deployment was not applied.
func (r *Report) Failed() bool {
	for _, x := range r.Results {
		if x.Action != "created" && x.Action != "updated" && x.Action != "unchanged" {
			return true
		}
	}
	return false
}

// Apply deploys the selected deployments: it prepares all of them, reads
// the server's state for the whole selection (a Snapshot) and checks their
// work pools before any step runs (so a bad deployment stops everything
// before anything is built or registered), then runs the build and push
// steps, then registers the deployments, as many at once as the API
// client's limiter allows, sending only what differs from the snapshot.
func Apply(ctx context.Context, p *project.Project, sel *project.Selection, opt Options, deps Deps) (*Report, error) {
	if err := deps.online(); err != nil {
		return nil, err
	}
	// Phase 1: prepare, read the server, preflight.
	ds, snap, problems := prepareAll(ctx, p, sel, opt, deps, true)
	if len(problems) > 0 {
		return nil, problems
	}
	restorer, canRestore := deps.API.(RestoreAPI)
	if opt.Atomic && !canRestore {
		return nil, errors.New("deploy: --atomic needs an API client that can read and delete what it restores")
	}
	a := &applier{opt: opt, deps: deps, snap: snap, journal: newJournal()}
	for _, d := range ds {
		deps.emit(EventPrepared, d.FullName(), "ready")
	}

	// Phase 2: steps, in order, one deployment after the other as prefect
	// deploy runs them; identical Docker steps run once (memoised).
	report := &Report{Snapshot: snap, journal: a.journal}
	// Known now so that a deploy that stops early reports them, not pruned;
	// decided again below with the names the steps completed.
	prepared := make([]Key, len(ds))
	for i, d := range ds {
		prepared[i] = preparedKey(d)
	}
	report.Prune = snap.PruneCandidates(opt.Prune, prepared)
	specs := make([]*Spec, len(ds))
	for i, d := range ds {
		emitImages(deps, d)
		deps.emit(EventRunningSteps, d.FullName(), "running build and push steps")
		outputs, err := runSteps(ctx, d, opt, deps)
		if err == nil {
			specs[i], err = Finalize(d, outputs, false, deps.now(), opt, deps)
		}
		if err == nil {
			err = finalParameters(ctx, p, d, specs[i], snap, deps)
		}
		if err == nil && opt.PinDigests && deps.Images != nil {
			err = pinImage(specs[i], deps.Images.Pushed())
		}
		if err != nil {
			// Nothing is registered when a step fails: the images of the
			// deployments before it may be pushed, but no deployment points
			// at them yet.
			report.Results = notApplied(ds, i, err)
			deps.emit(EventFailed, d.FullName(), "%v", err)
			return report, err
		}
		deps.emit(EventSteps, d.FullName(), "steps done")
	}
	// A name that a step's output completed was not in the snapshot yet.
	keys := make([]Key, len(specs))
	for i, s := range specs {
		keys[i] = keyOf(s)
	}
	if err := snap.Extend(ctx, deps.API, keys); err != nil {
		report.Results = notApplied(ds, -1, nil)
		return report, err
	}

	// Phase 3: register.
	report.Results = a.registerAll(ctx, ds, specs)
	report.Prune = snap.PruneCandidates(opt.Prune, keys)
	if opt.Project != "" {
		for _, w := range markWarnings(snap, keys, opt.Project) {
			deps.warn(w)
		}
	}
	var firstErr error
	for _, r := range report.Results {
		if r.Error != nil {
			firstErr = r.Error
			break
		}
	}
	if firstErr == nil && ctx.Err() != nil && report.Failed() {
		firstErr = ctx.Err() // interrupted before every registration started
	}
	if opt.Atomic && firstErr != nil {
		report.Rollback = RollBack(ctx, restorer, report, deps.Progress)
	}
	return report, firstErr
}

// RollBack puts back what a finished Apply wrote (its report's journal)
// as the report's snapshot found it: --atomic. Apply calls it itself when
// it fails; a run of several projects calls it for the projects applied
// before the one that failed. It runs even when ctx is cancelled (an
// interrupt must not stop it), bounded in time.
// progress, when not nil, hears of each deployment as its rollback starts
// and ends.
func RollBack(ctx context.Context, api RestoreAPI, report *Report, progress func(Event)) *Rollback {
	if report == nil || report.Snapshot == nil || report.journal == nil || report.journal.empty() {
		return &Rollback{}
	}
	emit := Deps{Progress: progress}.emit
	for _, k := range report.journal.keys() {
		emit(EventRollingBack, k.String(), "rolling back (--atomic)")
	}
	rb := rollback(ctx, api, report.Snapshot, report.journal)
	for _, it := range rb.Deployments {
		if it.Action == "failed" {
			emit(EventFailed, it.Name, "rollback failed: %v", it.Error)
		} else {
			emit(EventRolledBack, it.Name, "rolled back: %s", it.Action)
		}
	}
	undone := map[string]bool{}
	for _, it := range rb.Deployments {
		undone[it.Name] = it.Action != "failed"
	}
	for _, r := range report.Results {
		if (r.Action == "created" || r.Action == "updated") && undone[r.Name] {
			r.Action = "rolled-back"
		}
	}
	return rb
}

// notApplied is the result of a deploy that stopped before registering:
// every deployment not applied, the one at failed (if any) failed with err.
func notApplied(ds []*Deployment, failed int, err error) []*Result {
	out := make([]*Result, len(ds))
	for j, d := range ds {
		out[j] = &Result{Name: d.FullName(), Action: "not-applied", WorkPool: d.WorkPool}
		if j == failed {
			out[j].Action, out[j].Error = "failed", err
		}
	}
	return out
}

// registerAll registers the deployments, keeping as many registrations in
// flight as the API client's limiter allows at the time (each registration
// sends its requests one after the other). After the first failure no
// further registration starts.
func (a *applier) registerAll(ctx context.Context, ds []*Deployment, specs []*Spec) []*Result {
	results := make([]*Result, len(ds))
	done := make(chan struct{}, len(ds))
	var failed atomic.Bool
	running := 0
	for i, d := range ds {
		for running > 0 && running >= a.deps.API.InFlightLimit() {
			<-done
			running--
		}
		if failed.Load() || ctx.Err() != nil {
			results[i] = &Result{Name: d.FullName(), Action: "not-applied", WorkPool: d.WorkPool}
			continue
		}
		running++
		go func() {
			defer func() { done <- struct{}{} }()
			a.deps.emit(EventRegistering, d.FullName(), "registering")
			r := a.register(ctx, d, specs[i])
			r.Images = d.Decisions()
			results[i] = r
			switch {
			case r.Error != nil:
				failed.Store(true)
				a.deps.emit(EventFailed, d.FullName(), "%v", r.Error)
			case r.mayHaveDeleted == nil:
				a.deps.emit(EventApplied, d.FullName(), "%s %s", r.Action, r.ID)
			}
		}()
	}
	for ; running > 0; running-- {
		<-done
	}
	a.settleDeletedAutomations(ctx, results)
	return results
}

// preflightPools checks each deployment's work pool, as the snapshot read
// it: that it exists and can run prefect.yaml deployments, as prefect
// deploy checks, and the job variables against the pool's schema.
func preflightPools(ctx context.Context, c ServerReader, ds []*Deployment, snap *Snapshot) diag.List {
	var problems diag.List
	hinted := map[string]string{}
	for _, d := range ds {
		pool := snap.Pools[d.WorkPool]
		if pool == nil {
			hint, ok := hinted[d.WorkPool]
			if !ok {
				hint = poolHint(ctx, c, d.WorkPool)
				hinted[d.WorkPool] = hint
			}
			problems = append(problems, &diag.Error{Kind: diag.Invalid, Path: d.FullName() + ".work_pool.name",
				Msg:  fmt.Sprintf("work pool %q does not exist, so no worker could pick up this deployment's runs", d.WorkPool),
				Hint: hint})
			continue
		}
		if pool.Type == "prefect-agent" {
			problems = append(problems, &diag.Error{Kind: diag.Invalid, Path: d.FullName() + ".work_pool.name",
				Msg:  fmt.Sprintf("work pool %q has type 'prefect-agent', which cannot run prefect.yaml deployments", d.WorkPool),
				Hint: "choose a work pool of another type (process, docker, kubernetes, ...)"})
			continue
		}
		problems = append(problems, checkJobVariables(d, pool)...)
	}
	return problems
}

// checkJobVariables checks a deployment's job variables against its work
// pool's schema, as the server will when the deployment is registered.
func checkJobVariables(d *Deployment, pool *cloudapi.WorkPool) diag.List {
	jv, _ := template.GetFromDict(d.Config, "work_pool.job_variables")
	m, ok := jv.(*py.Map)
	if !ok || m.Len() == 0 {
		return nil
	}
	schema, _ := get(pool.BaseJobTemplate, "variables").(*py.Map)
	var problems diag.List
	for _, v := range jsonschema.Validate(schema, m, jsonschema.JobVariables) {
		problems = append(problems, &diag.Error{Kind: diag.Invalid, Path: d.FullName() + ".work_pool.job_variables" + v.Path, Msg: v.Message, Hint: v.Hint})
	}
	return problems
}

func poolHint(ctx context.Context, c ServerReader, name string) string {
	pools, err := c.FilterWorkPools(ctx, nil)
	var names []string
	if err == nil {
		for _, p := range pools {
			names = append(names, p.Name)
		}
	}
	sort.Strings(names)
	hint := fmt.Sprintf("create it first, e.g. 'prefect work-pool create %s --type docker'", name)
	if len(names) > 0 {
		hint += "; existing pools: " + strings.Join(names, ", ")
	} else {
		hint += "; the workspace has no work pools yet"
	}
	return hint
}

// parseAllSteps parses and checks every deployment's steps and keeps the
// parsed build and push steps on the deployment for the steps phase.
func parseAllSteps(ds []*Deployment, p *project.Project) diag.List {
	var problems diag.List
	for _, d := range ds {
		build, push, errs := CheckSteps(p, d)
		problems = append(problems, errs...)
		d.build, d.push = build, push
	}
	return problems
}

func runSteps(ctx context.Context, d *Deployment, opt Options, deps Deps) (*py.Map, error) {
	outputs := py.NewMap()
	run := func(list []*steps.Step) error {
		if len(list) == 0 {
			return nil
		}
		if deps.Steps == nil {
			return errors.New("deploy: no step runner configured")
		}
		out, err := deps.Steps.Run(ctx, list, outputs)
		if err != nil {
			return err
		}
		outputs = out
		return nil
	}
	if !opt.SkipBuild {
		if err := run(d.build); err != nil {
			return nil, err
		}
	} else if opt.Image != "" {
		fillImage(outputs, d.build, opt.Image)
	}
	if !opt.SkipPush {
		if err := run(d.push); err != nil {
			return nil, err
		}
	}
	return outputs, nil
}

// fillImage gives --image to the outputs a skipped build step would have
// produced, so {{ build-image.image }}-style references resolve.
func fillImage(outputs *py.Map, build []*steps.Step, image string) {
	name, tag := image, "latest"
	if i := strings.LastIndex(image, ":"); i > strings.LastIndex(image, "/") {
		name, tag = image[:i], image[i+1:]
	}
	if i := strings.Index(image, "@"); i >= 0 {
		name, tag = image[:i], ""
	}
	out := py.MapOf("image_name", name, "tag", tag, "image", image, "image_id", nil, "additional_tags", []any{})
	for _, s := range build {
		if strings.HasSuffix(s.FQN, ".build_docker_image") && s.ID != "" {
			outputs.Set(s.ID, py.Clone(out))
		}
	}
	outputs.Update(out)
}

// applier is one Apply: its inputs and dependencies, the snapshot, and
// what it learns along the way.
type applier struct {
	opt     Options
	deps    Deps
	snap    *Snapshot
	flows   memo.Cache[string, string] // flow name → id of a flow this Apply created
	workers memo.Cache[string, bool]   // work pool → a worker polls it
	journal *journal                   // every write, recorded before it is sent
}

// register creates or updates one deployment the way RunnerDeployment.apply
// does, sending only what the snapshot says differs: an unchanged
// deployment costs no request, and owned automations are deleted (and
// recreated from the triggers) only when prefect.yaml declares triggers or
// the server holds automations that may be owned by the deployment.
func (a *applier) register(ctx context.Context, d *Deployment, s *Spec) *Result {
	c := a.deps.API
	r := &Result{Name: s.FlowName + "/" + s.Name, WorkPool: d.WorkPool, Spec: s}
	if img, ok := get(get(s.Body, "job_variables").(*py.Map), "image").(string); ok {
		r.Image = img
	}
	fail := func(err error) *Result {
		r.Action, r.Error = "failed", err
		return r
	}
	st := a.snap.Deployment(keyOf(s))
	dec := decide(st, s, a.snap, a.opt.Force)
	r.Changes = dec.changes
	if st == nil {
		flowID, err := a.flowID(ctx, s.FlowName)
		if err != nil {
			return fail(err)
		}
		body := py.MapOf("name", get(s.Body, "name"), "flow_id", flowID)
		for _, k := range s.Body.Keys() {
			if k != "name" {
				body.Set(k, get(s.Body, k))
			}
		}
		a.journal.creating(keyOf(s))
		dep, created, err := c.CreateDeployment(ctx, body)
		if err != nil {
			return fail(err)
		}
		a.journal.created(keyOf(s), dep.ID, created)
		r.ID, r.Action = dep.ID, "created"
		if !created {
			// Someone registered it since the snapshot: the create was an
			// update, and what automations it has is not known.
			r.Action = "updated"
			dec.deleteAutomations = a.snap.AutomationsSupported
		}
	} else {
		r.ID, r.Action = st.ID(), "unchanged"
		if dec.update || dec.deleteAutomations || len(s.Triggers) > 0 {
			a.journal.touch(keyOf(s), r.ID)
		}
		if dec.update {
			if err := c.UpdateDeployment(ctx, r.ID, UpdateBody(s)); err != nil {
				return fail(err)
			}
			r.Action = "updated"
		}
	}
	triggers := a.snap.AutomationsSupported
	if dec.deleteAutomations {
		err := c.DeleteAutomationsOwnedBy(ctx, "prefect.deployment."+r.ID)
		switch {
		case errors.Is(err, cloudapi.ErrNotFound):
			triggers = false // a server without automations, as prefect deploy decides
		case err != nil:
			return fail(err)
		}
	}
	if triggers {
		for i, t := range s.Triggers {
			body, err := automationBody(t.(*py.Map), s.Name, i+1, r.ID)
			if err != nil {
				return fail(err)
			}
			if _, err := c.CreateAutomation(ctx, body); err != nil {
				return fail(err)
			}
		}
		if len(s.Triggers) > 0 && r.Action == "unchanged" {
			r.Action = "updated"
		}
	}
	if dec.deleteAutomations && len(s.Triggers) == 0 && st != nil && len(st.Automations) > 0 {
		// Which of the candidates were owned (and so deleted) is only
		// known by reading the automations again, once for the whole
		// deploy (settleDeletedAutomations).
		r.mayHaveDeleted = st.Automations
	}
	if r.Action == "created" || r.Action == "updated" {
		r.WorkerOnline = a.workerOnline(ctx, d.WorkPool)
	}
	return r
}

// flowID is the id of the named flow: from the snapshot, or created once
// for the whole deploy (concurrent registrations of one new flow share the
// one request).
func (a *applier) flowID(ctx context.Context, name string) (string, error) {
	if f := a.snap.Flows[name]; f != nil {
		return f.ID, nil
	}
	return a.flows.Get(name, func() (string, error) {
		a.journal.creatingFlow(name)
		f, err := a.deps.API.CreateFlow(ctx, name)
		if err != nil {
			return "", err
		}
		a.journal.createdFlow(name, f.ID)
		return f.ID, nil
	})
}

// settleDeletedAutomations finishes the results of deployments whose
// automations were deleted only because some may have been owned by them:
// one read of the automations tells which are gone (they were owned) and
// which are still there (they merely run the deployment). A deployment
// whose fields were not sent and that lost no automation stays unchanged.
func (a *applier) settleDeletedAutomations(ctx context.Context, results []*Result) {
	var pending []*Result
	for _, r := range results {
		if r != nil && r.Error == nil && r.mayHaveDeleted != nil {
			pending = append(pending, r)
		}
	}
	if len(pending) == 0 {
		return
	}
	left := map[string]bool{}
	after, err := readAutomations(ctx, a.deps.API)
	for _, au := range after {
		left[py.Str(get(au, "id"))] = true
	}
	for _, r := range pending {
		var deleted []*py.Map
		for _, au := range r.mayHaveDeleted {
			if err != nil || !left[py.Str(get(au, "id"))] {
				deleted = append(deleted, au)
			}
		}
		if len(deleted) > 0 {
			r.Changes = append(r.Changes, Change{Field: "automations", Old: automationNames(deleted), New: []any{}})
			if r.Action == "unchanged" {
				r.Action = "updated"
				r.WorkerOnline = a.workerOnline(ctx, r.WorkPool)
			}
		}
		r.mayHaveDeleted = nil
		a.deps.emit(EventApplied, r.Name, "%s %s", r.Action, r.ID)
	}
}

// workerOnline says whether a worker polls the pool; it only decides
// whether to print the "start a worker" hint, so a failed answer counts
// as no. The pool's status in the snapshot answers it (READY: a worker is
// online; NOT_READY: none is); otherwise (a paused pool) the pool's online
// workers are asked for once, as prefect deploy does.
func (a *applier) workerOnline(ctx context.Context, pool string) bool {
	if wp := a.snap.Pools[pool]; wp != nil && wp.Status != nil {
		switch *wp.Status {
		case "READY":
			return true
		case "NOT_READY":
			return false
		}
	}
	online, _ := a.workers.Get(pool, func() (bool, error) {
		workers, err := a.deps.API.FilterWorkers(ctx, pool, true)
		return err == nil && len(workers) > 0, nil
	})
	return online
}

// decision is what registering a spec sends, given the snapshot.
type decision struct {
	changes []Change
	// update: PATCH the existing deployment.
	update bool
	// deleteAutomations: DELETE /automations/owned-by/<the deployment>
	// before creating the triggers' automations.
	deleteAutomations bool
}

// decide compares a spec with the deployment's state in the snapshot (nil:
// the deployment does not exist). A field that differs, or --force, sends
// the update. Owned automations are deleted when prefect.yaml declares
// triggers (their automations are recreated), when the server holds
// automations that may be owned by the deployment, or with --force, as
// prefect deploy always does; a deployment just created owns none.
func decide(st *DeploymentState, s *Spec, snap *Snapshot, force bool) decision {
	var dec decision
	if st == nil {
		return dec
	}
	dec.changes = Diff(st.Server, s)
	dec.update = force || len(dec.changes) > 0
	if snap.AutomationsSupported {
		dec.deleteAutomations = force || len(s.Triggers) > 0 || len(st.Automations) > 0
		if len(s.Triggers) > 0 {
			// Recreated whatever they hold: the server's automations cannot
			// be told apart from copies of the triggers' (ids, ownership).
			dec.changes = append(dec.changes, Change{Field: "automations", Old: automationNames(st.Automations), New: triggerNames(s)})
		}
	}
	return dec
}

// triggerNames are the names of the automations a spec's triggers become.
func triggerNames(s *Spec) []any {
	out := []any{}
	for i, t := range s.Triggers {
		name, _ := get(t.(*py.Map), "name").(string)
		if name == "" {
			name = fmt.Sprintf("%s__automation_%d", s.Name, i+1)
		}
		out = append(out, name)
	}
	return out
}

// UpdateBody is the PATCH body for an existing deployment (Prefect's
// DeploymentUpdate, dumped with exclude_unset): the
// create fields minus the identity ones; enforce_parameter_schema only when
// configured, schedules only when there are some.
func UpdateBody(s *Spec) *py.Map {
	body := py.NewMap()
	skip := map[string]bool{"name": true, "labels": true, "storage_document_id": true, "infrastructure_document_id": true, "path": true}
	for _, k := range s.Body.Keys() {
		if skip[k] {
			continue
		}
		v := get(s.Body, k)
		switch k {
		case "enforce_parameter_schema":
			if !s.EnforceSet {
				continue
			}
		case "schedules":
			l, _ := v.([]any)
			if len(l) == 0 {
				continue
			}
			if len(s.ScheduleUpdates) == len(l) {
				v = s.ScheduleUpdates
				break
			}
			upd := make([]any, len(l))
			for i, x := range l {
				m := py.Clone(x).(*py.Map)
				m.Delete("max_scheduled_runs")
				if i < len(s.ActiveSet) && !s.ActiveSet[i] {
					m.Delete("active")
				}
				upd[i] = m
			}
			v = upd
		}
		body.Set(k, v)
	}
	return body
}
