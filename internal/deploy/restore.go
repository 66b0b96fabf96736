package deploy

// --atomic: what an Apply wrote is recorded (a journal), and when a write
// fails after others succeeded, or the run is interrupted, every deployment
// it touched is put back as the Snapshot found it, every deployment it
// created is deleted, and every flow it created is deleted when nothing
// else uses it. See docs/registration.md ("--atomic").

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"time"

	"github.com/prefectctl/prefectctl/internal/cloudapi"
	"github.com/prefectctl/prefectctl/internal/py"
)

// RestoreAPI is what a rollback needs besides the API deploying uses:
// reading a deployment and its schedules, putting schedules back, and
// deleting what an Apply created.
type RestoreAPI interface {
	API
	ReadDeployment(ctx context.Context, id string) (*cloudapi.Deployment, error)
	ReadDeploymentByName(ctx context.Context, flowName, name string) (*cloudapi.Deployment, error)
	ReadDeploymentSchedules(ctx context.Context, id string) ([]cloudapi.Schedule, error)
	CreateDeploymentSchedules(ctx context.Context, id string, schedules []any) ([]cloudapi.Schedule, error)
	UpdateDeploymentSchedule(ctx context.Context, id, scheduleID string, body *py.Map) error
	DeleteDeploymentSchedule(ctx context.Context, id, scheduleID string) error
	DeleteAutomation(ctx context.Context, id string) error
	ReadFlowByName(ctx context.Context, name string) (*cloudapi.Flow, error)
	FilterFlowRuns(ctx context.Context, body any) ([]cloudapi.FlowRun, error)
	DeleteFlow(ctx context.Context, id string) error
	GlobalConcurrencyLimitExists(ctx context.Context, name string) (bool, error)
	DeleteGlobalConcurrencyLimit(ctx context.Context, name string) error
}

var _ RestoreAPI = (*cloudapi.Client)(nil)

// Rollback is what --atomic put back after a failed or interrupted Apply.
type Rollback struct {
	// Deployments are the deployments the Apply wrote to, in name order.
	Deployments []*RestoreItem
	// Flows are the flows the Apply created.
	Flows []*RestoreItem
}

// RestoreItem is one deployment or flow of a rollback.
type RestoreItem struct {
	Name string // flow/deployment, or the flow's name
	ID   string
	// Action is "restored" (put back as the snapshot had it), "deleted"
	// (created by the Apply, removed), "kept" (a flow something else uses
	// now), "unchanged" (the write never took effect) or "failed".
	Action string
	// Fields are what was put back: deployment fields, "schedules",
	// "automations".
	Fields []string
	// Reason says why a flow was kept.
	Reason string
	Error  error
}

// Complete reports whether everything was put back.
func (r *Rollback) Complete() bool {
	for _, l := range [][]*RestoreItem{r.Deployments, r.Flows} {
		for _, it := range l {
			if it.Action == "failed" {
				return false
			}
		}
	}
	return true
}

// Err is nil when the rollback is complete, otherwise an error naming
// what could not be put back.
func (r *Rollback) Err() error {
	var failed []string
	for _, l := range [][]*RestoreItem{r.Deployments, r.Flows} {
		for _, it := range l {
			if it.Action == "failed" {
				failed = append(failed, fmt.Sprintf("%s: %v", it.Name, it.Error))
			}
		}
	}
	if len(failed) == 0 {
		return nil
	}
	return fmt.Errorf("--atomic could not put back %d object(s): %v", len(failed), failed)
}

// restoreTimeout bounds a whole rollback; restoreAttempts bounds each of
// its requests (on top of the API client's own retries of 429, 5xx
// gateway errors and dropped connections); restorePasses bounds the
// rounds of restore and check (see rollback), settleTime is the pause
// before each check.
const (
	restoreTimeout  = 3 * time.Minute
	restoreAttempts = 3
	restorePasses   = 3
	settleTime      = time.Second
)

// restorer is one rollback: the snapshot, what the journal recorded, and
// the automations it recreated.
type restorer struct {
	api  RestoreAPI
	snap *Snapshot
	// before are the ids of every automation the snapshot read.
	before map[string]bool
	// recreated maps a snapshot automation's id to its copy's; ours are
	// the copies' ids.
	recreated map[string]string
	ours      map[string]bool
	autos     []*py.Map // the automations as last read
	autosErr  error
}

