package cli

// Several projects in one run (deploy --all with several --prefect-file
// values, a glob or --recursive): every project is loaded, selected and
// checked offline before anything runs, and deployments with the same
// flow/name in two projects stop the run there. Then each project goes
// through deploy.Plan, deploy.DryRun or deploy.Preflight and deploy.Apply
// on its own — in its own directory, with its own step runner and flow
// loader — behind one progress view, one summary and one exit code.
//
// Each project keeps its identity (projectRun.identity: prefect.yaml's
// name) so that work done per project after the deployments are
// registered, such as pruning what the project no longer defines, can be
// added project by project.

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/prefectctl/prefectctl/internal/cloudapi"
	"github.com/prefectctl/prefectctl/internal/deploy"
	"github.com/prefectctl/prefectctl/internal/diag"
	"github.com/prefectctl/prefectctl/internal/project"
	"github.com/prefectctl/prefectctl/internal/py"
	"github.com/prefectctl/prefectctl/internal/steps"
	"github.com/prefectctl/prefectctl/internal/steps/docker"
	"github.com/prefectctl/prefectctl/internal/template"
)

// projectRun is one project of a multi-project run.
type projectRun struct {
	file   string // the prefect.yaml, as given or found
	label  string // how output names the project (its directory)
	dir    string // absolute: steps, entrypoints and relative paths resolve here
	p      *project.Project
	sel    *project.Selection
	loader *flowLoader

	planned []deploy.Planned // the offline check's result
	report  *deploy.Report   // set once applied (or not applied)
	err     error            // what stopped its apply

	mark     string // the identity its new deployments are marked with ("": none)
	pruneErr error  // the first failure of its prune
}

// identity is the project's name in prefect.yaml ("" when it has none).
func (r *projectRun) identity() string { return r.p.Name }

// located names the project's file in problems that name no file (a work
// pool, Docker): with several projects, which one is at fault matters.
func (r *projectRun) located(err error) diag.List {
	list := diag.AsList(err)
	for _, e := range list {
		if e.File == "" {
			e.File = r.file
		}
	}
	return list
}

// multiRun is the projects of one invocation.
type multiRun struct {
	a    *app
	runs []*projectRun

	mu       sync.Mutex
	seen     map[string]bool
	warnings []*diag.Error
	quiet    bool // warnings are collected for JSON, not printed

	problems diag.List // of the projects that could not be loaded
}

// warn prints a warning once: the offline check and the apply of a
// project prepare the same deployments and would repeat theirs.
func (m *multiRun) warn(e *diag.Error) {
	m.mu.Lock()
	key := e.Error() + "\x00" + e.Hint
	dup := m.seen[key]
	m.seen[key] = true
	if !dup {
		m.warnings = append(m.warnings, e)
	}
	m.mu.Unlock()
	if !dup && !m.quiet {
		m.a.ui.warn(e)
	}
}

