package project

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/prefectctl/prefectctl/internal/diag"
	"github.com/prefectctl/prefectctl/internal/py"
)

// Overrides are the single-deployment options of `deploy`. A
// nil pointer or slice means the option was not given.
type Overrides struct {
	Entrypoint             string
	Description            *string
	Version                *string
	VersionType            *string
	Tags                   []string
	ConcurrencyLimit       *int64
	CollisionStrategy      string
	Pool                   string
	WorkQueue              string
	JobVariables           *py.Map // parsed --job-variable values; replaces job_variables as Prefect does
	Crons                  []string
	Intervals              []int64
	AnchorDate             string
	RRules                 []string
	Timezone               string
	Params                 *py.Map // --param/--params, merged into parameters
	NoEnforceParameterSchm bool
	Triggers               []any
}

// Any reports whether any option was given; in a multi-deployment run they
// are ignored with a warning, as Prefect does.
func (o *Overrides) Any() bool {
	return o.Entrypoint != "" || o.Description != nil || o.Version != nil || o.VersionType != nil || o.Tags != nil ||
		o.ConcurrencyLimit != nil || o.Pool != "" || o.WorkQueue != "" || o.JobVariables != nil || len(o.Crons) > 0 ||
		len(o.Intervals) > 0 || o.AnchorDate != "" || len(o.RRules) > 0 || o.Timezone != "" || o.Params != nil ||
		o.NoEnforceParameterSchm || o.Triggers != nil
}

// SelectOptions say which deployments a command acts on.
type SelectOptions struct {
	All   bool
	Names []string // -n values: "dep", "flow/dep", patterns with *
	// DefaultWorkPool is PREFECT_DEFAULT_WORK_POOL_NAME, which Prefect
	// applies like --pool in a single deploy and as a fallback in a multi
	// deploy.
	DefaultWorkPool string
	Overrides       Overrides
}

// Selected is one deployment to act on, its configuration merged with the
// defaults and, in a single deploy, the command-line options.
type Selected struct {
	Deployment *Deployment // nil for a configuration made from options alone
	Config     *py.Map
}

// Label names the selection for messages.
func (s *Selected) Label() string {
	if n, _ := s.Config.Get("name"); n != nil {
		if str, ok := n.(string); ok && str != "" {
			return str
		}
	}
	if s.Deployment != nil {
		return s.Deployment.Label()
	}
	return "(new deployment)"
}

// Selection is the outcome of Select.
type Selection struct {
	Items    []*Selected
	Single   bool // the command-line options apply
	Warnings []*diag.Error
}

// Select picks deployments exactly as prefect deploy's _pick_deploy_configs
// does in non-interactive mode, except that it never prompts:
// what Prefect would ask for is an error that says what is missing.
func (p *Project) Select(opt SelectOptions) (*Selection, error) {
	sel := &Selection{}
	warn := func(hint, format string, args ...any) {
		sel.Warnings = append(sel.Warnings, &diag.Error{Kind: diag.Invalid, File: p.File.Path, Msg: fmt.Sprintf(format, args...), Hint: hint})
	}
	if opt.All && len(opt.Names) > 0 {
		return nil, &diag.Error{Kind: diag.Usage, Msg: "cannot use both --all and --name at the same time", Hint: "use only one of them"}
	}
	names, err := p.expandPatterns(opt.Names)
	if err != nil {
		return nil, err
	}
	var picked []*Deployment
	switch {
	case len(p.Deployments) == 0:
		sel.Single = true
	case opt.All:
		picked = p.Deployments
	case len(p.Deployments) == 1 && len(names) <= 1:
		picked = p.Deployments
		if len(names) == 1 && !matches(p.Deployments[0], names[0]) {
			warn("to deploy it under its own name, pass -n "+p.Deployments[0].Label(),
				"%q does not name the only deployment in %s; Prefect deploys %q under the name %q", names[0], p.File.Path, p.Deployments[0].Label(), nameOnly(names[0]))
		}
	case len(names) == 0:
		return nil, &diag.Error{Kind: diag.Usage, File: p.File.Path,
			Msg:  fmt.Sprintf("%s defines %d deployments and no name was given", p.File.Path, len(p.Deployments)),
			Hint: "pass --all, or -n NAME for each deployment (-n flow/name works too): " + strings.Join(p.names(), ", ")}
	default:
		var missing []string
		for _, n := range names {
			found := false
			for _, d := range p.Deployments {
				if matches(d, n) {
					found = true
					if !slices.Contains(picked, d) {
						picked = append(picked, d)
					}
				}
			}
			if !found {
				missing = append(missing, n)
			}
		}
		sort.Strings(missing)
		if len(picked) == 0 {
			if opt.Overrides.Entrypoint == "" {
				return nil, &diag.Error{Kind: diag.Usage, File: p.File.Path,
					Msg:  "no deployment matches " + strings.Join(missing, ", "),
					Hint: "deployments in " + p.File.Path + ": " + strings.Join(p.names(), ", ") + "; to create a new one, also pass its entrypoint (path/to/file.py:flow)"}
			}
			sel.Single = true
		} else if len(missing) > 0 {
			warn("deployments in "+p.File.Path+": "+strings.Join(p.names(), ", "), "the following deployment(s) could not be found and will not be deployed: %s", strings.Join(missing, ", "))
		}
	}
	if len(picked) == 1 {
		sel.Single = true
	}
	if sel.Single {
		var d *Deployment
		cfg := py.NewMap()
		if len(picked) == 1 {
			d = picked[0]
			cfg = py.Clone(d.Config).(*py.Map)
		}
		merged := mergeDefaults(cfg)
		if err := applyOverrides(merged, names, opt, p.File); err != nil {
			return nil, err
		}
		sel.Items = []*Selected{{Deployment: d, Config: merged}}
		return sel, nil
	}
	if opt.Overrides.Any() {
		warn("deploy one deployment at a time (-n NAME) to use these options",
			"you have passed options to the deploy command, but you are creating or updating multiple deployments; these options will be ignored")
	}
	for _, d := range picked {
		if d.Name() == "" {
			warn("give the deployment a name: key", "%s has no name and is skipped", d.Path())
			continue
		}
		cfg := mergeDefaults(py.Clone(d.Config).(*py.Map))
		if opt.DefaultWorkPool != "" {
			wp, _ := cfg.Get("work_pool")
			if wpm, ok := wp.(*py.Map); ok {
				if n, _ := wpm.Get("name"); n == nil {
					wpm.Set("name", opt.DefaultWorkPool)
				}
			}
		}
		sel.Items = append(sel.Items, &Selected{Deployment: d, Config: cfg})
	}
	return sel, nil
}

