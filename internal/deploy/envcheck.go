package deploy

import (
	"fmt"
	"strings"
	"time"

	"github.com/distribution/reference"

	"github.com/prefectctl/prefectctl/internal/diag"
	"github.com/prefectctl/prefectctl/internal/project"
	"github.com/prefectctl/prefectctl/internal/py"
	"github.com/prefectctl/prefectctl/internal/steps"
	"github.com/prefectctl/prefectctl/internal/template"
)

// Unset environment variables. Prefect 3.9.1 turns a {{ $VAR }} whose
// variable is not set into "" in build and push step inputs and, when it
// applies the step outputs, in a deployment's fields; pull steps keep the
// placeholder, which the worker resolves in its own environment. prefectctl
// does the same (the deployments it registers are unchanged) and says so
// before any step runs: a warning naming each variable and where it is
// used, and an error where the empty value makes a field invalid (an image
// reference, a schedule, the entrypoint or work pool, which Prefect reads
// with the placeholder still in it).

// envCheck collects the uses of unset variables over a selection: shared
// top-level steps are reported once.
type envCheck struct {
	env      func(string) (string, bool)
	vars     []string
	uses     map[string][]envUse
	seenUse  map[string]bool
	problems diag.List
	seenErr  map[string]bool
}

type envUse struct {
	path string
	pos  project.Pos
}

func newEnvCheck(env func(string) (string, bool)) *envCheck {
	return &envCheck{env: env, uses: map[string][]envUse{}, seenUse: map[string]bool{}, seenErr: map[string]bool{}}
}

func (c *envCheck) unset(name string) bool {
	_, ok := c.env(name)
	return !ok
}

// usesUnset reports whether v names a variable that is not set.
func (c *envCheck) usesUnset(v any) bool {
	for _, u := range template.EnvUses(v) {
		if c.unset(u.Var) {
			return true
		}
	}
	return false
}

