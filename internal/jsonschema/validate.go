// Package jsonschema checks values against the JSON Schemas Prefect's
// server validates them with, after the server's own preparation of each
// schema, so that a value the server would refuse is reported with its
// place before anything is built or sent.
//
// The server prepares a schema differently on each of its paths (Rules):
// POST /deployments/ checks the raw parameters against the raw schema with
// "required" removed; PATCH /deployments/{id} and a flow run first resolve
// {"__prefect_kind": ...} values and rewrite the schema (preprocess_schema),
// and only the run keeps "required"; job variables get preprocess_schema
// with null allowed for optional fields. The prepared schema is then
// validated as python-jsonschema validates Draft 2020-12 (eval.go), and
// ServerError predicts the one error the server reports (best_match).
package jsonschema

import (
	"fmt"
	"strings"

	"github.com/prefectctl/prefectctl/internal/py"
	"github.com/prefectctl/prefectctl/internal/template"
)

// Violation is one place where a value breaks its schema.
type Violation struct {
	// Path is where in the value, relative to it: "" for the value itself,
	// ".cpu_request", ".env.A", "[0]".
	Path    string
	Message string
	Hint    string
	// Keyword is the JSON Schema keyword that failed ("type", "required",
	// ...), or "hydration" for a value the server cannot resolve.
	Keyword string
	// Value is the value that failed, which Message shows (as Python's
	// repr) unless it is nil.
	Value any
}

func (v Violation) String() string { return v.Path + ": " + v.Message }

// Rules are the server's preparation of a schema and of the value before
// it validates, which depends on what it validates and on which path.
type Rules struct {
	// Preprocess is the server's preprocess_schema: optional properties
	// without a default also accept null, v1 tuples become prefixItems,
	// and a block type's definition also accepts a reference to a saved
	// block document.
	Preprocess bool
	// AllowNoneWithDefault extends Preprocess's null rule to properties
	// with a default (job variables).
	AllowNoneWithDefault bool
	// IgnoreRequired drops every "required" reached through mappings; the
	// schemas listed under anyOf, oneOf, allOf or prefixItems keep theirs.
	IgnoreRequired bool
	// Hydrate resolves {"__prefect_kind": ...} values first, as the server
	// does before it validates an update or a run.
	Hydrate bool
	// DraftFromSchema: the root's $schema picks the draft, as
	// jsonschema.validate does on POST /deployments/. Only Draft 2020-12
	// (the default, and what Prefect's schemas use) is judged; a schema
	// naming another draft is left to the server.
	DraftFromSchema bool
	// Pending reports values to judge once they are resolved (templates a
	// later step fills in); nil means every value is final.
	Pending func(any) bool
}

// WithPending returns r judging the values pending reports later.
func (r Rules) WithPending(pending func(any) bool) Rules {
	r.Pending = pending
	return r
}

// JobVariables are the rules for a deployment's job variables against
// its work pool's base_job_template.variables schema.
var JobVariables = Rules{Preprocess: true, AllowNoneWithDefault: true, IgnoreRequired: true, Pending: template.IsTemplated}

// The rules for a deployment's parameters against its flow's parameter
// schema, on each of the server's paths (with enforce_parameter_schema on).
var (
	// ParametersCreate is POST /deployments/: no hydration, no
	// preprocessing, required removed, the draft the schema names.
	ParametersCreate = Rules{IgnoreRequired: true, DraftFromSchema: true}
	// ParametersUpdate is PATCH /deployments/{id}.
	ParametersUpdate = Rules{Preprocess: true, IgnoreRequired: true, Hydrate: true}
	// ParametersRun is creating a flow run from the deployment, with the
	// run's own parameters merged over the deployment's.
	ParametersRun = Rules{Preprocess: true, Hydrate: true}
)

const draft202012 = "https://json-schema.org/draft/2020-12/schema"

// prepared is a schema and a value as the server validates them.
type prepared struct {
	schema     *py.Map
	value      any
	hydration  []Violation
	undecided  bool // the server validates with rules prefectctl does not judge
	evaluation result
	unresolved []string
}

