package deploy

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/prefectctl/prefectctl/internal/cloudapi"
	"github.com/prefectctl/prefectctl/internal/cloudapi/apimock"
	"github.com/prefectctl/prefectctl/internal/py"
)

func TestRestoreBody(t *testing.T) {
	dep := py.MapOf("id", "d1", "name", "a", "version", "1", "description", nil, "paused", true,
		"global_concurrency_limit", py.MapOf("id", "g", "limit", int64(2)), "concurrency_limit", nil,
		"work_pool_name", "pool", "work_queue_name", "default", "tags", []any{"t"}, "labels", py.MapOf("x", "y"),
		"schedules", []any{py.MapOf("id", "s")}, "version_info", nil, "updated", "now")
	b := restoreBody(dep)
	if get(b, "concurrency_limit") != int64(2) || get(b, "paused") != true || get(b, "work_pool_name") != "pool" {
		t.Fatalf("body %s", py.Repr(b))
	}
	for _, k := range []string{"id", "name", "labels", "schedules", "version_info", "updated", "global_concurrency_limit"} {
		if b.Has(k) {
			t.Errorf("%s must not be sent (not part of DeploymentUpdate, or schedules, sent apart, or null version_info)", k)
		}
	}
	// No limit: null deletes the one a run created.
	dep.Set("global_concurrency_limit", nil)
	if v, ok := restoreBody(dep).Get("concurrency_limit"); !ok || v != nil {
		t.Errorf("concurrency_limit %v %v, want an explicit null", v, ok)
	}
	// A queue without a pool: a null pool name would clear the queue.
	dep.Set("work_pool_name", nil)
	if restoreBody(dep).Has("work_pool_name") {
		t.Error("a null work_pool_name with a queue name must be left out")
	}
}

func TestSchedulesMatchIgnoresIDsAndOrder(t *testing.T) {
	s := func(id string, cron string, runs any) any {
		return py.MapOf("id", id, "created", "x", "schedule", py.MapOf("cron", cron), "active", true,
			"max_scheduled_runs", runs, "parameters", py.NewMap(), "slug", nil)
	}
	want := []any{s("1", "0 1 * * *", nil), s("2", "0 2 * * *", int64(5))}
	if !schedulesMatch([]any{s("9", "0 2 * * *", int64(5)), s("8", "0 1 * * *", nil)}, want) {
		t.Error("the same schedules under other ids and in another order must match")
	}
	if schedulesMatch([]any{s("1", "0 1 * * *", nil), s("2", "0 2 * * *", nil)}, want) {
		t.Error("a lost max_scheduled_runs must not match")
	}
	if schedulesMatch([]any{s("1", "0 1 * * *", nil)}, want) {
		t.Error("a missing schedule must not match")
	}
}

func TestMergeKeepsWhatEarlierRoundsDid(t *testing.T) {
	first := &RestoreItem{Name: "f/a", ID: "1", Action: "restored", Fields: []string{"tags"}}
	got := merge(first, &RestoreItem{Name: "f/a", ID: "1", Action: "unchanged"})
	if got.Action != "restored" || !reflect.DeepEqual(got.Fields, []string{"tags"}) {
		t.Fatalf("%+v", got)
	}
	got = merge(got, &RestoreItem{Name: "f/a", ID: "1", Action: "restored", Fields: []string{"parameters", "tags"}})
	if !reflect.DeepEqual(got.Fields, []string{"tags", "parameters"}) {
		t.Fatalf("%+v", got)
	}
	boom := errors.New("boom")
	if got = merge(got, &RestoreItem{Action: "failed", Error: boom}); got.Action != "failed" || got.Error != boom {
		t.Fatalf("%+v", got)
	}
}

func TestRetryingIsBounded(t *testing.T) {
	ctx := context.Background()
	calls := 0
	err := retrying(ctx, func(context.Context) error {
		calls++
		return &cloudapi.APIError{Status: http.StatusInternalServerError}
	})
	if calls != restoreAttempts || err == nil {
		t.Fatalf("a 500: %d calls, %v", calls, err)
	}
	calls = 0
	err = retrying(ctx, func(context.Context) error {
		calls++
		return &cloudapi.APIError{Status: http.StatusConflict}
	})
	if calls != 1 || !errors.Is(err, cloudapi.ErrConflict) {
		t.Fatalf("a 409 is not sent again: %d calls, %v", calls, err)
	}
	// A cancelled context ends the waits at once.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	start := time.Now()
	retrying(cctx, func(context.Context) error { return errors.New("down") })
	if time.Since(start) > 200*time.Millisecond {
		t.Fatal("retrying waited on a cancelled context")
	}
}

