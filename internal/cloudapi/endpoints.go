package cloudapi

import (
	"context"
	"errors"
	"net/http"
	"net/url"

	"github.com/prefectctl/prefectctl/internal/py"
)

func (c *Client) get(ctx context.Context, path string, out any) error {
	resp, err := c.call(ctx, request{method: http.MethodGet, path: path})
	if err != nil {
		return err
	}
	return decodeInto(resp, out)
}

func (c *Client) send(ctx context.Context, method, path string, body, out any) (int, error) {
	resp, err := c.call(ctx, request{method: method, path: path, body: body})
	if err != nil {
		return 0, err
	}
	return resp.status, decodeInto(resp, out)
}

// readOne is GET path, read into a new T.
func readOne[T any](ctx context.Context, c *Client, path string) (*T, error) {
	var v T
	if err := c.get(ctx, path, &v); err != nil {
		return nil, err
	}
	return &v, nil
}

// create is POST body to path, the answer read into a new T.
func create[T any](ctx context.Context, c *Client, path string, body any) (*T, error) {
	var v T
	if _, err := c.send(ctx, http.MethodPost, path, body, &v); err != nil {
		return nil, err
	}
	return &v, nil
}

// filter is POST body (nil: no filter) to a /filter path, read into a
// list of T.
func filter[T any](ctx context.Context, c *Client, path string, body any) ([]T, error) {
	var out []T
	if body == nil {
		body = py.NewMap()
	}
	_, err := c.send(ctx, http.MethodPost, path, body, &out)
	return out, err
}

// --- server ---

// Health calls GET /health (no auth needed on self-hosted servers).
func (c *Client) Health(ctx context.Context) error {
	var ok bool
	return c.get(ctx, "health", &ok)
}

// ServerVersion is the Prefect package version of a self-hosted server
// (GET /admin/version), e.g. "3.9.1".
func (c *Client) ServerVersion(ctx context.Context) (string, error) {
	var v string
	err := c.get(ctx, "admin/version", &v)
	return v, err
}

// APIVersionOfServer is GET /version, the server's API version ("0.8.4").
func (c *Client) APIVersionOfServer(ctx context.Context) (string, error) {
	var v string
	err := c.get(ctx, "version", &v)
	return v, err
}

// --- flows ---

// CreateFlow creates a flow or returns the existing one with that name.
// Prefect's deploy sends only the name.
func (c *Client) CreateFlow(ctx context.Context, name string) (*Flow, error) {
	return create[Flow](ctx, c, "flows/", py.MapOf("name", name))
}

// ReadFlowByName is GET /flows/name/{name}.
func (c *Client) ReadFlowByName(ctx context.Context, name string) (*Flow, error) {
	return readOne[Flow](ctx, c, "flows/name/"+seg(name))
}

// ReadFlow is GET /flows/{id}.
func (c *Client) ReadFlow(ctx context.Context, id string) (*Flow, error) {
	return readOne[Flow](ctx, c, "flows/"+seg(id))
}

// FilterFlows is POST /flows/filter; body may be nil.
func (c *Client) FilterFlows(ctx context.Context, body any) ([]Flow, error) {
	return filter[Flow](ctx, c, "flows/filter", body)
}

// DeleteFlow is DELETE /flows/{id}; the server deletes the flow's
// deployments and runs with it.
func (c *Client) DeleteFlow(ctx context.Context, id string) error {
	_, err := c.send(ctx, http.MethodDelete, "flows/"+seg(id), nil, nil)
	return err
}

