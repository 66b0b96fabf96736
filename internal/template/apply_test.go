package template

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prefectctl/prefectctl/internal/diag"
	"github.com/prefectctl/prefectctl/internal/py"
)

var M = py.MapOf

func envOf(kv ...string) func(string) (string, bool) {
	m := map[string]string{}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

// TestApplyValues covers apply_values' documented examples and the behaviours that
// Prefect's TestApplyValues pins, with this package's own inputs.
func TestApplyValues(t *testing.T) {
	outputs := M(
		"given", "Grace", "family", "Hopper", "born", int64(1906), "score", 9.5, "active", false, "nothing", nil,
		"crew", []any{M("name", "Grace", "rank", "RADM")},
		"team", M("lead", M("name", "Grace", "born", int64(1906))),
		"build-image", M("image", "reg.local/app:7"),
		"labels", []any{"x", int64(2)},
		"cfg", M("k", "v"),
	)
	env := envOf("DEPLOY_ENV", "prod", "REGION", "eu-west-1")
	tests := []struct {
		name string
		tmpl any
		opt  Options
		want any
	}{
		// mappings, lists and remove_notset
		{"inline names and typed int", M("full", "{{given}} {{family}}", "year", "{{born}}"),
			Options{RemoveNotSet: true}, M("full", "Grace Hopper", "year", int64(1906))},
		{"unset whole-string key dropped", M("family", "{{missing}}", "year", "{{born}}"),
			Options{RemoveNotSet: true}, M("year", int64(1906))},
		{"remove_notset false keeps original text", M("full", "Ms {{missing}}", "year", "{{born}}", "gone", "{{missing}}"),
			Options{}, M("full", "Ms {{missing}}", "year", int64(1906), "gone", "{{missing}}")},
		{"nested mappings", M("who", M("first", "{{ given }}", "last", "{{ family }}"), "y", "{{born}}"),
			Options{RemoveNotSet: true}, M("who", M("first", "Grace", "last", "Hopper"), "y", int64(1906))},
		{"null values stay", M("n", nil, "y", "{{born}}"), Options{RemoveNotSet: true}, M("n", nil, "y", int64(1906))},
		{"NotSet values dropped", M("n", NotSet, "y", "{{born}}"), Options{RemoveNotSet: true}, M("y", int64(1906))},
		{"NotSet values kept", []any{M("top", M("n", NotSet, "y", "{{born}}"))}, Options{},
			[]any{M("top", M("n", NotSet, "y", int64(1906)))}},
		{"lists", []any{"Hi {{given}} {{family}}!", M("n", "{{given}} {{family}}")}, Options{RemoveNotSet: true},
			[]any{"Hi Grace Hopper!", M("n", "Grace Hopper")}},
		// key paths, types and Python str() inline
		{"list index in key path", "Admiral {{ crew[0].name }}!", Options{RemoveNotSet: true}, "Admiral Grace!"},
		{"whole-string dict keeps its type", M("lead", "{{ team.lead }}"), Options{RemoveNotSet: true},
			M("lead", M("name", "Grace", "born", int64(1906)))},
		{"whole-string list element keeps its type", M("first", "{{ crew[0] }}"), Options{RemoveNotSet: true},
			M("first", M("name", "Grace", "rank", "RADM"))},
		{"whole-string float, bool, None", []any{"{{score}}", "{{active}}", "{{nothing}}"}, Options{RemoveNotSet: true},
			[]any{9.5, false, nil}},
		{"inline uses python str()", "{{score}}/{{active}}/{{nothing}}/{{cfg}}/{{labels}}", Options{RemoveNotSet: true},
			"9.5/False/None/{'k': 'v'}/['x', 2]"},
		{"text around makes it inline", M("l", " {{ labels }}"), Options{RemoveNotSet: true}, M("l", " ['x', 2]")},
		// environment variables
		{"missing env var whole string is empty", "{{ $NOT_DEFINED }}", Options{RemoveNotSet: true, Env: env}, ""},
		{"env var is always a string", M("e", "{{ $DEPLOY_ENV }}"), Options{RemoveNotSet: true, Env: env}, M("e", "prod")},
		{"$$ is empty", `{"msg": "Hello {{given}}!", "body": {"text": "{{$$}}"}}`, Options{RemoveNotSet: true, Env: env},
			`{"msg": "Hello Grace!", "body": {"text": ""}}`},
		{"every leading $ is stripped", "{{ $$$REGION }}", Options{RemoveNotSet: true, Env: env}, "eu-west-1"},
		{"unset env var kept literal without remove", M("e", "{{ $NOT_DEFINED }}"), Options{Env: env}, M("e", "{{ $NOT_DEFINED }}")},
		{"whitespace variants", "{{     given }}/{{given    }}/{{\tgiven\n}}", Options{RemoveNotSet: true}, "Grace/Grace/Grace"},
		// skipped prefixes
		{"skip prefixes in nested structures",
			M("work_pool", M("job_variables", M("name", "{{ ctx.flow.name }}", "image", "{{ build-image.image }}")),
				"tags", []any{"{{ ctx.flow_run.name }}", "{{ given }}"}),
			Options{RemoveNotSet: true, SkipPrefixes: []string{"ctx."}},
			M("work_pool", M("job_variables", M("name", "{{ ctx.flow.name }}", "image", "reg.local/app:7")),
				"tags", []any{"{{ ctx.flow_run.name }}", "Grace"})},
		{"skip embedded and mixed", "run-{{ ctx.flow_run.name }}-{{ given }}-{{ missing }}",
			Options{RemoveNotSet: true, SkipPrefixes: []string{"ctx."}}, "run-{{ ctx.flow_run.name }}-Grace-"},
		{"block placeholders left alone", "Token {{prefect.blocks.secret.tok}}!", Options{RemoveNotSet: true},
			"Token {{prefect.blocks.secret.tok}}!"},
		{"variables left alone", M("v", "{{ prefect.variables.region }}"), Options{RemoveNotSet: true},
			M("v", "{{ prefect.variables.region }}")},
		// list items (Prefect 3.9: #15096 fixed)
		{"unresolved list items dropped with remove", []any{"{{ missing }}", "{{ given }}"}, Options{RemoveNotSet: true},
			[]any{"Grace"}},
		{"unresolved list items kept without remove", []any{"{{ missing }}", "{{ given }}"}, Options{},
			[]any{"{{ missing }}", "Grace"}},
		// scalars
		{"int", int64(42), Options{}, int64(42)},
		{"float", 2.5, Options{}, 2.5},
		{"bool", true, Options{}, true},
		{"nil", nil, Options{}, nil},
		{"NotSet", NotSet, Options{}, NotSet},
		{"top-level whole miss is NotSet", "{{ missing }}", Options{RemoveNotSet: true}, NotSet},
		{"single pass substitution", "{{ a }}|{{ b }}", Options{RemoveNotSet: true}, "{{ b }}|B"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vals := outputs
			if tt.name == "single pass substitution" {
				vals = M("a", "{{ b }}", "b", "B")
			}
			if tt.opt.Env == nil {
				tt.opt.Env = envOf()
			}
			got, err := ApplyValues(tt.tmpl, vals, tt.opt)
			if err != nil {
				t.Fatal(err)
			}
			if py.Repr(got) != py.Repr(tt.want) || !py.Equal(got, tt.want) {
				t.Errorf("\n got %s\nwant %s", py.Repr(got), py.Repr(tt.want))
			}
		})
	}
}

