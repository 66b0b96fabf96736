package deploy

import (
	"context"
	"errors"

	"github.com/prefectctl/prefectctl/internal/diag"
	"github.com/prefectctl/prefectctl/internal/project"
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

// prepareAll is the first phase of a deploy: every selected deployment is
// prepared, the server's state for all of them read (one Snapshot), their
// work pools, job variables and steps checked, and with forApply the
// Docker daemon and registries too. Nothing is built, pushed or written;
// every problem is reported at once.
func prepareAll(ctx context.Context, p *project.Project, sel *project.Selection, opt Options, deps Deps, forApply bool) ([]*Deployment, *Snapshot, diag.List) {
	var problems diag.List
	var ds []*Deployment
	for _, s := range sel.Items {
		d, err := Prepare(ctx, p, s, opt, deps)
		if err != nil {
			problems = append(problems, diag.AsList(err)...)
			continue
		}
		ds = append(ds, d)
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
	snap, err := ReadSnapshot(ctx, deps.API, keys, pools, alongside)
	if err != nil {
		return ds, nil, diag.AsList(err)
	}
	problems = append(problems, preflightPools(ctx, deps.API, ds, snap)...)
	if len(problems) == 0 {
		problems = append(problems, parseAllSteps(ds, p)...)
	}
	if len(problems) == 0 && forApply {
		problems = append(problems, preflightDocker(ctx, ds, opt, deps)...)
	}
	return ds, snap, problems
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
	for _, spec := range specs {
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
		items = append(items, it)
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
// stopping at the first.
func DryRun(ctx context.Context, p *project.Project, sel *project.Selection, opt Options, deps Deps) ([]Planned, error) {
	var problems diag.List
	var out []Planned
	now := deps.now()
	for _, s := range sel.Items {
		d, err := Prepare(ctx, p, s, opt, deps)
		if err == nil {
			if _, _, stepProblems := CheckSteps(p, d); len(stepProblems) > 0 {
				problems = append(problems, stepProblems...)
				continue
			}
			var spec *Spec
			if spec, err = Finalize(d, nil, true, now, opt, deps); err == nil {
				out = append(out, Planned{Deployment: d, Spec: spec})
				continue
			}
		}
		problems = append(problems, diag.AsList(err)...)
	}
	if len(problems) > 0 {
		return out, problems
	}
	return out, nil
}
