package project

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
	_ "time/tzdata" // timezone names must validate the same on every machine

	"github.com/prefectctl/prefectctl/internal/diag"
	"github.com/prefectctl/prefectctl/internal/py"
	"github.com/prefectctl/prefectctl/internal/template"
)

// The keys Prefect's models know. Prefect ignores any other key silently;
// prefectctl warns, because a typo there silently loses a setting.
var (
	topKeys        = []string{"prefect-version", "prefect_version", "name", "build", "push", "pull", "deployments", "definitions", "prefectctl"}
	prefectctlKeys = []string{"flow_metadata", "values"}
	deploymentKeys = []string{"name", "version", "version_type", "tags", "description", "schedule", "schedules", "paused", "concurrency_limit", "flow_name", "entrypoint", "parameters", "enforce_parameter_schema", "build", "push", "pull", "work_pool", "triggers", "sla"}
	workPoolKeys   = []string{"name", "work_queue_name", "job_variables"}
	scheduleKeys   = []string{"cron", "interval", "rrule", "timezone", "anchor_date", "active", "parameters", "slug", "replaces", "day_or"}
	wrappedSchKeys = []string{"schedule", "active", "max_scheduled_runs", "parameters", "slug", "replaces"}
	concurrencyKey = []string{"limit", "collision_strategy", "grace_period_seconds"}
)

// misplacedHints explains keys that are valid somewhere else.
var misplacedHints = map[string]string{
	"job_variables":   "job_variables belongs under work_pool: (work_pool.job_variables)",
	"job_variable":    "job_variables belongs under work_pool: (work_pool.job_variables)",
	"work_queue_name": "work_queue_name belongs under work_pool: (work_pool.work_queue_name)",
	"work_pool_name":  "the work pool is written as work_pool: {name: ...}",
	"pool":            "the work pool is written as work_pool: {name: ...}",
	"image":           "an image is set with work_pool.job_variables.image",
	"cron":            "a schedule goes in a list: schedules: [{cron: ...}]",
	"interval":        "a schedule goes in a list: schedules: [{interval: ...}]",
	"rrule":           "a schedule goes in a list: schedules: [{rrule: ...}]",
	"timezone":        "a timezone belongs to a schedule: schedules: [{cron: ..., timezone: ...}]",
}

type validator struct {
	f        *File
	errs     diag.List
	warnings []*diag.Error
}

func (v *validator) errorf(path, hint, format string, args ...any) {
	v.errs = append(v.errs, v.f.Errorf(path, hint, format, args...))
}

func (v *validator) unknownKeys(m *py.Map, path string, known []string, context string) {
	for _, k := range m.Keys() {
		if slices.Contains(known, k) {
			continue
		}
		p := joinPath(path, k)
		pos := v.f.KeyPos(p)
		hint := ""
		if h, ok := misplacedHints[k]; ok && context == "deployment" {
			hint = h
		} else if c := closest(k, known); c != "" {
			hint = fmt.Sprintf("did you mean %q?", c)
		} else {
			hint = "known keys: " + strings.Join(known, ", ")
		}
		v.warnings = append(v.warnings, &diag.Error{Kind: diag.Invalid, File: pos.File, Line: pos.Line, Col: pos.Col, Path: p,
			Msg: fmt.Sprintf("unknown key %q in %s; Prefect ignores it", k, context), Hint: hint})
	}
}

func validate(f *File) (*Project, error) {
	v := &validator{f: f}
	p := &Project{File: f}
	if f.Raw == nil {
		return p, nil // an empty file has no deployments
	}
	top, ok := f.Raw.(*py.Map)
	if !ok {
		return nil, diag.List{f.Errorf("", "prefect.yaml must be a mapping with keys such as deployments:, build:, push:, pull:",
			"the file's top level is a %s, expected a mapping", py.TypeName(f.Raw))}
	}
	v.unknownKeys(top, "", topKeys, "the top level")
	// populate_by_name: both spellings are accepted; the alias wins when both are given.
	for _, k := range []string{"prefect_version", "prefect-version"} {
		if x, ok := top.Get(k); ok {
			p.PrefectVersion = v.optStr(x, k)
		}
	}
	if x, ok := top.Get("name"); ok {
		p.Name = v.optStr(x, "name")
	}
	v.prefectctlSettings(top, p)
	p.Build = v.action(top, "", "build")
	p.Push = v.action(top, "", "push")
	p.Pull = v.action(top, "", "pull")
	if x, ok := top.Get("deployments"); ok {
		list, isList := x.([]any)
		if !isList {
			v.errorf("deployments", "deployments: is a list of mappings, each starting with '- name: ...'", "expected a list of deployments, got %s", py.TypeName(x))
		}
		for i, item := range list {
			if d := v.deployment(item, i); d != nil {
				p.Deployments = append(p.Deployments, d)
			}
		}
	}
	v.duplicateNames(p)
	p.Warnings = v.warnings
	if len(v.errs) > 0 {
		v.errs.Sort()
		return nil, v.errs
	}
	return p, nil
}