func TestApplyValuesWarnings(t *testing.T) {
	var got []string
	opt := Options{RemoveNotSet: true, SkipPrefixes: []string{"ctx."}, Env: envOf(),
		OnNotSet: func(n string) { got = append(got, n) }}
	_, err := ApplyValues(M("a", "{{ ctx.flow.name }}", "b", "{{ absent }}", "c", "x-{{ gone }}", "d", "{{ $NO_ENV }}"),
		M(), opt)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"absent", "{{ gone }}", "{{ $NO_ENV }}"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("OnNotSet got %q, want %q", got, want)
	}
	msg := NotSetWarning("absent")
	if !strings.HasPrefix(msg, "Value for placeholder 'absent' not found in provided values.") {
		t.Errorf("warning text: %s", msg)
	}
}

func TestApplyValuesDoesNotMutate(t *testing.T) {
	inner := M("k", []any{"v"})
	values := M("obj", inner)
	tmpl := M("whole", "{{ obj }}", "list", []any{"{{ missing }}", "{{ obj.k[0] }}"}, "d", M("x", "{{ missing }}"))
	before, beforeVals := py.Repr(tmpl), py.Repr(values)
	got, err := ApplyValues(tmpl, values, Options{RemoveNotSet: true, Env: envOf()})
	if err != nil {
		t.Fatal(err)
	}
	if py.Repr(tmpl) != before || py.Repr(values) != beforeVals {
		t.Fatalf("input modified: %s %s", py.Repr(tmpl), py.Repr(values))
	}
	// The result shares nothing with values: changing it leaves values alone.
	whole, _ := got.(*py.Map).Get("whole")
	whole.(*py.Map).Set("k", "changed")
	if py.Repr(values) != beforeVals {
		t.Error("result aliases values")
	}
}

