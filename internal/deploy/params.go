package deploy

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/prefectctl/prefectctl/internal/cloudapi"
	"github.com/prefectctl/prefectctl/internal/diag"
	"github.com/prefectctl/prefectctl/internal/jsonschema"
	"github.com/prefectctl/prefectctl/internal/project"
	"github.com/prefectctl/prefectctl/internal/py"
	"github.com/prefectctl/prefectctl/internal/template"
)

// Parameters against the flow's parameter schema, with the rules the server
// applies to what prefectctl sends (docs/differences.md, "Parameters are
// checked before anything runs"):
//
//   - A new deployment is created with POST /deployments/ and
//     enforce_parameter_schema in the body, so the server checks the raw
//     parameters (jsonschema.ParametersCreate); an existing one is updated
//     with PATCH, checked with jsonschema.ParametersUpdate when enforcement
//     is on (the body's value, else the stored one). Both ignore
//     "required". With enforce_parameter_schema: false nothing is checked.
//   - A value both paths refuse is an error before anything runs. Where
//     only one refuses (rare: null for a default_factory field, a partial
//     block, a __prefect_kind value), the deployment's existence decides,
//     read from the server before any step runs; offline (validate, a dry
//     run) it is a warning.
//   - A parameter the flow does not have is an error while enforcement is
//     on, and a warning when it is off: the server stores it either way,
//     and every run of the deployment then fails (SignatureMismatchError).
//   - A required parameter (no default) that prefect.yaml does not give is
//     a warning: the server accepts the deployment, and each run must
//     supply it.
//   - Values a build or push step produces are judged once the steps ran,
//     before the first deployment is registered.

// paramVerdict is the outcome of checking one deployment's parameters.
type paramVerdict struct {
	errors   diag.List
	warnings diag.List
	// undecided holds the violations of the one path that refuses when
	// create and update disagree; onCreate says which path that is.
	undecided []jsonschema.Violation
	onCreate  bool
	// enforceSet and enforce are enforce_parameter_schema as configured.
	enforceSet, enforce bool
}

// checkParameters judges the parameters a deployment sends (from its Spec)
// against its flow's schema. pending reports values not known yet.
func checkParameters(p *project.Project, d *Deployment, s *Spec, pending func(any) bool) paramVerdict {
	var v paramVerdict
	schema := d.Flow.ParameterSchema
	params, _ := get(s.Body, "parameters").(*py.Map)
	if schema == nil || params == nil {
		return v
	}
	v.enforceSet = s.EnforceSet
	v.enforce, _ = get(s.Body, "enforce_parameter_schema").(bool)
	unenforced := v.enforceSet && !v.enforce
	loc := paramLocator{p: p, d: d}

	// Parameters the flow does not take: an error while enforcement is
	// on, a warning when the project turned the checks off.
	if props, ok := get(schema, "properties").(*py.Map); ok {
		for _, k := range params.Keys() {
			if props.Has(k) {
				continue
			}
			hint := "the flow's parameters: " + strings.Join(props.Keys(), ", ")
			if props.Len() == 0 {
				hint = "the flow takes no parameters; remove parameters: from the deployment"
			}
			if c := closestName(k, props.Keys()); c != "" {
				hint = fmt.Sprintf("did you mean %q? %s", c, hint)
			}
			e := loc.problem("."+k, fmt.Sprintf("flow %q has no parameter %q: the server stores it, and every run of the deployment then fails", d.FlowName, k), hint)
			if unenforced {
				e.Msg += " (enforce_parameter_schema is off, so it is registered anyway)"
				v.warnings = append(v.warnings, e)
			} else {
				v.errors = append(v.errors, e)
			}
		}
	}

	if unenforced {
		return v
	}
	create := jsonschema.Validate(schema, params, jsonschema.ParametersCreate.WithPending(pending))
	update := jsonschema.Validate(schema, params, jsonschema.ParametersUpdate.WithPending(pending))
	switch {
	case len(create) > 0 && len(update) > 0:
		for _, viol := range create {
			v.errors = append(v.errors, loc.violation(viol))
		}
	case len(create) > 0:
		v.undecided, v.onCreate = create, true
	case len(update) > 0:
		v.undecided = update
	}

	// What only a run refuses: required parameters prefect.yaml leaves to
	// each run.
	var missing []string
	for _, r := range py.StringItems(get(schema, "required")) {
		if !params.Has(r) {
			missing = append(missing, r)
		}
	}
	if len(missing) > 0 {
		word := "parameter"
		if len(missing) > 1 {
			word = "parameters"
		}
		v.warnings = append(v.warnings, loc.problem("", fmt.Sprintf("flow %q requires %s %s, which the deployment does not give: every run must supply %s, or the server refuses it",
			d.FlowName, word, strings.Join(quoteAll(missing), ", "), pronoun(len(missing))),
			"give a value under parameters: in prefect.yaml, or pass it with each run"))
	}
	run := jsonschema.Validate(schema, params, jsonschema.ParametersRun.WithPending(pending))
	for _, viol := range run {
		if viol.Keyword == "required" && viol.Path != "" {
			w := loc.violation(viol)
			w.Msg += ": the server stores the deployment, and a run that does not give it in full is refused"
			w.Hint = "complete the value in prefect.yaml, or give it in full with each run"
			v.warnings = append(v.warnings, w)
		}
	}
	return v
}

func pronoun(n int) string {
	if n == 1 {
		return "it"
	}
	return "them"
}

func quoteAll(l []string) []string {
	out := make([]string, len(l))
	for i, s := range l {
		out[i] = py.StrRepr(s)
	}
	return out
}