// rollback puts the server back as snap found it for everything j
// recorded. It runs on a context of its own (an interrupt that stopped
// the Apply must not stop its rollback), bounded by restoreTimeout.
//
// A write the Apply gave up on (an interrupt, a timeout) may still be
// running on the server and land after the rollback put its object back.
// So after a pause the rollback reads everything it restored again and
// restores what drifted, for at most restorePasses rounds; what still
// differs then is reported as not restored.
func rollback(parent context.Context, api RestoreAPI, snap *Snapshot, j *journal) *Rollback {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(parent), restoreTimeout)
	defer cancel()
	r := &restorer{api: api, snap: snap, before: map[string]bool{}, recreated: map[string]string{}, ours: map[string]bool{}}
	for _, a := range snap.Automations {
		r.before[py.Str(get(a, "id"))] = true
	}
	var entries []*journalEntry
	for _, e := range j.deployments {
		entries = append(entries, e)
	}
	sort.Slice(entries, func(a, b int) bool { return entries[a].key.String() < entries[b].key.String() })
	var flows []string
	for name := range j.flows {
		flows = append(flows, name)
	}
	sort.Strings(flows)

	deps := map[Key]*RestoreItem{}
	flowItems := map[string]*RestoreItem{}
	pendingDeps, pendingFlows := entries, flows
	for pass := 0; pass < restorePasses && (len(pendingDeps) > 0 || len(pendingFlows) > 0); pass++ {
		if pass > 0 {
			select {
			case <-ctx.Done():
			case <-time.After(settleTime):
			}
		}
		r.readAutomations(ctx)
		for _, e := range pendingDeps {
			var it *RestoreItem
			if st := snap.Deployment(e.key); st != nil && !e.created {
				it = r.restoreDeployment(ctx, e.key, st)
			} else {
				it = r.deleteCreated(ctx, e)
			}
			deps[e.key] = merge(deps[e.key], it)
		}
		for _, name := range pendingFlows {
			id := j.flows[name]
			if pass > 0 {
				id = "" // found again: look it up by name
			}
			flowItems[name] = merge(flowItems[name], r.deleteCreatedFlow(ctx, name, id))
		}
		// Check: what is put back must stay so.
		select {
		case <-ctx.Done():
		case <-time.After(settleTime):
		}
		r.readAutomations(ctx)
		var driftDeps []*journalEntry
		for _, e := range entries {
			if it := deps[e.key]; it.Action != "failed" && r.drifted(ctx, e) {
				driftDeps = append(driftDeps, e)
			}
		}
		var driftFlows []string
		for _, name := range flows {
			if it := flowItems[name]; it.Action == "deleted" && r.flowExists(ctx, name) {
				driftFlows = append(driftFlows, name)
			}
		}
		pendingDeps, pendingFlows = driftDeps, driftFlows
	}
	out := &Rollback{}
	for _, e := range entries {
		it := deps[e.key]
		if containsKey(pendingDeps, e.key) {
			it.Action, it.Error = "failed", fmt.Errorf("still differs from the snapshot after %d rounds of restoring (someone else is writing to it?)", restorePasses)
		}
		out.Deployments = append(out.Deployments, it)
	}
	for _, name := range flows {
		it := flowItems[name]
		if slices.Contains(pendingFlows, name) {
			it.Action, it.Error = "failed", fmt.Errorf("still exists after %d rounds of deleting it", restorePasses)
		}
		out.Flows = append(out.Flows, it)
	}
	return out
}

func containsKey(list []*journalEntry, k Key) bool {
	for _, e := range list {
		if e.key == k {
			return true
		}
	}
	return false
}

// merge folds a later round's result for one object into the earlier's:
// the fields put back add up; a round that found nothing to do does not
// hide that an earlier one did something.
func merge(prev, next *RestoreItem) *RestoreItem {
	if prev == nil {
		return next
	}
	for _, f := range next.Fields {
		if !slices.Contains(prev.Fields, f) {
			prev.Fields = append(prev.Fields, f)
		}
	}
	if next.ID != "" {
		prev.ID = next.ID
	}
	switch {
	case next.Action == "failed", next.Action == "kept":
		prev.Action, prev.Error, prev.Reason = next.Action, next.Error, next.Reason
	case next.Action == "unchanged":
		// nothing more was needed
	default:
		prev.Action, prev.Error = next.Action, nil
	}
	return prev
}

func (r *restorer) readAutomations(ctx context.Context) {
	if !r.snap.AutomationsSupported {
		return
	}
	r.autosErr = retrying(ctx, func(ctx context.Context) (err error) {
		r.autos, err = readAutomations(ctx, r.api)
		return err
	})
}