func TestApplyValuesErrors(t *testing.T) {
	day := py.Date{Year: 2030, Month: time.March, Day: 4}
	for _, tt := range []struct {
		tmpl any
		msg  string
		path string
	}{
		{M("when", day), "Unexpected template type 'date'", "when"},
		{M("l", []any{"x", py.DateTime{Time: time.Unix(0, 0).UTC()}}), "Unexpected template type 'datetime'", "l[1]"},
	} {
		_, err := ApplyValues(tt.tmpl, M(), Options{})
		var de *diag.Error
		if !errors.As(err, &de) || de.Kind != diag.Invalid || de.Msg != tt.msg || de.Path != tt.path || de.Hint == "" {
			t.Errorf("error = %#v", err)
		}
	}
	// Dates as values are fine: whole keeps the type, inline uses str().
	got, err := ApplyValues([]any{"{{ d }}", "on {{ d }}"}, M("d", day), Options{})
	if err != nil || !py.Equal(got, []any{day, "on 2030-03-04"}) {
		t.Errorf("got %s, %v", py.Repr(got), err)
	}
}

func TestApplyValuesDefaultEnvIsProcess(t *testing.T) {
	t.Setenv("PREFECTCTL_TEMPLATE_TEST", "from-process")
	got, err := ApplyValues("{{ $PREFECTCTL_TEMPLATE_TEST }}", nil, Options{})
	if err != nil || got != "from-process" {
		t.Errorf("got %v, %v", got, err)
	}
}

func TestEnvValues(t *testing.T) {
	t.Setenv("PREFECTCTL_TPL_A", "a-value")
	t.Setenv("PREFECTCTL_TPL_B", "b-value")
	m := EnvValues(nil)
	if v, _ := m.Get("PREFECTCTL_TPL_A"); v != "a-value" {
		t.Errorf("EnvValues(nil) A = %v", v)
	}
	// The environment pass of prefect deploy: STANDARD names come from the environment,
	// unresolved ones survive with remove_notset false.
	got, err := ApplyValues(M("a", "{{ PREFECTCTL_TPL_A }}", "s", "{{ step.out }}", "c", "{{ PREFECTCTL_TPL_B.0 }}"),
		m, Options{})
	if err != nil || py.Repr(got) != py.Repr(M("a", "a-value", "s", "{{ step.out }}", "c", "b")) {
		t.Errorf("env pass = %s, %v", py.Repr(got), err)
	}
	// With a lookup function, process names are looked up through it.
	m = EnvValues(func(k string) (string, bool) {
		if k == "PREFECTCTL_TPL_A" {
			return "overridden", true
		}
		return "", false
	})
	if v, _ := m.Get("PREFECTCTL_TPL_A"); v != "overridden" || m.Has("PREFECTCTL_TPL_B") {
		t.Errorf("EnvValues(fn) = %s", py.Repr(m))
	}
}
