package cloudapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prefectctl/prefectctl/internal/py"
	"github.com/prefectctl/prefectctl/internal/template"
	"github.com/prefectctl/prefectctl/internal/testenv"
)

// These tests run against the real Prefect 3.9.1 server of scripts/testenv.sh.
// Names carry a random suffix because other packages' tests share the server.

func realClient(t *testing.T) (*Client, context.Context, string) {
	t.Helper()
	if testing.Short() {
		t.Skip("needs the real Prefect server")
	}
	api := testenv.Prefect(t)
	// Prefect's own retry budget: the shared SQLite server answers 503 when busy.
	c, err := New(Options{BaseURL: api, MaxRetries: 5, Timeout: 60 * time.Second, CSRF: true, JitterFactor: 0.2})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute) // room for Prefect-style backoff on a busy server
	t.Cleanup(cancel)
	return c, ctx, strings.ToLower(newUUID()[:8])
}

func TestRealServerBasics(t *testing.T) {
	c, ctx, _ := realClient(t)
	if err := c.Health(ctx); err != nil {
		t.Fatal(err)
	}
	v, err := c.ServerVersion(ctx)
	if err != nil || v != "3.9.1" {
		t.Fatalf("server version %q, %v", v, err)
	}
	if sv, warn, err := c.CheckServerVersion(ctx); err != nil || warn != nil || sv != TargetPrefectVersion {
		t.Fatalf("version check: %q %v %v", sv, warn, err)
	}
	av, err := c.APIVersionOfServer(ctx)
	if err != nil || av != APIVersion {
		t.Fatalf("api version %q, %v", av, err)
	}
}

