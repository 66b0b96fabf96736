package deploy

import (
	"context"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prefectctl/prefectctl/internal/cloudapi/apimock"
	"github.com/prefectctl/prefectctl/internal/py"
)

func deploymentJSON(id, flowID, name string) *py.Map {
	return py.MapOf("id", id, "name", name, "flow_id", flowID, "tags", []any{}, "schedules", []any{})
}

func anyNames(body *py.Map, path ...string) []any {
	var x any = body
	for _, k := range path {
		x = get(x.(*py.Map), k)
	}
	l, _ := x.([]any)
	return l
}

// The deployments filter matches every pair of the flow names and the
// deployment names: only the pairs asked for are kept, matched to their
// flow by id.
func TestSnapshotKeepsOnlyThePairsAskedFor(t *testing.T) {
	reg := apimock.New(t)
	reg.Register(apimock.REST(http.MethodPost, "flows/filter"), apimock.JSON([]any{
		py.MapOf("id", "fa", "name", "a"), py.MapOf("id", "fb", "name", "b")}))
	reg.Register(apimock.REST(http.MethodPost, "deployments/filter"), func(r *apimock.Request) (int, string) {
		body := r.JSON()
		if got := fmt.Sprint(anyNames(body, "flows", "name", "any_")); got != "[a b]" {
			t.Errorf("flow names %s", got)
		}
		if got := fmt.Sprint(anyNames(body, "deployments", "name", "any_")); got != "[x y]" {
			t.Errorf("deployment names %s", got)
		}
		b, _ := py.EncodeJSON([]any{deploymentJSON("1", "fa", "x"), deploymentJSON("2", "fb", "x"), deploymentJSON("3", "fa", "y")})
		return http.StatusOK, string(b)
	})
	reg.Register(apimock.REST(http.MethodPost, "work_pools/filter"), apimock.JSON([]any{py.MapOf("id", "p", "name", "pool", "type", "process", "status", "READY")}))
	reg.Register(apimock.REST(http.MethodPost, "automations/filter"), apimock.JSON([]any{}))
	snap, err := ReadSnapshot(context.Background(), reg.Client(), []Key{{"a", "x"}, {"b", "y"}, {"a", "x"}}, []string{"pool", "pool"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Deployments) != 1 || snap.Deployment(Key{"a", "x"}).ID() != "1" || snap.Deployment(Key{"b", "y"}) != nil {
		t.Fatalf("deployments %v", snap.Deployments)
	}
	if snap.Pools["pool"] == nil || len(snap.Flows) != 2 || !snap.AutomationsSupported {
		t.Fatalf("pools %v flows %v", snap.Pools, snap.Flows)
	}
}

// A full page may have left deployments out (the filter's cross product
// can exceed the pairs asked for): it is split and asked again, never paged
// by offset.
func TestSnapshotSplitsAFullPage(t *testing.T) {
	reg := apimock.New(t)
	reg.CSRFOff()
	reg.Always(apimock.REST(http.MethodPost, "flows/filter"), apimock.JSON([]any{py.MapOf("id", "fa", "name", "a")}))
	reg.Always(apimock.REST(http.MethodPost, "work_pools/filter"), apimock.JSON([]any{}))
	reg.Always(apimock.REST(http.MethodPost, "automations/filter"), apimock.JSON([]any{}))
	var calls atomic.Int32
	reg.Always(apimock.REST(http.MethodPost, "deployments/filter"), func(r *apimock.Request) (int, string) {
		calls.Add(1)
		body := r.JSON()
		if body.Has("offset") {
			t.Error("paged by offset")
		}
		names := anyNames(body, "deployments", "name", "any_")
		var out []any
		if len(names) > 1 {
			for i := range pageLimit { // as many others as a page holds
				out = append(out, deploymentJSON(fmt.Sprint("other", i), "fa", fmt.Sprint("other", i)))
			}
		} else {
			out = append(out, deploymentJSON("id-"+py.Str(names[0]), "fa", py.Str(names[0])))
		}
		b, _ := py.EncodeJSON(out)
		return http.StatusOK, string(b)
	})
	snap, err := ReadSnapshot(context.Background(), reg.Client(), []Key{{"a", "x"}, {"a", "y"}, {"a", "z"}}, nil, reg.Client().PrepareWrites)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"x", "y", "z"} {
		if st := snap.Deployment(Key{"a", n}); st == nil || st.ID() != "id-"+n {
			t.Errorf("%s: %v", n, st)
		}
	}
	if calls.Load() != 5 { // 3 pairs → 1 + 2 (1, 2 pairs) → the pair of 2 → 2
		t.Errorf("%d deployment filters, want 5", calls.Load())
	}
}

