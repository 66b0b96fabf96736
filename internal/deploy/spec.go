package deploy

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/prefectctl/prefectctl/internal/diag"
	"github.com/prefectctl/prefectctl/internal/project"
	"github.com/prefectctl/prefectctl/internal/py"
	"github.com/prefectctl/prefectctl/internal/template"
)

// Spec is a deployment as it will be registered: the body of
// POST /deployments/ without flow_id, and what goes with it.
type Spec struct {
	FlowName string
	Name     string
	// Body holds the fields of Prefect's DeploymentCreate in its order,
	// without flow_id.
	Body *py.Map
	// EnforceSet reports whether enforce_parameter_schema was configured;
	// an update sends it only then.
	EnforceSet bool
	// Triggers are the templated trigger specs (automations).
	Triggers []any
	// ActiveSet says, per schedule, whether `active` was configured; an
	// update sends it only then, so the server keeps a state set in the UI.
	ActiveSet []bool
	// PullUnset means no pull steps could be worked out (a custom
	// Dockerfile); an update then sends pull_steps: null.
	PullUnset bool
	// ScheduleUpdates are the schedules as an update sends them: Prefect
	// dumps each DeploymentScheduleUpdate with exclude_unset, so only the
	// keys the configuration gave (and those its models always set) go.
	ScheduleUpdates []any
	// AnchorSet says, per schedule, whether an interval's anchor_date was
	// configured; without one Prefect anchors at "now" on every deploy.
	AnchorSet []bool
	// Pending lists placeholders that build or push steps would fill in;
	// only a dry run has them.
	Pending []string
}

