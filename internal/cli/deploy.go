package cli

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/prefectctl/prefectctl/internal/deploy"
	"github.com/prefectctl/prefectctl/internal/diag"
	"github.com/prefectctl/prefectctl/internal/project"
	"github.com/prefectctl/prefectctl/internal/py"
)

// deployFlags are the flags of `deploy` and `validate`.
type deployFlags struct {
	prefectFiles []string
	recursive    bool
	env, envFile string
	all          bool
	names        []string
	output       string
	dryRun       bool

	description, version, versionType string
	tags                              []string
	concurrencyLimit                  int64
	collisionStrategy                 string
	pool, workQueue                   string
	jobVariables                      []string
	crons, rrules                     []string
	intervals                         []int64
	anchorDate, timezone              string
	params                            []string
	paramsJSON                        string
	noEnforce                         bool
	flowMetadata                      string
}

func (f *deployFlags) register(cmd *cobra.Command, full bool) {
	fl := cmd.Flags()
	fl.StringArrayVar(&f.prefectFiles, "prefect-file", nil, "path to the prefect.yaml file (default prefect.yaml); repeat it, or give a quoted glob such as 'services/*/prefect.yaml', for several projects")
	fl.BoolVarP(&f.recursive, "recursive", "R", false, "every prefect.yaml under the current directory, or under each --prefect-file directory, skipping what git ignores")
	fl.StringVar(&f.env, "env", "", "environment: merge the overlay prefect.ENV.yaml beside prefect.yaml over it (default $PREFECTCTL_ENV)")
	fl.StringVar(&f.envFile, "env-file", "", "merge this overlay file over prefect.yaml instead of prefect.ENV.yaml")
	fl.BoolVar(&f.all, "all", false, "select every deployment in prefect.yaml")
	fl.StringArrayVarP(&f.names, "name", "n", nil, "deployment to select: NAME, FLOW/NAME or a * pattern (repeatable)")
	addOutputFlag(cmd, &f.output)
	fl.StringVar(&f.flowMetadata, "flow-metadata", "static", "how to read flow metadata: static (parse the source) or python (ask python3 with prefect installed)")
	if !full {
		return
	}
	fl.BoolVar(&f.dryRun, "dry-run", false, "print what would be sent and stop: run no step, call no API")
	fl.StringVarP(&f.description, "description", "d", "", "deployment description (single deployment)")
	fl.StringVar(&f.version, "version", "", "deployment version (single deployment)")
	fl.StringVar(&f.versionType, "version-type", "", "version type: prefect:simple, vcs:git, vcs:github, ...")
	fl.StringArrayVarP(&f.tags, "tag", "t", nil, "deployment tag; replaces the tags in prefect.yaml (repeatable)")
	fl.Int64Var(&f.concurrencyLimit, "concurrency-limit", 0, "maximum concurrent runs of the deployment")
	fl.StringVar(&f.collisionStrategy, "collision-strategy", "", "with --concurrency-limit: ENQUEUE or CANCEL_NEW")
	fl.StringVarP(&f.pool, "pool", "p", "", "work pool name")
	fl.StringVarP(&f.workQueue, "work-queue", "q", "", "work queue name")
	fl.StringArrayVar(&f.jobVariables, "job-variable", nil, "job variable key=value or a JSON object; replaces job_variables as in prefect deploy (repeatable)")
	fl.StringArrayVar(&f.crons, "cron", nil, "add a cron schedule (repeatable)")
	fl.Int64SliceVar(&f.intervals, "interval", nil, "add an interval schedule in seconds (repeatable)")
	fl.StringArrayVar(&f.rrules, "rrule", nil, "add an RRule schedule (repeatable)")
	fl.StringVar(&f.anchorDate, "anchor-date", "", "anchor date for every interval schedule")
	fl.StringVar(&f.timezone, "timezone", "", "timezone for every schedule")
	fl.StringArrayVar(&f.params, "param", nil, "parameter key=value; the value is JSON if it parses (repeatable)")
	fl.StringVar(&f.paramsJSON, "params", "", "parameters as a JSON object")
	fl.BoolVar(&f.noEnforce, "no-enforce-parameter-schema", false, "do not validate run parameters against the flow's schema")
}

// metadataMode picks how flow metadata is read: the flag, then
// PREFECTCTL_FLOW_METADATA, then prefect.yaml's prefectctl.flow_metadata,
// then static.
func (f *deployFlags) metadataMode(cmd *cobra.Command, p *project.Project) string {
	if cmd.Flags().Changed("flow-metadata") {
		return f.flowMetadata
	}
	if v := os.Getenv("PREFECTCTL_FLOW_METADATA"); v != "" {
		return v
	}
	if p != nil && p.FlowMetadata != "" {
		return p.FlowMetadata
	}
	return "static"
}

