package deploy

import (
	"fmt"

	"github.com/prefectctl/prefectctl/internal/diag"
	"github.com/prefectctl/prefectctl/internal/value"
)

// deploymentTriggerExtras are the keys of a deployment trigger that
// configure the automation and its run-deployment action rather than the
// trigger itself (spec §6.9).
var deploymentTriggerExtras = []string{"name", "description", "enabled", "parameters", "job_variables", "schedule_after"}

// triggerDefaults are the defaults of Prefect's trigger models.
func triggerDefaults(kind string) *value.Map {
	switch kind {
	case "event":
		return value.MapOf("type", "event", "match", value.NewMap(), "match_related", value.NewMap(), "after", []any{},
			"expect", []any{}, "for_each", []any{}, "posture", "Reactive", "threshold", int64(1), "within", 0.0)
	case "metric":
		return value.MapOf("type", "metric", "match", value.NewMap(), "match_related", value.NewMap())
	case "compound":
		return value.MapOf("type", "compound", "within", nil)
	case "sequence":
		return value.MapOf("type", "sequence", "within", nil)
	}
	return value.MapOf("type", kind)
}

// inferTriggerType is Prefect's rule for a trigger without a type.
func inferTriggerType(t *value.Map) string {
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
func automationBody(t *value.Map, deploymentName string, index int, deploymentID string) (*value.Map, error) {
	kind := inferTriggerType(t)
	switch kind {
	case "event", "metric", "compound", "sequence":
	default:
		return nil, &diag.Error{Kind: diag.Invalid, Msg: fmt.Sprintf("trigger %d has unknown type %q", index, kind), Hint: "use type: event, metric, compound or sequence"}
	}
	trigger := triggerDefaults(kind)
	for _, k := range t.Keys() {
		if contains(deploymentTriggerExtras, k) {
			continue
		}
		trigger.Set(k, get(t, k))
	}
	trigger.Set("type", kind)
	name, _ := get(t, "name").(string)
	if name == "" {
		name = fmt.Sprintf("%s__automation_%d", deploymentName, index)
	}
	desc := get(t, "description")
	if desc == nil {
		desc = ""
	}
	enabled := true
	if b, ok := laxBool(get(t, "enabled")); ok {
		enabled = b
	}
	after := get(t, "schedule_after")
	if after == nil {
		after = 0.0
	}
	action := value.MapOf("type", "run-deployment", "source", "selected", "deployment_id", deploymentID,
		"parameters", get(t, "parameters"), "job_variables", get(t, "job_variables"), "schedule_after", after)
	return value.MapOf("name", name, "description", desc, "enabled", enabled, "tags", []any{},
		"trigger", trigger, "actions", []any{action}, "actions_on_trigger", []any{}, "actions_on_resolve", []any{},
		"owner_resource", "prefect.deployment."+deploymentID), nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
