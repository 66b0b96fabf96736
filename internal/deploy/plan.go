package deploy

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/prefectctl/prefectctl/internal/diag"
	"github.com/prefectctl/prefectctl/internal/project"
	"github.com/prefectctl/prefectctl/internal/py"
	"github.com/prefectctl/prefectctl/internal/steps"
	"github.com/prefectctl/prefectctl/internal/steps/docker"
	"github.com/prefectctl/prefectctl/internal/template"
)

// online reports what Apply and Plan need that deps lacks.
func (d Deps) online() error {
	switch {
	case d.API == nil:
		return errors.New("deploy: no Prefect API configured")
	case d.Resolver == nil:
		return errors.New("deploy: no resolver for prefect.variables and prefect.blocks configured")
	}
	return nil
}

// prepareAll is the first phase of a deploy. First every check that needs
// neither the server nor Docker runs on every selected deployment
// (staticChecks), and their problems are reported together before any
// request; then each deployment is prepared with the server (Prefect
// variables and blocks), the server's state for all of them read (one
// Snapshot), their work pools, job variables and steps checked, their
// parameters checked again with what the server resolved (and with the
// deployment's state where create and update disagree), and with forApply
// the Docker daemon and registries too. Nothing is built, pushed or written.
func prepareAll(ctx context.Context, p *project.Project, sel *project.Selection, opt Options, deps Deps, forApply bool) ([]*Deployment, *Snapshot, diag.List) {
	deps = deps.onceWarnings()
	static, problems := staticChecks(ctx, p, sel, opt, deps, true)
	if len(problems) > 0 {
		return nil, nil, problems
	}
	var ds []*Deployment
	var items []*staticItem
	for i, s := range sel.Items {
		d, err := Prepare(ctx, p, s, opt, deps)
		if err != nil {
			problems = append(problems, diag.AsList(err)...)
			continue
		}
		ds = append(ds, d)
		items = append(items, static[i])
	}
	if len(problems) > 0 {
		return ds, nil, problems
	}
	keys := make([]Key, len(ds))
	pools := make([]string, len(ds))
	for i, d := range ds {
		keys[i], pools[i] = preparedKey(d), d.WorkPool
	}
	var alongside func(context.Context) error
	if forApply {
		alongside = deps.API.PrepareWrites
	}
	var marked []Marked
	if opt.Prune != PruneOff && opt.Project != "" {
		// The prune candidates are read in the snapshot's round.
		prepare := alongside
		alongside = func(ctx context.Context) error {
			return parallel(ctx, prepare, func(ctx context.Context) (err error) {
				marked, err = readMarked(ctx, deps.API, opt.Project, nil)
				return err
			})
		}
	}
	snap, err := ReadSnapshot(ctx, deps.API, keys, pools, alongside)
	if err != nil {
		return ds, nil, diag.AsList(err)
	}
	snap.Marked = marked
	problems = append(problems, preflightPools(ctx, deps.API, ds, snap)...)
	if len(problems) == 0 {
		problems = append(problems, parseAllSteps(ds, p)...)
	}
	if len(problems) == 0 {
		problems = append(problems, preflightParameters(ctx, p, ds, items, snap, opt, deps)...)
	}
	if len(problems) == 0 && forApply {
		problems = append(problems, preflightDocker(ctx, ds, snap, opt, deps)...)
	}
	return ds, snap, problems
}

// staticItem is one selected deployment after the static checks.
type staticItem struct {
	planned *Planned // nil when it could not be prepared offline
	// deferred: its entrypoint comes from the server (a Prefect variable
	// or block), so only the online checks can prepare it.
	deferred bool
}

