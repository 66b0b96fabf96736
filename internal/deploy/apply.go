package deploy

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

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
	// Images says how each of the deployment's images was made.
	Images []*docker.Decision
}

// Report is the outcome of Apply.
type Report struct {
	Results []*Result
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

// Apply deploys the selected deployments: it prepares all of them and
// checks their work pools before any step runs (so a bad deployment stops
// everything before anything is built or registered), then runs the build
// and push steps, then registers the deployments with bounded concurrency.
func Apply(ctx context.Context, p *project.Project, sel *project.Selection, opt Options, deps Deps) (*Report, error) {
	if err := deps.online(); err != nil {
		return nil, err
	}
	a := &applier{opt: opt, deps: deps}
	// Phase 1: prepare and preflight everything.
	ds, problems := prepareAll(ctx, p, sel, opt, deps, true)
	if len(problems) > 0 {
		return nil, problems
	}
	for _, d := range ds {
		deps.emit(EventPrepared, d.FullName(), "ready")
	}

	// Phase 2: steps, in order, one deployment after the other as prefect
	// deploy runs them; identical Docker steps run once (memoised).
	report := &Report{}
	specs := make([]*Spec, len(ds))
	for i, d := range ds {
		emitImages(deps, d)
		deps.emit(EventRunningSteps, d.FullName(), "running build and push steps")
		outputs, err := runSteps(ctx, d, opt, deps)
		if err == nil {
			specs[i], err = Finalize(d, outputs, false, deps.now(), opt, deps)
		}
		if err == nil && opt.PinDigests && deps.Images != nil {
			err = pinImage(specs[i], deps.Images.Pushed())
		}
		if err != nil {
			// Nothing is registered when a step fails: the images of the
			// deployments before it may be pushed, but no deployment points
			// at them yet.
			for j, other := range ds {
				r := &Result{Name: other.FullName(), Action: "not-applied", WorkPool: other.WorkPool}
				if j == i {
					r.Action, r.Error = "failed", err
				}
				report.Results = append(report.Results, r)
			}
			deps.emit(EventFailed, d.FullName(), "%v", err)
			return report, err
		}
		deps.emit(EventSteps, d.FullName(), "steps done")
	}

	// Phase 3: register.
	n := opt.Concurrency
	if n <= 0 {
		n = 4
	}
	results := make([]*Result, len(ds))
	var mu sync.Mutex
	var firstErr error
	stop := false
	sem := make(chan struct{}, n)
	var wg sync.WaitGroup
	for i, d := range ds {
		mu.Lock()
		halted := stop || ctx.Err() != nil
		mu.Unlock()
		if halted {
			results[i] = &Result{Name: d.FullName(), Action: "not-applied", WorkPool: d.WorkPool}
			continue
		}
		sem <- struct{}{}
		wg.Add(1)
		go func(i int, d *Deployment) {
			defer wg.Done()
			defer func() { <-sem }()
			deps.emit(EventRegistering, d.FullName(), "registering")
			r := a.register(ctx, d, specs[i])
			r.Images = d.Decisions()
			results[i] = r
			if r.Error != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = r.Error
				}
				stop = true
				mu.Unlock()
				deps.emit(EventFailed, d.FullName(), "%v", r.Error)
				return
			}
			deps.emit(EventApplied, d.FullName(), "%s %s", r.Action, r.ID)
		}(i, d)
	}
	wg.Wait()
	report.Results = results
	return report, firstErr
}

