package docker

import (
	"fmt"

	"github.com/prefectctl/prefectctl/internal/py"
)

// args reads a step's inputs once they are bound to its signature
// (py.Signature.Bind): each reader converts one input the way the Python
// step would take it, and the first problem is kept in err.
type args struct {
	fn  string
	in  *py.Map
	err error
}

func newArgs(fn string, in *py.Map) *args {
	if in == nil {
		in = py.NewMap()
	}
	return &args{fn: fn, in: in}
}

func (a *args) fail(format string, x ...any) {
	if a.err == nil {
		a.err = fmt.Errorf(format, x...)
	}
}

func (a *args) raw(k string) (any, bool) { return a.in.Get(k) }

func (a *args) str(k string, def string, required bool) string {
	v, ok := a.raw(k)
	if !ok {
		return def
	}
	switch t := v.(type) {
	case string:
		return t
	case nil:
		if required {
			a.fail("%s: %s must be a string, got None", a.fn, k)
		}
		return def
	case int64, float64:
		// YAML turns `tag: 1.0` into a number; Python formats it with str().
		return py.Str(t)
	}
	a.fail("%s: %s must be a string, got %s", a.fn, k, py.TypeName(v))
	return def
}

func (a *args) optStr(k string) *string {
	v, ok := a.raw(k)
	if !ok || v == nil {
		return nil
	}
	s := a.str(k, "", false)
	return &s
}

func (a *args) boolean(k string, def bool) bool {
	v, ok := a.raw(k)
	if !ok {
		return def
	}
	return py.Truthy(v)
}

func (a *args) strList(k string) []string {
	v, ok := a.raw(k)
	if !ok || v == nil {
		return []string{}
	}
	l, isList := v.([]any)
	if !isList {
		if s, isStr := v.(string); isStr && s == "" {
			return []string{}
		}
		a.fail("%s: %s must be a list of strings, got %s", a.fn, k, py.TypeName(v))
		return nil
	}
	out := make([]string, 0, len(l))
	for _, x := range l {
		switch t := x.(type) {
		case string:
			out = append(out, t)
		case int64, float64:
			out = append(out, py.Str(t))
		default:
			a.fail("%s: %s must be a list of strings, got an item of type %s", a.fn, k, py.TypeName(x))
		}
	}
	return out
}

func (a *args) strMap(k string) map[string]string {
	v, ok := a.raw(k)
	if !ok || v == nil {
		return nil
	}
	m, isMap := v.(*py.Map)
	if !isMap {
		a.fail("%s: %s must be a mapping, got %s", a.fn, k, py.TypeName(v))
		return nil
	}
	out := map[string]string{}
	for _, key := range m.Keys() {
		x, _ := m.Get(key)
		if x == nil {
			out[key] = ""
			continue
		}
		out[key] = py.Str(x)
	}
	return out
}

// checkBackend accepts prefect-docker's build_backend values that
// prefectctl supports: docker-py, through the Docker Engine API.
func checkBackend(fn, verb, backend string) error {
	switch backend {
	case "docker-py":
		return nil
	case "buildx":
		return fmt.Errorf("%s: build_backend 'buildx' is not supported by prefectctl; remove it to %s through the Docker Engine API", fn, verb)
	}
	return fmt.Errorf("invalid build_backend %q: expected 'docker-py' or 'buildx'", backend)
}