// loadProjects loads and selects every project. The problems of projects
// that cannot be loaded are kept in m.problems, to be reported with the
// other projects' by check.
func loadProjects(a *app, cmd *cobra.Command, f *deployFlags, files []string, entrypoint, defaultPool string, quiet bool) (*multiRun, error) {
	if err := checkMultiFlags(cmd, f, entrypoint); err != nil {
		return nil, err
	}
	opts, err := f.selectOptions(cmd, entrypoint, defaultPool)
	if err != nil {
		return nil, err
	}
	if opts.Overrides.Any() {
		return nil, usageErr("set per-deployment options in each prefect.yaml (or in an environment's overlay), or deploy one project at a time",
			"options for a single deployment cannot be used with several projects")
	}
	m := &multiRun{a: a, seen: map[string]bool{}, quiet: quiet}
	loadOpt := f.loadOptions(cmd)
	labels := projectLabels(files)
	var problems diag.List
	for i, file := range files {
		p, err := project.LoadWith(file, loadOpt)
		if err != nil {
			problems = append(problems, diag.AsList(err)...)
			continue
		}
		for _, w := range p.Warnings {
			m.warn(w)
		}
		if len(p.Deployments) == 0 {
			m.warn(&diag.Error{Kind: diag.Invalid, File: file, Msg: "defines no deployments; skipped", Hint: "add deployments to it, or leave it out of the run"})
			continue
		}
		sel, err := p.Select(opts)
		if err != nil {
			problems = append(problems, diag.AsList(err)...)
			continue
		}
		for _, w := range sel.Warnings {
			m.warn(w)
		}
		dir, err := filepath.Abs(filepath.Dir(file))
		if err != nil {
			return nil, err
		}
		loader, err := newFlowLoader(f.metadataMode(cmd, p), dir)
		if err != nil {
			return nil, err
		}
		// The projects are in directories below this one: name their files
		// from here.
		loader.shown, _ = os.Getwd()
		m.runs = append(m.runs, &projectRun{file: file, label: labels[i], dir: dir, p: p, sel: sel, loader: loader})
	}
	m.problems = problems
	if len(m.runs) == 0 && len(problems) == 0 {
		return nil, usageErr("add deployments to the projects' prefect.yaml files", "no project has deployments")
	}
	if loadOpt.Overlaid() {
		a.ui.infof("Environment %s: each project's prefect.%s.yaml merged over its prefect.yaml", loadOpt.Env, loadOpt.Env)
	}
	return m, nil
}

// checkMultiFlags rejects what only makes sense for one project.
func checkMultiFlags(cmd *cobra.Command, f *deployFlags, entrypoint string) error {
	switch {
	case f.envFile != "":
		return usageErr("use --env NAME: each project then merges its own prefect.NAME.yaml", "--env-file names one overlay, and this run has several projects")
	case entrypoint != "":
		return usageErr("pass the entrypoint when deploying one project", "an entrypoint argument cannot be used with several projects")
	case len(f.names) > 0:
		return usageErr("with several projects, deploy --all; to pick deployments, run deploy -n NAME in one project (--prefect-file PATH)", "--name cannot be used with several projects")
	case !f.all:
		return usageErr("pass --all to deploy every deployment of every project", "several projects and no --all")
	}
	return nil
}

// check runs every project's deployments through deploy.DryRun — no step,
// no API call — and rejects a flow/name that two projects define,
// reporting every problem of every project together.
func (m *multiRun) check(ctx context.Context) error {
	problems := m.problems
	for _, r := range m.runs {
		planned, err := deploy.DryRun(ctx, r.p, r.sel, deploy.Options{Dir: r.dir}, deploy.Deps{Flows: r.loader, Warn: m.warn})
		if err != nil {
			problems = append(problems, r.located(err)...)
			continue
		}
		r.planned = planned
	}
	return append(problems, m.duplicates()...).Err()
}

// duplicates finds a flow/name defined by two projects: on the server one
// would overwrite the other.
func (m *multiRun) duplicates() diag.List {
	type site struct {
		r   *projectRun
		pos project.Pos
	}
	first := map[string]site{}
	var problems diag.List
	for _, r := range m.runs {
		for _, pl := range r.planned {
			name := pl.Spec.FlowName + "/" + pl.Spec.Name
			here := site{r: r, pos: project.Pos{File: r.file}}
			if d := pl.Deployment.Selected.Deployment; d != nil {
				here.pos = r.p.File.Pos(d.Path() + ".name")
			}
			other, dup := first[name]
			if !dup {
				first[name] = here
				continue
			}
			if other.r == r {
				continue // within one project, prefect deploy's own rules apply
			}
			where := other.pos.File
			if other.pos.Line > 0 {
				where = fmt.Sprintf("%s:%d", where, other.pos.Line)
			}
			path := ""
			if d := pl.Deployment.Selected.Deployment; d != nil {
				path = d.Path() + ".name"
			}
			problems = append(problems, &diag.Error{Kind: diag.Invalid, File: here.pos.File, Line: here.pos.Line, Col: here.pos.Col, Path: path,
				Msg:  fmt.Sprintf("deployment %s is also defined in %s (project %s)", name, where, other.r.label),
				Hint: "the server knows a deployment by flow/name, so one project would overwrite the other's; rename one of the deployments (or its flow)"})
		}
	}
	return problems
}