func (p *Project) names() []string {
	out := make([]string, 0, len(p.Deployments))
	for _, d := range p.Deployments {
		if d.Entrypoint() != "" && d.Name() != "" {
			out = append(out, strings.ReplaceAll(funcName(d.Entrypoint()), "_", "-")+"/"+d.Name())
		} else {
			out = append(out, d.Label())
		}
	}
	return out
}

// matches applies Prefect's rule: "flow/dep" compares dep with the name and
// flow (with - turned into _) with the entrypoint's Python function name,
// not the @flow name; "dep" compares the name only.
func matches(d *Deployment, name string) bool {
	if flow, dep, ok := strings.Cut(name, "/"); ok {
		ep := d.Entrypoint()
		parts := strings.Split(ep, ":")
		return d.Name() == dep && parts[len(parts)-1] == strings.ReplaceAll(flow, "-", "_")
	}
	return d.Name() == name
}

func nameOnly(n string) string {
	if _, dep, ok := strings.Cut(n, "/"); ok {
		return dep
	}
	return n
}

// expandPatterns turns -n values with * into the deployment names they
// match (Prefect's _parse_name_from_pattern); other names pass unchanged.
func (p *Project) expandPatterns(names []string) ([]string, error) {
	var out []string
	for _, n := range names {
		if !strings.Contains(n, "*") {
			out = append(out, n)
			continue
		}
		flowPat, depPat, hasFlow := strings.Cut(n, "/")
		if !hasFlow {
			depPat = n
		}
		compile := func(pat string) *regexp.Regexp {
			return regexp.MustCompile(`^(?s:` + strings.ReplaceAll(regexp.QuoteMeta(pat), `\*`, `.*`) + `)$`)
		}
		depRe := compile(depPat)
		var flowRe *regexp.Regexp
		if hasFlow {
			flowRe = compile(flowPat)
		}
		for _, d := range p.Deployments {
			if d.Entrypoint() == "" || d.Name() == "" {
				continue
			}
			if hasFlow && !flowRe.MatchString(strings.ReplaceAll(funcName(d.Entrypoint()), "_", "-")) {
				continue
			}
			if depRe.MatchString(d.Name()) {
				out = append(out, d.Name())
			}
		}
	}
	return out, nil
}