func prepare(schema *py.Map, value any, rules Rules) *prepared {
	p := &prepared{schema: schema, value: value}
	if rules.Preprocess {
		p.schema = preprocess(p.schema, rules.AllowNoneWithDefault)
	}
	if rules.IgnoreRequired {
		p.schema = removeRequired(p.schema).(*py.Map)
	}
	if rules.DraftFromSchema {
		if d, ok := p.schema.Get("$schema"); ok && strings.TrimSuffix(py.Str(d), "#") != draft202012 {
			p.undecided = true
			return p
		}
	}
	if rules.Hydrate {
		p.value = hydrate(value)
		if _, drop := p.value.(removed); drop {
			p.value = py.NewMap()
		}
		collectHydrationErrors(p.value, nil, &p.hydration)
	}
	e := &evaluator{root: p.schema, pending: rules.Pending}
	p.evaluation = e.eval(p.value, p.schema, nil, nil)
	p.unresolved = e.unresolvable
	return p
}

func collectHydrationErrors(x any, path []any, out *[]Violation) {
	switch t := x.(type) {
	case hydrationError:
		*out = append(*out, Violation{Path: formatPath(path), Message: "the server cannot resolve this value: " + t.msg,
			Hint: "fix the __prefect_kind value", Keyword: "hydration"})
	case *py.Map:
		for _, k := range t.Keys() {
			collectHydrationErrors(get(t, k), appendPath(path, k), out)
		}
	case []any:
		for i, v := range t {
			collectHydrationErrors(v, appendPath(path, i), out)
		}
	}
}

// Validate checks value against schema under rules and returns the
// violations the server would certainly find: for each place in the value,
// the most relevant one (as the server's best_match picks), in the order
// the server finds them. A nil schema accepts everything.
func Validate(schema *py.Map, value any, rules Rules) []Violation {
	if schema == nil {
		return nil
	}
	p := prepare(schema, value, rules)
	out := append([]Violation(nil), p.hydration...)
	if p.undecided {
		return out
	}
	// One violation per place in the value: the most relevant there.
	var leaves []*failure
	byPath := map[string]int{}
	for _, f := range p.evaluation.fails {
		leaf := descend(f)
		key := formatPath(leaf.path)
		if i, seen := byPath[key]; seen {
			if compareRelevance(relevance(leaf), relevance(leaves[i])) > 0 {
				leaves[i] = leaf
			}
			continue
		}
		byPath[key] = len(leaves)
		leaves = append(leaves, leaf)
	}
	for _, l := range leaves {
		out = append(out, Violation{Path: formatPath(l.path), Message: l.msg, Hint: l.hint, Keyword: l.keyword, Value: l.instance})
	}
	return out
}

// ServerError predicts what the server answers for value: ok when it
// accepts it; otherwise its message, as in "Validation failed for field
// 'x'. Failure reason: '1' is not of type 'integer'". known is false when
// prefectctl cannot decide.
func ServerError(schema *py.Map, value any, rules Rules) (message string, ok, known bool) {
	if schema == nil {
		return "", true, true
	}
	p := prepare(schema, value, rules)
	if len(p.hydration) > 0 {
		return "Error hydrating parameters: " + strings.TrimPrefix(p.hydration[0].Message, "the server cannot resolve this value: "), false, true
	}
	if p.undecided {
		return "", false, false
	}
	if len(p.unresolved) > 0 {
		return "Validation failed. Failure reason: Unresolvable: " + p.unresolved[0], false, true
	}
	if len(p.evaluation.fails) == 0 {
		return "", true, !p.evaluation.unknown
	}
	best := bestMatch(p.evaluation.fails)
	jp := jsonPath(best.path)
	msg := "Validation failed."
	if jp != "$" {
		msg = fmt.Sprintf("Validation failed for field %s.", py.StrRepr(strings.ReplaceAll(jp, "$.", "")))
	}
	return msg + " Failure reason: " + best.pyMsg, false, true
}

// formatPath writes a path as prefectctl's field paths: ".a.b[0]".
func formatPath(path []any) string {
	var b strings.Builder
	for _, p := range path {
		switch t := p.(type) {
		case int:
			fmt.Fprintf(&b, "[%d]", t)
		default:
			b.WriteString(".")
			b.WriteString(py.Str(t))
		}
	}
	return b.String()
}

func get(m *py.Map, k string) any {
	if m == nil {
		return nil
	}
	v, _ := m.Get(k)
	return v
}