// Finalize is the part of the pipeline after the build and push steps
// (from applying the step outputs to registering): it applies the step
// outputs and builds the body.
// With dryRun, placeholders the steps would fill in are kept and listed as
// pending instead of being removed.
func Finalize(d *Deployment, outputs *py.Map, dryRun bool, now time.Time, opt Options, deps Deps) (*Spec, error) {
	if outputs == nil {
		outputs = py.NewMap()
	}
	cfg := py.Clone(d.Config).(*py.Map)
	spec := &Spec{FlowName: d.FlowName, Name: d.Name}
	var skip []string
	if dryRun {
		skip = d.pendingPrefixes()
	}
	notSet := func(name string) {
		if isEnvPlaceholder(name) {
			return // reported once per variable before any step ran (envcheck.go)
		}
		deps.warn(&diag.Error{Kind: diag.Invalid, Msg: fmt.Sprintf("%s: %s", d.Label, template.NotSetWarning(name)),
			Hint: "check the placeholder's spelling and that an earlier step with that id produces the value"})
	}
	if !py.Truthy(get(cfg, "description")) {
		cfg.Set("description", d.Flow.Description)
		if d.Flow.Description == "" {
			cfg.Set("description", nil)
		}
	}

	// Schedules are templated with the step outputs and converted.
	var schedules []any
	if raw, ok := cfg.Get("schedules"); ok && raw != nil {
		applied, err := template.ApplyValues(raw, outputs, template.Options{RemoveNotSet: !dryRun, SkipPrefixes: skip, Env: opt.env()})
		if err != nil {
			return nil, err
		}
		list, _ := applied.([]any)
		for i, s := range list {
			sm, ok := s.(*py.Map)
			if !ok {
				continue
			}
			conv, err := convertSchedule(sm, now, dryRun)
			if err != nil {
				return nil, &diag.Error{Kind: diag.Invalid, Path: fmt.Sprintf("%s.schedules[%d]", d.Label, i), Msg: err.Error(), Hint: "give each schedule exactly one of cron, interval or rrule"}
			}
			schedules = append(schedules, conv)
			spec.ScheduleUpdates = append(spec.ScheduleUpdates, scheduleUpdate(sm, conv))
			spec.ActiveSet = append(spec.ActiveSet, get(sm, "active") != nil)
			spec.AnchorSet = append(spec.AnchorSet, get(sm, "anchor_date") != nil)
		}
	}
	cfg.Delete("schedules")
	triggers, _ := cfg.Get("triggers")
	cfg.Delete("triggers")

	finalSkip := append([]string{"ctx."}, skip...)
	applied, err := template.ApplyValues(cfg, outputs, template.Options{RemoveNotSet: true, OnNotSet: notSet, SkipPrefixes: finalSkip, Env: opt.env()})
	if err != nil {
		return nil, err
	}
	cfg = applied.(*py.Map)

	if tl, ok := triggers.([]any); ok {
		for _, t := range tl {
			tm, ok := t.(*py.Map)
			if !ok {
				continue
			}
			tm = py.Clone(tm).(*py.Map)
			params, hasParams := tm.Get("parameters")
			tm.Delete("parameters")
			out, err := template.ApplyValues(tm, outputs, template.Options{RemoveNotSet: true, SkipPrefixes: skip, Env: opt.env()})
			if err != nil {
				return nil, err
			}
			if hasParams && params != nil {
				out.(*py.Map).Set("parameters", params)
			}
			spec.Triggers = append(spec.Triggers, out)
		}
	}

	var concurrencyLimit, concurrencyOptions any
	switch cl := get(cfg, "concurrency_limit").(type) {
	case *py.Map:
		opts := py.MapOf("collision_strategy", get(cl, "collision_strategy"))
		if g := get(cl, "grace_period_seconds"); g != nil {
			opts.Set("grace_period_seconds", g)
		}
		concurrencyLimit, concurrencyOptions = get(cl, "limit"), opts
	default:
		concurrencyLimit = cl
	}

	var pull any = nil
	spec.PullUnset = d.PullUnset
	if !d.PullUnset {
		p, err := template.ApplyValues(d.PullSteps, outputs, template.Options{RemoveNotSet: false, SkipPrefixes: skip, Env: opt.env()})
		if err != nil {
			return nil, err
		}
		pull = p
		if pull == nil {
			pull = []any{}
		}
	}

	name := d.Name
	if n, ok := get(cfg, "name").(string); ok && n != "" {
		name = n
	}
	name = strings.TrimSuffix(name, ".py") // RunnerDeployment keeps the stem of a *.py name
	spec.Name = name

	wp, _ := get(cfg, "work_pool").(*py.Map)
	jobVars, _ := get(wp, "job_variables").(*py.Map)
	if jobVars == nil {
		jobVars = py.NewMap()
	}
	params, _ := get(cfg, "parameters").(*py.Map)
	if params == nil {
		params = py.NewMap()
	}
	enforce := true
	if b, ok := get(cfg, "enforce_parameter_schema").(bool); ok {
		enforce = b
		spec.EnforceSet = true
	}
	paused := false
	if b, ok := get(cfg, "paused").(bool); ok {
		paused = b
	}
	version, _ := get(cfg, "version").(string)
	fromFlow := false
	if version == "" {
		version, fromFlow = d.Flow.Version, true
	}
	versionType, _ := get(cfg, "version_type").(string)
	version, versionInfo, err := VersionInfo(absDir(opt.Dir), opt.env(), versionType, version, fromFlow)
	if err != nil {
		return nil, &diag.Error{Kind: diag.Invalid, Msg: err.Error(), Hint: "use one of prefect:simple, vcs:git, vcs:github, vcs:gitlab, vcs:bitbucket, vcs:azuredevops"}
	}
	if schedules == nil {
		schedules = []any{}
	}

	body := py.NewMap()
	body.Set("name", name)
	body.Set("paused", paused)
	body.Set("schedules", schedules)
	body.Set("concurrency_limit", concurrencyLimit)
	body.Set("concurrency_options", concurrencyOptions)
	body.Set("enforce_parameter_schema", enforce)
	body.Set("parameter_openapi_schema", d.Flow.ParameterSchema)
	body.Set("parameters", params)
	body.Set("tags", normaliseTags(get(cfg, "tags")))
	body.Set("labels", markBody(opt.Project))
	body.Set("pull_steps", pull)
	body.Set("work_queue_name", get(wp, "work_queue_name"))
	if n := get(wp, "name"); n != nil {
		body.Set("work_pool_name", n)
	}
	body.Set("storage_document_id", nil)
	body.Set("infrastructure_document_id", nil)
	body.Set("description", descriptionString(get(cfg, "description")))
	body.Set("path", nil)
	body.Set("entrypoint", get(cfg, "entrypoint"))
	body.Set("job_variables", jobVars)
	body.Set("version", version)
	body.Set("version_info", versionInfo)
	spec.Body = body

	if dryRun {
		spec.Pending = pendingIn(body, spec.Triggers, skip)
	}
	return spec, nil
}

// descriptionString is the str() Prefect's DeploymentCreate applies to a
// description (a templated number becomes its text). A missing description
// stays null, where Prefect sends the text "None" on create: see
// docs/differences.md.
func descriptionString(x any) any {
	switch x.(type) {
	case nil, string:
		return x
	}
	return py.Str(x)
}

func get(m *py.Map, k string) any {
	v, _ := m.Get(k)
	return v
}

