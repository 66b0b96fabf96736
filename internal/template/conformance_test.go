package template

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prefectctl/prefectctl/internal/diag"
	"github.com/prefectctl/prefectctl/internal/py"
)

// TestConformance replays testdata/conformance.json, written by
// testdata/gen_conformance.py from the real Prefect functions.
func TestConformance(t *testing.T) {
	raw, err := os.ReadFile("testdata/conformance.json")
	if err != nil {
		t.Fatal(err)
	}
	v, err := py.DecodeJSON(raw)
	if err != nil {
		t.Fatal(err)
	}
	doc := v.(*py.Map)
	t.Logf("corpus from Prefect %s", get(doc, "prefect_version"))

	t.Run("find", func(t *testing.T) {
		for _, c := range cases(doc, "find") {
			t.Run(get(c, "name").(string), func(t *testing.T) {
				got, err := FindPlaceholders(untag(get(c, "template")))
				if checkErr(t, c, err) {
					return
				}
				var rows []any
				for _, p := range got {
					rows = append(rows, []any{p.Full, p.Name, p.Kind.String()})
				}
				if rows == nil {
					rows = []any{}
				}
				sameJSON(t, rows, get(c, "result"))
			})
		}
	})

	t.Run("get", func(t *testing.T) {
		for _, c := range cases(doc, "get") {
			key := get(c, "key").(string)
			t.Run(fmt.Sprintf("%q", key), func(t *testing.T) {
				got, found := GetFromDict(untag(get(c, "values")), key)
				if want := get(c, "found").(bool); found != want {
					t.Fatalf("found = %v, want %v (got %s)", found, want, py.Repr(got))
				}
				if found {
					sameJSON(t, tagGo(got), get(c, "result"))
				}
			})
		}
	})

	t.Run("apply", func(t *testing.T) {
		for _, c := range cases(doc, "apply") {
			t.Run(get(c, "name").(string), func(t *testing.T) {
				envMap := get(c, "env").(*py.Map)
				env := func(k string) (string, bool) {
					v, ok := envMap.Get(k)
					if !ok {
						return "", false
					}
					return v.(string), true
				}
				var values *py.Map
				if s, ok := get(c, "values").(string); ok && s == "$environ" {
					values = envMap
				} else {
					values = untag(get(c, "values")).(*py.Map)
				}
				var warnings []any
				opt := Options{RemoveNotSet: get(c, "remove_notset").(bool), Env: env}
				if get(c, "warn").(bool) {
					opt.OnNotSet = func(name string) { warnings = append(warnings, NotSetWarning(name)) }
				}
				if sp, ok := get(c, "skip_prefixes").([]any); ok {
					opt.SkipPrefixes = []string{}
					for _, p := range sp {
						opt.SkipPrefixes = append(opt.SkipPrefixes, p.(string))
					}
				}
				tmpl := untag(get(c, "template"))
				before := py.Repr(tmpl)
				got, err := ApplyValues(tmpl, values, opt)
				if after := py.Repr(tmpl); after != before {
					t.Errorf("template modified:\n%s\n%s", before, after)
				}
				sort.Slice(warnings, func(i, j int) bool { return warnings[i].(string) < warnings[j].(string) })
				if warnings == nil {
					warnings = []any{}
				}
				sameJSON(t, warnings, get(c, "warnings"))
				if checkErr(t, c, err) {
					return
				}
				sameJSON(t, tagGo(got), get(c, "result"))
			})
		}
	})

	t.Run("variables", func(t *testing.T) {
		for _, c := range cases(doc, "variables") {
			t.Run(get(c, "name").(string), func(t *testing.T) {
				r := newFake()
				vars := untag(get(c, "variables")).(*py.Map)
				for _, k := range vars.Keys() {
					r.vars[k], _ = vars.Get(k)
				}
				got, err := ResolveVariables(context.Background(), untag(get(c, "template")), r)
				sameJSON(t, r.callMap(), get(c, "calls"))
				if checkErr(t, c, err) {
					return
				}
				sameJSON(t, tagGo(got), get(c, "result"))
			})
		}
	})

	t.Run("blocks", func(t *testing.T) {
		blocks := get(doc, "blocks").(*py.Map)
		for _, c := range cases(blocks, "cases") {
			t.Run(get(c, "name").(string), func(t *testing.T) {
				r := newFake()
				for _, d := range get(blocks, "documents").([]any) {
					dm := d.(*py.Map)
					r.blocks[get(dm, "slug").(string)+"/"+get(dm, "name").(string)] = untag(get(dm, "data")).(*py.Map)
				}
				ids := get(blocks, "ids").(*py.Map)
				for _, id := range ids.Keys() {
					r.ids[id] = untag(get(ids, id)).(*py.Map)
				}
				got, err := ResolveBlockReferences(context.Background(), untag(get(c, "template")), r)
				sameJSON(t, r.callMap(), get(c, "calls"))
				if checkErr(t, c, err) {
					return
				}
				sameJSON(t, tagGo(got), get(c, "result"))
			})
		}
	})
}