// drifted reports whether an object of the journal differs from what the
// rollback put back (a read fails: it is taken as drifted, and the next
// round says why).
func (r *restorer) drifted(ctx context.Context, e *journalEntry) bool {
	st := r.snap.Deployment(e.key)
	if st == nil || e.created {
		d, err := r.api.ReadDeploymentByName(ctx, e.key.Flow, e.key.Name)
		if err == nil {
			e.id = d.ID // a create that landed late: this is the one to delete
		}
		if !errors.Is(err, cloudapi.ErrNotFound) {
			return true
		}
		if e.id != "" {
			// Its concurrency limit, written late, outlived it.
			exists, err := r.api.GlobalConcurrencyLimitExists(ctx, limitName(e.id))
			return exists || err != nil
		}
		return false
	}
	cur, err := readDeploymentMap(ctx, r.api, st.ID())
	if err != nil {
		return true
	}
	if len(differentFields(restoreBody(cur), restoreBody(st.Server))) > 0 {
		return true
	}
	if !schedulesMatch(anyList(get(cur, "schedules")), anyList(get(st.Server, "schedules"))) {
		return true
	}
	if r.snap.AutomationsSupported {
		del, missing := r.automationDrift(st)
		return r.autosErr != nil || len(del) > 0 || len(missing) > 0
	}
	return false
}

func (r *restorer) flowExists(ctx context.Context, name string) bool {
	_, err := r.api.ReadFlowByName(ctx, name)
	return !errors.Is(err, cloudapi.ErrNotFound)
}

// restoreDeployment puts one deployment of the snapshot back: its fields
// (one PATCH when any differs), its schedules (by id, through the
// schedules endpoints: the PATCH's schedules drop max_scheduled_runs and,
// without slugs, recreate every schedule under a new id), and its
// automations (those created since the snapshot deleted, those deleted
// recreated). rollback checks the result with a fresh read after a pause.
func (r *restorer) restoreDeployment(ctx context.Context, k Key, st *DeploymentState) *RestoreItem {
	api, snap := r.api, r.snap
	id := st.ID()
	it := &RestoreItem{Name: k.String(), ID: id, Action: "restored"}
	fail := func(err error) *RestoreItem {
		it.Action, it.Error = "failed", err
		return it
	}
	cur, err := readDeploymentMap(ctx, api, id)
	if err != nil {
		if errors.Is(err, cloudapi.ErrNotFound) {
			return fail(fmt.Errorf("the deployment was deleted by someone else; it cannot be recreated under its id %s", id))
		}
		return fail(err)
	}
	want := restoreBody(st.Server)
	if changed := differentFields(restoreBody(cur), want); len(changed) > 0 {
		if err := retrying(ctx, func(ctx context.Context) error { return api.UpdateDeployment(ctx, id, want) }); err != nil {
			return fail(fmt.Errorf("putting back %v: %w", changed, err))
		}
		it.Fields = append(it.Fields, changed...)
	}
	changed, err := restoreSchedules(ctx, api, id, anyList(get(st.Server, "schedules")))
	if err != nil {
		return fail(fmt.Errorf("putting back the schedules: %w", err))
	}
	if changed {
		it.Fields = append(it.Fields, "schedules")
	}
	if snap.AutomationsSupported {
		if r.autosErr != nil {
			return fail(fmt.Errorf("reading the automations: %w", r.autosErr))
		}
		changed, err := r.restoreAutomations(ctx, st)
		if err != nil {
			return fail(fmt.Errorf("putting back the automations: %w", err))
		}
		if changed {
			it.Fields = append(it.Fields, "automations")
		}
	}
	if len(it.Fields) == 0 {
		it.Action = "unchanged"
	}
	return it
}

// restoreFields are the fields of Prefect's DeploymentUpdate a deploy can
// change, read back from the deployment as the server returns it.
// Schedules are put back separately; labels, created_by and the like are
// not part of DeploymentUpdate and a deploy's update does not send them.
var restoreFields = []string{
	"version", "description", "paused", "concurrency_options", "parameters", "parameter_openapi_schema",
	"tags", "work_queue_name", "work_pool_name", "path", "job_variables", "pull_steps", "entrypoint",
	"storage_document_id", "infrastructure_document_id", "enforce_parameter_schema",
}