func TestRealFlowsAndDeployments(t *testing.T) {
	c, ctx, sfx := realClient(t)
	flowName := "it-flow-" + sfx
	f, err := c.CreateFlow(ctx, flowName)
	if err != nil {
		t.Fatal(err)
	}
	again, err := c.CreateFlow(ctx, flowName)
	if err != nil || again.ID != f.ID {
		t.Fatalf("second create: %v %+v", err, again)
	}
	byName, err := c.ReadFlowByName(ctx, flowName)
	if err != nil || byName.ID != f.ID {
		t.Fatalf("by name: %v", err)
	}
	if fl, err := c.FilterFlows(ctx, py.MapOf("flows", py.MapOf("name", py.MapOf("any_", []any{flowName})))); err != nil || len(fl) != 1 || fl[0].ID != f.ID {
		t.Fatalf("filter flows: %v %v", err, fl)
	}
	if _, err := c.ReadFlowByName(ctx, "nope-"+sfx); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing flow: %v", err)
	}

	pool := "it-pool-" + sfx
	if _, err := c.CreateWorkPool(ctx, py.MapOf("name", pool, "type", "process")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.DeleteWorkPool(context.Background(), pool) })

	depName := "dep [" + sfx + "] x" // spaces and brackets must be escaped
	body := py.MapOf(
		"name", depName, "flow_id", f.ID, "work_pool_name", pool,
		"parameters", py.MapOf("zeta", int64(1), "alpha", 2.0, "nested", py.MapOf("b", true, "a", nil)),
		"parameter_openapi_schema", py.MapOf("type", "object", "properties", py.NewMap()),
		"enforce_parameter_schema", false,
		"tags", []any{"t1"},
		"pull_steps", []any{py.MapOf("prefect.deployments.steps.set_working_directory", py.MapOf("directory", "/opt/{{ x }}"))},
		"schedules", []any{py.MapOf("schedule", py.MapOf("interval", 3600.0), "active", true, "slug", "hourly")},
	)
	d, created, err := c.CreateDeployment(ctx, body)
	if err != nil || !created {
		t.Fatalf("create deployment: %v created=%v", err, created)
	}
	t.Cleanup(func() { c.DeleteDeployment(context.Background(), d.ID) })
	if _, created, err := c.CreateDeployment(ctx, body); err != nil || created {
		t.Fatalf("upsert: %v created=%v", err, created)
	}
	got, err := c.ReadDeploymentByName(ctx, flowName, depName)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != d.ID || fmt.Sprint(got.Parameters.Keys()) != "[zeta alpha nested]" || *got.WorkPoolName != pool {
		t.Fatalf("read back %+v", got)
	}
	if a, _ := got.Parameters.Get("alpha"); a != 2.0 {
		t.Errorf("alpha = %#v", a)
	}
	if z, _ := got.Parameters.Get("zeta"); z != int64(1) {
		t.Errorf("zeta = %#v", z)
	}
	if len(got.PullSteps) != 1 || !strings.Contains(string(got.Raw), "/opt/{{ x }}") {
		t.Errorf("pull steps %v", got.PullSteps)
	}
	if len(got.Schedules) != 1 || got.Schedules[0].Slug == nil || *got.Schedules[0].Slug != "hourly" {
		t.Fatalf("schedules %+v", got.Schedules)
	}

	// PATCH changes only what it names.
	if err := c.UpdateDeployment(ctx, d.ID, py.MapOf("description", "patched", "tags", []any{"t2", "t3"})); err != nil {
		t.Fatal(err)
	}
	got, err = c.ReadDeployment(ctx, d.ID)
	if err != nil || *got.Description != "patched" || fmt.Sprint(got.Tags) != "[t2 t3]" || got.Parameters.Len() != 3 {
		t.Fatalf("after patch: %v %+v", err, got)
	}

	// Schedules sub-resource keeps ids when patched.
	sid := got.Schedules[0].ID
	if err := c.UpdateDeploymentSchedule(ctx, d.ID, sid, py.MapOf("active", false)); err != nil {
		t.Fatal(err)
	}
	added, err := c.CreateDeploymentSchedules(ctx, d.ID, []any{py.MapOf("schedule", py.MapOf("cron", "0 9 * * *", "timezone", "UTC"), "slug", "daily")})
	if err != nil || len(added) != 1 {
		t.Fatalf("add schedule: %v", err)
	}
	scheds, err := c.ReadDeploymentSchedules(ctx, d.ID)
	if err != nil || len(scheds) != 2 {
		t.Fatalf("schedules: %v %d", err, len(scheds))
	}
	for _, s := range scheds {
		if s.ID == sid && s.Active {
			t.Errorf("schedule %s still active", sid)
		}
	}
	if err := c.DeleteDeploymentSchedule(ctx, d.ID, added[0].ID); err != nil {
		t.Fatal(err)
	}

	// Filter by flow name.
	list, err := c.FilterDeployments(ctx, py.MapOf("flows", py.MapOf("name", py.MapOf("any_", []any{flowName}))))
	if err != nil || len(list) != 1 || list[0].ID != d.ID {
		t.Fatalf("filter: %v %d", err, len(list))
	}

	// A body the server rejects: 422 with the offending field.
	bad := py.MapOf("name", "x", "flow_id", f.ID, "bogus_field", 1)
	_, _, err = c.CreateDeployment(ctx, bad)
	var ae *APIError
	if !errors.As(err, &ae) || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "bogus_field: Extra inputs are not permitted (extra_forbidden)") {
		t.Fatalf("422: %v", err)
	}

	// Flow runs from the deployment, and their logs.
	run, created, err := c.CreateFlowRunFromDeployment(ctx, d.ID, py.MapOf("parameters", py.MapOf("zeta", int64(5)), "tags", []any{"run-tag"}, "idempotency_key", "k-"+sfx))
	if err != nil || !created {
		t.Fatalf("create run: %v", err)
	}
	if _, created, err := c.CreateFlowRunFromDeployment(ctx, d.ID, py.MapOf("idempotency_key", "k-"+sfx)); err != nil || created {
		t.Fatalf("idempotent run: %v created=%v", err, created)
	}
	r, err := c.ReadFlowRun(ctx, run.ID)
	if err != nil || r.State == nil || r.State.Type != "SCHEDULED" || r.State.Terminal() {
		t.Fatalf("read run: %v %+v", err, r)
	}
	if z, _ := r.Parameters.Get("zeta"); z != int64(5) {
		t.Errorf("merged parameters %v", r.Parameters)
	}
	if !strings.Contains(fmt.Sprint(r.Tags), "run-tag") || !strings.Contains(fmt.Sprint(r.Tags), "t2") {
		t.Errorf("tags %v (run tags are unioned with the deployment's)", r.Tags)
	}
	runs, err := c.FilterFlowRuns(ctx, py.MapOf("deployments", py.MapOf("id", py.MapOf("any_", []any{d.ID}))))
	if err != nil || len(runs) != 1 {
		t.Fatalf("filter runs: %v %d", err, len(runs))
	}
	if _, err := c.FlowRunLogs(ctx, run.ID, time.Now().Add(-time.Hour).UTC().Format(time.RFC3339), 10, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := c.FilterWorkers(ctx, pool, true); err != nil {
		t.Fatal(err)
	}
	// Triggers: an automation owned by the deployment, then removed by owner.
	auto, err := c.CreateAutomation(ctx, py.MapOf(
		"name", "it-auto-"+sfx, "enabled", true,
		"trigger", py.MapOf("type", "event", "posture", "Reactive", "expect", []any{"prefect.flow-run.Completed"}, "threshold", int64(1), "within", 0.0),
		"actions", []any{py.MapOf("type", "do-nothing")},
		"owner_resource", "prefect.deployment."+d.ID))
	if err != nil || auto.ID == "" {
		t.Fatalf("create automation: %v", err)
	}
	related, err := c.ReadRelatedAutomations(ctx, "prefect.deployment."+d.ID)
	if err != nil || len(related) != 1 || py.Str(must(related[0].Get("id"))) != auto.ID {
		t.Fatalf("related automations: %v %d", err, len(related))
	}
	if err := c.DeleteAutomationsOwnedBy(ctx, "prefect.deployment."+d.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Do(ctx, http.MethodGet, "automations/"+auto.ID, nil, nil, nil); !errors.Is(err, ErrNotFound) {
		t.Fatalf("automation still there: %v", err)
	}

	if err := c.DeleteDeployment(ctx, d.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ReadDeployment(ctx, d.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleted deployment: %v", err)
	}
}

// A kubernetes-type pool with a customised template: a cpu_request
// variable wired into the container's resources.
func TestRealKubernetesPoolJobVariables(t *testing.T) {
	c, ctx, sfx := realClient(t)
	pool := "it-k8s-" + sfx
	tmpl := py.MapOf(
		"job_configuration", py.MapOf(
			"command", "{{ command }}",
			"job_manifest", py.MapOf("spec", py.MapOf("template", py.MapOf("spec", py.MapOf(
				"containers", []any{py.MapOf("name", "prefect-job", "image", "{{ image }}",
					"resources", py.MapOf("requests", py.MapOf("cpu", "{{ cpu_request }}")))}))))),
		"variables", py.MapOf("type", "object", "properties", py.MapOf(
			"command", py.MapOf("type", "string", "title", "Command"),
			"image", py.MapOf("type", "string", "title", "Image", "default", "prefecthq/prefect:3.9.1-python3.11"),
			"cpu_request", py.MapOf("type", "string", "title", "CPU request", "default", "500m"),
		)),
	)
	p, err := c.CreateWorkPool(ctx, py.MapOf("name", pool, "type", "kubernetes", "base_job_template", tmpl))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.DeleteWorkPool(context.Background(), pool) })
	if p.Type != "kubernetes" {
		t.Fatalf("type %q", p.Type)
	}
	rp, err := c.ReadWorkPool(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	vars, _ := rp.BaseJobTemplate.Get("variables")
	props, _ := vars.(*py.Map).Get("properties")
	if fmt.Sprint(props.(*py.Map).Keys()) != "[command image cpu_request]" {
		t.Errorf("template order lost: %v", props.(*py.Map).Keys())
	}
	pools, err := c.FilterWorkPools(ctx, py.MapOf("work_pools", py.MapOf("name", py.MapOf("any_", []any{pool}))))
	if err != nil || len(pools) != 1 {
		t.Fatalf("filter pools: %v %d", err, len(pools))
	}
	if _, err := c.ReadWorkPool(ctx, "missing-"+sfx); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing pool: %v", err)
	}
	if _, err := c.CreateWorkPool(ctx, py.MapOf("name", pool)); !errors.Is(err, ErrConflict) {
		t.Fatalf("duplicate pool: %v", err)
	}

	f, err := c.CreateFlow(ctx, "it-k8s-flow-"+sfx)
	if err != nil {
		t.Fatal(err)
	}
	ok := py.MapOf("name", "ok", "flow_id", f.ID, "work_pool_name", pool, "job_variables", py.MapOf("cpu_request", "2"))
	d, _, err := c.CreateDeployment(ctx, ok)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.DeleteDeployment(context.Background(), d.ID) })
	if v, _ := d.JobVariables.Get("cpu_request"); v != "2" {
		t.Errorf("job_variables %v", d.JobVariables)
	}
	bad := py.MapOf("name", "bad", "flow_id", f.ID, "work_pool_name", pool, "job_variables", py.MapOf("cpu_request", int64(2)))
	_, _, err = c.CreateDeployment(ctx, bad)
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "cpu_request") {
		t.Fatalf("wrong type: %v", err)
	}

	q, err := c.CreateWorkQueue(ctx, pool, py.MapOf("name", "q-"+sfx))
	if err != nil {
		t.Fatal(err)
	}
	rq, err := c.ReadWorkQueue(ctx, pool, "q-"+sfx)
	if err != nil || rq.ID != q.ID {
		t.Fatalf("queue: %v", err)
	}
}

