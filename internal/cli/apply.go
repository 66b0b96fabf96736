package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/prefectctl/prefectctl/internal/cloudapi"
	"github.com/prefectctl/prefectctl/internal/config"
	"github.com/prefectctl/prefectctl/internal/deploy"
	"github.com/prefectctl/prefectctl/internal/project"
	"github.com/prefectctl/prefectctl/internal/py"
	"github.com/prefectctl/prefectctl/internal/steps"
	"github.com/prefectctl/prefectctl/internal/steps/docker"
	"github.com/prefectctl/prefectctl/internal/template"
)

// applyFlags are the deploy flags that only matter when applying.
type applyFlags struct {
	skipBuild, skipPush bool
	image               string
	concurrency         int
	allowPipInstall     bool
	force, plan, atomic bool
	fullBuild           bool
	pinDigest           bool
	prune               pruneFlags
}

func (f *applyFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.BoolVar(&f.skipBuild, "skip-build", false, "do not run build steps (use with --image to stand in for a built image)")
	fl.BoolVar(&f.skipPush, "skip-push", false, "do not run push steps")
	fl.StringVar(&f.image, "image", "", "an already built image reference to use for {{ build-image.image }}-style references (implies --skip-build)")
	fl.IntVar(&f.concurrency, "concurrency", 0, "how many requests to have in flight at once (default: adapts to the server, see docs/registration.md)")
	fl.BoolVar(&f.allowPipInstall, "allow-pip-install", false, "let custom Python steps pip-install their 'requires'")
	fl.BoolVar(&f.force, "force", false, "re-send deployments that have not changed")
	fl.BoolVar(&f.plan, "plan", false, "compare with the server and print what would change: reads only, runs no step")
	fl.BoolVar(&f.atomic, "atomic", false, "if a write fails or the run is interrupted, put back every deployment it changed, delete those it created (see docs/registration.md)")
	f.prune.register(cmd)
	fl.BoolVar(&f.fullBuild, "full-build", false, "build every image with Docker, never as a code layer appended in the registry")
	fl.BoolVar(&f.pinDigest, "pin-digest", false, "register job_variables.image as name@sha256:... of the pushed image instead of name:tag")
}

