package template

import (
	"fmt"
	"os"
	"strings"

	"github.com/prefectctl/prefectctl/internal/diag"
	"github.com/prefectctl/prefectctl/internal/py"
)

// Options are apply_values' keyword arguments plus the environment.
type Options struct {
	// RemoveNotSet is Prefect's remove_notset: mapping keys whose value is
	// an unresolved whole-string placeholder (or NotSet) are dropped, as are
	// such list items, and unresolved inline placeholders become "". When
	// false, those keys and items keep their original value and inline
	// placeholders stay literal.
	RemoveNotSet bool
	// OnNotSet, when set, is called for each unresolved placeholder, like
	// warn_on_notset. It gets exactly what Prefect's warning quotes: the
	// name for a whole-string placeholder ("build.image"), the full text for
	// an inline one ("{{ build.image }}"). Prefect's message is
	//   fmt.Sprintf("Value for placeholder %s not found in provided values. "+
	//     "Please ensure that the placeholder is spelled correctly and that "+
	//     "the corresponding value is provided.", py.StrRepr(name))
	// which NotSetWarning builds.
	OnNotSet func(name string)
	// SkipPrefixes leaves placeholders whose name starts with any of these
	// alone, e.g. []string{"ctx."}.
	SkipPrefixes []string
	// Env looks up {{ $VAR }}; nil means os.LookupEnv. ⚠ As in Prefect it is
	// the process environment, whatever values holds.
	Env func(string) (string, bool)
}

// NotSetWarning is Prefect's warning text for an OnNotSet argument.
func NotSetWarning(name string) string {
	return fmt.Sprintf("Value for placeholder %s not found in provided values. Please ensure that "+
		"the placeholder is spelled correctly and that the corresponding value is provided.", py.StrRepr(name))
}

// ApplyValues is Prefect's apply_values(template, values, remove_notset,
// warn_on_notset, skip_prefixes). It never modifies tmpl or values: the
// result is built from fresh mappings and lists, and values looked up whole
// are deep copies.
//
//   - nil, NotSet, booleans and numbers come back unchanged.
//   - A string that is exactly one STANDARD placeholder ("{{ a.b }}") becomes
//     the looked-up value with its own type, or NotSet when missing.
//   - Any other string gets each STANDARD placeholder replaced by Python's
//     str() of its value and each {{ $VAR }} by the environment variable
//     (all leading "$" stripped); block and variable placeholders stay.
//   - Mappings and lists are processed item by item; NotSet results are
//     dropped with RemoveNotSet, otherwise the original item is kept.
//   - Any other type (a YAML date) is an Invalid error.
func ApplyValues(tmpl any, values *py.Map, opt Options) (any, error) {
	if opt.Env == nil {
		opt.Env = os.LookupEnv
	}
	a := applier{values: values, opt: opt}
	return a.apply(tmpl, "")
}

type applier struct {
	values *py.Map
	opt    Options
}

func (a *applier) apply(t any, path string) (any, error) {
	switch x := t.(type) {
	case nil, notSetT, bool, int, int64, float64:
		return t, nil
	case string:
		return a.applyString(x), nil
	case *py.Map:
		out := py.NewMap()
		for _, k := range x.Keys() {
			v, _ := x.Get(k)
			nv, err := a.apply(v, joinKey(path, k))
			if err != nil {
				return nil, err
			}
			switch {
			case !isNotSet(nv):
				out.Set(k, nv)
			case !a.opt.RemoveNotSet:
				out.Set(k, v) // a string or NotSet: nothing to copy
			}
		}
		return out, nil
	case []any:
		out := make([]any, 0, len(x))
		for i, v := range x {
			nv, err := a.apply(v, joinIndex(path, i))
			if err != nil {
				return nil, err
			}
			switch {
			case !isNotSet(nv):
				out = append(out, nv)
			case !a.opt.RemoveNotSet:
				out = append(out, v)
			}
		}
		return out, nil
	default:
		return nil, &diag.Error{
			Kind: diag.Invalid,
			Path: path,
			Msg:  fmt.Sprintf("Unexpected template type %s", py.StrRepr(py.TypeName(t))),
			Hint: typeHint(t),
		}
	}
}

func (a *applier) skipped(name string) bool {
	for _, p := range a.opt.SkipPrefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

func (a *applier) applyString(s string) any {
	phs := stringPlaceholders(s)
	if len(phs) == 0 {
		return s
	}
	if len(a.opt.SkipPrefixes) > 0 {
		kept := phs[:0:0]
		for _, p := range phs {
			if !a.skipped(p.Name) {
				kept = append(kept, p)
			}
		}
		if len(kept) == 0 {
			return s
		}
		phs = kept
	}
	if len(phs) == 1 && phs[0].Full == s && phs[0].Kind == Standard {
		v, ok := GetFromDict(a.values, phs[0].Name)
		if !ok {
			if a.opt.OnNotSet != nil {
				a.opt.OnNotSet(phs[0].Name)
			}
			return NotSet
		}
		return py.Clone(v)
	}
	repl := make(map[string]string, len(phs))
	for _, p := range phs {
		var v any
		var found bool
		switch p.Kind {
		case Standard:
			v, found = GetFromDict(a.values, p.Name)
		case EnvVar:
			v, found = a.opt.Env(strings.TrimLeft(p.Name, envPrefix))
		default:
			continue
		}
		if !found {
			if a.opt.OnNotSet != nil {
				a.opt.OnNotSet(p.Full)
			}
			if a.opt.RemoveNotSet {
				repl[p.Full] = ""
			}
			continue
		}
		repl[p.Full] = py.Str(v)
	}
	return replaceFull(s, repl)
}

// EnvValues returns the environment as a mapping, for the "env pass"
// (apply_values(cfg, os.environ)), where STANDARD placeholders are looked up
// among environment variable names.
//
// The names come from os.Environ(); with env nil their values do too.
// A lookup function cannot list names, so with env set each process variable
// is looked up through it (and dropped when env does not know it): a fake
// environment with names the process lacks must be built directly, e.g.
// py.FromGo(map[string]string{...}).(*py.Map).
func EnvValues(env func(string) (string, bool)) *py.Map {
	m := py.NewMap()
	for _, kv := range os.Environ() {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			continue // Windows' "=C:=C:\\" entries have an empty name
		}
		if env != nil {
			if v, ok = env(k); !ok {
				continue
			}
		}
		m.Set(k, v)
	}
	return m
}