// staticChecks runs, on every selected deployment, the checks that need
// neither the server nor Docker: unset environment variables, preparation
// (templates, entrypoint and flow metadata), steps, schedules and the
// request's other fields (Finalize as a dry run), and parameters against
// the flow's schema. Every problem of every deployment is collected.
// online says whether the server's checks follow (deploy, plan) or not
// (a dry run, validate).
func staticChecks(ctx context.Context, p *project.Project, sel *project.Selection, opt Options, deps Deps, online bool) ([]*staticItem, diag.List) {
	offline := deps
	offline.Resolver = nil
	env := newEnvCheck(opt.env())
	var problems diag.List
	items := make([]*staticItem, len(sel.Items))
	now := deps.now()
	for i, s := range sel.Items {
		it := &staticItem{}
		items[i] = it
		if env.deployment(p, s, opt) {
			continue
		}
		if ep := get(s.Config, "entrypoint"); fromServer(ep) {
			it.deferred = true
			if !online {
				deps.warn(&diag.Error{Kind: diag.Invalid, Msg: fmt.Sprintf("%s: the entrypoint %s comes from the Prefect server, so its flow is not checked without one", s.Label(), py.Repr(ep)),
					Hint: "prefectctl deploy --plan reads the server and checks it"})
			}
			continue
		}
		d, err := Prepare(ctx, p, s, opt, offline)
		if err != nil {
			problems = append(problems, diag.AsList(err)...)
			continue
		}
		_, _, stepProblems := CheckSteps(p, d)
		problems = append(problems, stepProblems...)
		spec, err := Finalize(d, nil, true, now, opt, offline)
		if err != nil {
			problems = append(problems, locateIn(p, d, err)...)
			// The parameters are still worth checking: without the
			// schedules, which are what usually fails here.
			rest := *d
			rest.Config = py.Clone(d.Config).(*py.Map)
			rest.Config.Delete("schedules")
			quiet := offline
			quiet.Warn = nil
			if spec, err = Finalize(&rest, nil, true, now, opt, quiet); err != nil {
				continue
			}
		} else {
			it.planned = &Planned{Deployment: d, Spec: spec}
		}
		v := checkParameters(p, d, spec, d.pendingValues(true))
		if !online {
			v.offline(paramLocator{p: p, d: d})
		}
		problems = append(problems, v.errors...)
		for _, w := range v.warnings {
			deps.warn(w)
		}
	}
	for _, w := range env.warnings(p) {
		deps.warn(w)
	}
	problems = append(env.problems, problems...)
	problems.Sort()
	return items, distinct(problems)
}

// distinct drops repeated problems: top-level steps are checked with each
// deployment that runs them.
func distinct(l diag.List) diag.List {
	seen := map[string]bool{}
	out := l[:0:0]
	for _, e := range l {
		key := e.Error() + "\x00" + e.Hint
		if !seen[key] {
			seen[key] = true
			out = append(out, e)
		}
	}
	return out
}

// locateIn places problems Finalize names by the deployment's label
// ("daily.schedules[0]") in prefect.yaml ("deployments[1].schedules[0]",
// with its line).
func locateIn(p *project.Project, d *Deployment, err error) diag.List {
	list := diag.AsList(err)
	sd := d.Selected.Deployment
	if sd == nil || p == nil || p.File == nil {
		return list
	}
	for _, e := range list {
		if e.File == "" && strings.HasPrefix(e.Path, d.Label+".") {
			e.Path = sd.Path() + strings.TrimPrefix(e.Path, d.Label)
			pos := p.File.Pos(e.Path)
			e.File, e.Line, e.Col = p.File.Path, pos.Line, pos.Col
		}
	}
	return list
}

// fromServer reports whether x holds a Prefect variable or block
// placeholder, which only the server resolves.
func fromServer(x any) bool {
	ps, err := template.FindPlaceholders(x)
	if err != nil {
		return false
	}
	for _, ph := range ps {
		if ph.Kind == template.Variable || ph.Kind == template.BlockDocument {
			return true
		}
	}
	return false
}

// preflightParameters checks each deployment's parameters again once the
// server resolved its Prefect variables and blocks, and settles with the
// deployment's state on the server the values that only one of create and
// update refuses. Warnings were given by the static checks, except for the
// deployments those could not prepare.
func preflightParameters(ctx context.Context, p *project.Project, ds []*Deployment, items []*staticItem, snap *Snapshot, opt Options, deps Deps) diag.List {
	quiet := deps
	quiet.Warn = nil
	var problems diag.List
	for i, d := range ds {
		spec, err := Finalize(d, nil, true, deps.now(), opt, quiet)
		if err != nil {
			problems = append(problems, diag.AsList(err)...)
			continue
		}
		v := checkParameters(p, d, spec, d.pendingValues(false))
		if items[i].deferred {
			for _, w := range v.warnings {
				deps.warn(w)
			}
		}
		if err := v.decide(ctx, snap, deps.API, paramLocator{p: p, d: d}, spec.FlowName, spec.Name); err != nil {
			return append(problems, diag.AsList(err)...)
		}
		problems = append(problems, v.errors...)
	}
	return problems
}

// finalParameters checks the parameters exactly as they will be sent, once
// the build and push steps have produced their values, before anything is
// registered.
func finalParameters(ctx context.Context, p *project.Project, d *Deployment, s *Spec, snap *Snapshot, deps Deps) error {
	v := checkParameters(p, d, s, nil)
	if err := v.decide(ctx, snap, deps.API, paramLocator{p: p, d: d}, s.FlowName, s.Name); err != nil {
		return err
	}
	return v.errors.Err()
}