// preflightPools reads each work pool once and checks what prefect deploy
// checks, plus the job variables against the pool's schema.
func preflightPools(ctx context.Context, c ServerReader, ds []*Deployment) diag.List {
	var problems diag.List
	pools := map[string]*cloudapi.WorkPool{}
	for _, d := range ds {
		pool, seen := pools[d.WorkPool]
		if !seen {
			wp, err := c.ReadWorkPool(ctx, d.WorkPool)
			if err != nil {
				if errors.Is(err, cloudapi.ErrNotFound) {
					problems = append(problems, &diag.Error{Kind: diag.Invalid, Path: d.FullName() + ".work_pool.name",
						Msg:  fmt.Sprintf("work pool %q does not exist, so no worker could pick up this deployment's runs", d.WorkPool),
						Hint: poolHint(ctx, c, d.WorkPool)})
					pools[d.WorkPool] = nil
					continue
				}
				return append(problems, diag.AsList(err)...)
			}
			pools[d.WorkPool], pool = wp, wp
		}
		if pool == nil {
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

// applier is one Apply: its inputs and dependencies, and what it learns
// along the way.
type applier struct {
	opt     Options
	deps    Deps
	workers memo.Cache[string, bool] // work pool → a worker polls it
}

// register creates or updates one deployment the way RunnerDeployment.apply
// does.
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
	existing, err := c.ReadDeploymentByName(ctx, s.FlowName, s.Name)
	switch {
	case errors.Is(err, cloudapi.ErrNotFound):
		flow, err := c.CreateFlow(ctx, s.FlowName)
		if err != nil {
			return fail(err)
		}
		body := py.MapOf("name", get(s.Body, "name"), "flow_id", flow.ID)
		for _, k := range s.Body.Keys() {
			if k != "name" {
				body.Set(k, get(s.Body, k))
			}
		}
		dep, _, err := c.CreateDeployment(ctx, body)
		if err != nil {
			return fail(err)
		}
		r.ID, r.Action = dep.ID, "created"
	case err != nil:
		return fail(err)
	default:
		r.ID = existing.ID
		if server, err := py.DecodeJSON(existing.Raw); err == nil {
			if m, ok := server.(*py.Map); ok {
				r.Changes = Diff(m, s)
			}
		}
		if len(r.Changes) == 0 && !a.opt.Force && len(s.Triggers) == 0 && !hasOwnedAutomations(ctx, c, r.ID) {
			// Re-sending would change nothing prefect.yaml controls; skipping
			// keeps schedules (and their future runs) as they are.
			r.Action = "unchanged"
			r.WorkerOnline = a.workerOnline(ctx, d.WorkPool)
			return r
		}
		if err := c.UpdateDeployment(ctx, existing.ID, UpdateBody(s)); err != nil {
			return fail(err)
		}
		r.Action = "updated"
	}
	owner := "prefect.deployment." + r.ID
	if err := c.DeleteAutomationsOwnedBy(ctx, owner); err != nil && !errors.Is(err, cloudapi.ErrNotFound) {
		return fail(err)
	}
	if len(s.Triggers) > 0 {
		for i, t := range s.Triggers {
			body, err := automationBody(t.(*py.Map), s.Name, i+1, r.ID)
			if err != nil {
				return fail(err)
			}
			if _, err := c.CreateAutomation(ctx, body); err != nil {
				return fail(err)
			}
		}
	}
	r.WorkerOnline = a.workerOnline(ctx, d.WorkPool)
	return r
}

// workerOnline asks once per pool per Apply whether a worker polls it; it
// only decides whether to print the "start a worker" hint, so a failed
// answer counts as no.
func (a *applier) workerOnline(ctx context.Context, pool string) bool {
	online, _ := a.workers.Get(pool, func() (bool, error) {
		workers, err := a.deps.API.FilterWorkers(ctx, pool, true)
		return err == nil && len(workers) > 0, nil
	})
	return online
}

// hasOwnedAutomations reports whether automations created from the
// deployment's triggers exist; a deploy deletes them, so their presence
// means the deployment is not unchanged. When it cannot tell, it says yes.
func hasOwnedAutomations(ctx context.Context, c ServerReader, id string) bool {
	owner := "prefect.deployment." + id
	autos, err := c.ReadRelatedAutomations(ctx, owner)
	if err != nil {
		return true
	}
	for _, a := range autos {
		if o, _ := a.Get("owner_resource"); o == owner {
			return true
		}
	}
	return false
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