func get(m *py.Map, k string) any {
	v, _ := m.Get(k)
	return v
}

func cases(m *py.Map, k string) []*py.Map {
	var out []*py.Map
	for _, c := range get(m, k).([]any) {
		out = append(out, c.(*py.Map))
	}
	return out
}

// checkErr compares err with the case's expected Python exception and
// reports whether the case expected one. Prefect's ValueError and
// ObjectNotFound texts must match the diag message exactly; for Python
// crashes (AttributeError) the message must quote Python's.
func checkErr(t *testing.T, c *py.Map, err error) bool {
	t.Helper()
	want, wantErr := get(c, "error").(string)
	if !wantErr {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return false
	}
	if err == nil {
		t.Fatalf("no error, want %s: %s", get(c, "error_type"), want)
	}
	var de *diag.Error
	if !errors.As(err, &de) {
		t.Fatalf("error %T is not a *diag.Error: %v", err, err)
	}
	switch typ := get(c, "error_type"); typ {
	case "AttributeError":
		if !strings.Contains(de.Msg, want) {
			t.Errorf("message %q does not quote %q", de.Msg, want)
		}
	default:
		if de.Msg != want {
			t.Errorf("message:\n got %q\nwant %q", de.Msg, want)
		}
	}
	wantKind := diag.Invalid
	if get(c, "error_type") == "ObjectNotFound" {
		wantKind = diag.Runtime
		if !errors.Is(err, ErrNotFound) {
			t.Errorf("a missing block must wrap ErrNotFound: %v", err)
		}
	}
	if de.Kind != wantKind {
		t.Errorf("kind = %v, want %v", de.Kind, wantKind)
	}
	if de.Hint == "" {
		t.Errorf("no hint on %q", de.Msg)
	}
	return true
}

// sameJSON compares got and want by their JSON text, so mapping order and
// int/float distinctions count.
func sameJSON(t *testing.T, got, want any) {
	t.Helper()
	g, err := py.EncodeJSON(got)
	if err != nil {
		t.Fatalf("encode got: %v", err)
	}
	w, err := py.EncodeJSON(want)
	if err != nil {
		t.Fatalf("encode want: %v", err)
	}
	if string(g) != string(w) {
		t.Errorf("\n got %s\nwant %s", g, w)
	}
}

// untag turns the corpus' tagged values into Go ones.
func untag(v any) any {
	switch t := v.(type) {
	case *py.Map:
		if t.Len() == 1 {
			if _, ok := t.Get("__notset__"); ok {
				return NotSet
			}
			if s, ok := t.Get("__date__"); ok {
				tm, err := time.Parse("2006-01-02", s.(string))
				if err != nil {
					panic(err)
				}
				return py.Date{Year: tm.Year(), Month: tm.Month(), Day: tm.Day()}
			}
			if s, ok := t.Get("__datetime__"); ok {
				if tm, err := time.Parse("2006-01-02T15:04:05.999999Z07:00", s.(string)); err == nil {
					return py.DateTime{Time: tm}
				}
				tm, err := time.Parse("2006-01-02T15:04:05.999999", s.(string))
				if err != nil {
					panic(err)
				}
				return py.DateTime{Time: tm, Naive: true}
			}
		}
		m := py.NewMap()
		for _, k := range t.Keys() {
			x, _ := t.Get(k)
			m.Set(k, untag(x))
		}
		return m
	case []any:
		l := make([]any, len(t))
		for i, x := range t {
			l[i] = untag(x)
		}
		return l
	default:
		return v
	}
}

// tagGo is the inverse of untag, writing datetimes as Python's isoformat.
func tagGo(v any) any {
	switch t := v.(type) {
	case notSetT:
		return py.MapOf("__notset__", true)
	case py.Date:
		return py.MapOf("__date__", t.ISO())
	case py.DateTime:
		s := t.Time.Format("2006-01-02T15:04:05")
		if us := t.Time.Nanosecond() / 1000; us != 0 {
			s += fmt.Sprintf(".%06d", us)
		}
		if !t.Naive {
			s += t.Time.Format("-07:00")
		}
		return py.MapOf("__datetime__", s)
	case *py.Map:
		m := py.NewMap()
		for _, k := range t.Keys() {
			x, _ := t.Get(k)
			m.Set(k, tagGo(x))
		}
		return m
	case []any:
		l := make([]any, len(t))
		for i, x := range t {
			l[i] = tagGo(x)
		}
		return l
	default:
		return v
	}
}