// onceWarnings gives each distinct warning once: the checks before any step
// runs prepare a deployment offline and then with the server.
func (d Deps) onceWarnings() Deps {
	if d.Warn == nil {
		return d
	}
	warn := d.Warn
	var mu sync.Mutex
	seen := map[string]bool{}
	d.Warn = func(e *diag.Error) {
		key := e.Error() + "\x00" + e.Hint
		mu.Lock()
		dup := seen[key]
		seen[key] = true
		mu.Unlock()
		if !dup {
			warn(e)
		}
	}
	return d
}

// PlanItem says what a deploy would do to one deployment.
type PlanItem struct {
	Name    string // flow/deployment
	Action  string // create, update or unchanged
	ID      string // the existing deployment's id
	Changes []Change
	// Pending lists values the build and push steps would produce; the
	// fields holding them show as changes until the steps have run.
	Pending []string
	Spec    *Spec
	// Images says how each of the deployment's images would be made.
	Images []*docker.Decision
}

// Plan compares every selected deployment with the server without changing
// anything: it reads the server's state for the selection (one Snapshot,
// as a deploy does), resolves variables and blocks, runs no step and sends
// no write.
func Plan(ctx context.Context, p *project.Project, sel *project.Selection, opt Options, deps Deps) ([]*PlanItem, error) {
	if err := deps.online(); err != nil {
		return nil, err
	}
	ds, snap, problems := prepareAll(ctx, p, sel, opt, deps, false)
	if len(problems) > 0 {
		return nil, problems
	}
	specs := make([]*Spec, len(ds))
	keys := make([]Key, len(ds))
	for i, d := range ds {
		spec, err := Finalize(d, nil, true, deps.now(), opt, deps)
		if err != nil {
			return nil, err
		}
		specs[i], keys[i] = spec, keyOf(spec)
	}
	if err := snap.Extend(ctx, deps.API, keys); err != nil {
		return nil, err
	}
	var items []*PlanItem
	for i, spec := range specs {
		d := ds[i]
		it := &PlanItem{Name: spec.FlowName + "/" + spec.Name, Pending: spec.Pending, Spec: spec}
		st := snap.Deployment(keyOf(spec))
		if st == nil {
			it.Action = "create"
			items = append(items, it)
			continue
		}
		it.ID = st.ID()
		dec := decide(st, spec, snap, false)
		it.Changes = dec.changes
		if len(spec.Triggers) == 0 && len(st.Automations) > 0 && snap.AutomationsSupported {
			// Deleted by the deploy if owned by the deployment, which the
			// server does not tell.
			it.Changes = append(it.Changes, Change{Field: "automations", Old: automationNames(st.Automations), New: []any{}})
		}
		it.Action = "unchanged"
		if dec.update || dec.deleteAutomations {
			it.Action = "update"
		}
		if deps.Images != nil && !opt.SkipBuild {
			push := d.push
			if opt.SkipPush {
				push = nil
			}
			var previous []string
			if st != nil {
				previous = serverImages(st.Server)
			}
			plan, err := deps.Images.PlanImages(ctx, d.build, push, steps.ImageOptions{Previous: previous, FullBuild: opt.FullBuild})
			if err != nil {
				return nil, err
			}
			it.Images = plan.Decisions
		}
		items = append(items, it)
	}
	if opt.Project != "" {
		for _, w := range markWarnings(snap, keys, opt.Project) {
			deps.warn(w)
		}
	}
	// What --prune would remove: Spec is nil, Action is the prune's mode.
	for _, c := range snap.PruneCandidates(opt.Prune, keys) {
		items = append(items, &PlanItem{Name: c.Name, Action: c.Action, ID: c.ID})
	}
	return items, nil
}

// Planned is one deployment of a dry run: as prepared, and the request it
// would send.
type Planned struct {
	Deployment *Deployment
	Spec       *Spec
}

// DryRun prepares, checks and finalises every selected deployment offline,
// as `deploy --dry-run` and `validate` do: no step runs and no API is
// called, and every problem of every deployment is collected instead of
// stopping at the first (staticChecks).
func DryRun(ctx context.Context, p *project.Project, sel *project.Selection, opt Options, deps Deps) ([]Planned, error) {
	items, problems := staticChecks(ctx, p, sel, opt, deps.onceWarnings(), false)
	var out []Planned
	for _, it := range items {
		if it.planned != nil {
			out = append(out, *it.planned)
		}
	}
	if len(problems) > 0 {
		return out, problems
	}
	return out, nil
}
