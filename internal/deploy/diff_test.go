package deploy

import (
	"testing"

	"github.com/prefectctl/prefectctl/internal/py"
)

func TestDiff(t *testing.T) {
	body := py.MapOf(
		"name", "arthur", "paused", false, "description", nil, "version", "abc",
		"parameters", py.MapOf("name", "Arthur"), "tags", []any{"eks"},
		"job_variables", py.MapOf("image", "img:1"), "work_pool_name", "pool", "work_queue_name", nil,
		"concurrency_limit", nil, "concurrency_options", nil, "enforce_parameter_schema", true,
		"parameter_openapi_schema", py.MapOf("title", "Parameters"), "pull_steps", []any{}, "entrypoint", "f.py:hello",
		"schedules", []any{py.MapOf("schedule", py.MapOf("interval", 60.0, "anchor_date", "2026-01-01T00:00:00Z", "timezone", "UTC"), "active", true, "max_scheduled_runs", nil, "parameters", py.NewMap(), "slug", nil, "replaces", nil)},
		"version_info", py.MapOf("type", "prefect:simple", "version", "abc"),
	)
	spec := &Spec{Body: body, ActiveSet: []bool{false}, AnchorSet: []bool{false}}
	server := py.MapOf(
		"id", "x", "name", "arthur", "paused", false, "description", nil, "version", "abc",
		"parameters", py.MapOf("name", "Arthur"), "tags", []any{"eks"},
		"job_variables", py.MapOf("image", "img:1"), "work_pool_name", "pool", "work_queue_name", "default",
		"concurrency_limit", nil, "enforce_parameter_schema", false,
		"parameter_openapi_schema", py.MapOf("title", "Parameters"), "pull_steps", nil, "entrypoint", "f.py:hello",
		"schedules", []any{py.MapOf("id", "s1", "schedule", py.MapOf("interval", int64(60), "anchor_date", "2025-05-05T10:00:00Z", "timezone", "UTC"), "active", true, "max_scheduled_runs", nil, "parameters", py.NewMap(), "slug", nil)},
		"version_info", py.MapOf("type", "prefect:simple", "version", "abc"),
	)
	if ch := Diff(server, spec); len(ch) != 0 {
		t.Fatalf("expected no changes, got %+v", ch)
	}
	server.Set("tags", []any{"eks", "old"})
	server.Set("paused", true)
	ch := Diff(server, spec)
	if len(ch) != 2 || ch[0].Field != "paused" || ch[1].Field != "tags" {
		t.Fatalf("changes = %+v", ch)
	}
	// A configured anchor is compared.
	spec.AnchorSet = []bool{true}
	server.Set("tags", []any{"eks"})
	server.Set("paused", false)
	if ch := Diff(server, spec); len(ch) != 1 || ch[0].Field != "schedules" {
		t.Fatalf("anchor change not seen: %+v", ch)
	}
	// enforce_parameter_schema counts only when configured.
	spec.AnchorSet = []bool{false}
	spec.EnforceSet = true
	if ch := Diff(server, spec); len(ch) != 1 || ch[0].Field != "enforce_parameter_schema" {
		t.Fatalf("enforce change not seen: %+v", ch)
	}
}

// 3.9.1 reads concurrency_limit back as null and the deployment's limit as
// the global concurrency limit it points at; the options come back with
// their defaults filled in. Neither is a change by itself.
func TestDiffConcurrencyAsTheServerReturnsIt(t *testing.T) {
	spec := &Spec{Body: py.MapOf("concurrency_limit", int64(42),
		"concurrency_options", py.MapOf("collision_strategy", "CANCEL_NEW"))}
	server := py.MapOf("concurrency_limit", nil,
		"global_concurrency_limit", py.MapOf("name", "deployment:x", "limit", int64(42), "active", true),
		"concurrency_options", py.MapOf("collision_strategy", "CANCEL_NEW", "grace_period_seconds", nil))
	if ch := Diff(server, spec); len(ch) != 0 {
		t.Fatalf("expected no changes, got %+v", ch)
	}
	server.Set("global_concurrency_limit", py.MapOf("name", "deployment:x", "limit", int64(3)))
	server.Set("concurrency_options", py.MapOf("collision_strategy", "ENQUEUE", "grace_period_seconds", nil))
	if ch := Diff(server, spec); len(ch) != 2 || ch[0].Field != "concurrency_limit" || ch[1].Field != "concurrency_options" {
		t.Fatalf("changes = %+v", ch)
	}
	// No limit in prefect.yaml: a limit on the server is a change (the
	// update sends concurrency_limit: null, which deletes it).
	spec.Body.Set("concurrency_limit", nil)
	spec.Body.Set("concurrency_options", nil)
	server.Set("concurrency_options", nil)
	if ch := Diff(server, spec); len(ch) != 1 || ch[0].Field != "concurrency_limit" {
		t.Fatalf("changes = %+v", ch)
	}
}