// restoreBody is the PATCH that puts a deployment back as dep (the
// server's JSON of it) has it.
func restoreBody(dep *py.Map) *py.Map {
	b := py.NewMap()
	for _, k := range restoreFields {
		b.Set(k, py.Clone(get(dep, k)))
	}
	// The limit is read back through the global concurrency limit the
	// deployment points at (concurrency_limit itself reads null); sending
	// the number updates that limit in place, null deletes it.
	var limit any
	if gcl, ok := get(dep, "global_concurrency_limit").(*py.Map); ok {
		limit = get(gcl, "limit")
	}
	b.Set("concurrency_limit", limit)
	if vi := get(dep, "version_info"); vi != nil {
		b.Set("version_info", py.Clone(vi))
	}
	if get(dep, "work_pool_name") == nil && get(dep, "work_queue_name") != nil {
		// A null pool name clears the work queue: leave it out and let the
		// queue name find the queue.
		b.Delete("work_pool_name")
	}
	return b
}

func differentFields(have, want *py.Map) []string {
	var out []string
	for _, k := range want.Keys() {
		if !py.Equal(normalise(get(have, k)), normalise(get(want, k))) {
			out = append(out, k)
		}
	}
	return out
}

// automationFields are the fields of Prefect's AutomationCreate an
// automation read back carries (the server never returns its owner).
var automationFields = []string{"name", "description", "enabled", "tags", "trigger", "actions", "actions_on_trigger", "actions_on_resolve"}

// automationDrift compares the automations that may be owned by the
// deployment now with the snapshot's: del are those created since the
// snapshot (this Apply created them from triggers) and not by the
// rollback; missing are the snapshot's candidates that are gone, with no
// copy of the rollback's in their place.
func (r *restorer) automationDrift(st *DeploymentState) (del []string, missing []*py.Map) {
	id, name := st.ID(), st.Deployment.Name
	now := map[string]bool{}
	for _, a := range r.autos {
		aid := py.Str(get(a, "id"))
		now[aid] = true
		if !r.before[aid] && !r.ours[aid] && MayOwn(id, name, a) {
			del = append(del, aid)
		}
	}
	for _, a := range st.Automations {
		aid := py.Str(get(a, "id"))
		if !now[aid] && !now[r.recreated[aid]] {
			missing = append(missing, a)
		}
	}
	return del, missing
}

// restoreAutomations deletes the automations created since the snapshot
// that may be owned by the deployment and recreates the snapshot's
// candidates that are gone (a deploy deletes only automations the
// deployment owns, so they are recreated owned by it). A recreated
// automation gets a new id, and its trigger too: the server does not keep
// the id sent with it.
func (r *restorer) restoreAutomations(ctx context.Context, st *DeploymentState) (bool, error) {
	del, missing := r.automationDrift(st)
	changed := false
	for _, aid := range del {
		if err := retrying(ctx, func(ctx context.Context) error { return ignoreNotFound(r.api.DeleteAutomation(ctx, aid)) }); err != nil {
			return changed, err
		}
		changed = true
	}
	for _, a := range missing {
		body := py.NewMap()
		for _, k := range automationFields {
			if v, ok := a.Get(k); ok {
				body.Set(k, py.Clone(v))
			}
		}
		body.Set("owner_resource", "prefect.deployment."+st.ID())
		// Not retried here: a retry after a lost answer could create it
		// twice (the client retries only what never reached the server).
		created, err := r.api.CreateAutomation(ctx, body)
		if err != nil {
			return changed, err
		}
		r.recreated[py.Str(get(a, "id"))] = created.ID
		r.ours[created.ID] = true
		changed = true
	}
	return changed, nil
}

// deleteCreated deletes a deployment the Apply created, with the
// automations it owns. A create whose answer never came is looked up by
// name: if the server has it, the create was done.
func (r *restorer) deleteCreated(ctx context.Context, e *journalEntry) *RestoreItem {
	api, snap := r.api, r.snap
	it := &RestoreItem{Name: e.key.String(), ID: e.id, Action: "deleted"}
	if e.existedUnseen {
		// The create answered "updated": a retry of this run's own create
		// whose first answer was lost, or someone registering the same
		// name after the snapshot (which this run then overwrote). Either
		// way the snapshot did not have it, and it holds what this run
		// wrote.
		it.Reason = "the create found it already there (a retried create, or registered by someone else after prefectctl read the server); deleted, as the server did not have it when read"
	}
	if it.ID == "" {
		var d *cloudapi.Deployment
		err := retrying(ctx, func(ctx context.Context) (err error) {
			d, err = api.ReadDeploymentByName(ctx, e.key.Flow, e.key.Name)
			return err
		})
		switch {
		case errors.Is(err, cloudapi.ErrNotFound):
			it.Action = "unchanged" // the create never reached the server
			return it
		case err != nil:
			it.Action, it.Error = "failed", err
			return it
		}
		it.ID, e.id = d.ID, d.ID // what a later round checks
	}
	if snap.AutomationsSupported {
		err := retrying(ctx, func(ctx context.Context) error {
			return ignoreNotFound(api.DeleteAutomationsOwnedBy(ctx, "prefect.deployment."+it.ID))
		})
		if err != nil {
			it.Action, it.Error = "failed", fmt.Errorf("deleting its automations: %w", err)
			return it
		}
	}
	if err := retrying(ctx, func(ctx context.Context) error { return ignoreNotFound(api.DeleteDeployment(ctx, it.ID)) }); err != nil {
		it.Action, it.Error = "failed", err
		return it
	}
	// The server deletes a deployment's concurrency limit with it, but a
	// create whose answer was lost can still be writing the limit then
	// (seen under load): it would outlive the deployment.
	if err := retrying(ctx, func(ctx context.Context) error {
		return ignoreNotFound(api.DeleteGlobalConcurrencyLimit(ctx, limitName(it.ID)))
	}); err != nil {
		it.Action, it.Error = "failed", fmt.Errorf("deleting its concurrency limit: %w", err)
	}
	return it
}

