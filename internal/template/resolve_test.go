package template

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/prefectctl/prefectctl/internal/diag"
	"github.com/prefectctl/prefectctl/internal/py"
)

// TestResolveVariables covers resolve_variables with this package's inputs.
func TestResolveVariables(t *testing.T) {
	r := newFake()
	r.vars["settings"] = M("tier", "gold")
	r.vars["replicas"] = int64(3)
	r.vars["debug"] = true
	tmpl := M(
		"whole", "{{ prefect.variables.settings }}",
		"inline", "cfg={{ prefect.variables.settings }};",
		"typed", []any{"{{ prefect.variables.replicas }}", "{{ prefect.variables.debug }}", int64(7)},
		"gone", "{{ prefect.variables.absent }}",
		"gone_inline", "<{{ prefect.variables.absent }}>",
		"two_gone", "{{ prefect.variables.absent }} + {{ prefect.variables.absent2 }}",
		"again", M("deep", "{{ prefect.variables.settings }}"),
		"others", "{{ step.x }} {{ $HOME }} {{ prefect.blocks.a.b }}",
		"no_keypath", "{{ prefect.variables.settings.tier }}",
	)
	before := py.Repr(tmpl)
	got, err := ResolveVariables(context.Background(), tmpl, r)
	if err != nil {
		t.Fatal(err)
	}
	want := M(
		"whole", M("tier", "gold"),
		"inline", "cfg={'tier': 'gold'};",
		"typed", []any{int64(3), true, int64(7)},
		"gone", "",
		"gone_inline", "<>",
		"two_gone", " + ",
		"again", M("deep", M("tier", "gold")),
		"others", "{{ step.x }} {{ $HOME }} {{ prefect.blocks.a.b }}",
		"no_keypath", "",
	)
	if py.Repr(got) != py.Repr(want) {
		t.Errorf("\n got %s\nwant %s", py.Repr(got), py.Repr(want))
	}
	if py.Repr(tmpl) != before {
		t.Error("template modified")
	}
	for name, n := range map[string]int{"settings": 1, "absent": 1, "absent2": 1, "settings.tier": 1, "replicas": 1, "debug": 1} {
		if r.calls["variable:"+name] != n {
			t.Errorf("%s read %d times, want %d", name, r.calls["variable:"+name], n)
		}
	}
	if len(r.calls) != 6 {
		t.Errorf("calls: %v", r.calls)
	}
	// Each whole-string result is its own copy.
	w, _ := got.(*py.Map).Get("whole")
	w.(*py.Map).Set("tier", "changed")
	again, _ := got.(*py.Map).Get("again")
	if d, _ := again.(*py.Map).Get("deep"); py.Repr(d) != "{'tier': 'gold'}" {
		t.Error("whole-string results share storage")
	}
}

func TestResolveVariablesAPIError(t *testing.T) {
	r := newFake()
	r.fail = errors.New("connection refused")
	_, err := ResolveVariables(context.Background(), M("a", []any{"{{ prefect.variables.v }}"}), r)
	var de *diag.Error
	if !errors.As(err, &de) || de.Kind != diag.Runtime || de.Path != "a[0]" || !strings.Contains(err.Error(), "connection refused") ||
		!strings.Contains(de.Msg, "'v'") {
		t.Errorf("error = %#v", err)
	}
	// A Resolver's own diag kind is kept.
	r.fail = &diag.Error{Kind: diag.Usage, Msg: "not logged in"}
	_, err = ResolveVariables(context.Background(), "{{ prefect.variables.v }}", r)
	if diag.KindOf(err) != diag.Usage {
		t.Errorf("kind = %v", diag.KindOf(err))
	}
}

// TestResolveBlockReferences covers resolve_block_document_references with this package's
// inputs.
func TestResolveBlockReferences(t *testing.T) {
	r := newFake()
	r.blocks["bucket/assets"] = M("name", "assets-prod", "region", "eu", "retries", int64(2))
	r.blocks["secret/registry-host"] = M("value", "cr.example.org")
	r.blocks["secret/token"] = M("value", "s3cr3t-t0ken")
	r.blocks["json/settings"] = M("value", M("endpoints", []any{"a", "b"}))
	r.ids["9d0c7d5e-0000-4000-8000-000000000042"] = M("value", "from-id")
	tests := []struct {
		name string
		tmpl any
		want any
	}{
		{"whole document", "{{ prefect.blocks.bucket.assets }}", M("name", "assets-prod", "region", "eu", "retries", int64(2))},
		{"attribute inline", "s3://{{ prefect.blocks.bucket.assets.name }}/{{ prefect.blocks.bucket.assets.retries }}", "s3://assets-prod/2"},
		{"secret unwrapped", "{{ prefect.blocks.secret.registry-host }}", "cr.example.org"},
		{"secret .value inline", "{{ prefect.blocks.secret.registry-host.value }}/team/app", "cr.example.org/team/app"},
		{"other placeholders stay", "{{ image_name }}@{{ prefect.blocks.bucket.assets.region }}", "{{ image_name }}@eu"},
		{"unwrapped value path", "{{ prefect.blocks.json.settings.endpoints[1] }}", "b"},
		{"$ref by id", M("creds", M("$ref", M("block_document_id", "9d0c7d5e-0000-4000-8000-000000000042"))),
			M("creds", M("value", "from-id"))},
		{"$ref without id is walked", M("$ref", M("note", "{{ prefect.blocks.secret.registry-host }}")),
			M("$ref", M("note", "cr.example.org"))},
		{"no block placeholders", M("k", "{{ standard }}", "n", int64(1)), M("k", "{{ standard }}", "n", int64(1))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ResolveBlockReferences(context.Background(), tt.tmpl, r)
			if err != nil {
				t.Fatal(err)
			}
			if py.Repr(got) != py.Repr(tt.want) {
				t.Errorf("\n got %s\nwant %s", py.Repr(got), py.Repr(tt.want))
			}
		})
	}
}