// normaliseTags is Prefect's ListOfNonEmptyStrings: str() of each item,
// blank ones dropped. A string is iterated character by character, as in
// Prefect (see docs/differences.md).
func normaliseTags(x any) []any {
	var items []any
	switch t := x.(type) {
	case string:
		for _, r := range t {
			items = append(items, string(r))
		}
	case []any:
		items = t
	}
	out := []any{}
	for _, it := range items {
		s := py.Str(it)
		if strings.TrimSpace(s) != "" {
			out = append(out, s)
		}
	}
	return out
}

// pendingIn lists the placeholders left in v whose name a step would fill.
func pendingIn(body *py.Map, triggers []any, prefixes []string) []string {
	found := map[string]bool{}
	for _, v := range []any{body, triggers} {
		ps, err := template.FindPlaceholders(v)
		if err != nil {
			continue
		}
		for _, p := range ps {
			for _, pre := range prefixes {
				if strings.HasPrefix(p.Name, pre) {
					found[p.Name] = true
				}
			}
		}
	}
	out := make([]string, 0, len(found))
	for k := range found {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// convertSchedule is Prefect's _schedule_config_to_deployment_schedule
// followed by the DeploymentScheduleCreate defaults.
func convertSchedule(s *py.Map, now time.Time, dryRun bool) (*py.Map, error) {
	tz := get(s, "timezone")
	var sched *py.Map
	switch {
	case py.Truthy(get(s, "cron")):
		sched = py.MapOf("cron", get(s, "cron"), "timezone", tz, "day_or", true)
		if d := get(s, "day_or"); d != nil {
			b, ok := py.LaxBool(d)
			if !ok && !(dryRun && template.IsTemplated(d)) {
				return nil, fmt.Errorf("day_or must be a boolean, got %s", py.Repr(d))
			}
			if ok {
				sched.Set("day_or", b)
			} else {
				sched.Set("day_or", d)
			}
		}
	case py.Truthy(get(s, "interval")):
		secs, err := project.IntervalSeconds(get(s, "interval"))
		if err != nil {
			return nil, err
		}
		anchor := get(s, "anchor_date")
		var anchorStr string
		if a, ok := anchor.(string); ok && a != "" {
			t, err := parseAnchor(a)
			if err != nil {
				return nil, fmt.Errorf("invalid anchor_date %q: %v", a, err)
			}
			anchorStr = t
		} else {
			anchorStr = now.UTC().Format("2006-01-02T15:04:05.000000Z")
		}
		if tz == nil {
			tz = "UTC"
		}
		sched = py.MapOf("interval", secs, "anchor_date", anchorStr, "timezone", tz)
	case py.Truthy(get(s, "rrule")):
		if tz == nil {
			tz = "UTC"
		}
		rule := get(s, "rrule")
		if r, ok := rule.(string); ok {
			rule = withDTSTART(r, py.Str(tz), now)
		}
		sched = py.MapOf("rrule", rule, "timezone", tz)
	default:
		return nil, fmt.Errorf("unknown schedule type; please provide a valid schedule (cron, interval or rrule)")
	}
	out := py.MapOf("schedule", sched, "active", true, "max_scheduled_runs", nil, "parameters", py.NewMap(), "slug", nil, "replaces", nil)
	if a := get(s, "active"); a != nil {
		b, ok := py.LaxBool(a)
		switch {
		case ok:
			out.Set("active", b)
		case dryRun && template.IsTemplated(a):
			out.Set("active", a)
		default:
			return nil, fmt.Errorf("active must be a boolean, got %s", py.Repr(a))
		}
	}
	if p, ok := get(s, "parameters").(*py.Map); ok && p.Len() > 0 {
		out.Set("parameters", p)
	}
	if v := get(s, "slug"); py.Truthy(v) {
		out.Set("slug", v)
	}
	if v := get(s, "replaces"); py.Truthy(v) {
		out.Set("replaces", v)
	}
	return out, nil
}

// parseAnchor reads an anchor_date the way Prefect's parse_datetime does for
// the common forms and returns it as the API's ISO form.
func parseAnchor(s string) (string, error) {
	layouts := []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02T15:04", "2006-01-02"}
	for _, l := range layouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC().Format("2006-01-02T15:04:05Z"), nil
		}
	}
	return "", fmt.Errorf("not a date or date-time")
}

