package deploy

import (
	"context"
	"errors"

	"github.com/prefectctl/prefectctl/internal/cloudapi"
	"github.com/prefectctl/prefectctl/internal/diag"
	"github.com/prefectctl/prefectctl/internal/project"
	"github.com/prefectctl/prefectctl/internal/py"
	"github.com/prefectctl/prefectctl/internal/steps"
	"github.com/prefectctl/prefectctl/internal/steps/docker"
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
// prepared, its work pool read and its job variables and steps checked.
// Nothing is built, pushed or written; every problem is reported at once.
func prepareAll(ctx context.Context, p *project.Project, sel *project.Selection, opt Options, deps Deps, checkDocker bool) ([]*Deployment, diag.List) {
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
	if len(problems) == 0 {
		problems = append(problems, preflightPools(ctx, deps.API, ds)...)
	}
	if len(problems) == 0 {
		problems = append(problems, parseAllSteps(ds, p)...)
	}
	if len(problems) == 0 && checkDocker {
		problems = append(problems, preflightDocker(ctx, ds, opt, deps)...)
	}
	return ds, problems
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
// anything: it reads work pools, variables, blocks and existing
// deployments, runs no step and sends no write.
func Plan(ctx context.Context, p *project.Project, sel *project.Selection, opt Options, deps Deps) ([]*PlanItem, error) {
	if err := deps.online(); err != nil {
		return nil, err
	}
	ds, problems := prepareAll(ctx, p, sel, opt, deps, false)
	if len(problems) > 0 {
		return nil, problems
	}
	var items []*PlanItem
	for _, d := range ds {
		spec, err := Finalize(d, nil, true, deps.now(), opt, deps)
		if err != nil {
			return nil, err
		}
		it := &PlanItem{Name: spec.FlowName + "/" + spec.Name, Pending: spec.Pending, Spec: spec}
		existing, err := deps.API.ReadDeploymentByName(ctx, spec.FlowName, spec.Name)
		switch {
		case errors.Is(err, cloudapi.ErrNotFound):
			it.Action = "create"
		case err != nil:
			return nil, err
		default:
			it.ID = existing.ID
			server, err := py.DecodeJSON(existing.Raw)
			if m, ok := server.(*py.Map); err == nil && ok {
				it.Changes = Diff(m, spec)
			}
			it.Action = "update"
			if len(it.Changes) == 0 && len(spec.Triggers) == 0 && !hasOwnedAutomations(ctx, deps.API, it.ID) {
				it.Action = "unchanged"
			}
		}
		if deps.Images != nil && !opt.SkipBuild {
			push := d.push
			if opt.SkipPush {
				push = nil
			}
			var previous []string
			if existing != nil {
				previous = serverImages(existing)
			}
			plan, err := deps.Images.PlanImages(ctx, d.build, push, steps.ImageOptions{Previous: previous, FullBuild: opt.FullBuild})
			if err != nil {
				return nil, err
			}
			it.Images = plan.Decisions
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