// checkIdentities gives each project its mark: with --prune, its
// prefect.yaml's name, which every project must have and no two may share
// (one project's prune would remove the other's deployments).
func (m *multiRun) checkIdentities(cmd *cobra.Command, af *applyFlags, mode deploy.PruneMode) error {
	if mode == deploy.PruneOff {
		return nil
	}
	var problems diag.List
	owner := map[string]*projectRun{}
	for _, r := range m.runs {
		mark, err := af.prune.identity(cmd, mode, r.file, r.identity())
		if err != nil {
			problems = append(problems, diag.AsList(err)...)
			continue
		}
		if other := owner[mark]; other != nil {
			problems = append(problems, &diag.Error{Kind: diag.Usage, File: r.file, Path: "name",
				Msg:  fmt.Sprintf("project name %q is also the name of %s: --prune tells projects apart by name", mark, other.file),
				Hint: "give each prefect.yaml its own top-level name"})
			continue
		}
		owner[mark], r.mark = r, mark
	}
	return problems.Err()
}

func (m *multiRun) count() int {
	n := 0
	for _, r := range m.runs {
		n += len(r.sel.Items)
	}
	return n
}

// projectJSON describes a project in -o json.
func (r *projectRun) projectJSON() *py.Map {
	return py.MapOf("name", nilIfEmpty(r.identity()), "prefect_file", r.file, "dir", r.label,
		"env", nilIfEmpty(r.p.Env), "env_file", nilIfEmpty(r.p.EnvFile))
}

// withProject puts the project's keys first in a deployment's JSON.
func (r *projectRun) withProject(m *py.Map) *py.Map {
	out := py.MapOf("project", nilIfEmpty(r.identity()), "prefect_file", r.file)
	out.Update(m)
	return out
}

// header introduces a project's part of a text report.
func (r *projectRun) header(a *app) string {
	s := a.ui.p.bold.Render("Project") + " " + a.ui.p.key.Render(r.label)
	if n := r.identity(); n != "" && n != filepath.Base(r.label) {
		s += " (" + n + ")"
	}
	return s
}

// dryRunProjects is deploy --dry-run and validate over several projects.
func dryRunProjects(ctx context.Context, a *app, cmd *cobra.Command, f *deployFlags, files []string, entrypoint string) (*multiRun, error) {
	settings, err := a.prefectSettings()
	if err != nil {
		return nil, err
	}
	m, err := loadProjects(a, cmd, f, files, entrypoint, settings.DefaultWorkPool(), f.output == "json")
	if err != nil {
		return m, err
	}
	return m, m.check(ctx)
}

func renderDryRunProjects(a *app, output string, m *multiRun) error {
	if output == "json" {
		projects, items := []any{}, []any{}
		for _, r := range m.runs {
			projects = append(projects, r.projectJSON())
			for _, pl := range r.planned {
				items = append(items, r.withProject(dryRunJSON(pl.Deployment, pl.Spec)))
			}
		}
		out := py.MapOf("dry_run", true, "projects", projects, "deployments", items, "warnings", py.FromGo(anySlice(problemsJSON(m.warnings))))
		if err := writeJSON(a.io.Out, out); err != nil {
			return err
		}
	} else {
		for i, r := range m.runs {
			if i > 0 {
				fmt.Fprintln(a.io.Out)
			}
			fmt.Fprintln(a.io.Out, r.header(a))
			fmt.Fprintln(a.io.Out)
			renderDryRunItems(a, r.planned)
		}
	}
	a.ui.infof("\n%d project(s), %d deployment(s) planned; nothing was built, pushed or registered (dry run).", len(m.runs), m.count())
	return nil
}