func TestRealVariablesAndBlocks(t *testing.T) {
	c, ctx, sfx := realClient(t)
	res := Resolver{C: c}
	name := "it_var_" + sfx
	val := py.MapOf("b", int64(1), "a", []any{1.5, "x", nil})
	if _, err := c.CreateVariable(ctx, name, val, []string{"t"}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.DeleteVariableByName(context.Background(), name) })
	got, found, err := res.Variable(ctx, name)
	if err != nil || !found || !py.Equal(got, val) || fmt.Sprint(got.(*py.Map).Keys()) != "[b a]" {
		t.Fatalf("variable %v %v %v", py.Repr(got), found, err)
	}
	if _, found, err := res.Variable(ctx, "missing_"+sfx); err != nil || found {
		t.Fatalf("missing variable: %v %v", found, err)
	}
	if _, err := c.CreateVariable(ctx, name, "x", nil); !errors.Is(err, ErrConflict) {
		t.Fatalf("duplicate variable: %v", err)
	}

	// A Secret block document, created through Do (prefectctl never creates blocks itself).
	var bt struct{ ID string }
	if _, err := c.Do(ctx, http.MethodGet, "block_types/slug/secret", nil, nil, &bt); err != nil {
		t.Fatal(err)
	}
	var schemas []struct{ ID string }
	if _, err := c.Do(ctx, http.MethodPost, "block_schemas/filter", nil,
		py.MapOf("block_schemas", py.MapOf("block_type_id", py.MapOf("any_", []any{bt.ID}))), &schemas); err != nil || len(schemas) == 0 {
		t.Fatalf("schemas: %v", err)
	}
	blockName := "it-secret-" + sfx
	var doc struct{ ID string }
	status, err := c.Do(ctx, http.MethodPost, "block_documents/", nil, py.MapOf(
		"name", blockName, "block_type_id", bt.ID, "block_schema_id", schemas[0].ID, "data", py.MapOf("value", "s3cr3t-"+sfx)), &doc)
	if err != nil || status != http.StatusCreated {
		t.Fatalf("create block: %d %v", status, err)
	}
	t.Cleanup(func() { c.Do(context.Background(), http.MethodDelete, "block_documents/"+doc.ID, nil, nil, nil) })

	data, err := res.BlockDocumentByName(ctx, "secret", blockName)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := data.Get("value"); v != "s3cr3t-"+sfx {
		t.Fatalf("secret not included: %v", py.Repr(data))
	}
	byID, err := res.BlockDocumentByID(ctx, doc.ID)
	if err != nil || !py.Equal(byID, data) {
		t.Fatalf("by id: %v", err)
	}
	_, err = res.BlockDocumentByName(ctx, "secret", "missing-"+sfx)
	if !errors.Is(err, template.ErrNotFound) || !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing block: %v", err)
	}
}