// Automations are paged by creation time (the filter's sort has no
// tiebreak, so offsets could skip or repeat), overlaps dropped by id; the
// candidates of each deployment are those that act on it or carry the name
// prefect deploy gives its triggers' automations.
func TestSnapshotAutomationsPagedByCreationTime(t *testing.T) {
	reg := apimock.New(t)
	reg.Always(apimock.REST(http.MethodPost, "flows/filter"), apimock.JSON([]any{py.MapOf("id", "fa", "name", "a")}))
	reg.Always(apimock.REST(http.MethodPost, "deployments/filter"), apimock.JSON([]any{deploymentJSON("d1", "fa", "x")}))
	reg.Always(apimock.REST(http.MethodPost, "work_pools/filter"), apimock.JSON([]any{}))
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	auto := func(i int, name, target string) *py.Map {
		return py.MapOf("id", fmt.Sprint("au", i), "name", name, "created", base.Add(-time.Duration(i)*time.Second).Format(time.RFC3339Nano),
			"actions", []any{py.MapOf("type", "run-deployment", "source", "selected", "deployment_id", target)})
	}
	var page1, page2 []any
	for i := range pageLimit {
		page1 = append(page1, auto(i, fmt.Sprint("other-", i), "elsewhere"))
	}
	page1[10] = auto(10, "user-made", "d1")
	// The second page starts at the oldest of the first, inclusive.
	page2 = append(page2, page1[pageLimit-1], auto(pageLimit, "x__automation_1", "gone"), auto(pageLimit+1, "y__automation_1", "gone"))
	reg.Register(apimock.REST(http.MethodPost, "automations/filter"), func(r *apimock.Request) (int, string) {
		if b := r.JSON(); get(b, "sort") != "CREATED_DESC" || b.Has("automations") {
			t.Errorf("first page %s", r.Body)
		}
		b, _ := py.EncodeJSON(page1)
		return http.StatusOK, string(b)
	})
	reg.Register(apimock.REST(http.MethodPost, "automations/filter"), func(r *apimock.Request) (int, string) {
		if got := get(get(get(r.JSON(), "automations").(*py.Map), "created").(*py.Map), "before_"); got != get(page1[pageLimit-1].(*py.Map), "created") {
			t.Errorf("second page asks before %v", got)
		}
		b, _ := py.EncodeJSON(page2)
		return http.StatusOK, string(b)
	})
	snap, err := ReadSnapshot(context.Background(), reg.Client(), []Key{{"a", "x"}}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Automations) != pageLimit+2 {
		t.Fatalf("%d automations, want %d", len(snap.Automations), pageLimit+2)
	}
	got := automationNames(snap.Deployment(Key{"a", "x"}).Automations)
	if fmt.Sprint(got) != "[user-made x__automation_1]" {
		t.Fatalf("candidates %v", got)
	}
}

func TestSnapshotWithoutAutomations(t *testing.T) {
	reg := apimock.New(t)
	reg.Register(apimock.REST(http.MethodPost, "flows/filter"), apimock.JSON([]any{}))
	reg.Register(apimock.REST(http.MethodPost, "deployments/filter"), apimock.JSON([]any{}))
	reg.Register(apimock.REST(http.MethodPost, "work_pools/filter"), apimock.JSON([]any{}))
	reg.Register(apimock.REST(http.MethodPost, "automations/filter"), apimock.Reply(http.StatusNotFound, `{"detail":"Not Found"}`))
	snap, err := ReadSnapshot(context.Background(), reg.Client(), []Key{{"a", "x"}}, []string{"p"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if snap.AutomationsSupported || snap.Deployment(Key{"a", "x"}) != nil || snap.Pools["p"] != nil {
		t.Fatalf("%+v", snap)
	}
}

func TestMayOwn(t *testing.T) {
	run := func(target string) *py.Map {
		return py.MapOf("type", "run-deployment", "source", "selected", "deployment_id", target)
	}
	for _, tc := range []struct {
		a    *py.Map
		want bool
	}{
		{py.MapOf("name", "anything", "actions", []any{run("d1")}), true},
		{py.MapOf("name", "anything", "actions", []any{py.MapOf("type", "send-notification")}, "actions_on_resolve", []any{py.MapOf("type", "pause-deployment", "source", "selected", "deployment_id", "d1")}), true},
		{py.MapOf("name", "nightly__automation_3", "actions", []any{py.MapOf("type", "send-notification")}), true},
		{py.MapOf("name", "other__automation_1", "actions", []any{run("d2")}), false},
		{py.MapOf("name", "nightly__automation_x", "actions", []any{}), false},
		{py.MapOf("name", "anything", "actions", []any{py.MapOf("type", "run-deployment", "source", "inferred", "deployment_id", nil)}), false},
	} {
		if got := MayOwn("d1", "nightly", tc.a); got != tc.want {
			t.Errorf("MayOwn(%s) = %v", mustEncode(tc.a), got)
		}
	}
}

func mustEncode(v any) string {
	b, _ := py.EncodeJSON(v)
	return string(b)
}
