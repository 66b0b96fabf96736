package cli

// --prune and --project: which project a deploy marks its deployments
// with, and removing (or pausing) the marked ones prefect.yaml no longer
// defines once every deployment of the run was applied (docs/prune.md).

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/prefectctl/prefectctl/internal/deploy"
	"github.com/prefectctl/prefectctl/internal/py"
)

// pruneFlags are --prune and --project.
type pruneFlags struct {
	prune   string
	project string
}

func (f *pruneFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.prune, "prune", "", "after a successful deploy, delete this project's deployments that prefect.yaml no longer defines (--prune=pause pauses them); needs --all (docs/prune.md)")
	fl.Lookup("prune").NoOptDefVal = string(deploy.PruneDelete)
	fl.StringVar(&f.project, "project", "", "the project's identity, marked on the deployments this deploy creates (default: prefect.yaml's name; docs/prune.md)")
}

// mode checks the flags that do not depend on prefect.yaml.
func (f *pruneFlags) mode(cmd *cobra.Command, df *deployFlags, entrypoint string) (deploy.PruneMode, error) {
	changed := cmd.Flags().Changed
	if changed("project") && f.project == "" {
		return "", usageErr("pass the project's name, e.g. --project analytics, or leave --project out to use prefect.yaml's name", "--project needs a name")
	}
	if !changed("prune") {
		return deploy.PruneOff, nil
	}
	mode := deploy.PruneMode(f.prune)
	switch {
	case mode != deploy.PruneDelete && mode != deploy.PrunePause:
		return "", usageErr("use --prune (delete) or --prune=pause", "unknown --prune mode %q", f.prune)
	case df.dryRun:
		return "", usageErr("use --plan to see what --prune would remove: it reads the server, a dry run does not", "--prune cannot be used with --dry-run")
	case !df.all || len(df.names) > 0:
		return "", usageErr("pass --all: a deployment left out of the selection is still in prefect.yaml and must not look removed", "--prune needs --all")
	case entrypoint != "":
		return "", usageErr("leave the entrypoint out and deploy --all", "--prune cannot be used with an entrypoint argument")
	}
	return mode, nil
}

// identity is the project's mark for a deploy of the prefect.yaml at file
// named name, and whether the user opted into marking at all (--prune or
// --project): without it deployments are created without labels, exactly
// as prefect deploy creates them.
func (f *pruneFlags) identity(cmd *cobra.Command, mode deploy.PruneMode, file, name string) (string, error) {
	if cmd.Flags().Changed("project") {
		return f.project, nil
	}
	if mode == deploy.PruneOff {
		return "", nil
	}
	if name == "" {
		return "", usageErr(fmt.Sprintf("add a top-level 'name: PROJECT' to %s, or pass --project NAME: prune only touches deployments marked with the project's name", file),
			"--prune needs the project's name, and %s has none", file)
	}
	return name, nil
}

// pruneJSON is the prune part of `deploy -o json`.
func pruneJSON(items []*deploy.PruneItem) []any {
	out := []any{}
	for _, it := range items {
		m := py.MapOf("name", it.Name, "id", it.ID, "action", it.Action)
		if it.Error != nil {
			m.Set("error", it.Error.Error())
		}
		out = append(out, m)
	}
	return out
}

// skipPrune marks the candidates as not pruned.
func skipPrune(items []*deploy.PruneItem) {
	for _, it := range items {
		it.Action = "skipped"
	}
}

// renderPrune prints what the prune did, one line per deployment; why is
// said once when the prune was skipped.
func renderPrune(a *app, items []*deploy.PruneItem, why string) {
	p := a.ui.p
	for _, it := range items {
		switch it.Action {
		case "deleted", "paused":
			fmt.Fprintf(a.io.Out, "%s Deployment '%s' %s (removed from prefect.yaml).\n", p.removed.Render("-"), it.Name, it.Action)
		case "gone":
			fmt.Fprintf(a.io.Out, "%s Deployment '%s' was already deleted.\n", p.dim.Render("="), it.Name)
		case "failed":
			fmt.Fprintf(a.io.Out, "%s Deployment '%s' could not be %s: %v\n", p.err.Render("✗"), it.Name, pastTense(it.Mode), it.Error)
		default:
			fmt.Fprintf(a.io.Out, "%s Deployment '%s' was not %s (removed from prefect.yaml).\n", p.dim.Render("-"), it.Name, pastTense(it.Mode))
		}
	}
	if why != "" && len(items) > 0 {
		a.ui.infof("Prune skipped: %s; nothing was %s.", why, pastTense(items[0].Mode))
	}
}

func pastTense(m deploy.PruneMode) string {
	if m == deploy.PrunePause {
		return "paused"
	}
	return "deleted"
}