// selectOptions turns the flags into project selection options.
func (f *deployFlags) selectOptions(cmd *cobra.Command, entrypoint string, defaultPool string) (project.SelectOptions, error) {
	o := project.SelectOptions{All: f.all, Names: f.names, DefaultWorkPool: defaultPool}
	ov := &o.Overrides
	ov.Entrypoint = entrypoint
	changed := func(name string) bool { return cmd.Flags().Changed(name) }
	if changed("description") {
		ov.Description = &f.description
	}
	if changed("version") {
		ov.Version = &f.version
	}
	if changed("version-type") {
		ov.VersionType = &f.versionType
	}
	if changed("tag") {
		ov.Tags = f.tags
	}
	if changed("concurrency-limit") {
		ov.ConcurrencyLimit = &f.concurrencyLimit
		ov.CollisionStrategy = f.collisionStrategy
		if s := f.collisionStrategy; s != "" && s != "ENQUEUE" && s != "CANCEL_NEW" {
			return o, usageErr("use ENQUEUE or CANCEL_NEW", "unknown --collision-strategy %q", s)
		}
	}
	ov.Pool, ov.WorkQueue = f.pool, f.workQueue
	jv, err := parseDeployJobVariables(f.jobVariables)
	if err != nil {
		return o, err
	}
	ov.JobVariables = jv
	ov.Crons, ov.RRules, ov.Intervals = f.crons, f.rrules, f.intervals
	ov.AnchorDate, ov.Timezone = f.anchorDate, f.timezone
	params, err := parseDeployParams(f.params, f.paramsJSON)
	if err != nil {
		return o, err
	}
	ov.Params = params
	ov.NoEnforceParameterSchm = f.noEnforce
	return o, nil
}

func newDeployCmd(a *app) *cobra.Command {
	f := &deployFlags{}
	af := &applyFlags{}
	cmd := &cobra.Command{
		Use:   "deploy [ENTRYPOINT]",
		Short: "Build, push and register deployments from prefect.yaml",
		Long: `Deploy registers the deployments of prefect.yaml with the Prefect API, exactly as
'prefect deploy' would: it runs the build and push steps, reads each flow's name
and parameter schema from its source, and creates or updates the deployments.

With --dry-run it prints, for each deployment, the request it would send and stops:
no step runs and no API is called. Values that build or push steps would produce
are shown as their placeholders and listed as pending.

With --env NAME (or PREFECTCTL_ENV) the overlay prefect.NAME.yaml beside prefect.yaml
is merged over it first, and (( values.KEY )) placeholders take their values from
prefectctl.values (docs/environments.md).

With several --prefect-file values, a glob, or --recursive, it deploys several
projects in one run, each from its own directory: every project is checked before
any step runs, and a flow/name defined twice stops the run (docs/monorepo.md).

With --all --prune, once every deployment was applied, it deletes (--prune=pause:
pauses) the deployments this project created that prefect.yaml no longer defines.
Only deployments marked with the project's name (prefect.yaml's name or --project)
are candidates; --plan lists them (docs/prune.md).`,
		Example: `  prefectctl deploy --all
  prefectctl deploy -n hello/arthur
  prefectctl deploy --all --dry-run -o json
  prefectctl deploy --all --env prod --plan
  prefectctl deploy --all --recursive
  prefectctl deploy --all --prune --plan`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkOutput(f.output); err != nil {
				return err
			}
			entrypoint := ""
			if len(args) == 1 {
				entrypoint = args[0]
			}
			if _, err := af.prune.mode(cmd, f, entrypoint); err != nil {
				return err
			}
			files, err := f.projectFiles()
			if err != nil {
				return err
			}
			if files.Multi {
				if !f.dryRun {
					return deployProjects(cmd.Context(), a, cmd, f, af, files.Files, entrypoint)
				}
				m, err := dryRunProjects(cmd.Context(), a, cmd, f, files.Files, entrypoint)
				if err != nil {
					return err
				}
				return renderDryRunProjects(a, f.output, m)
			}
			if !f.dryRun {
				return runDeploy(cmd.Context(), a, cmd, f, af, files.Files[0], entrypoint)
			}
			res, err := dryRun(cmd.Context(), a, cmd, f, files.Files[0], entrypoint)
			if err != nil {
				return err
			}
			return renderDryRun(a, f.output, res)
		},
	}
	f.register(cmd, true)
	af.register(cmd)
	return cmd
}

