package deploy

import (
	"context"
	"errors"

	"github.com/prefectctl/prefectctl/internal/cloudapi"
	"github.com/prefectctl/prefectctl/internal/diag"
	"github.com/prefectctl/prefectctl/internal/project"
	"github.com/prefectctl/prefectctl/internal/py"
	"github.com/prefectctl/prefectctl/internal/template"
)

// prepareAll is the first phase of a deploy: every selected deployment is
// prepared, its work pool read and its job variables and steps checked.
// Nothing is built, pushed or written; every problem is reported at once.
func prepareAll(ctx context.Context, p *project.Project, sel *project.Selection, opt *ApplyOptions, checkDocker bool) ([]*Deployment, diag.List) {
	var problems diag.List
	var ds []*Deployment
	for _, s := range sel.Items {
		d, err := Prepare(ctx, p, s, &opt.Options)
		if err != nil {
			problems = append(problems, asList(err)...)
			continue
		}
		ds = append(ds, d)
	}
	if len(problems) == 0 {
		problems = append(problems, preflightPools(ctx, opt.Client, ds)...)
	}
	if len(problems) == 0 {
		problems = append(problems, parseAllSteps(ds, p)...)
	}
	if len(problems) == 0 && checkDocker {
		problems = append(problems, preflightDocker(ctx, ds, opt)...)
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
}

// Plan compares every selected deployment with the server without changing
// anything: it reads work pools, variables, blocks and existing
// deployments, runs no step and sends no write.
func Plan(ctx context.Context, p *project.Project, sel *project.Selection, opt *ApplyOptions) ([]*PlanItem, error) {
	if opt.Now == nil {
		opt.Now = timeNow
	}
	if opt.Resolver == nil && opt.Client != nil {
		opt.Resolver = template.NewCachedResolver(cloudapi.Resolver{C: opt.Client})
	}
	ds, problems := prepareAll(ctx, p, sel, opt, false)
	if len(problems) > 0 {
		return nil, problems
	}
	var items []*PlanItem
	for _, d := range ds {
		spec, err := Finalize(d, nil, true, opt.Now(), &opt.Options)
		if err != nil {
			return nil, err
		}
		it := &PlanItem{Name: spec.FlowName + "/" + spec.Name, Pending: spec.Pending, Spec: spec}
		existing, err := opt.Client.ReadDeploymentByName(ctx, spec.FlowName, spec.Name)
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
			if len(it.Changes) == 0 && len(spec.Triggers) == 0 && !hasOwnedAutomations(ctx, opt.Client, it.ID) {
				it.Action = "unchanged"
			}
		}
		items = append(items, it)
	}
	return items, nil
}