// validateProjects is validate over several projects: silent when all is
// well, except that with an environment it prints each merged prefect.yaml.
func validateProjects(ctx context.Context, a *app, cmd *cobra.Command, f *deployFlags, files []string) error {
	m, err := dryRunProjects(ctx, a, cmd, f, files, "")
	if f.output == "json" {
		out := py.MapOf("valid", err == nil)
		projects := []any{}
		if m != nil {
			for _, r := range m.runs {
				pj := r.projectJSON()
				pj.Set("deployments", int64(len(r.sel.Items)))
				if r.p.EnvFile != "" {
					pj.Set("merged", r.p.Document())
				}
				projects = append(projects, pj)
			}
		}
		out.Set("projects", projects)
		var warnings []*diag.Error
		if m != nil {
			warnings = m.warnings
		}
		out.Set("warnings", py.FromGo(anySlice(problemsJSON(warnings))))
		out.Set("errors", py.FromGo(anySlice(problemsJSON(diag.AsList(err)))))
		if werr := writeJSON(a.io.Out, out); werr != nil {
			return werr
		}
		if err != nil {
			return &silentError{code: exitCode(err)}
		}
		return nil
	}
	if err != nil {
		return err
	}
	for i, r := range m.runs {
		if r.p.EnvFile == "" {
			continue
		}
		if i > 0 {
			fmt.Fprintln(a.io.Out, "---")
		}
		writeMerged(a, r.p)
	}
	return nil
}

// writeMerged prints a project's prefect.yaml as an environment makes it.
func writeMerged(a *app, p *project.Project) {
	fmt.Fprintf(a.io.Out, "# %s with %s merged over it\n%s", p.File.Path, p.EnvFile, p.YAML())
}