func TestResolveBlockReferencesCaches(t *testing.T) {
	r := newFake()
	r.blocks["kv/doc"] = M("x", int64(1), "y", "why")
	r.ids["id-1"] = M("n", M("v", "hello"))
	tmpl := M(
		"full", "{{ prefect.blocks.kv.doc }}",
		"inline", "<{{ prefect.blocks.kv.doc.y }}>",
		"nested", M("again", "{{ prefect.blocks.kv.doc }}"),
		"r1", M("$ref", M("block_document_id", "id-1")),
		"r2", []any{M("$ref", M("block_document_id", "id-1"))},
	)
	before := py.Repr(tmpl)
	got, err := ResolveBlockReferences(context.Background(), tmpl, r)
	if err != nil {
		t.Fatal(err)
	}
	if r.calls["block:kv/doc"] != 1 || r.calls["id:id-1"] != 1 || len(r.calls) != 2 {
		t.Errorf("calls: %v", r.calls)
	}
	if py.Repr(tmpl) != before {
		t.Error("template modified")
	}
	g := got.(*py.Map)
	full, _ := g.Get("full")
	full.(*py.Map).Set("x", int64(99))
	nested, _ := g.Get("nested")
	if again, _ := nested.(*py.Map).Get("again"); py.Repr(again) != "{'x': 1, 'y': 'why'}" {
		t.Errorf("copies share storage: %s", py.Repr(again))
	}
}

func TestResolveBlockReferencesErrors(t *testing.T) {
	r := newFake()
	r.blocks["creds/prod"] = M("user", "admin", "password", "hunter2-very-secret")
	r.blocks["secret/api"] = M("value", M("key", "hunter2-very-secret"))
	tests := []struct {
		name     string
		tmpl     any
		kind     diag.Kind
		contains []string
		notFound bool
	}{
		{"inline dict", M("k", "{{ prefect.blocks.creds.prod }} extra"), diag.Invalid,
			[]string{"cannot be used for inline string substitution", "resolved to a dict"}, false},
		{"inline dict from unwrapped secret", "Bearer {{ prefect.blocks.secret.api }}", diag.Invalid,
			[]string{"resolved to a dict", "{{ prefect.blocks.secret.api.key }}"}, false},
		{"format", M("k", "{{ prefect.blocks.just-a-type }}"), diag.Invalid,
			[]string{"Invalid block placeholder format: 'prefect.blocks.just-a-type'"}, false},
		{"missing by name", M("k", "{{ prefect.blocks.gcp-credentials.not-here }}"), diag.Runtime,
			[]string{"Block not found: 'not-here'", "gcp-credentials", "no longer exists"}, true},
		{"missing by id", M("k", M("$ref", M("block_document_id", "dead-beef"))), diag.Runtime,
			[]string{"Block not found: ID 'dead-beef'", "no longer exists"}, true},
		{"bad keypath", M("k", "{{ prefect.blocks.creds.prod.token }}"), diag.Invalid,
			[]string{"Could not resolve the keypath", "'{{ prefect.blocks.creds.prod.token }}'"}, false},
		{"$ref string", M("schema", M("$ref", "#/definitions/X")), diag.Invalid,
			[]string{"'str' object has no attribute 'get'"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ResolveBlockReferences(context.Background(), tt.tmpl, r)
			var de *diag.Error
			if !errors.As(err, &de) {
				t.Fatalf("error %T %v is not a *diag.Error", err, err)
			}
			_, isMap := tt.tmpl.(*py.Map)
			if de.Kind != tt.kind || de.Hint == "" || (de.Path == "") == isMap {
				t.Errorf("kind %v hint %q path %q", de.Kind, de.Hint, de.Path)
			}
			for _, s := range tt.contains {
				if all := err.Error() + "\nhint: " + de.Hint; !strings.Contains(all, s) {
					t.Errorf("%q does not contain %q", all, s)
				}
			}
			if errors.Is(err, ErrNotFound) != tt.notFound {
				t.Errorf("errors.Is(ErrNotFound) = %v", !tt.notFound)
			}
			for _, s := range []string{de.Error(), de.Hint} {
				if strings.Contains(s, "hunter2") || strings.Contains(s, "admin") {
					t.Errorf("error leaks a resolved value: %s", s)
				}
			}
		})
	}
	// Other API failures are Runtime and name the document.
	r.fail = errors.New("503 Service Unavailable")
	_, err := ResolveBlockReferences(context.Background(), "{{ prefect.blocks.creds.prod }}", r)
	if diag.KindOf(err) != diag.Runtime || errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "'prod' of type 'creds'") {
		t.Errorf("error = %v", err)
	}
}