// limitName is the global concurrency limit the server keeps for a
// deployment's concurrency_limit.
func limitName(deploymentID string) string { return "deployment:" + deploymentID }

// deleteCreatedFlow deletes a flow the Apply created, unless something
// uses it now: a deployment (someone else's, registered since) or a flow
// run. Deleting a flow deletes its deployments and runs, so it is kept
// then, and the report says so.
func (r *restorer) deleteCreatedFlow(ctx context.Context, name, id string) *RestoreItem {
	api := r.api
	it := &RestoreItem{Name: name, ID: id, Action: "deleted"}
	fail := func(err error) *RestoreItem {
		it.Action, it.Error = "failed", err
		return it
	}
	if id == "" {
		var f *cloudapi.Flow
		err := retrying(ctx, func(ctx context.Context) (err error) {
			f, err = api.ReadFlowByName(ctx, name)
			return err
		})
		switch {
		case errors.Is(err, cloudapi.ErrNotFound):
			it.Action = "unchanged"
			return it
		case err != nil:
			return fail(err)
		}
		it.ID = f.ID
	}
	byFlow := py.MapOf("flows", py.MapOf("id", py.MapOf("any_", []any{it.ID})), "limit", int64(1))
	var deps []cloudapi.Deployment
	var runs []cloudapi.FlowRun
	err := retrying(ctx, func(ctx context.Context) (err error) {
		if deps, err = api.FilterDeployments(ctx, byFlow); err != nil {
			return err
		}
		runs, err = api.FilterFlowRuns(ctx, byFlow)
		return err
	})
	switch {
	case err != nil:
		return fail(err)
	case len(deps) > 0:
		it.Action, it.Reason = "kept", fmt.Sprintf("deployment %q of another deploy uses it", deps[0].Name)
		return it
	case len(runs) > 0:
		it.Action, it.Reason = "kept", "it has flow runs"
		return it
	}
	if err := retrying(ctx, func(ctx context.Context) error { return ignoreNotFound(api.DeleteFlow(ctx, it.ID)) }); err != nil {
		return fail(err)
	}
	return it
}

func readDeploymentMap(ctx context.Context, api RestoreAPI, id string) (*py.Map, error) {
	var d *cloudapi.Deployment
	if err := retrying(ctx, func(ctx context.Context) (err error) {
		d, err = api.ReadDeployment(ctx, id)
		return err
	}); err != nil {
		return nil, err
	}
	v, err := py.DecodeJSON(d.Raw)
	m, ok := v.(*py.Map)
	if err != nil || !ok {
		return nil, fmt.Errorf("reading deployment %s: the server's answer is not a JSON object", id)
	}
	return m, nil
}

func ignoreNotFound(err error) error {
	if errors.Is(err, cloudapi.ErrNotFound) {
		return nil
	}
	return err
}

// retrying runs f up to restoreAttempts times, waiting 0.5 s, then 1 s in
// between, while it fails with something other than a refusal by the
// server (a 4xx: sending it again would be refused again).
func retrying(ctx context.Context, f func(context.Context) error) error {
	var err error
	for attempt := 0; attempt < restoreAttempts; attempt++ {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return err
			case <-time.After(time.Duration(attempt) * 500 * time.Millisecond):
			}
		}
		err = f(ctx)
		var apiErr *cloudapi.APIError
		if err == nil || ctx.Err() != nil || errors.As(err, &apiErr) && apiErr.Status >= 400 && apiErr.Status < 500 && apiErr.Status != http.StatusRequestTimeout && apiErr.Status != http.StatusTooManyRequests {
			return err
		}
	}
	return err
}
