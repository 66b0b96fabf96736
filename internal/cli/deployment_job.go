package cli

// `prefectctl deployment inspect --job`: the infrastructure document a worker
// would create for a run (internal/jobtemplate does the rendering).

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"github.com/prefectctl/prefectctl/internal/cloudapi"
	"github.com/prefectctl/prefectctl/internal/jobtemplate"
	"github.com/prefectctl/prefectctl/internal/py"
)

type jobFlags struct {
	job          bool
	flowRun      string
	jobVariables []string
	workerName   string
	workerEnv    []string
	image        string
}

const inspectJobHelp = `
With --job, show instead the document the deployment's worker would submit
for a run — the Kubernetes Job, the Docker container (docker-py's create
arguments), or for other pool types the job configuration — rendered from the
work pool's base job template with the deployment's job variables and the
run's overrides (--job-variable), as Prefect's worker renders it, without
starting a run. --flow-run renders for an existing run instead of a new one.
Values the worker only knows at run time are shown as <...> markers and
listed (stderr; "run_time" in -o json): the run's id and name, the worker's
name and id (--worker-name reads them from the pool), and the worker's own
PREFECT_* settings, which it passes to every run (--worker-env; by default
the API URL prefectctl uses).`

func addInspectJobFlags(cmd *cobra.Command, f *jobFlags) {
	cmd.Long += inspectJobHelp
	cmd.Example += `
  prefectctl deployment inspect hello/arthur --job
  prefectctl deployment inspect hello/default --job --job-variable cpu_request=250m -o json`
	fl := cmd.Flags()
	fl.BoolVar(&f.job, "job", false, "show the infrastructure document (Kubernetes Job, Docker container) a worker would create for a run")
	fl.StringVar(&f.flowRun, "flow-run", "", "with --job: render for this existing flow run of the deployment")
	fl.StringArrayVar(&f.jobVariables, "job-variable", nil, "with --job: job variable key=value for the run, read like deployment run's (repeatable)")
	fl.StringVar(&f.workerName, "worker-name", "", "with --job: the worker's name (its id is read from the pool)")
	fl.StringArrayVar(&f.workerEnv, "worker-env", nil, "with --job: a PREFECT_* setting KEY=VALUE of the worker's environment (repeatable; replaces the default, the API URL)")
	fl.StringVar(&f.image, "worker-default-image", "", "with --job: the image the worker uses when none is set (its prefecthq/prefect image)")
}

// jobFlagsUsed reports a --job-only flag given without --job.
func (f *jobFlags) check(cmd *cobra.Command) error {
	if f.job {
		return nil
	}
	for _, n := range []string{"flow-run", "job-variable", "worker-name", "worker-env", "worker-default-image"} {
		if cmd.Flags().Changed(n) {
			return usageErr("add --job, or leave --"+n+" out", "--%s only applies with --job", n)
		}
	}
	return nil
}

func inspectJob(ctx context.Context, a *app, c *cloudapi.Client, d *cloudapi.Deployment, f *jobFlags, output string) error {
	_, settings, err := a.apiClient()
	if err != nil {
		return err
	}
	o := jobtemplate.LoadOptions{FlowRunID: f.flowRun, WorkerName: f.workerName, PrefectImage: f.image}
	if len(f.jobVariables) > 0 {
		if o.JobVariables, err = parseKeyValues(f.jobVariables, "job variable"); err != nil {
			return err
		}
	}
	if len(f.workerEnv) > 0 {
		o.WorkerSettings, o.SettingsKnown = py.NewMap(), true
		for _, kv := range f.workerEnv {
			k, v, ok := strings.Cut(kv, "=")
			if !ok || k == "" {
				return usageErr("write --worker-env KEY=VALUE, e.g. --worker-env PREFECT_API_URL=http://prefect:4200/api", "invalid --worker-env %q", kv)
			}
			o.WorkerSettings.Set(k, v)
		}
	} else {
		o.WorkerSettings = jobtemplate.DefaultWorkerSettings(settings.APIURL(), settings.APIKey() != "")
	}
	in, err := jobtemplate.Load(ctx, c, d, o)
	if err != nil {
		return err
	}
	res, err := jobtemplate.Render(ctx, *in)
	if err != nil {
		return err
	}
	if output == "json" {
		return writeJSON(a.io.Out, res)
	}
	for _, rt := range res.RunTime {
		a.ui.infof("%s: %s — shown %s", rt.Path, rt.Source, rt.Shown)
	}
	fmt.Fprintf(a.io.Out, "# %s for a run of %s/%s (work pool %q, type %s)\n", res.Kind, in.FlowName, in.DeploymentName, in.PoolName, in.PoolType)
	enc := yaml.NewEncoder(a.io.Out)
	enc.SetIndent(2)
	if err := enc.Encode(yamlNode(res.Document)); err != nil {
		return err
	}
	return enc.Close()
}