func (c *envCheck) unsetIn(v any) []string {
	var out []string
	for _, u := range template.EnvUses(v) {
		if c.unset(u.Var) && !contains(out, u.Var) {
			out = append(out, u.Var)
		}
	}
	return out
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// record notes every unset variable v uses; base is v's field path.
func (c *envCheck) record(p *project.Project, base string, v any) {
	for _, u := range template.EnvUses(v) {
		if !c.unset(u.Var) {
			continue
		}
		path := joinField(base, u.Path)
		key := u.Var + "\x00" + path
		if c.seenUse[key] {
			continue
		}
		c.seenUse[key] = true
		if _, ok := c.uses[u.Var]; !ok {
			c.vars = append(c.vars, u.Var)
		}
		c.uses[u.Var] = append(c.uses[u.Var], envUse{path: path, pos: posOf(p, path)})
	}
}

func (c *envCheck) fail(p *project.Project, path, hint, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if c.seenErr[path+"\x00"+msg] {
		return
	}
	c.seenErr[path+"\x00"+msg] = true
	pos := posOf(p, path)
	file := ""
	if p != nil && p.File != nil {
		file = p.File.Path
	}
	c.problems = append(c.problems, &diag.Error{Kind: diag.Invalid, File: file, Line: pos.Line, Col: pos.Col, Path: path, Msg: msg, Hint: hint})
}

func posOf(p *project.Project, path string) project.Pos {
	if p == nil || p.File == nil {
		return project.Pos{}
	}
	return p.File.Pos(path)
}

func joinField(base, rest string) string {
	switch {
	case base == "":
		return rest
	case rest == "":
		return base
	case strings.HasPrefix(rest, "["):
		return base + rest
	}
	return base + "." + rest
}

func setHint(vars []string) string {
	if len(vars) == 1 {
		return fmt.Sprintf("set %s in the environment before deploying (export %s=...)", vars[0], vars[0])
	}
	return "set " + strings.Join(vars, " and ") + " in the environment before deploying"
}

func quoteVars(vars []string) string {
	q := make([]string, len(vars))
	for i, v := range vars {
		q[i] = "$" + v
	}
	return strings.Join(q, ", ")
}

// deployment checks one selected deployment's configuration and the build
// and push steps it would run. It reports whether the deployment cannot be
// prepared at all (its entrypoint names an unset variable).
func (c *envCheck) deployment(p *project.Project, sel *project.Selected, opt Options) (blocked bool) {
	base := ""
	if sel.Deployment != nil {
		base = sel.Deployment.Path()
	}
	field := func(f string) string { return joinField(base, f) }
	cfg := sel.Config

	// The deployment's own fields. Pull steps are resolved by the worker;
	// trigger parameters are stored as written.
	for _, k := range cfg.Keys() {
		v := get(cfg, k)
		switch k {
		case "build", "push", "pull":
			continue
		case "triggers":
			if l, ok := v.([]any); ok {
				for i, t := range l {
					if tm, ok := t.(*py.Map); ok {
						tm = py.Clone(tm).(*py.Map)
						tm.Delete("parameters")
						c.record(p, fmt.Sprintf("%s[%d]", field(k), i), tm)
					}
				}
			}
			continue
		}
		c.record(p, field(k), v)
	}

	if vars := c.unsetIn(get(cfg, "entrypoint")); len(vars) > 0 {
		blocked = true
		c.fail(p, field("entrypoint"), setHint(vars),
			"the entrypoint uses %s, which is not set: Prefect looks for the flow at %s and cannot load it", quoteVars(vars), py.Repr(get(cfg, "entrypoint")))
	}
	wp, _ := get(cfg, "work_pool").(*py.Map)
	if vars := c.unsetIn(get(wp, "name")); len(vars) > 0 {
		c.fail(p, field("work_pool.name"), setHint(vars),
			"the work pool name uses %s, which is not set: Prefect asks the server for work pool %s, which cannot exist", quoteVars(vars), py.Repr(get(wp, "name")))
	}
	if name := get(cfg, "name"); c.usesUnset(name) {
		if s, _ := template.ResolveEnv(name, c.env).(string); strings.TrimSpace(s) == "" {
			vars := c.unsetIn(name)
			c.fail(p, field("name"), setHint(vars), "the deployment name uses %s, which is not set: it becomes empty", quoteVars(vars))
		}
	}
	jv, _ := get(wp, "job_variables").(*py.Map)
	if img := get(jv, "image"); c.usesUnset(img) {
		c.imageReference(p, field("work_pool.job_variables.image"), img, nil)
	}
	if l, ok := get(cfg, "schedules").([]any); ok {
		for i, s := range l {
			if sm, ok := s.(*py.Map); ok {
				c.schedule(p, fmt.Sprintf("%s[%d]", field("schedules"), i), sm)
			}
		}
	}

	// The build and push steps this deploy would run.
	if !opt.SkipBuild {
		c.steps(p, sel, "build", stepsOr(cfg, "build", p.Build))
	}
	if !opt.SkipPush {
		push := stepsOr(cfg, "push", p.Push)
		if len(push) == 0 {
			push = p.Push.Steps
		}
		c.steps(p, sel, "push", push)
	}
	return blocked
}

// steps checks a build or push section's step inputs.
func (c *envCheck) steps(p *project.Project, sel *project.Selected, section string, list []any) {
	base := section
	if sd := sel.Deployment; sd != nil && sd.Config.Has(section) {
		base = sd.Path() + "." + section
	}
	for i, raw := range list {
		m, ok := raw.(*py.Map)
		if !ok || m.Len() != 1 {
			continue // CheckSteps reports it
		}
		written := m.Keys()[0]
		inputs, ok := get(m, written).(*py.Map)
		if !ok {
			continue
		}
		inputs = py.Clone(inputs).(*py.Map)
		inputs.Delete("id") // id and requires are not templated
		inputs.Delete("requires")
		at := fmt.Sprintf("%s[%d].%s", base, i, written)
		c.record(p, at, inputs)
		canon, _ := steps.Canonical(written)
		if canon != steps.BuildDockerImage && canon != steps.PushDockerImage {
			continue
		}
		name, tag, extra := get(inputs, "image_name"), get(inputs, "tag"), get(inputs, "additional_tags")
		if !c.usesUnset(name) && !c.usesUnset(tag) && !c.usesUnset(extra) {
			continue
		}
		tags := []any{tag}
		if l, ok := extra.([]any); ok {
			tags = append(tags, l...)
		}
		field := at + ".image_name"
		if !c.usesUnset(name) {
			field = at + ".tag"
			if !c.usesUnset(tag) {
				field = at + ".additional_tags"
			}
		}
		c.imageReference(p, field, name, tags)
	}
}

// imageReference reports an image reference that an unset variable makes
// invalid: name (and each tag) as Prefect resolves it, with values a step
// produces standing in as "x".
func (c *envCheck) imageReference(p *project.Project, field string, name any, tags []any) {
	vars := c.unsetIn([]any{name, tags})
	resolve := func(v any) string {
		s := py.Str(template.ResolveEnv(v, c.env))
		ps, _ := template.FindPlaceholders(s)
		for _, ph := range ps {
			s = strings.ReplaceAll(s, ph.Full, "x")
		}
		return s
	}
	n := resolve(name)
	refs := []string{n}
	if tags != nil {
		refs = refs[:0]
		for _, t := range tags {
			tag := "latest" // no tag: prefect-docker makes one
			if t != nil {
				if s := resolve(t); s != "" {
					tag = s
				}
			}
			refs = append(refs, n+":"+tag)
		}
	}
	if strings.TrimSpace(n) == "" {
		c.fail(p, field, setHint(vars), "the image name uses %s, which is not set: it becomes empty, and an image reference needs a name", quoteVars(vars))
		return
	}
	for _, ref := range refs {
		if _, err := reference.ParseNormalizedNamed(ref); err != nil {
			c.fail(p, field, setHint(vars), "the image reference uses %s, which is not set: Prefect makes it %q, which is not a valid image reference (%v)", quoteVars(vars), ref, err)
			return
		}
	}
}

// schedule reports schedule fields that an unset variable empties or
// breaks; Prefect finds them only after the build steps ran.
func (c *envCheck) schedule(p *project.Project, path string, s *py.Map) {
	for _, k := range []string{"cron", "interval", "rrule", "timezone", "anchor_date"} {
		v, ok := s.Get(k)
		if !ok || !c.usesUnset(v) {
			continue
		}
		vars := c.unsetIn(v)
		str := py.Str(template.ResolveEnv(v, c.env))
		if template.IsTemplated(str) {
			continue // a step fills in the rest
		}
		var err error
		switch {
		case strings.TrimSpace(str) == "":
			err = fmt.Errorf("it becomes empty")
		case k == "cron":
			err = project.ValidateCron(str)
		case k == "rrule":
			err = project.ValidateRRule(str)
		case k == "interval":
			_, err = project.IntervalSeconds(str)
		case k == "timezone":
			if _, lerr := time.LoadLocation(str); lerr != nil || str == "Local" {
				err = fmt.Errorf("%q is not a time zone", str)
			}
		case k == "anchor_date":
			_, err = parseAnchor(str)
		}
		if err != nil {
			c.fail(p, joinField(path, k), setHint(vars), "the schedule's %s uses %s, which is not set: %v", k, quoteVars(vars), err)
		}
	}
}

// warnings are one warning per unset variable, naming every place it is
// used.
func (c *envCheck) warnings(p *project.Project) []*diag.Error {
	var out []*diag.Error
	for _, v := range c.vars {
		uses := c.uses[v]
		first := uses[0]
		msg := fmt.Sprintf("environment variable %s is not set, so Prefect replaces {{ $%s }} with an empty string", v, v)
		if len(uses) > 1 {
			var also []string
			for _, u := range uses[1:] {
				where := u.path
				if u.pos.Line > 0 {
					where += fmt.Sprintf(" (line %d)", u.pos.Line)
				}
				also = append(also, where)
			}
			msg += "; it is also used in " + strings.Join(also, ", ")
		}
		e := &diag.Error{Kind: diag.Invalid, Path: first.path, Line: first.pos.Line, Col: first.pos.Col, Msg: msg,
			Hint: fmt.Sprintf("set %s before deploying if these values should not be empty", v)}
		if p != nil && p.File != nil {
			e.File = p.File.Path
		}
		out = append(out, e)
	}
	return out
}
