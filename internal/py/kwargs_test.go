package py

import (
	"testing"
)

// TestBindAgainstPython calls Python functions with the same keyword
// arguments and compares the TypeError.
func TestBindAgainstPython(t *testing.T) {
	sigs := []Signature{
		{Name: "one", Required: []string{"a"}},
		{Name: "two", Required: []string{"a", "b"}, Optional: []string{"c"}},
		{Name: "three", Required: []string{"a", "b", "c"}},
		{Name: "opt", Optional: []string{"x", "y"}},
		{Name: "kw", Required: []string{"url"}, VarKw: true},
	}
	calls := [][]string{{}, {"a"}, {"b"}, {"c", "zz"}, {"zz", "a"}, {"a", "b", "c"}, {"x"}, {"url", "key"}, {"q", "r"}}
	type req struct {
		Name     string
		Required []string
		Optional []string
		VarKw    bool
		Kwargs   []string
	}
	var reqs []req
	for _, s := range sigs {
		for _, c := range calls {
			reqs = append(reqs, req{s.Name, s.Required, s.Optional, s.VarKw, c})
		}
	}
	script := `
import json, sys
out = []
for r in json.load(sys.stdin):
    params = list(r["Required"] or []) + ["%s=None" % p for p in r["Optional"] or []]
    if r["VarKw"]:
        params.append("**kwargs")
    ns = {}
    exec("def %s(%s): pass" % (r["Name"], ", ".join(params)), ns)
    try:
        ns[r["Name"]](**{k: 1 for k in r["Kwargs"] or []})
        out.append(None)
    except TypeError as e:
        out.append(str(e))
print(json.dumps(out))
`
	var want []*string
	askPython(t, script, reqs, &want)
	for i, r := range reqs {
		kwargs := NewMap()
		for _, k := range r.Kwargs {
			kwargs.Set(k, int64(1))
		}
		err := Signature{Name: r.Name, Required: r.Required, Optional: r.Optional, VarKw: r.VarKw}.Bind(kwargs)
		switch w := want[i]; {
		case w == nil && err != nil:
			t.Errorf("%s(**%v): Python accepts, prefectctl: %v", r.Name, r.Kwargs, err)
		case w != nil && (err == nil || err.Error() != *w):
			t.Errorf("%s(**%v): Python %q, prefectctl %v", r.Name, r.Kwargs, *w, err)
		}
	}
}