func newValidateCmd(a *app) *cobra.Command {
	f := &deployFlags{}
	cmd := &cobra.Command{
		Use:   "validate",
		Short: "Check prefect.yaml, its templates and entrypoints without deploying",
		Long: `Validate loads prefect.yaml and runs every check 'deploy --dry-run' runs: the file's
syntax and fields, deployment selection, steps, templates and unset environment
variables, schedules, entrypoints and flow metadata, and parameters against each
flow's schema. It needs no Prefect server and sends nothing. It prints nothing and
exits 0 when all is well; otherwise it reports every problem and exits 2. Without
--all or -n it checks every deployment.

With --env NAME it checks prefect.yaml as the environment's overlay makes it, and
prints the merged file. With several --prefect-file values, a glob, or --recursive,
it checks every project and reports the problems of all of them together.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkOutput(f.output); err != nil {
				return err
			}
			if !f.all && len(f.names) == 0 {
				f.all = true
			}
			files, err := f.projectFiles()
			if err != nil {
				return err
			}
			if files.Multi {
				return validateProjects(cmd.Context(), a, cmd, f, files.Files)
			}
			res, err := dryRun(cmd.Context(), a, cmd, f, files.Files[0], "")
			if f.output == "json" {
				out := map[string]any{"valid": err == nil, "warnings": problemsJSON(res.warnings), "errors": problemsJSON(diag.AsList(err))}
				if res.p != nil && res.p.EnvFile != "" {
					out["env"], out["env_file"], out["merged"] = nilIfEmpty(res.p.Env), res.p.EnvFile, res.p.Document()
				}
				if werr := writeJSON(a.io.Out, out); werr != nil {
					return werr
				}
				if err != nil {
					return &silentError{code: exitCode(err)}
				}
				return nil
			}
			if err == nil && res.p.EnvFile != "" {
				writeMerged(a, res.p)
			}
			return err
		},
	}
	f.register(cmd, false)
	return cmd
}

// dryRunResult is a dry run of every selected deployment.
type dryRunResult struct {
	p        *project.Project
	planned  []deploy.Planned
	warnings []*diag.Error
}

// dryRun loads the prefect.yaml at file and selects, then prepares, checks
// and finalises every selected deployment offline (deploy.DryRun),
// collecting every problem instead of stopping at the first.
func dryRun(ctx context.Context, a *app, cmd *cobra.Command, f *deployFlags, file, entrypoint string) (*dryRunResult, error) {
	res := &dryRunResult{}
	warn := func(e *diag.Error) {
		res.warnings = append(res.warnings, e)
		if f.output != "json" {
			a.ui.warn(e)
		}
	}
	p, err := project.LoadWith(file, f.loadOptions(cmd))
	if err != nil {
		return res, err
	}
	res.p = p
	announceEnv(a, p)
	for _, w := range p.Warnings {
		warn(w)
	}
	settings, err := a.prefectSettings()
	if err != nil {
		return res, err
	}
	opts, err := f.selectOptions(cmd, entrypoint, settings.DefaultWorkPool())
	if err != nil {
		return res, err
	}
	sel, err := p.Select(opts)
	if err != nil {
		return res, err
	}
	for _, w := range sel.Warnings {
		warn(w)
	}
	dir, _ := os.Getwd()
	loader, err := newFlowLoader(f.metadataMode(cmd, p), dir)
	if err != nil {
		return res, err
	}
	res.planned, err = deploy.DryRun(ctx, p, sel, deploy.Options{Dir: dir}, deploy.Deps{Flows: loader, Warn: warn})
	return res, err
}

func problemsJSON(list []*diag.Error) []map[string]any {
	out := []map[string]any{}
	for _, e := range list {
		m := map[string]any{"message": e.Msg}
		if e.File != "" {
			m["file"] = e.File
		}
		if e.Line > 0 {
			m["line"] = e.Line
			m["column"] = e.Col
		}
		if e.Path != "" {
			m["field"] = e.Path
		}
		if e.Hint != "" {
			m["hint"] = e.Hint
		}
		if e.Err != nil {
			m["cause"] = e.Err.Error()
		}
		out = append(out, m)
	}
	return out
}

// dryRunJSON is one deployment in `deploy --dry-run -o json`.
func dryRunJSON(d *deploy.Deployment, s *deploy.Spec) *py.Map {
	wp := py.MapOf(
		"name", get(s.Body, "work_pool_name"),
		"work_queue_name", get(s.Body, "work_queue_name"),
		"job_variables", get(s.Body, "job_variables"),
	)
	steps := py.MapOf("build", orEmpty(d.BuildSteps), "push", orEmpty(d.PushSteps))
	pending := make([]any, len(s.Pending))
	for i, p := range s.Pending {
		pending[i] = p
	}
	notes := []any{}
	for _, n := range d.Notes {
		notes = append(notes, n)
	}
	if d.PullFromHere != "" {
		notes = append(notes, "Prefect workers will load the flow from "+d.PullFromHere+" (a path on this machine); run 'prefectctl init' to store the code elsewhere")
	}
	return py.MapOf(
		"name", s.Name,
		"flow_name", s.FlowName,
		"full_name", s.FlowName+"/"+s.Name,
		"entrypoint", get(s.Body, "entrypoint"),
		"work_pool", wp,
		"parameters", get(s.Body, "parameters"),
		"tags", get(s.Body, "tags"),
		"version", get(s.Body, "version"),
		"description", get(s.Body, "description"),
		"schedules", get(s.Body, "schedules"),
		"pull_steps", get(s.Body, "pull_steps"),
		"parameter_openapi_schema", get(s.Body, "parameter_openapi_schema"),
		"steps", steps,
		"pending", pending,
		"notes", notes,
		"body", s.Body,
	)
}

func get(m *py.Map, k string) any { v, _ := m.Get(k); return v }

func orEmpty(l []any) []any {
	if l == nil {
		return []any{}
	}
	return l
}

func renderDryRun(a *app, output string, res *dryRunResult) error {
	if output == "json" {
		items := make([]any, len(res.planned))
		for i, pl := range res.planned {
			items[i] = dryRunJSON(pl.Deployment, pl.Spec)
		}
		out := py.MapOf("dry_run", true)
		if res.p != nil && res.p.EnvFile != "" {
			out.Set("env", nilIfEmpty(res.p.Env))
			out.Set("env_file", res.p.EnvFile)
		}
		out.Set("deployments", items)
		out.Set("warnings", py.FromGo(anySlice(problemsJSON(res.warnings))))
		if err := writeJSON(a.io.Out, out); err != nil {
			return err
		}
		a.ui.infof("%d deployment(s) planned; nothing was built, pushed or registered (dry run).", len(res.planned))
		return nil
	}
	renderDryRunItems(a, res.planned)
	a.ui.infof("\n%d deployment(s) planned; nothing was built, pushed or registered (dry run).", len(res.planned))
	return nil
}

// renderDryRunItems prints each planned deployment's request.
func renderDryRunItems(a *app, planned []deploy.Planned) {
	w := a.io.Out
	p := a.ui.p
	for i, pl := range planned {
		d, s := pl.Deployment, pl.Spec
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "%s %s\n", p.bold.Render("Deployment"), p.key.Render(s.FlowName+"/"+s.Name))
		rows := []kv{
			{"entrypoint", py.Str(get(s.Body, "entrypoint"))},
			{"work pool", py.Str(get(s.Body, "work_pool_name"))},
		}
		if q := get(s.Body, "work_queue_name"); q != nil {
			rows = append(rows, kv{"work queue", py.Str(q)})
		}
		rows = append(rows,
			kv{"parameters", compactJSON(get(s.Body, "parameters"))},
			kv{"job variables", compactJSON(get(s.Body, "job_variables"))},
			kv{"tags", compactJSON(get(s.Body, "tags"))},
			kv{"version", py.Str(get(s.Body, "version"))},
			kv{"schedules", fmt.Sprint(len(get(s.Body, "schedules").([]any)))},
			kv{"pull steps", compactJSON(get(s.Body, "pull_steps"))},
		)
		if len(d.BuildSteps)+len(d.PushSteps) > 0 {
			rows = append(rows, kv{"steps", fmt.Sprintf("%d build, %d push (not run in a dry run)", len(d.BuildSteps), len(d.PushSteps))})
		}
		if len(s.Pending) > 0 {
			rows = append(rows, kv{"pending", strings.Join(s.Pending, ", ")})
		}
		a.ui.printKV(w, indentKV(rows))
	}
}

func indentKV(rows []kv) []kv {
	for i := range rows {
		rows[i].k = "  " + rows[i].k
	}
	return rows
}

func compactJSON(v any) string {
	b, err := py.EncodeJSON(v)
	if err != nil {
		return py.Repr(v)
	}
	return string(b)
}

func anySlice[T any](in []T) []any {
	out := make([]any, len(in))
	for i, x := range in {
		out[i] = x
	}
	return out
}
