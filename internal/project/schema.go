package project

import "github.com/prefectctl/prefectctl/internal/py"

// SchemaID is the $id of the prefect.yaml JSON Schema.
const SchemaID = "https://github.com/prefectctl/prefectctl/prefect.yaml.schema.json"

// Schema returns a JSON Schema (draft-07, the newest draft
// yaml-language-server fully supports) for prefect.yaml. It is built from
// the same key lists the loader validates against, so an editor flags
// exactly the keys `prefectctl validate` warns about; schema_test.go keeps
// the two in sync.
//
// Any value may also be a "{{ ... }}" template string, because templates
// are resolved before Prefect reads the fields; the schema therefore allows
// a string wherever a template could stand in for a typed value.
func Schema() *py.Map {
	steps := py.MapOf(
		"description", "Steps run in order; each is a one-key mapping from the step's import path to its arguments.",
		"type", []any{"array", "null"},
		"items", py.MapOf("$ref", "#/definitions/step"),
	)
	props := func(keys []string, known map[string]any) *py.Map {
		m := py.NewMap()
		for _, k := range keys {
			if s, ok := known[k]; ok {
				m.Set(k, s)
			} else {
				m.Set(k, py.NewMap()) // any value
			}
		}
		return m
	}
	str := func(desc string) *py.Map {
		return py.MapOf("description", desc, "type", []any{"string", "null"})
	}
	templated := func(desc string, types ...any) *py.Map {
		return py.MapOf("description", desc, "type", append(types, "string", "null"))
	}

	concurrency := py.MapOf(
		"type", "object",
		"properties", props(concurrencyKey, map[string]any{
			"limit":                templated("Maximum concurrent runs.", "integer"),
			"collision_strategy":   py.MapOf("description", "What happens to a run over the limit.", "enum", []any{"ENQUEUE", "CANCEL_NEW"}),
			"grace_period_seconds": templated("Seconds a slot stays held after a run ends.", "integer"),
		}),
		"additionalProperties", false,
	)
	scheduleProps := props(scheduleKeys, map[string]any{
		"cron":        str("A cron expression, e.g. '0 9 * * *'."),
		"interval":    templated("Seconds between runs (or an ISO 8601 duration).", "number"),
		"rrule":       str("An RFC 5545 recurrence rule."),
		"timezone":    str("IANA timezone name, e.g. 'Europe/Paris'."),
		"anchor_date": str("Start of an interval schedule (ISO 8601)."),
		"active":      templated("Whether the schedule creates runs.", "boolean"),
		"parameters":  templated("Parameter overrides for runs of this schedule.", "object"),
		"slug":        str("A stable identifier for the schedule within the deployment."),
		"replaces":    str("The slug of a schedule this one replaces."),
		"day_or":      templated("Cron: combine day-of-month and day-of-week with OR.", "boolean"),
	})
	// The wrapped form {schedule: {...}, active: ..., ...} shares most keys.
	for _, k := range wrappedSchKeys {
		if !scheduleProps.Has(k) {
			switch k {
			case "schedule":
				scheduleProps.Set(k, py.MapOf("description", "The schedule itself, in the wrapped form.", "type", "object"))
			case "max_scheduled_runs":
				scheduleProps.Set(k, templated("Upper bound of scheduled runs kept ahead.", "integer"))
			default:
				scheduleProps.Set(k, py.NewMap())
			}
		}
	}
	workPool := py.MapOf(
		"type", []any{"object", "null"},
		"properties", props(workPoolKeys, map[string]any{
			"name":            str("The work pool whose workers run this deployment."),
			"work_queue_name": str("A queue of that pool (default: the pool's default queue)."),
			"job_variables":   templated("Overrides of the pool's base job template variables (image, env, ...).", "object"),
		}),
		"additionalProperties", false,
	)
	deployment := py.MapOf(
		"type", "object",
		"properties", props(deploymentKeys, map[string]any{
			"name":                     py.MapOf("description", "The deployment's name, unique per flow.", "type", "string"),
			"version":                  str("A version label; defaults to a hash of the flow source."),
			"version_type":             str("How the version was derived."),
			"tags":                     templated("Tags for the deployment and its runs.", "array"),
			"description":              str("Shown in the UI; defaults to the flow's docstring."),
			"schedule":                 templated("Deprecated single schedule; use schedules.", "object"),
			"schedules":                py.MapOf("description", "Schedules that create runs.", "type", []any{"array", "string", "null"}, "items", py.MapOf("$ref", "#/definitions/schedule")),
			"paused":                   templated("Create the deployment paused.", "boolean"),
			"concurrency_limit":        py.MapOf("description", "A limit, or {limit, collision_strategy, grace_period_seconds}.", "anyOf", []any{py.MapOf("type", []any{"integer", "string", "null"}), concurrency}),
			"flow_name":                str("The flow's name, when no entrypoint is given."),
			"entrypoint":               str("path/to/file.py:flow_function"),
			"parameters":               templated("Default parameters for runs.", "object"),
			"enforce_parameter_schema": templated("Reject runs whose parameters do not match the flow's signature.", "boolean"),
			"build":                    steps,
			"push":                     steps,
			"pull":                     steps,
			"work_pool":                py.MapOf("$ref", "#/definitions/work_pool"),
			"triggers":                 templated("Automations that run this deployment.", "array"),
			"sla":                      templated("Service-level agreements (Prefect Cloud).", "array"),
		}),
		"additionalProperties", false,
	)
	step := py.MapOf(
		"type", "object",
		"minProperties", int64(1),
		"maxProperties", int64(1),
		"additionalProperties", py.MapOf(
			"type", []any{"object", "null"},
			"properties", py.MapOf(
				"id", py.MapOf("description", "Names this step's outputs for {{ id.key }} references.", "type", "string"),
				"requires", py.MapOf("description", "The package providing the step (pip requirement).", "type", "string"),
			),
		),
	)
	return py.MapOf(
		"$schema", "http://json-schema.org/draft-07/schema#",
		"$id", SchemaID,
		"title", "prefect.yaml",
		"description", "A Prefect project file, as read by `prefect deploy` and `prefectctl deploy`.",
		"type", []any{"object", "null"},
		"properties", props(topKeys, map[string]any{
			"prefect-version": str("The Prefect version the file was written for."),
			"prefect_version": str("The Prefect version the file was written for."),
			"name":            str("The project's name."),
			"build":           steps,
			"push":            steps,
			"pull":            steps,
			"deployments":     py.MapOf("type", []any{"array", "null"}, "items", py.MapOf("$ref", "#/definitions/deployment")),
			"definitions":     py.MapOf("description", "Free-form YAML anchors reused elsewhere with *aliases."),
			"prefectctl": py.MapOf("description", "prefectctl's own settings; Prefect ignores this key.", "type", "object",
				"additionalProperties", false,
				"properties", py.MapOf(
					"flow_metadata", py.MapOf("description", "How flow metadata is read: static (parse the source) or python (ask python3 with prefect installed).", "enum", []any{"static", "python"}),
					"values", py.MapOf("description", "Values that (( values.NAME )) placeholders anywhere in the file are replaced with; an environment's overlay (prefect.ENV.yaml) may change them.", "type", "object"))),
		}),
		"additionalProperties", false,
		"definitions", py.MapOf(
			"deployment", deployment,
			"work_pool", workPool,
			"schedule", py.MapOf("type", "object", "properties", scheduleProps, "additionalProperties", false),
			"step", step,
		),
	)
}
