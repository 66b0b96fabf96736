package deploy

import (
	"fmt"
	"slices"

	"github.com/prefectctl/prefectctl/internal/diag"
	"github.com/prefectctl/prefectctl/internal/py"
)

// deploymentTriggerExtras are the keys of a deployment trigger that
// configure the automation and its run-deployment action rather than the
// trigger itself, as Prefect's DeploymentTrigger models split them.
var deploymentTriggerExtras = []string{"name", "description", "enabled", "parameters", "job_variables", "schedule_after"}

// triggerDefaults are the defaults of Prefect's trigger models.
func triggerDefaults(kind string) *py.Map {
	switch kind {
	case "event":
		return py.MapOf("type", "event", "match", py.NewMap(), "match_related", py.NewMap(), "after", []any{},
			"expect", []any{}, "for_each", []any{}, "posture", "Reactive", "threshold", int64(1), "within", 0.0)
	case "metric":
		return py.MapOf("type", "metric", "match", py.NewMap(), "match_related", py.NewMap())
	case "compound":
		return py.MapOf("type", "compound", "within", nil)
	case "sequence":
		return py.MapOf("type", "sequence", "within", nil)
	}
	return py.MapOf("type", kind)
}

// inferTriggerType is Prefect's rule for a trigger without a type.
func inferTriggerType(t *py.Map) string {
	if s, ok := get(t, "type").(string); ok && s != "" {
		return s
	}
	switch {
	case get(t, "posture") == "Metric":
		return "metric"
	case t.Has("triggers") && t.Has("require"):
		return "compound"
	case t.Has("triggers"):
		return "sequence"
	}
	return "event"
}

// automationBody turns one deployment trigger into the automation Prefect
// creates for it.
func automationBody(t *py.Map, deploymentName string, index int, deploymentID string) (*py.Map, error) {
	kind := inferTriggerType(t)
	switch kind {
	case "event", "metric", "compound", "sequence":
	default:
		return nil, &diag.Error{Kind: diag.Invalid, Msg: fmt.Sprintf("trigger %d has unknown type %q", index, kind), Hint: "use type: event, metric, compound or sequence"}
	}
	inner := py.NewMap()
	for _, k := range t.Keys() {
		if !slices.Contains(deploymentTriggerExtras, k) {
			inner.Set(k, get(t, k))
		}
	}
	trigger := withTriggerDefaults(inner, kind)
	name, _ := get(t, "name").(string)
	if name == "" {
		name = fmt.Sprintf("%s__automation_%d", deploymentName, index)
	}
	desc := get(t, "description")
	if desc == nil {
		desc = ""
	}
	enabled := true
	if b, ok := py.LaxBool(get(t, "enabled")); ok {
		enabled = b
	}
	after := asSeconds(get(t, "schedule_after"))
	if after == nil {
		after = 0.0
	}
	action := py.MapOf("type", "run-deployment", "source", "selected", "deployment_id", deploymentID,
		"parameters", get(t, "parameters"), "job_variables", get(t, "job_variables"), "schedule_after", after)
	return py.MapOf("name", name, "description", desc, "enabled", enabled, "tags", []any{},
		"trigger", trigger, "actions", []any{action}, "actions_on_trigger", []any{}, "actions_on_resolve", []any{},
		"owner_resource", "prefect.deployment."+deploymentID), nil
}

// withTriggerDefaults fills in the defaults of Prefect's trigger models,
// recursively for the triggers of a compound or sequence trigger (the
// server requires them on nested triggers too), and sends durations as
// float seconds, as pydantic's timedelta does.
func withTriggerDefaults(t *py.Map, kind string) *py.Map {
	out := triggerDefaults(kind)
	for _, k := range t.Keys() {
		out.Set(k, get(t, k))
	}
	out.Set("type", kind)
	if w := asSeconds(get(out, "within")); w != nil {
		out.Set("within", w)
	}
	if kind == "compound" || kind == "sequence" {
		if nested, ok := get(out, "triggers").([]any); ok {
			list := make([]any, len(nested))
			for i, n := range nested {
				if m, ok := n.(*py.Map); ok {
					list[i] = withTriggerDefaults(m, inferTriggerType(m))
				} else {
					list[i] = n
				}
			}
			out.Set("triggers", list)
		}
	}
	return out
}

// asSeconds turns an integer number of seconds into the float pydantic
// serialises a timedelta as; other values are left for the server to judge.
func asSeconds(x any) any {
	if i, ok := x.(int64); ok {
		return float64(i)
	}
	return x
}
