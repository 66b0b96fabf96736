package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/prefectctl/prefectctl/internal/cloudapi"
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
	force, plan         bool
	fullBuild           bool
	pinDigest           bool
}

func (f *applyFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.BoolVar(&f.skipBuild, "skip-build", false, "do not run build steps (use with --image to stand in for a built image)")
	fl.BoolVar(&f.skipPush, "skip-push", false, "do not run push steps")
	fl.StringVar(&f.image, "image", "", "an already built image reference to use for {{ build-image.image }}-style references (implies --skip-build)")
	fl.IntVar(&f.concurrency, "concurrency", 0, "how many deployments to register at once (default 4 on Prefect Cloud, 1 on a self-hosted server)")
	fl.BoolVar(&f.allowPipInstall, "allow-pip-install", false, "let custom Python steps pip-install their 'requires'")
	fl.BoolVar(&f.force, "force", false, "re-send deployments that have not changed")
	fl.BoolVar(&f.plan, "plan", false, "compare with the server and print what would change: reads only, runs no step")
	fl.BoolVar(&f.fullBuild, "full-build", false, "build every image with Docker, never as a code layer appended in the registry")
	fl.BoolVar(&f.pinDigest, "pin-digest", false, "register job_variables.image as name@sha256:... of the pushed image instead of name:tag")
}

// runDeploy applies the selected deployments against the Prefect API.
func runDeploy(ctx context.Context, a *app, cmd *cobra.Command, f *deployFlags, af *applyFlags, entrypoint string) error {
	start := time.Now()
	client, settings, err := a.apiClient()
	if err != nil {
		return err
	}
	if err := settings.RequireAPI(); err != nil {
		return err
	}
	p, err := project.Load(f.prefectFile)
	if err != nil {
		return err
	}
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
	concurrency, err := registerConcurrency(cmd.Flags().Changed("concurrency"), af.concurrency, settings.IsCloud())
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
		Dir:         dir,
		SkipBuild:   af.skipBuild || af.image != "",
		SkipPush:    af.skipPush,
		Image:       af.image,
		Concurrency: concurrency,
		Force:       af.force,
		FullBuild:   af.fullBuild,
		PinDigests:  af.pinDigest,
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
	ui := settings.UIURL()
	if f.output == "json" {
		items := []any{}
		for _, r := range report.Results {
			m := py.MapOf("name", r.Name, "action", r.Action, "id", nilIfEmpty(r.ID), "work_pool", r.WorkPool, "image", nilIfEmpty(r.Image))
			if r.ID != "" && ui != "" {
				m.Set("url", strings.TrimRight(ui, "/")+"/deployments/deployment/"+r.ID)
			}
			if r.Error != nil {
				m.Set("error", r.Error.Error())
			}
			m.Set("changes", changedFields(r.Changes))
			m.Set("images", imagesJSON(r.Images))
			items = append(items, m)
		}
		if err := writeJSON(a.io.Out, py.MapOf("ok", applyErr == nil && !report.Failed(), "deployments", items, "seconds", time.Since(start).Seconds())); err != nil {
			return err
		}
	} else {
		renderApply(a, report, ui)
	}
	if applyErr != nil {
		return applyErr
	}
	if report.Failed() {
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

func renderApply(a *app, report *deploy.Report, ui string) {
	p := a.ui.p
	poolsWithoutWorkers := map[string]bool{}
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
		default:
			fmt.Fprintf(a.io.Out, "%s Deployment '%s' was not applied.\n", p.dim.Render("-"), r.Name)
		}
	}
	for pool := range poolsWithoutWorkers {
		a.ui.infof("\nTo execute flow runs from these deployments, start a worker that pulls work from the '%s' work pool:\n\n\t$ prefect worker start --pool '%s'", pool, pool)
	}
}

// registerConcurrency is how many deployments deploy registers at once: the
// --concurrency flag when given, else 4 on Prefect Cloud and 1 elsewhere. A
// self-hosted server keeps its database in SQLite unless set up otherwise, and
// SQLite serialises writes: concurrent registrations collide there (503
// "database is locked"), each collision costs a client backoff of seconds, and
// one at a time is faster (BENCHMARKS.md: 1.9 s against 4.4 s for 50
// deployments).
func registerConcurrency(flagSet bool, flag int, cloud bool) (int, error) {
	switch {
	case flagSet:
		if flag < 1 {
			return 0, usageErr("pass --concurrency 1 or more", "--concurrency must be at least 1, got %d", flag)
		}
		return flag, nil
	case cloud:
		return 4, nil
	default:
		return 1, nil
	}
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
			changes := []any{}
			for _, c := range it.Changes {
				changes = append(changes, py.MapOf("field", c.Field, "old", py.FromGo(c.Old), "new", py.FromGo(c.New)))
			}
			list = append(list, py.MapOf("name", it.Name, "action", it.Action, "id", nilIfEmpty(it.ID),
				"changes", changes, "pending", py.FromGo(it.Pending), "images", imagesJSON(it.Images), "body", it.Spec.Body))
		}
		return writeJSON(a.io.Out, py.MapOf("plan", list))
	}
	p := a.ui.p
	counts := map[string]int{}
	for _, it := range items {
		counts[it.Action]++
		switch it.Action {
		case "create":
			fmt.Fprintf(a.io.Out, "%s %s (new)\n", p.added.Render("+"), it.Name)
		case "unchanged":
			fmt.Fprintf(a.io.Out, "%s %s (unchanged)\n", p.dim.Render("="), it.Name)
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
	a.ui.infof("\nPlan: %d to create, %d to update, %d unchanged. Nothing was changed.", counts["create"], counts["update"], counts["unchanged"])
	return nil
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