// GlobalConcurrencyLimitExists is GET /v2/concurrency_limits/{name}: the
// server keeps a deployment's concurrency_limit as the global limit named
// "deployment:{id}".
func (c *Client) GlobalConcurrencyLimitExists(ctx context.Context, name string) (bool, error) {
	_, err := c.send(ctx, http.MethodGet, "v2/concurrency_limits/"+seg(name), nil, nil)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// DeleteGlobalConcurrencyLimit is DELETE /v2/concurrency_limits/{name}.
func (c *Client) DeleteGlobalConcurrencyLimit(ctx context.Context, name string) error {
	_, err := c.send(ctx, http.MethodDelete, "v2/concurrency_limits/"+seg(name), nil, nil)
	return err
}

// --- deployments ---

// CreateDeployment posts a DeploymentCreate body (an upsert on flow_id +
// name). created is true on 201, false when an existing deployment was
// updated (200).
func (c *Client) CreateDeployment(ctx context.Context, body *py.Map) (d *Deployment, created bool, err error) {
	d = &Deployment{}
	status, err := c.send(ctx, http.MethodPost, "deployments/", body, d)
	if err != nil {
		return nil, false, err
	}
	return d, status == http.StatusCreated, nil
}

// ReadDeploymentByName is GET /deployments/name/{flow}/{deployment}.
func (c *Client) ReadDeploymentByName(ctx context.Context, flowName, name string) (*Deployment, error) {
	return readOne[Deployment](ctx, c, "deployments/name/"+seg(flowName)+"/"+seg(name))
}

// ReadDeployment is GET /deployments/{id}.
func (c *Client) ReadDeployment(ctx context.Context, id string) (*Deployment, error) {
	return readOne[Deployment](ctx, c, "deployments/"+seg(id))
}

// UpdateDeployment is PATCH /deployments/{id}; only fields in body change.
func (c *Client) UpdateDeployment(ctx context.Context, id string, body *py.Map) error {
	_, err := c.send(ctx, http.MethodPatch, "deployments/"+seg(id), body, nil)
	return err
}

// FilterDeployments is POST /deployments/filter; body may be nil.
func (c *Client) FilterDeployments(ctx context.Context, body any) ([]Deployment, error) {
	return filter[Deployment](ctx, c, "deployments/filter", body)
}

// ListDeployments reads every deployment, of the named flows only when
// flowNames is not empty, page by page (the server caps a page at 200),
// in the server's NAME_ASC order, with the names of their flows by flow
// id.
func (c *Client) ListDeployments(ctx context.Context, flowNames []string) ([]Deployment, map[string]string, error) {
	const page = 200
	var all []Deployment
	for offset := 0; ; offset += page {
		body := py.MapOf("limit", int64(page), "offset", int64(offset), "sort", "NAME_ASC")
		if len(flowNames) > 0 {
			names := make([]any, len(flowNames))
			for i, n := range flowNames {
				names[i] = n
			}
			body.Set("flows", py.MapOf("name", py.MapOf("any_", names)))
		}
		got, err := c.FilterDeployments(ctx, body)
		if err != nil {
			return nil, nil, err
		}
		all = append(all, got...)
		if len(got) < page {
			break
		}
	}
	seen := map[string]bool{}
	var ids []any
	for _, d := range all {
		if !seen[d.FlowID] {
			seen[d.FlowID] = true
			ids = append(ids, d.FlowID)
		}
	}
	flows := map[string]string{}
	for start := 0; start < len(ids); start += page {
		chunk := ids[start:min(start+page, len(ids))]
		got, err := c.FilterFlows(ctx, py.MapOf("flows", py.MapOf("id", py.MapOf("any_", chunk)), "limit", int64(page)))
		if err != nil {
			return nil, nil, err
		}
		for _, f := range got {
			flows[f.ID] = f.Name
		}
	}
	return all, flows, nil
}

// DeleteDeployment is DELETE /deployments/{id}.
func (c *Client) DeleteDeployment(ctx context.Context, id string) error {
	_, err := c.send(ctx, http.MethodDelete, "deployments/"+seg(id), nil, nil)
	return err
}

// ReadDeploymentSchedules is GET /deployments/{id}/schedules.
func (c *Client) ReadDeploymentSchedules(ctx context.Context, id string) ([]Schedule, error) {
	var out []Schedule
	err := c.get(ctx, "deployments/"+seg(id)+"/schedules", &out)
	return out, err
}

// CreateDeploymentSchedules posts a list of DeploymentScheduleCreate bodies.
func (c *Client) CreateDeploymentSchedules(ctx context.Context, id string, schedules []any) ([]Schedule, error) {
	var out []Schedule
	if schedules == nil {
		schedules = []any{}
	}
	_, err := c.send(ctx, http.MethodPost, "deployments/"+seg(id)+"/schedules", schedules, &out)
	return out, err
}

// UpdateDeploymentSchedule patches one schedule in place (its id is kept).
func (c *Client) UpdateDeploymentSchedule(ctx context.Context, id, scheduleID string, body *py.Map) error {
	_, err := c.send(ctx, http.MethodPatch, "deployments/"+seg(id)+"/schedules/"+seg(scheduleID), body, nil)
	return err
}

// DeleteDeploymentSchedule deletes one schedule.
func (c *Client) DeleteDeploymentSchedule(ctx context.Context, id, scheduleID string) error {
	_, err := c.send(ctx, http.MethodDelete, "deployments/"+seg(id)+"/schedules/"+seg(scheduleID), nil, nil)
	return err
}

// --- work pools, queues, workers ---

// ReadWorkPool is GET /work_pools/{name}.
func (c *Client) ReadWorkPool(ctx context.Context, name string) (*WorkPool, error) {
	return readOne[WorkPool](ctx, c, "work_pools/"+seg(name))
}

// FilterWorkPools is POST /work_pools/filter; body may be nil (all pools).
func (c *Client) FilterWorkPools(ctx context.Context, body any) ([]WorkPool, error) {
	return filter[WorkPool](ctx, c, "work_pools/filter", body)
}

// CreateWorkPool posts a WorkPoolCreate body.
func (c *Client) CreateWorkPool(ctx context.Context, body *py.Map) (*WorkPool, error) {
	return create[WorkPool](ctx, c, "work_pools/", body)
}

// DeleteWorkPool is DELETE /work_pools/{name}.
func (c *Client) DeleteWorkPool(ctx context.Context, name string) error {
	_, err := c.send(ctx, http.MethodDelete, "work_pools/"+seg(name), nil, nil)
	return err
}

// ReadWorkQueue is GET /work_pools/{pool}/queues/{name}.
func (c *Client) ReadWorkQueue(ctx context.Context, pool, name string) (*WorkQueue, error) {
	return readOne[WorkQueue](ctx, c, "work_pools/"+seg(pool)+"/queues/"+seg(name))
}

// CreateWorkQueue posts a queue into a pool.
func (c *Client) CreateWorkQueue(ctx context.Context, pool string, body *py.Map) (*WorkQueue, error) {
	return create[WorkQueue](ctx, c, "work_pools/"+seg(pool)+"/queues", body)
}

// FilterWorkers is POST /work_pools/{pool}/workers/filter; onlineOnly
// asks for ONLINE workers, as prefect deploy does.
func (c *Client) FilterWorkers(ctx context.Context, pool string, onlineOnly bool) ([]Worker, error) {
	body := py.NewMap()
	if onlineOnly {
		body.Set("workers", py.MapOf("status", py.MapOf("any_", []any{"ONLINE"})))
	}
	var out []Worker
	_, err := c.send(ctx, http.MethodPost, "work_pools/"+seg(pool)+"/workers/filter", body, &out)
	return out, err
}

// --- variables ---

// ReadVariableByName is GET /variables/name/{name}.
func (c *Client) ReadVariableByName(ctx context.Context, name string) (*Variable, error) {
	return readOne[Variable](ctx, c, "variables/name/"+seg(name))
}

// CreateVariable posts a variable; val is any JSON value.
func (c *Client) CreateVariable(ctx context.Context, name string, val any, tags []string) (*Variable, error) {
	t := make([]any, len(tags))
	for i, s := range tags {
		t[i] = s
	}
	return create[Variable](ctx, c, "variables/", py.MapOf("name", name, "value", val, "tags", t))
}

// DeleteVariableByName is DELETE /variables/name/{name}.
func (c *Client) DeleteVariableByName(ctx context.Context, name string) error {
	_, err := c.send(ctx, http.MethodDelete, "variables/name/"+seg(name), nil, nil)
	return err
}

// --- blocks ---

// ReadBlockDocumentByName reads a block document with its secrets, as
// Prefect's client does (include_secrets=true). Debug logs never show its body.
func (c *Client) ReadBlockDocumentByName(ctx context.Context, typeSlug, name string) (*BlockDocument, error) {
	return c.readBlockDocument(ctx, "block_types/slug/"+seg(typeSlug)+"/block_documents/name/"+seg(name))
}

// ReadBlockDocument reads a block document by id with its secrets.
func (c *Client) ReadBlockDocument(ctx context.Context, id string) (*BlockDocument, error) {
	return c.readBlockDocument(ctx, "block_documents/"+seg(id))
}

// readBlockDocument reads the block document at path with its secrets,
// never logging the answer, and keeps the secret values out of every
// later log line.
func (c *Client) readBlockDocument(ctx context.Context, path string) (*BlockDocument, error) {
	var b BlockDocument
	resp, err := c.call(ctx, request{method: http.MethodGet, secrets: true, path: path, query: url.Values{"include_secrets": {"true"}}})
	if err != nil {
		return nil, err
	}
	if err := decodeInto(resp, &b); err != nil {
		return nil, err
	}
	c.registerBlockSecrets(&b)
	return &b, nil
}

// --- flow runs and logs ---

// CreateFlowRunFromDeployment posts a DeploymentFlowRunCreate body (nil =
// all defaults). created is false when an idempotency key matched an
// existing run (200).
func (c *Client) CreateFlowRunFromDeployment(ctx context.Context, deploymentID string, body *py.Map) (run *FlowRun, created bool, err error) {
	if body == nil {
		body = py.NewMap()
	}
	run = &FlowRun{}
	status, err := c.send(ctx, http.MethodPost, "deployments/"+seg(deploymentID)+"/create_flow_run", body, run)
	if err != nil {
		return nil, false, err
	}
	return run, status == http.StatusCreated, nil
}

// ReadFlowRun is GET /flow_runs/{id}.
func (c *Client) ReadFlowRun(ctx context.Context, id string) (*FlowRun, error) {
	return readOne[FlowRun](ctx, c, "flow_runs/"+seg(id))
}

// FilterFlowRuns is POST /flow_runs/filter; body may be nil.
func (c *Client) FilterFlowRuns(ctx context.Context, body any) ([]FlowRun, error) {
	return filter[FlowRun](ctx, c, "flow_runs/filter", body)
}

// ReadFlowRunStates is GET /flow_run_states/?flow_run_id=ID: every state
// the run has been in, so a poller misses no transition.
func (c *Client) ReadFlowRunStates(ctx context.Context, flowRunID string) ([]State, error) {
	var out []State
	resp, err := c.call(ctx, request{method: http.MethodGet, path: "flow_run_states/", query: url.Values{"flow_run_id": {flowRunID}}})
	if err != nil {
		return nil, err
	}
	return out, decodeInto(resp, &out)
}

// FilterLogs is POST /logs/filter.
func (c *Client) FilterLogs(ctx context.Context, body any) ([]Log, error) {
	return filter[Log](ctx, c, "logs/filter", body)
}

// FlowRunLogs is one page of a flow run's logs, oldest first, from an
// optional RFC 3339 timestamp on (the server's after_ is inclusive, so a
// caller tailing logs must drop the ids it has already seen). limit 0
// leaves the page size to the server.
func (c *Client) FlowRunLogs(ctx context.Context, flowRunID, afterRFC3339 string, limit, offset int) ([]Log, error) {
	logs := py.MapOf("flow_run_id", py.MapOf("any_", []any{flowRunID}))
	if afterRFC3339 != "" {
		logs.Set("timestamp", py.MapOf("after_", afterRFC3339))
	}
	body := py.MapOf("logs", logs, "sort", "TIMESTAMP_ASC")
	if limit > 0 {
		body.Set("limit", int64(limit))
	}
	if offset > 0 {
		body.Set("offset", int64(offset))
	}
	return c.FilterLogs(ctx, body)
}

// --- automations ---

// DeleteAutomationsOwnedBy is DELETE /automations/owned-by/{resource_id}.
// A server without automations answers 404; callers check ErrNotFound.
func (c *Client) DeleteAutomationsOwnedBy(ctx context.Context, resourceID string) error {
	_, err := c.send(ctx, http.MethodDelete, "automations/owned-by/"+seg(resourceID), nil, nil)
	return err
}

// DeleteAutomation is DELETE /automations/{id}.
func (c *Client) DeleteAutomation(ctx context.Context, id string) error {
	_, err := c.send(ctx, http.MethodDelete, "automations/"+seg(id), nil, nil)
	return err
}

// CreateAutomation posts an AutomationCore body.
func (c *Client) CreateAutomation(ctx context.Context, body *py.Map) (*Automation, error) {
	return create[Automation](ctx, c, "automations/", body)
}

// FilterAutomations is POST /automations/filter; body may be nil. Each
// automation is returned whole, in the server's field order (an automation
// read back does not say which resource owns it).
func (c *Client) FilterAutomations(ctx context.Context, body any) ([]*py.Map, error) {
	return filter[*py.Map](ctx, c, "automations/filter", body)
}

// ReadRelatedAutomations is GET /automations/related-to/{resource_id},
// e.g. "prefect.deployment.<id>". Each automation is returned whole, in the
// server's field order.
func (c *Client) ReadRelatedAutomations(ctx context.Context, resourceID string) ([]*py.Map, error) {
	var out []*py.Map
	err := c.get(ctx, "automations/related-to/"+seg(resourceID), &out)
	return out, err
}

// --- Prefect Cloud account API ---

// ReadWorkspaces is Cloud's GET /me/workspaces. Call it on a client whose
// BaseURL is the Cloud API URL (PREFECT_CLOUD_API_URL), not a workspace.
func (c *Client) ReadWorkspaces(ctx context.Context) ([]Workspace, error) {
	var out []Workspace
	err := c.get(ctx, "me/workspaces", &out)
	return out, err
}