// deployProjects is deploy (and deploy --plan) over several projects.
func deployProjects(ctx context.Context, a *app, cmd *cobra.Command, f *deployFlags, af *applyFlags, files []string, entrypoint string) error {
	start := time.Now()
	if af.image != "" {
		return usageErr("deploy the project that builds the image on its own (--prefect-file PATH --image REF), or let each project's build step build its image",
			"--image stands in for one project's image, and this run has several projects")
	}
	client, settings, pruneMode, err := deployClient(a, cmd, f, af, entrypoint)
	if err != nil {
		return err
	}
	if cmd.Flags().Changed("project") {
		return usageErr("each project is known by its prefect.yaml's name: set 'name:' in each, or deploy one project at a time with --project",
			"--project names one project, and this run has several")
	}
	m, err := loadProjects(a, cmd, f, files, entrypoint, settings.DefaultWorkPool(), false)
	if err != nil {
		return err
	}
	if err := m.checkIdentities(cmd, af, pruneMode); err != nil {
		return err
	}
	if err := m.check(ctx); err != nil {
		return err
	}
	resolver := template.NewCachedResolver(cloudapi.Resolver{C: client})
	options := func(r *projectRun) deploy.Options {
		return deploy.Options{Dir: r.dir, SkipBuild: af.skipBuild || af.image != "", SkipPush: af.skipPush, Image: af.image, Force: af.force,
			Project: r.mark, Prune: pruneMode, Atomic: af.atomic, FullBuild: af.fullBuild, PinDigests: af.pinDigest}
	}
	if af.plan {
		return m.plan(ctx, f.output, client, func(r *projectRun) (deploy.Options, deploy.Deps) {
			return options(r), deploy.Deps{API: client, Flows: r.loader, Resolver: resolver, Warn: m.warn}
		})
	}

	prog := startProgress(a) // before the runners: step output must go through it
	defer prog.stop()
	stepOut := a.io.ErrOut
	if a.opts.Quiet {
		stepOut = nil
	}
	runners := make([]*steps.Runner, len(m.runs))
	deps := make([]deploy.Deps, len(m.runs))
	for i, r := range m.runs {
		runners[i] = steps.NewRunner(&steps.Env{Dir: r.dir, Resolver: resolver, Stdout: stepOut, Stderr: stepOut, AllowPipInstall: af.allowPipInstall,
			Docker: docker.Options{ProjectPrefectVersion: r.p.PrefectVersion, DefaultNamespace: settings.DefaultDockerBuildNamespace()}})
		defer runners[i].Close()
		label := r.label
		deps[i] = deploy.Deps{API: client, Flows: r.loader, Resolver: resolver, Steps: runners[i], Docker: runners[i], Images: runners[i], Warn: m.warn,
			Progress: func(e deploy.Event) { e.Name = label + " › " + e.Name; prog.event(e) }}
	}
	// Every project's work pools, job variables, steps, Docker and
	// registries are checked before any project's steps run.
	var problems diag.List
	for i, r := range m.runs {
		if err := deploy.Preflight(ctx, r.p, r.sel, options(r), deps[i]); err != nil {
			problems = append(problems, r.located(err)...)
		}
	}
	if len(problems) > 0 {
		return problems
	}
	// Projects are applied one after the other; the first that fails stops
	// the run, as a failing deployment stops its project.
	var applyErr error
	for i, r := range m.runs {
		if applyErr != nil || ctx.Err() != nil {
			r.report = notApplied(r)
			continue
		}
		r.report, r.err = deploy.Apply(ctx, r.p, r.sel, options(r), deps[i])
		if r.report == nil {
			r.report = notApplied(r)
		}
		switch {
		case r.err != nil:
			applyErr = r.err
		case r.report.Failed():
			applyErr = &silentError{code: ExitFailure}
		}
	}
	if applyErr == nil && ctx.Err() != nil {
		applyErr = ctx.Err() // interrupted between two projects
	}
	if applyErr != nil && af.atomic {
		// The project that failed rolled itself back; the ones applied
		// before it are put back too, the last first.
		for i := len(m.runs) - 1; i >= 0; i-- {
			if r := m.runs[i]; r.err == nil && r.report != nil && r.report.Rollback == nil && r.report.Snapshot != nil {
				r.report.Rollback = deploy.RollBack(ctx, client, r.report, deps[i].Progress)
			}
		}
	}
	// Each project prunes its own marked deployments, and only once every
	// deployment of every project was applied.
	why := ""
	switch {
	case applyErr != nil && ctx.Err() != nil:
		why = "interrupted"
	case applyErr != nil:
		why = "a deployment was not applied"
	}
	for _, r := range m.runs {
		if why != "" {
			skipPrune(r.report.Prune)
		} else if len(r.report.Prune) > 0 {
			if err := deploy.Prune(ctx, client, r.report.Prune); err != nil {
				r.pruneErr = err
				applyErr = &silentError{code: ExitFailure}
			}
		}
	}
	prog.stop()
	ui := settings.UIURL()
	ok := applyErr == nil
	if f.output == "json" {
		projects, items := []any{}, []any{}
		for _, r := range m.runs {
			pj := r.projectJSON()
			pj.Set("ok", r.err == nil && !r.report.Failed() && r.pruneErr == nil)
			if pruneMode != deploy.PruneOff {
				pj.Set("pruned", pruneJSON(r.report.Prune))
			}
			projects = append(projects, pj)
			if r.report.Rollback != nil {
				pj.Set("rollback", rollbackJSON(r.report.Rollback))
			}
			for _, res := range r.report.Results {
				items = append(items, r.withProject(applyResultJSON(res, ui)))
			}
		}
		if err := writeJSON(a.io.Out, py.MapOf("ok", ok, "projects", projects, "deployments", items, "seconds", time.Since(start).Seconds())); err != nil {
			return err
		}
	} else {
		pools := map[string]bool{}
		for i, r := range m.runs {
			if i > 0 {
				fmt.Fprintln(a.io.Out)
			}
			fmt.Fprintln(a.io.Out, r.header(a))
			renderApplyResults(a, r.report, ui, pools)
			renderRollback(a, r.report.Rollback)
			renderPrune(a, r.report.Prune, "")
		}
		if why != "" && pruneMode != deploy.PruneOff {
			a.ui.infof("\nPrune skipped: %s; nothing was %s.", why, pastTense(pruneMode))
		}
		a.ui.infof("\n%s", m.applySummary())
		renderWorkerHints(a, pools)
	}
	if applyErr != nil {
		for _, r := range m.runs {
			withRollback(a, nil, r.report.Rollback)
		}
		return applyErr
	}
	a.ui.infof("Done in %.1fs.", time.Since(start).Seconds())
	return nil
}