// mergeDefaults fills in the keys Prefect's _merge_with_default_deploy_config
// adds; a key present with null stays null.
func mergeDefaults(cfg *py.Map) *py.Map {
	defaults := []struct {
		k string
		v func() any
	}{
		{"name", func() any { return nil }},
		{"version", func() any { return nil }},
		{"tags", func() any { return []any{} }},
		{"concurrency_limit", func() any { return nil }},
		{"description", func() any { return nil }},
		{"flow_name", func() any { return nil }},
		{"entrypoint", func() any { return nil }},
		{"parameters", func() any { return py.NewMap() }},
		{"work_pool", func() any {
			return py.MapOf("name", nil, "work_queue_name", nil, "job_variables", py.NewMap())
		}},
	}
	for _, d := range defaults {
		if !cfg.Has(d.k) {
			cfg.Set(d.k, d.v())
		}
	}
	if wp, ok := cfg.Get("work_pool"); ok {
		if wpm, isMap := wp.(*py.Map); isMap {
			for _, k := range []string{"name", "work_queue_name"} {
				if !wpm.Has(k) {
					wpm.Set(k, nil)
				}
			}
			if !wpm.Has("job_variables") {
				wpm.Set("job_variables", py.NewMap())
			}
		}
	}
	// The deprecated singular schedule becomes a one-item schedules list.
	if s, ok := cfg.Get("schedule"); ok {
		if sm, isMap := s.(*py.Map); isMap && sm.Len() > 0 {
			cfg.Set("schedules", []any{sm})
		}
		cfg.Delete("schedule")
	}
	return cfg
}

// applyOverrides lays the command-line options over one configuration,
// as Prefect's _apply_cli_options_to_deploy_config does.
func applyOverrides(cfg *py.Map, names []string, opt SelectOptions, f *File) error {
	o := opt.Overrides
	if len(names) == 1 {
		cfg.Set("name", nameOnly(names[0]))
	}
	if o.Entrypoint != "" {
		cfg.Set("entrypoint", o.Entrypoint)
	}
	setStr := func(k string, v *string) {
		if v != nil {
			cfg.Set(k, *v)
		}
	}
	setStr("description", o.Description)
	setStr("version", o.Version)
	setStr("version_type", o.VersionType)
	if o.Tags != nil {
		tags := make([]any, len(o.Tags))
		for i, t := range o.Tags {
			tags[i] = t
		}
		cfg.Set("tags", tags)
	}
	if o.ConcurrencyLimit != nil {
		if o.CollisionStrategy != "" {
			cfg.Set("concurrency_limit", py.MapOf("limit", *o.ConcurrencyLimit, "collision_strategy", o.CollisionStrategy))
		} else {
			cfg.Set("concurrency_limit", *o.ConcurrencyLimit)
		}
	}
	if o.NoEnforceParameterSchm {
		cfg.Set("enforce_parameter_schema", false)
	}
	pool := o.Pool
	if pool == "" {
		pool = opt.DefaultWorkPool
	}
	wp, _ := cfg.Get("work_pool")
	wpm, _ := wp.(*py.Map)
	if wpm == nil && (pool != "" || o.WorkQueue != "" || o.JobVariables != nil) {
		wpm = py.MapOf("name", nil, "work_queue_name", nil, "job_variables", py.NewMap())
		cfg.Set("work_pool", wpm)
	}
	if pool != "" {
		wpm.Set("name", pool)
	}
	if o.WorkQueue != "" {
		wpm.Set("work_queue_name", o.WorkQueue)
	}
	if o.JobVariables != nil {
		wpm.Set("job_variables", py.Clone(o.JobVariables))
	}
	if o.Triggers != nil {
		cfg.Set("triggers", o.Triggers)
	}
	var schedules []any
	if s, ok := cfg.Get("schedules"); ok {
		schedules, _ = s.([]any)
	}
	for _, c := range o.Crons {
		if err := ValidateCron(c); err != nil {
			return &diag.Error{Kind: diag.Usage, Msg: fmt.Sprintf("--cron %q: %v", c, err), Hint: "use five fields: minute hour day-of-month month day-of-week"}
		}
		schedules = append(schedules, py.MapOf("cron", c))
	}
	for _, n := range o.Intervals {
		if n <= 0 {
			return &diag.Error{Kind: diag.Usage, Msg: fmt.Sprintf("--interval %d: the interval must be greater than 0", n), Hint: "pass a number of seconds"}
		}
		schedules = append(schedules, py.MapOf("interval", float64(n)))
	}
	for _, r := range o.RRules {
		if err := ValidateRRule(r); err != nil {
			return &diag.Error{Kind: diag.Usage, Msg: fmt.Sprintf("--rrule %q: %v", r, err), Hint: "write an RFC 5545 rule such as FREQ=WEEKLY;BYDAY=MO"}
		}
		schedules = append(schedules, py.MapOf("rrule", r))
	}
	if len(o.Crons)+len(o.Intervals)+len(o.RRules) > 0 {
		cfg.Set("schedules", schedules)
	}
	if o.Params != nil {
		params, _ := cfg.Get("parameters")
		pm, ok := params.(*py.Map)
		if !ok {
			pm = py.NewMap()
			cfg.Set("parameters", pm)
		}
		pm.Update(o.Params)
	}
	for _, s := range schedules {
		sm, ok := s.(*py.Map)
		if !ok {
			continue
		}
		if o.AnchorDate != "" && sm.Has("interval") {
			sm.Set("anchor_date", o.AnchorDate)
		}
		if o.Timezone != "" {
			sm.Set("timezone", o.Timezone)
		}
	}
	return nil
}
