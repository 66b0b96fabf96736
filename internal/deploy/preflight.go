package deploy

import (
	"context"

	"github.com/prefectctl/prefectctl/internal/project"
)

// Preflight is Apply's first phase on its own: every selected deployment
// is checked offline, then prepared with the server, its state read (a
// Snapshot, read again by Apply), its work pool, job variables, parameters
// and steps checked, and Docker and the registries reached when steps need
// them. Nothing runs
// and nothing is written; every problem is returned at once. A caller that
// applies several projects checks all of them before applying any.
func Preflight(ctx context.Context, p *project.Project, sel *project.Selection, opt Options, deps Deps) error {
	if err := deps.online(); err != nil {
		return err
	}
	_, _, problems := prepareAll(ctx, p, sel, opt, deps, true)
	return problems.Err()
}