func (v *validator) duplicateNames(p *Project) {
	seen := map[string]*Deployment{}
	for _, d := range p.Deployments {
		name := d.Name()
		if name == "" {
			continue
		}
		key := name + "\x00" + funcName(d.Entrypoint())
		if first, dup := seen[key]; dup {
			v.errorf(d.Path()+".name", fmt.Sprintf("rename one of them; Prefect would deploy both and the second would overwrite the first (%s)", first.Path()),
				"duplicate deployment %q for the same flow function", name)
			continue
		}
		seen[key] = d
	}
}

// optStr checks a field typed Optional[str]: pydantic does not turn numbers
// into strings, so `version: 1.0` is an error, not "1.0".
func (v *validator) optStr(x any, path string) string {
	switch t := x.(type) {
	case nil:
		return ""
	case string:
		return t
	}
	hint := "quote the value"
	if _, num := x.(float64); num {
		hint = fmt.Sprintf("quote it: %s: \"%s\" (unquoted, YAML reads %s as a number)", lastKey(path), py.Str(x), py.Str(x))
	} else if _, num := x.(int64); num {
		hint = fmt.Sprintf("quote it: %s: \"%s\"", lastKey(path), py.Str(x))
	} else if _, b := x.(bool); b {
		hint = "YAML 1.1 reads yes/no/on/off/true/false as booleans; quote the value to keep it a string"
	}
	v.errorf(path, hint, "expected a string, got %s %s", py.TypeName(x), py.Repr(x))
	return ""
}

func lastKey(path string) string {
	if i := strings.LastIndexAny(path, "."); i >= 0 {
		return path[i+1:]
	}
	return path
}

// action validates a build/push/pull section and normalises it the way
// Prefect's model does: a non-empty mapping becomes a one-step list.
func (v *validator) action(m *py.Map, base, key string) Action {
	x, ok := m.Get(key)
	if !ok {
		return Action{}
	}
	path := joinPath(base, key)
	switch t := x.(type) {
	case nil:
		return Action{Set: true, Null: true}
	case *py.Map:
		if t.Len() == 0 {
			return Action{Set: true, Null: true}
		}
		m.Set(key, []any{t})
		return Action{Set: true, Steps: []any{t}}
	case []any:
		for i, s := range t {
			if _, ok := s.(*py.Map); !ok && s != nil {
				v.errorf(fmt.Sprintf("%s[%d]", path, i), "each step is a mapping: - prefect.deployments.steps.run_shell_script: {script: ...}", "expected a step mapping, got %s", py.TypeName(s))
			}
		}
		return Action{Set: true, Steps: t}
	}
	v.errorf(path, "write a list of steps, a single step mapping, [] or null", "expected a list of steps, got %s", py.TypeName(x))
	return Action{Set: true}
}