// notApplied reports every selected deployment of a project that was not
// reached.
func notApplied(r *projectRun) *deploy.Report {
	rep := &deploy.Report{}
	for _, pl := range r.planned {
		rep.Results = append(rep.Results, &deploy.Result{Name: pl.Spec.FlowName + "/" + pl.Spec.Name, Action: "not-applied", WorkPool: pl.Deployment.WorkPool})
	}
	return rep
}

// applySummary counts the outcome over all projects.
func (m *multiRun) applySummary() string {
	counts := map[string]int{}
	total := 0
	for _, r := range m.runs {
		for _, res := range r.report.Results {
			counts[res.Action]++
			total++
		}
	}
	var parts []string
	for _, k := range []string{"created", "updated", "unchanged", "rolled-back", "failed", "not-applied"} {
		if counts[k] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[k], strings.ReplaceAll(k, "-", " ")))
		}
	}
	return fmt.Sprintf("%d project(s), %d deployment(s): %s.", len(m.runs), total, strings.Join(parts, ", "))
}

// plan compares every project with the server; the problems of all
// projects are reported together, and nothing is printed unless all of
// them could be planned.
func (m *multiRun) plan(ctx context.Context, output string, client *cloudapi.Client, setup func(*projectRun) (deploy.Options, deploy.Deps)) error {
	items := make([][]*deploy.PlanItem, len(m.runs))
	var problems diag.List
	for i, r := range m.runs {
		opt, deps := setup(r)
		its, err := deploy.Plan(ctx, r.p, r.sel, opt, deps)
		if err != nil {
			problems = append(problems, r.located(err)...)
			continue
		}
		items[i] = its
	}
	if len(problems) > 0 {
		return problems
	}
	// Planned bodies hold templated values, resolved secret blocks
	// included: print them redacted.
	out := redactStdout(m.a)
	defer out.restore()
	if output == "json" {
		projects, list := []any{}, []any{}
		for i, r := range m.runs {
			projects = append(projects, r.projectJSON())
			for _, it := range items[i] {
				list = append(list, r.withProject(planItemJSON(it)))
			}
		}
		if err := writeJSON(m.a.io.Out, py.MapOf("projects", projects, "plan", list)); err != nil {
			return err
		}
		return out.flush(client)
	}
	counts := map[string]int{}
	for i, r := range m.runs {
		if i > 0 {
			fmt.Fprintln(m.a.io.Out)
		}
		fmt.Fprintln(m.a.io.Out, r.header(m.a))
		renderPlanItems(m.a, items[i], counts)
	}
	if err := out.flush(client); err != nil {
		return err
	}
	m.a.ui.infof("\nPlan: %d project(s); %d to create, %d to update, %d unchanged%s. Nothing was changed.", len(m.runs), counts["create"], counts["update"], counts["unchanged"], pruneCounts(counts))
	return nil
}

// redactedOut buffers stdout so that it can be written redacted.
type redactedOut struct {
	a    *app
	prev io.Writer
	buf  strings.Builder
}

func redactStdout(a *app) *redactedOut {
	r := &redactedOut{a: a, prev: a.io.Out}
	a.io.Out = &r.buf
	return r
}

func (r *redactedOut) restore() { r.a.io.Out = r.prev }

func (r *redactedOut) flush(client *cloudapi.Client) error {
	s := client.Redact(r.buf.String())
	r.buf.Reset()
	_, err := r.prev.Write([]byte(s))
	return err
}
