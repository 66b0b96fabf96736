package jobtemplate

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/prefectctl/prefectctl/internal/cloudapi"
	"github.com/prefectctl/prefectctl/internal/diag"
	"github.com/prefectctl/prefectctl/internal/py"
)

// LoadOptions say which run and worker to render for.
type LoadOptions struct {
	// FlowRunID renders for that existing run of the deployment (its own
	// job variables apply); "" renders a preview.
	FlowRunID string
	// JobVariables are overrides on top (--job-variable), as a run created
	// with them would carry.
	JobVariables *py.Map
	// WorkerName names the worker; its id is read from the pool's workers.
	WorkerName string
	// WorkerSettings are the PREFECT_* settings in the worker's
	// environment; SettingsKnown says they are all of them.
	WorkerSettings *py.Map
	SettingsKnown  bool
	// PrefectImage is the worker's default image ("" → a marker).
	PrefectImage string
}

// Load reads the deployment's work pool, flow, and (optionally) flow run
// and worker from the server, and returns the renderer's input.
func Load(ctx context.Context, c *cloudapi.Client, d *cloudapi.Deployment, o LoadOptions) (*Input, error) {
	if d.WorkPoolName == nil || *d.WorkPoolName == "" {
		return nil, diag.Errorf(diag.Usage, "deploy it with a work_pool (prefect.yaml: work_pool.name) so a worker can run it",
			"deployment %s has no work pool: no worker would run it, so there is no job to render", d.Name)
	}
	pool, err := c.ReadWorkPool(ctx, *d.WorkPoolName)
	if err != nil {
		return nil, diag.Wrap(diag.KindOf(err), err, "check that the work pool exists (prefect work-pool ls)", "reading work pool %q", *d.WorkPoolName)
	}
	flow, err := c.ReadFlow(ctx, d.FlowID)
	if err != nil {
		return nil, err
	}
	in := &Input{
		PoolType: pool.Type, PoolName: pool.Name, PoolID: pool.ID, BaseJobTemplate: pool.BaseJobTemplate,
		DeploymentID: d.ID, DeploymentName: d.Name, DeploymentUpdated: d.Updated, DeploymentJobVariables: d.JobVariables,
		FlowID: flow.ID, FlowName: flow.Name, FlowDoc: asDoc(flow),
		Resolver: cloudapi.Resolver{C: c},
		Worker: Worker{
			Name: o.WorkerName, Settings: o.WorkerSettings, SettingsKnown: o.SettingsKnown, PrefectImage: o.PrefectImage,
			Cloud: c.IsCloud(),
		},
	}
	runVars := py.NewMap()
	if o.FlowRunID != "" {
		run, err := c.ReadFlowRun(ctx, o.FlowRunID)
		if err != nil {
			return nil, diag.Wrap(diag.KindOf(err), err, "pass the id of a run of this deployment (prefectctl deployment run prints it)", "reading flow run %s", o.FlowRunID)
		}
		if run.DeploymentID == nil || *run.DeploymentID != d.ID {
			return nil, diag.Errorf(diag.Usage, "pass a run of this deployment, or leave --flow-run out to preview a new run",
				"flow run %s (%s) is not a run of deployment %s", run.ID, run.Name, d.Name)
		}
		in.FlowRun = &FlowRun{ID: run.ID, Name: run.Name, Doc: asDoc(run)}
		if run.JobVariables != nil {
			runVars = py.Clone(run.JobVariables).(*py.Map)
		}
	}
	if o.JobVariables != nil {
		runVars = MergeJobVariables(runVars, o.JobVariables)
	}
	in.RunJobVariables = runVars
	if o.WorkerName != "" && in.Worker.Cloud { // only Prefect Cloud gives a worker an id
		workers, err := c.FilterWorkers(ctx, pool.Name, false)
		if err != nil {
			return nil, err
		}
		for _, w := range workers {
			if w.Name == o.WorkerName {
				in.Worker.ID = w.ID
			}
		}
	}
	return in, nil
}

// asDoc is an API object as a mapping, for {{ ctx.flow.* }} and
// {{ ctx.flow_run.* }}.
func asDoc(v any) *py.Map {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	d, err := py.DecodeJSON(raw)
	if err != nil {
		return nil
	}
	m, _ := d.(*py.Map)
	return m
}

// DefaultWorkerSettings is what a worker of this server has at least, in
// the order of Prefect's settings model: the API URL prefectctl uses, its
// API key (as a marker, never the value), and PREFECT_SERVER_EPHEMERAL_ENABLED
// from Prefect's default profile "ephemeral", active in a worker without a
// profiles file of its own (the official image, a Helm-installed worker).
func DefaultWorkerSettings(apiURL string, hasKey bool) *py.Map {
	m := py.NewMap()
	if apiURL != "" {
		m.Set("PREFECT_API_URL", strings.TrimRight(apiURL, "/"))
	}
	if hasKey {
		m.Set("PREFECT_API_KEY", "<the worker's API key>")
	}
	m.Set("PREFECT_SERVER_EPHEMERAL_ENABLED", "True")
	return m
}