func (v *validator) deployment(x any, i int) *Deployment {
	path := fmt.Sprintf("deployments[%d]", i)
	m, ok := x.(*py.Map)
	if !ok {
		v.errorf(path, "each deployment is a mapping starting with '- name: ...'", "expected a deployment mapping, got %s", py.TypeName(x))
		return nil
	}
	m = py.Clone(m).(*py.Map)
	v.unknownKeys(m, path, deploymentKeys, "deployment")
	for _, k := range []string{"name", "version", "version_type", "description", "flow_name", "entrypoint"} {
		if x, ok := m.Get(k); ok {
			v.optStr(x, joinPath(path, k))
		}
	}
	if x, ok := m.Get("version_type"); ok && x != nil {
		if s, _ := x.(string); s != "" && !slices.Contains(versionTypes, s) {
			v.errorf(joinPath(path, "version_type"), "use one of: "+strings.Join(versionTypes, ", "), "unknown version type %q", s)
		}
	}
	if x, ok := m.Get("tags"); ok {
		switch x.(type) {
		case string, []any:
		case nil:
			// Prefect crashes later on tags: null; say so now.
			v.errorf(joinPath(path, "tags"), "write tags: [] or leave the key out", "tags must be a list of strings, got null")
		default:
			v.errorf(joinPath(path, "tags"), "write tags: [a, b]", "tags must be a list or a string, got %s", py.TypeName(x))
		}
	}
	for _, k := range []string{"paused", "enforce_parameter_schema"} {
		if x, ok := m.Get(k); ok && x != nil {
			b, ok := py.LaxBool(x)
			if !ok {
				v.errorf(joinPath(path, k), "use true or false", "expected a boolean, got %s %s", py.TypeName(x), py.Repr(x))
				continue
			}
			m.Set(k, b)
		}
	}
	for _, k := range []string{"parameters"} {
		if x, ok := m.Get(k); ok {
			if _, isMap := x.(*py.Map); !isMap {
				v.errorf(joinPath(path, k), "parameters is a mapping of parameter names to values, e.g. parameters: {name: Arthur}", "expected a mapping, got %s", py.TypeName(x))
			}
		}
	}
	v.concurrency(m, path)
	v.workPool(m, path)
	v.schedules(m, path)
	for _, k := range []string{"build", "push", "pull"} {
		v.action(m, path, k)
	}
	for _, k := range []string{"triggers", "sla"} {
		if x, ok := m.Get(k); ok && x != nil {
			list, isList := x.([]any)
			if !isList {
				v.errorf(joinPath(path, k), "write a list of mappings", "expected a list, got %s", py.TypeName(x))
				continue
			}
			for j, t := range list {
				if _, isMap := t.(*py.Map); !isMap {
					v.errorf(fmt.Sprintf("%s.%s[%d]", path, k, j), "each entry is a mapping", "expected a mapping, got %s", py.TypeName(t))
				}
			}
		}
	}
	return &Deployment{Index: i, Config: jsonMode(m).(*py.Map)}
}

var versionTypes = []string{"prefect:simple", "vcs:github", "vcs:gitlab", "vcs:bitbucket", "vcs:azuredevops", "vcs:git"}

func (v *validator) concurrency(m *py.Map, path string) {
	x, ok := m.Get("concurrency_limit")
	if !ok || x == nil {
		return
	}
	p := joinPath(path, "concurrency_limit")
	if spec, isMap := x.(*py.Map); isMap {
		v.unknownKeys(spec, p, concurrencyKey, "concurrency_limit")
		if l, ok := spec.Get("limit"); ok && l != nil {
			n, ok := py.LaxInt(l)
			if !ok {
				v.errorf(p+".limit", "use a whole number", "expected an integer, got %s", py.Repr(l))
			} else {
				spec.Set("limit", n)
			}
		}
		cs, ok := spec.Get("collision_strategy")
		switch s, _ := cs.(string); {
		case !ok || cs == nil:
			v.errorf(p, "add collision_strategy: ENQUEUE or collision_strategy: CANCEL_NEW", "a concurrency_limit mapping needs a collision_strategy")
		case s != "ENQUEUE" && s != "CANCEL_NEW":
			v.errorf(p+".collision_strategy", "use ENQUEUE or CANCEL_NEW", "unknown collision strategy %s", py.Repr(cs))
		}
		if g, ok := spec.Get("grace_period_seconds"); ok && g != nil {
			n, ok := py.LaxInt(g)
			switch {
			case !ok:
				v.errorf(p+".grace_period_seconds", "use a whole number of seconds", "expected an integer, got %s", py.Repr(g))
			case n < 60 || n > 86400:
				v.errorf(p+".grace_period_seconds", "use a value from 60 to 86400", "grace_period_seconds must be between 60 and 86400, got %d", n)
			default:
				spec.Set("grace_period_seconds", n)
			}
		}
		return
	}
	n, ok := py.LaxInt(x)
	if !ok {
		v.errorf(p, "use a whole number, or {limit: N, collision_strategy: ENQUEUE|CANCEL_NEW}", "expected an integer or a mapping, got %s %s", py.TypeName(x), py.Repr(x))
		return
	}
	m.Set("concurrency_limit", n)
}