func closestName(k string, names []string) string {
	best, bestD := "", 1<<30
	for _, n := range names {
		if d := project.EditDistance(strings.ToLower(k), strings.ToLower(n)); d < bestD {
			best, bestD = n, d
		}
	}
	if bestD <= max(2, len(k)/3) {
		return best
	}
	return ""
}

// decide settles an undecided verdict with the deployment's state on the
// server, as the snapshot holds it (extended by one read for a name the
// steps completed): the path that applies, and for an update, whether
// enforcement is on there.
func (v *paramVerdict) decide(ctx context.Context, snap *Snapshot, api ServerReader, loc paramLocator, flowName, name string) error {
	if len(v.undecided) == 0 {
		return nil
	}
	k := Key{Flow: flowName, Name: name}
	var existing *py.Map
	err := snap.Extend(ctx, api, []Key{k})
	if st := snap.Deployment(k); err == nil && st == nil {
		err = cloudapi.ErrNotFound
	} else if st != nil {
		existing = st.Server
	}
	refused := false
	switch {
	case errors.Is(err, cloudapi.ErrNotFound):
		refused = v.onCreate
	case err != nil:
		return err
	default:
		enforced := v.enforce
		if !v.enforceSet {
			enforced = storedEnforce(existing)
		}
		refused = !v.onCreate && enforced
	}
	if refused {
		for _, viol := range v.undecided {
			v.errors = append(v.errors, loc.violation(viol))
		}
	}
	v.undecided = nil
	return nil
}

// offline reports an undecided verdict as a warning: which path refuses.
func (v *paramVerdict) offline(loc paramLocator) {
	for _, viol := range v.undecided {
		w := loc.violation(viol)
		if v.onCreate {
			w.Msg += " (the server refuses this when it creates the deployment, and accepts it when it updates an existing one)"
		} else {
			w.Msg += " (the server refuses this when it updates an existing deployment with enforce_parameter_schema on, and accepts it when it creates one)"
		}
		v.warnings = append(v.warnings, w)
	}
	v.undecided = nil
}

// storedEnforce is the deployment's enforce_parameter_schema on the
// server (on, when it does not say).
func storedEnforce(server *py.Map) bool {
	b, ok := get(server, "enforce_parameter_schema").(bool)
	return !ok || b
}

// paramLocator places a problem in a deployment's parameters in
// prefect.yaml.
type paramLocator struct {
	p *project.Project
	d *Deployment
}

func (l paramLocator) problem(sub, msg, hint string) *diag.Error {
	base := "parameters"
	sd := l.d.Selected.Deployment
	if sd != nil {
		base = sd.Path() + ".parameters"
	}
	e := &diag.Error{Kind: diag.Invalid, Path: base + sub, Msg: msg, Hint: hint}
	if l.p != nil && l.p.File != nil && sd != nil {
		e.File = l.p.File.Path
		pos := l.p.File.Pos(e.Path)
		e.Line, e.Col = pos.Line, pos.Col
		if top := topKey(sub); top != "" && !writtenParameter(sd.Config, top) {
			e.Msg += " (given on the command line)"
		}
	}
	return e
}

func (l paramLocator) violation(v jsonschema.Violation) *diag.Error {
	msg := v.Message
	// A value a template produced: say which template. A value from the
	// environment or a block may be a secret: it is not shown.
	raw, ok := template.GetFromDict(get(l.d.Selected.Config, "parameters"), strings.TrimPrefix(v.Path, "."))
	if s, isStr := raw.(string); ok && isStr && template.IsTemplated(s) {
		if mayBeSecret(s) && v.Value != nil {
			if r := " " + py.Repr(v.Value); strings.Contains(msg, r) {
				i := strings.LastIndex(msg, r)
				msg = msg[:i] + msg[i+len(r):]
			}
			msg += fmt.Sprintf(" (the value of %s, not shown)", py.StrRepr(s))
		} else {
			msg += fmt.Sprintf(" (the value of %s)", py.StrRepr(s))
		}
	}
	return l.problem(v.Path, msg, v.Hint)
}

// mayBeSecret reports whether a template takes a value from the
// environment or from a block, where secrets live.
func mayBeSecret(s string) bool {
	ps, _ := template.FindPlaceholders(s)
	for _, ph := range ps {
		if ph.Kind == template.EnvVar || ph.Kind == template.BlockDocument {
			return true
		}
	}
	return false
}

// topKey is the parameter a violation path starts with: ".a.b[0]" → "a".
func topKey(sub string) string {
	sub = strings.TrimPrefix(sub, ".")
	if i := strings.IndexAny(sub, ".["); i >= 0 {
		sub = sub[:i]
	}
	return sub
}

func writtenParameter(cfg *py.Map, key string) bool {
	params, ok := get(cfg, "parameters").(*py.Map)
	return ok && params.Has(key)
}

// pendingValues reports the values of a deployment that are not known
// before its steps run: templates naming a step's output, and, offline,
// Prefect variables and blocks.
func (d *Deployment) pendingValues(offline bool) func(any) bool {
	prefixes := d.pendingPrefixes()
	return func(x any) bool {
		s, ok := x.(string)
		if !ok || !template.IsTemplated(s) {
			return false
		}
		ps, err := template.FindPlaceholders(s)
		if err != nil {
			return true
		}
		for _, ph := range ps {
			if offline && (ph.Kind == template.BlockDocument || ph.Kind == template.Variable) {
				return true
			}
			if ph.Kind != template.Standard {
				continue
			}
			for _, pre := range prefixes {
				if strings.HasPrefix(ph.Name, pre) {
					return true
				}
			}
		}
		return false
	}
}