// runDeploy applies the selected deployments of the prefect.yaml at file
// against the Prefect API.
func runDeploy(ctx context.Context, a *app, cmd *cobra.Command, f *deployFlags, af *applyFlags, file, entrypoint string) error {
	start := time.Now()
	client, settings, pruneMode, err := deployClient(a, cmd, f, af, entrypoint)
	if err != nil {
		return err
	}
	p, err := project.LoadWith(file, f.loadOptions(cmd))
	if err != nil {
		return err
	}
	identity, err := af.prune.identity(cmd, pruneMode, file, p.Name)
	if err != nil {
		return err
	}
	announceEnv(a, p)
	for _, w := range p.Warnings {
		a.ui.warn(w)
	}
	opts, err := f.selectOptions(cmd, entrypoint, settings.DefaultWorkPool())
	if err != nil {
		return err
	}
	sel, err := p.Select(opts)
	if err != nil {
		return err
	}
	for _, w := range sel.Warnings {
		a.ui.warn(w)
	}
	dir, _ := os.Getwd()
	loader, err := newFlowLoader(f.metadataMode(cmd, p), dir)
	if err != nil {
		return err
	}
	resolver := template.NewCachedResolver(cloudapi.Resolver{C: client})
	prog := startProgress(a) // before stepOut: step output must go through it
	defer prog.stop()
	stepOut := a.io.ErrOut
	if a.opts.Quiet {
		stepOut = nil
	}
	runner := steps.NewRunner(&steps.Env{Dir: dir, Resolver: resolver, Stdout: stepOut, Stderr: stepOut, AllowPipInstall: af.allowPipInstall,
		Docker: docker.Options{ProjectPrefectVersion: p.PrefectVersion, DefaultNamespace: settings.DefaultDockerBuildNamespace()}})
	defer runner.Close()
	opt := deploy.Options{
		Dir:        dir,
		SkipBuild:  af.skipBuild || af.image != "",
		SkipPush:   af.skipPush,
		Image:      af.image,
		Force:      af.force,
		Project:    identity,
		Prune:      pruneMode,
		Atomic:     af.atomic,
		FullBuild:  af.fullBuild,
		PinDigests: af.pinDigest,
	}
	deps := deploy.Deps{API: client, Flows: loader, Resolver: resolver, Steps: runner, Docker: runner, Images: runner, Warn: a.ui.warn, Progress: prog.event}
	if af.plan {
		prog.stop()
		items, err := deploy.Plan(ctx, p, sel, opt, deps)
		if err != nil {
			return err
		}
		// Planned bodies hold templated values, resolved secret blocks
		// included: print them redacted.
		out := a.io.Out
		var buf bytes.Buffer
		a.io.Out = &buf
		err = renderPlan(a, f.output, items)
		a.io.Out = out
		if _, werr := io.WriteString(out, client.Redact(buf.String())); err == nil {
			err = werr
		}
		return err
	}
	report, applyErr := deploy.Apply(ctx, p, sel, opt, deps)
	prog.stop()
	if report == nil {
		return applyErr
	}
	// Prune only after every deployment was applied, and never after an
	// interrupt.
	why := ""
	switch {
	case ctx.Err() != nil:
		why = "interrupted"
	case applyErr != nil || report.Failed():
		why = "a deployment was not applied"
	}
	var pruneErr error
	if why != "" {
		skipPrune(report.Prune)
	} else if len(report.Prune) > 0 {
		pruneErr = deploy.Prune(ctx, client, report.Prune)
	}
	ui := settings.UIURL()
	if f.output == "json" {
		items := []any{}
		for _, r := range report.Results {
			items = append(items, applyResultJSON(r, ui))
		}
		out := py.MapOf("ok", applyErr == nil && !report.Failed() && pruneErr == nil, "deployments", items)
		if pruneMode != deploy.PruneOff {
			out.Set("pruned", pruneJSON(report.Prune))
		}
		if report.Rollback != nil {
			out.Set("rollback", rollbackJSON(report.Rollback))
		}
		out.Set("seconds", time.Since(start).Seconds())
		if err := writeJSON(a.io.Out, out); err != nil {
			return err
		}
	} else {
		renderApply(a, report, ui)
		renderRollback(a, report.Rollback)
		renderPrune(a, report.Prune, why)
	}
	if applyErr != nil {
		return withRollback(a, applyErr, report.Rollback)
	}
	if report.Failed() || pruneErr != nil {
		return &silentError{code: ExitFailure}
	}
	a.ui.infof("Done in %.1fs.", time.Since(start).Seconds())
	return nil
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// applyResultJSON is one deployment in `deploy -o json`.
func applyResultJSON(r *deploy.Result, ui string) *py.Map {
	m := py.MapOf("name", r.Name, "action", r.Action, "id", nilIfEmpty(r.ID), "work_pool", r.WorkPool, "image", nilIfEmpty(r.Image))
	if r.ID != "" && ui != "" {
		m.Set("url", strings.TrimRight(ui, "/")+"/deployments/deployment/"+r.ID)
	}
	if r.Error != nil {
		m.Set("error", r.Error.Error())
	}
	m.Set("changes", changedFields(r.Changes))
	m.Set("images", imagesJSON(r.Images))
	return m
}

func renderApply(a *app, report *deploy.Report, ui string) {
	poolsWithoutWorkers := map[string]bool{}
	renderApplyResults(a, report, ui, poolsWithoutWorkers)
	renderWorkerHints(a, poolsWithoutWorkers)
}

// renderApplyResults prints one line per deployment and adds the work
// pools no worker polls to poolsWithoutWorkers.
func renderApplyResults(a *app, report *deploy.Report, ui string, poolsWithoutWorkers map[string]bool) {
	p := a.ui.p
	for _, r := range report.Results {
		switch r.Action {
		case "created", "updated":
			fmt.Fprintf(a.io.Out, "%s Deployment '%s' %s with id '%s'.\n", p.ok.Render("✓"), r.Name, r.Action, r.ID)
			if len(r.Changes) > 0 {
				a.ui.infof("  changed: %s", strings.Join(anyStrings(changedFields(r.Changes)), ", "))
			}
			if ui != "" {
				a.ui.infof("  View Deployment in UI: %s/deployments/deployment/%s", strings.TrimRight(ui, "/"), r.ID)
			}
			if !r.WorkerOnline && !strings.HasSuffix(r.WorkPool, ":push") && !strings.HasSuffix(r.WorkPool, ":managed") {
				poolsWithoutWorkers[r.WorkPool] = true
			}
		case "unchanged":
			fmt.Fprintf(a.io.Out, "%s Deployment '%s' unchanged (id '%s'); not re-sent (--force re-sends it).\n", p.dim.Render("="), r.Name, r.ID)
		case "failed":
			fmt.Fprintf(a.io.Out, "%s Deployment '%s' failed: %v\n", p.err.Render("✗"), r.Name, r.Error)
		case "rolled-back":
			fmt.Fprintf(a.io.Out, "%s Deployment '%s' was applied, then rolled back (--atomic).\n", p.dim.Render("↺"), r.Name)
		default:
			fmt.Fprintf(a.io.Out, "%s Deployment '%s' was not applied.\n", p.dim.Render("-"), r.Name)
		}
	}
}

func renderWorkerHints(a *app, poolsWithoutWorkers map[string]bool) {
	pools := make([]string, 0, len(poolsWithoutWorkers))
	for pool := range poolsWithoutWorkers {
		pools = append(pools, pool)
	}
	sort.Strings(pools)
	for _, pool := range pools {
		a.ui.infof("\nTo execute flow runs from these deployments, start a worker that pulls work from the '%s' work pool:\n\n\t$ prefect worker start --pool '%s'", pool, pool)
	}
}

// deployClient is a deploy's API client, with --concurrency read into its
// limiter (one client, so one limiter, for every project of a run), and
// --prune's mode.
func deployClient(a *app, cmd *cobra.Command, f *deployFlags, af *applyFlags, entrypoint string) (*cloudapi.Client, *config.Settings, deploy.PruneMode, error) {
	concurrency, err := registerConcurrency(cmd.Flags().Changed("concurrency"), af.concurrency)
	if err != nil {
		return nil, nil, deploy.PruneOff, err
	}
	client, settings, err := a.apiClient(func(o *cloudapi.Options) { o.Concurrency = concurrency })
	if err != nil {
		return nil, nil, deploy.PruneOff, err
	}
	pruneMode, err := af.prune.mode(cmd, f, entrypoint)
	if err != nil {
		return nil, nil, deploy.PruneOff, err
	}
	return client, settings, pruneMode, nil
}

// registerConcurrency is the --concurrency flag as the API client's
// Options.Concurrency: the number given, or 0 when the flag is not set,
// which leaves the decision to the client's adaptive limiter (the one place
// that decides it, cloudapi.Limiter).
func registerConcurrency(flagSet bool, flag int) (int, error) {
	if flagSet && flag < 1 {
		return 0, usageErr("pass --concurrency 1 or more, or leave it out to let prefectctl adapt to the server", "--concurrency must be at least 1, got %d", flag)
	}
	if !flagSet {
		return 0, nil
	}
	return flag, nil
}

func changedFields(cs []deploy.Change) []any {
	out := []any{}
	for _, c := range cs {
		out = append(out, c.Field)
	}
	return out
}

func anyStrings(l []any) []string {
	out := make([]string, len(l))
	for i, x := range l {
		out[i] = py.Str(x)
	}
	return out
}

// renderPlan prints what a deploy would do: created, updated with a
// field-level diff, or unchanged.
func renderPlan(a *app, output string, items []*deploy.PlanItem) error {
	if output == "json" {
		list := []any{}
		for _, it := range items {
			list = append(list, planItemJSON(it))
		}
		return writeJSON(a.io.Out, py.MapOf("plan", list))
	}
	counts := map[string]int{}
	renderPlanItems(a, items, counts)
	a.ui.infof("\nPlan: %d to create, %d to update, %d unchanged%s. Nothing was changed.", counts["create"], counts["update"], counts["unchanged"], pruneCounts(counts))
	return nil
}

// planItemJSON is one deployment in `deploy --plan -o json`.
func planItemJSON(it *deploy.PlanItem) *py.Map {
	changes := []any{}
	for _, c := range it.Changes {
		changes = append(changes, py.MapOf("field", c.Field, "old", py.FromGo(c.Old), "new", py.FromGo(c.New)))
	}
	if it.Spec == nil { // a deployment --prune would remove
		return py.MapOf("name", it.Name, "action", it.Action, "id", nilIfEmpty(it.ID), "reason", "removed from prefect.yaml")
	}
	return py.MapOf("name", it.Name, "action", it.Action, "id", nilIfEmpty(it.ID),
		"changes", changes, "pending", py.FromGo(it.Pending), "images", imagesJSON(it.Images), "body", it.Spec.Body)
}

// pruneCounts is the plan summary's part for --prune ("" without one).
func pruneCounts(counts map[string]int) string {
	s := ""
	if n := counts["delete"]; n > 0 {
		s += fmt.Sprintf(", %d to delete", n)
	}
	if n := counts["pause"]; n > 0 {
		s += fmt.Sprintf(", %d to pause", n)
	}
	return s
}

// renderPlanItems prints the plan of some deployments and counts their
// actions.
func renderPlanItems(a *app, items []*deploy.PlanItem, counts map[string]int) {
	p := a.ui.p
	for _, it := range items {
		counts[it.Action]++
		switch it.Action {
		case "create":
			fmt.Fprintf(a.io.Out, "%s %s (new)\n", p.added.Render("+"), it.Name)
		case "unchanged":
			fmt.Fprintf(a.io.Out, "%s %s (unchanged)\n", p.dim.Render("="), it.Name)
		case "delete":
			fmt.Fprintf(a.io.Out, "%s %s (removed from prefect.yaml)\n", p.removed.Render("-"), it.Name)
		case "pause":
			fmt.Fprintf(a.io.Out, "%s %s (removed from prefect.yaml)\n", p.removed.Render("-"), it.Name)
		default:
			fmt.Fprintf(a.io.Out, "%s %s\n", p.warn.Render("~"), it.Name)
			for _, c := range it.Changes {
				fmt.Fprintf(a.io.Out, "    %s: %s %s %s\n", c.Field, p.removed.Render(compactJSON(py.FromGo(c.Old))), "→", p.added.Render(compactJSON(py.FromGo(c.New))))
			}
		}
		if len(it.Pending) > 0 {
			fmt.Fprintf(a.io.Out, "    pending until the build and push steps run: %s\n", strings.Join(it.Pending, ", "))
		}
		for _, d := range it.Images {
			fmt.Fprintf(a.io.Out, "    image %s: %s\n", d.Image, d.String())
			for _, w := range d.Warnings {
				fmt.Fprintf(a.io.Out, "      warning: %s\n", w)
			}
		}
	}
}

// rollbackJSON is the "rollback" of `deploy --atomic -o json`.
func rollbackJSON(rb *deploy.Rollback) *py.Map {
	item := func(it *deploy.RestoreItem) *py.Map {
		fields := []any{}
		for _, f := range it.Fields {
			fields = append(fields, f)
		}
		m := py.MapOf("name", it.Name, "id", nilIfEmpty(it.ID), "action", it.Action, "fields", fields)
		if it.Reason != "" {
			m.Set("reason", it.Reason)
		}
		if it.Error != nil {
			m.Set("error", it.Error.Error())
		}
		return m
	}
	deps, flows := []any{}, []any{}
	for _, it := range rb.Deployments {
		deps = append(deps, item(it))
	}
	for _, it := range rb.Flows {
		flows = append(flows, item(it))
	}
	return py.MapOf("complete", rb.Complete(), "deployments", deps, "flows", flows)
}

// renderRollback prints what --atomic put back, and loudly what it could
// not.
func renderRollback(a *app, rb *deploy.Rollback) {
	if rb == nil {
		return
	}
	p := a.ui.p
	if len(rb.Deployments) == 0 && len(rb.Flows) == 0 {
		fmt.Fprintln(a.io.Out, "Rollback (--atomic): nothing had been written.")
		return
	}
	fmt.Fprintln(a.io.Out, "Rollback (--atomic):")
	for _, it := range rb.Deployments {
		switch it.Action {
		case "restored":
			fmt.Fprintf(a.io.Out, "  %s Deployment '%s' restored (%s).\n", p.ok.Render("↺"), it.Name, strings.Join(it.Fields, ", "))
		case "deleted":
			fmt.Fprintf(a.io.Out, "  %s Deployment '%s' deleted (this deploy created it).\n", p.ok.Render("↺"), it.Name)
		case "unchanged":
			fmt.Fprintf(a.io.Out, "  %s Deployment '%s' was not changed on the server.\n", p.dim.Render("="), it.Name)
		default:
			fmt.Fprintf(a.io.Out, "  %s Deployment '%s' could NOT be restored: %v\n", p.err.Render("✗"), it.Name, it.Error)
		}
	}
	for _, it := range rb.Flows {
		switch it.Action {
		case "deleted":
			fmt.Fprintf(a.io.Out, "  %s Flow '%s' deleted (this deploy created it).\n", p.ok.Render("↺"), it.Name)
		case "kept":
			fmt.Fprintf(a.io.Out, "  %s Flow '%s' kept: %s.\n", p.dim.Render("="), it.Name, it.Reason)
		case "unchanged":
		default:
			fmt.Fprintf(a.io.Out, "  %s Flow '%s' could NOT be deleted: %v\n", p.err.Render("✗"), it.Name, it.Error)
		}
	}
}

// withRollback returns the error that stopped the deploy, unchanged (its
// exit code, location and hint are the user's first concern), after
// writing to stderr what an incomplete rollback could not put back, which
// no --quiet silences.
func withRollback(a *app, err error, rb *deploy.Rollback) error {
	if rb != nil && !rb.Complete() {
		fmt.Fprintf(a.io.ErrOut, "%s %v; the server is partly as this deploy left it.\n", a.ui.p.err.Render("Error:"), rb.Err())
	}
	return err
}

// imagesJSON is how a deployment's images are (or would be) made, for -o json.
func imagesJSON(ds []*docker.Decision) []any {
	out := []any{}
	for _, d := range ds {
		warnings := []any{}
		for _, w := range d.Warnings {
			warnings = append(warnings, w)
		}
		out = append(out, py.MapOf("image", d.Image, "mode", string(d.Mode), "reason", d.Reason,
			"previous", nilIfEmpty(d.Previous), "unchanged", d.Unchanged, "pending", d.Pending, "warnings", warnings))
	}
	return out
}