func (v *validator) workPool(m *py.Map, path string) {
	x, ok := m.Get("work_pool")
	if !ok || x == nil {
		return
	}
	p := joinPath(path, "work_pool")
	wp, isMap := x.(*py.Map)
	if !isMap {
		hint := "write work_pool: {name: my-pool}"
		if s, isStr := x.(string); isStr {
			hint = fmt.Sprintf("write work_pool: {name: %s}", s)
		}
		v.errorf(p, hint, "expected a mapping, got %s", py.TypeName(x))
		return
	}
	v.unknownKeys(wp, p, workPoolKeys, "work_pool")
	for _, k := range []string{"name", "work_queue_name"} {
		if y, ok := wp.Get(k); ok {
			v.optStr(y, joinPath(p, k))
		}
	}
	if jv, ok := wp.Get("job_variables"); ok {
		if _, isMap := jv.(*py.Map); !isMap {
			v.errorf(p+".job_variables", "job_variables is a mapping, e.g. job_variables: {image: my-image:tag}", "expected a mapping, got %s", py.TypeName(jv))
		}
	}
}

func (v *validator) schedules(m *py.Map, path string) {
	if x, ok := m.Get("schedule"); ok && x != nil {
		if sm, isMap := x.(*py.Map); isMap && sm.Len() > 0 {
			if m.Has("schedules") {
				v.errorf(joinPath(path, "schedule"), "move the entry into schedules: and delete schedule:",
					"Both 'schedule' and 'schedules' keys are present in the deployment configuration; use only 'schedules'")
			}
			v.schedule(sm, joinPath(path, "schedule"))
		} else if !isMap {
			v.errorf(joinPath(path, "schedule"), "schedule is a mapping; better, use schedules: [{cron: ...}]", "expected a mapping, got %s", py.TypeName(x))
		}
	}
	x, ok := m.Get("schedules")
	if !ok || x == nil {
		return
	}
	list, isList := x.([]any)
	if !isList {
		v.errorf(joinPath(path, "schedules"), "schedules is a list: schedules: [{cron: \"0 9 * * *\"}]", "expected a list of schedules, got %s", py.TypeName(x))
		return
	}
	for i, s := range list {
		p := fmt.Sprintf("%s.schedules[%d]", path, i)
		sm, isMap := s.(*py.Map)
		if !isMap {
			v.errorf(p, "each schedule is a mapping with one of cron:, interval: or rrule:", "expected a schedule mapping, got %s", py.TypeName(s))
			continue
		}
		v.schedule(sm, p)
	}
}

// schedule validates one entry as Prefect's RawScheduleConfig (or the
// wrapped {schedule: ...} form the API uses).
func (v *validator) schedule(s *py.Map, p string) {
	if s.Len() == 0 {
		return
	}
	if s.Has("schedule") {
		for _, k := range s.Keys() {
			if !slices.Contains(wrappedSchKeys, k) {
				v.errorf(joinPath(p, k), "allowed keys: "+strings.Join(wrappedSchKeys, ", "), "unknown key %q in a schedule", k)
			}
		}
		inner, ok := s.Get("schedule")
		if im, isMap := inner.(*py.Map); ok && isMap {
			v.scheduleFields(im, joinPath(p, "schedule"))
		} else {
			v.errorf(joinPath(p, "schedule"), "write schedule: {cron: ...}", "expected a mapping")
		}
		return
	}
	for _, k := range s.Keys() {
		if !slices.Contains(scheduleKeys, k) {
			hint := "allowed keys: " + strings.Join(scheduleKeys, ", ")
			if c := closest(k, scheduleKeys); c != "" {
				hint = fmt.Sprintf("did you mean %q?", c)
			}
			v.errorf(joinPath(p, k), hint, "unknown key %q in a schedule", k)
		}
	}
	v.scheduleFields(s, p)
}