func TestAutomationDrift(t *testing.T) {
	owned := py.MapOf("id", "a1", "name", "d__automation_1", "actions", []any{py.MapOf("type", "run-deployment", "deployment_id", "D")})
	users := py.MapOf("id", "u1", "name", "mine", "actions", []any{py.MapOf("type", "run-deployment", "deployment_id", "D")})
	fresh := py.MapOf("id", "n1", "name", "d__automation_1", "actions", []any{py.MapOf("type", "run-deployment", "deployment_id", "D")})
	other := py.MapOf("id", "o1", "name", "x", "actions", []any{py.MapOf("type", "do-nothing")})
	st := &DeploymentState{Deployment: &cloudapi.Deployment{ID: "D", Name: "d"}, Automations: []*py.Map{owned, users}}
	r := &restorer{snap: &Snapshot{AutomationsSupported: true, Automations: []*py.Map{owned, users, other}},
		before: map[string]bool{"a1": true, "u1": true, "o1": true}, recreated: map[string]string{}, ours: map[string]bool{}}
	// The run deleted the owned one and created a new one.
	r.autos = []*py.Map{users, fresh, other}
	del, missing := r.automationDrift(st)
	if !reflect.DeepEqual(del, []string{"n1"}) || len(missing) != 1 || get(missing[0], "id") != "a1" {
		t.Fatalf("del %v missing %v", del, missing)
	}
	// After the rollback recreated it as r1, nothing drifts.
	r.recreated["a1"], r.ours["r1"] = "r1", true
	r.autos = []*py.Map{users, other, py.MapOf("id", "r1", "name", "d__automation_1")}
	if del, missing := r.automationDrift(st); len(del) != 0 || len(missing) != 0 {
		t.Fatalf("after the restore: del %v missing %v", del, missing)
	}
}

// A deployment the Apply created is deleted with its automations and its
// concurrency limit: the server deletes the limit with the deployment,
// but a create whose answer was lost can write it after, so the rollback
// deletes it too (a 404, the usual answer, is fine) and the drift check
// looks for it.
func TestDeleteCreatedRemovesItsConcurrencyLimit(t *testing.T) {
	const limitPath = "v2/concurrency_limits/deployment:D1"
	cases := []struct {
		name       string
		limit      int // the answer to the limit's DELETE
		wantAction string
	}{
		{"the server already deleted it", http.StatusNotFound, "deleted"},
		{"it outlived the deployment", http.StatusNoContent, "deleted"},
		{"it cannot be deleted", http.StatusForbidden, "failed"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			api := apimock.New(t)
			api.CSRFOff()
			api.Register(apimock.REST(http.MethodDelete, "automations/owned-by/prefect.deployment.D1"), apimock.Reply(http.StatusNoContent, ""))
			api.Register(apimock.REST(http.MethodDelete, "deployments/D1"), apimock.Reply(http.StatusNoContent, ""))
			api.Register(apimock.REST(http.MethodDelete, limitPath), apimock.Reply(c.limit, `{"detail": "x"}`))
			r := &restorer{api: api.Client(), snap: &Snapshot{AutomationsSupported: true}}
			it := r.deleteCreated(context.Background(), &journalEntry{key: Key{Flow: "f", Name: "d"}, id: "D1", created: true})
			if it.Action != c.wantAction {
				t.Fatalf("action %q (%v), want %q", it.Action, it.Error, c.wantAction)
			}
			if c.wantAction == "failed" && (it.Error == nil || !strings.Contains(it.Error.Error(), "concurrency limit")) {
				t.Fatalf("the failure does not name the limit: %v", it.Error)
			}
		})
	}
	for _, c := range []struct {
		limit   int // the answer to the limit's GET
		drifted bool
	}{{http.StatusNotFound, false}, {http.StatusOK, true}} {
		api := apimock.New(t)
		api.CSRFOff()
		api.Register(apimock.REST(http.MethodGet, "deployments/name/f/d"), apimock.Reply(http.StatusNotFound, `{"detail": "Deployment not found"}`))
		api.Register(apimock.REST(http.MethodGet, limitPath), apimock.Reply(c.limit, `{"name": "deployment:D1", "limit": 1}`))
		r := &restorer{api: api.Client(), snap: &Snapshot{AutomationsSupported: true}}
		if got := r.drifted(context.Background(), &journalEntry{key: Key{Flow: "f", Name: "d"}, id: "D1", created: true}); got != c.drifted {
			t.Errorf("limit answering %d: drifted %v, want %v", c.limit, got, c.drifted)
		}
	}
}