// scheduleUpdate is the exclude_unset dump of the update form of a
// converted schedule: a cron schedule keeps only the keys configured, an
// interval always has its timezone and an anchor only when configured, an
// rrule always has its timezone.
func scheduleUpdate(cfg, full *py.Map) *py.Map {
	sched, _ := get(full, "schedule").(*py.Map)
	us := py.NewMap()
	switch {
	case sched.Has("cron"):
		us.Set("cron", get(sched, "cron"))
		if get(cfg, "timezone") != nil {
			us.Set("timezone", get(sched, "timezone"))
		}
		if get(cfg, "day_or") != nil {
			us.Set("day_or", get(sched, "day_or"))
		}
	case sched.Has("interval"):
		us.Set("interval", get(sched, "interval"))
		if py.Truthy(get(cfg, "anchor_date")) {
			us.Set("anchor_date", get(sched, "anchor_date"))
		}
		us.Set("timezone", get(sched, "timezone"))
	default:
		us.Set("rrule", get(sched, "rrule"))
		us.Set("timezone", get(sched, "timezone"))
	}
	out := py.MapOf("schedule", us)
	if get(cfg, "active") != nil {
		out.Set("active", get(full, "active"))
	}
	if p, ok := get(full, "parameters").(*py.Map); ok && p.Len() > 0 {
		out.Set("parameters", p)
	}
	for _, k := range []string{"slug", "replaces"} {
		if v := get(full, k); v != nil {
			out.Set(k, v)
		}
	}
	return out
}

// rruleAnchor is the DTSTART an rrule without one has always implied.
var rruleAnchor = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)

// withDTSTART is Prefect's normalize_rrule_string, which its client (and
// server) apply before storing: an rrule without DTSTART gets one. High
// frequency rules without COUNT (SECONDLY, MINUTELY) get the latest
// phase-equivalent anchor at or before now, on the schedule's wall clock;
// every other rule gets 2020-01-01T00:00:00. A rule that does not parse is
// left alone, for the server to reject.
func withDTSTART(rule, tz string, now time.Time) string {
	if strings.Contains(strings.ToUpper(rule), "DTSTART") {
		return rule
	}
	parts := map[string]string{}
	lines := strings.Split(strings.TrimSpace(rule), "\n")
	for _, line := range lines {
		line = strings.TrimSpace(line)
		if i := strings.Index(line, ":"); i >= 0 {
			if strings.ToUpper(line[:i]) != "RRULE" {
				// RDATE, EXDATE, EXRULE, ...: an rruleset takes the fixed anchor.
				return prependDTSTART(rule, rruleAnchor)
			}
			line = line[i+1:]
		}
		for _, kv := range strings.Split(line, ";") {
			k, v, ok := strings.Cut(kv, "=")
			if !ok {
				return rule
			}
			parts[strings.ToUpper(strings.TrimSpace(k))] = strings.ToUpper(strings.TrimSpace(v))
		}
	}
	if len(lines) > 1 {
		return prependDTSTART(rule, rruleAnchor)
	}
	freq := parts["FREQ"]
	var unit time.Duration
	switch freq {
	case "SECONDLY":
		unit = time.Second
	case "MINUTELY":
		unit = time.Minute
	case "HOURLY", "DAILY", "WEEKLY", "MONTHLY", "YEARLY":
	default:
		return rule
	}
	if unit == 0 || parts["COUNT"] != "" {
		return prependDTSTART(rule, rruleAnchor)
	}
	interval := int64(1)
	if s, ok := parts["INTERVAL"]; ok {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 1 {
			return rule
		}
		interval = n
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		loc = time.UTC
	}
	// The wall-clock digits of now in the schedule's zone, read as UTC, so
	// the floating DTSTART lands on the intended local instant.
	wall := now.In(loc)
	wallUTC := time.Date(wall.Year(), wall.Month(), wall.Day(), wall.Hour(), wall.Minute(), wall.Second(), 0, time.UTC)
	step := time.Duration(interval) * unit
	if wallUTC.Before(rruleAnchor) {
		return prependDTSTART(rule, rruleAnchor)
	}
	k := wallUTC.Sub(rruleAnchor) / step
	return prependDTSTART(rule, rruleAnchor.Add(k*step))
}

func prependDTSTART(rule string, t time.Time) string {
	return "DTSTART:" + t.Format("20060102T150405") + "\n" + rule
}

// isEnvPlaceholder reports whether text is one {{ $VAR }} placeholder.
func isEnvPlaceholder(text string) bool {
	ps, err := template.FindPlaceholders(text)
	return err == nil && len(ps) == 1 && ps[0].Kind == template.EnvVar && ps[0].Full == text
}