func (v *validator) scheduleFields(s *py.Map, p string) {
	n := 0
	for _, k := range []string{"cron", "interval", "rrule"} {
		if x, ok := s.Get(k); ok && x != nil {
			n++
		}
	}
	if n != 1 {
		v.errorf(p, "give exactly one of cron:, interval: or rrule:", "exactly one of 'cron', 'interval', or 'rrule' must be provided")
	}
	for _, k := range []string{"cron", "rrule", "timezone", "anchor_date", "slug", "replaces"} {
		if x, ok := s.Get(k); ok && x != nil {
			if _, isStr := x.(string); !isStr {
				hint := "quote the value"
				if k == "anchor_date" {
					hint = `quote the date: anchor_date: "2024-01-01T00:00:00"`
				}
				v.errorf(joinPath(p, k), hint, "expected a string, got %s %s", py.TypeName(x), py.Repr(x))
			}
		}
	}
	if x, ok := s.Get("cron"); ok {
		if c, isStr := x.(string); isStr && !template.IsTemplated(c) {
			if err := ValidateCron(c); err != nil {
				v.errorf(joinPath(p, "cron"), "use five fields: minute hour day-of-month month day-of-week, e.g. \"0 9 * * 1-5\"", "invalid cron expression %q: %v", c, err)
			}
		}
	}
	if x, ok := s.Get("timezone"); ok {
		if tz, isStr := x.(string); isStr && !template.IsTemplated(tz) {
			if _, err := time.LoadLocation(tz); err != nil || tz == "" || tz == "Local" {
				v.errorf(joinPath(p, "timezone"), "use an IANA name such as UTC, Europe/Berlin or America/New_York", "Invalid timezone: %q", tz)
			}
		}
	}
	if x, ok := s.Get("interval"); ok && x != nil {
		secs, err := IntervalSeconds(x)
		if err != nil {
			v.errorf(joinPath(p, "interval"), "use seconds (3600), an ISO 8601 duration (\"PT1H\") or \"HH:MM:SS\"", "invalid interval %s: %v", py.Repr(x), err)
		} else {
			s.Set("interval", secs)
		}
	}
	if x, ok := s.Get("rrule"); ok {
		if r, isStr := x.(string); isStr && !template.IsTemplated(r) {
			if err := ValidateRRule(r); err != nil {
				v.errorf(joinPath(p, "rrule"), "write an RFC 5545 rule such as \"FREQ=WEEKLY;BYDAY=MO\"", "invalid rrule %q: %v", r, err)
			}
		}
	}
	for _, k := range []string{"active", "day_or"} {
		if x, ok := s.Get(k); ok && x != nil {
			switch x.(type) {
			case bool, string:
			default:
				if b, ok := py.LaxBool(x); ok {
					s.Set(k, b)
				} else {
					v.errorf(joinPath(p, k), "use true or false", "expected a boolean, got %s", py.Repr(x))
				}
			}
		}
	}
	if x, ok := s.Get("parameters"); ok {
		if _, isMap := x.(*py.Map); !isMap {
			v.errorf(joinPath(p, "parameters"), "write parameters: {name: value}", "expected a mapping, got %s", py.TypeName(x))
		}
	}
}

// jsonMode converts what pydantic's JSON mode would: dates and datetimes
// become ISO strings.
func jsonMode(x any) any {
	switch t := x.(type) {
	case *py.Map:
		for _, k := range t.Keys() {
			y, _ := t.Get(k)
			t.Set(k, jsonMode(y))
		}
		return t
	case []any:
		for i := range t {
			t[i] = jsonMode(t[i])
		}
		return t
	case py.Date:
		return t.ISO()
	case py.DateTime:
		return t.ISO()
	}
	return x
}

// closest returns the known key nearest to k, if it is near enough to be a
// likely typo.
func closest(k string, known []string) string {
	best, bestD := "", 1<<30
	for _, c := range known {
		d := EditDistance(strings.ToLower(k), c)
		if d < bestD {
			best, bestD = c, d
		}
	}
	if bestD <= max(2, len(k)/3) {
		return best
	}
	return ""
}

// EditDistance is the Levenshtein distance between a and b, in runes.
func EditDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// funcName is the function part of an entrypoint: what follows the last
// colon, or the last dot of a module path.
func funcName(ep string) string {
	if i := strings.LastIndex(ep, ":"); i >= 0 {
		return ep[i+1:]
	}
	if i := strings.LastIndex(ep, "."); i >= 0 {
		return ep[i+1:]
	}
	return ep
}

var _ = sort.Strings

// prefectctlSettings reads the top-level `prefectctl:` mapping, which
// Prefect ignores like any unknown key.
func (v *validator) prefectctlSettings(top *py.Map, p *Project) {
	x, ok := top.Get("prefectctl")
	if !ok || x == nil {
		return
	}
	m, isMap := x.(*py.Map)
	if !isMap {
		v.errorf("prefectctl", "write prefectctl: {flow_metadata: static}", "expected a mapping, got %s", py.TypeName(x))
		return
	}
	v.unknownKeys(m, "prefectctl", prefectctlKeys, "prefectctl settings")
	if fm, ok := m.Get("flow_metadata"); ok {
		s, _ := fm.(string)
		if s != "static" && s != "python" {
			v.errorf("prefectctl.flow_metadata", "use static or python", "unknown flow_metadata %s", py.Repr(fm))
			return
		}
		p.FlowMetadata = s
	}
}
