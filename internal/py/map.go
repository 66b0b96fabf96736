package py

import "sort"

// Map is a string-keyed mapping that remembers insertion order, like a
// Python dict. Keys and values live in two parallel slices; a small map
// (most of Prefect's objects and every nested one) is searched in order,
// and an index is built only past indexFrom entries. A Go map per object
// cost several times the memory of the entries themselves, which is what
// a snapshot of hundreds of deployments is made of.
type Map struct {
	keys  []string
	vals  []any
	index map[string]int // key -> position; nil below indexFrom entries
}

// indexFrom is the size from which lookups use an index.
const indexFrom = 24

// NewMap returns an empty Map.
func NewMap() *Map { return &Map{} }

// MapOf builds a Map from alternating keys and values; it is meant for
// tests and literals.
func MapOf(kv ...any) *Map {
	if len(kv)%2 != 0 {
		panic("py.MapOf: odd number of arguments")
	}
	m := NewMap()
	for i := 0; i < len(kv); i += 2 {
		m.Set(kv[i].(string), kv[i+1])
	}
	return m
}

// Len reports the number of entries.
func (m *Map) Len() int {
	if m == nil {
		return 0
	}
	return len(m.keys)
}

// Keys returns the keys in insertion order. The slice must not be modified.
func (m *Map) Keys() []string {
	if m == nil {
		return nil
	}
	return m.keys
}

// find returns k's position, or -1.
func (m *Map) find(k string) int {
	if m.index != nil {
		if i, ok := m.index[k]; ok {
			return i
		}
		return -1
	}
	for i, key := range m.keys {
		if key == k {
			return i
		}
	}
	return -1
}

// Get returns the value for k.
func (m *Map) Get(k string) (any, bool) {
	if m == nil {
		return nil, false
	}
	if i := m.find(k); i >= 0 {
		return m.vals[i], true
	}
	return nil, false
}

// Has reports whether k is present (possibly with a nil value).
func (m *Map) Has(k string) bool {
	_, ok := m.Get(k)
	return ok
}

// Set stores v under k. A new key goes last; an existing key keeps its
// place, as assignment to a Python dict does.
func (m *Map) Set(k string, v any) {
	if i := m.find(k); i >= 0 {
		m.vals[i] = v
		return
	}
	m.keys = append(m.keys, k)
	m.vals = append(m.vals, v)
	switch {
	case m.index != nil:
		m.index[k] = len(m.keys) - 1
	case len(m.keys) >= indexFrom:
		m.reindex()
	}
}

func (m *Map) reindex() {
	m.index = make(map[string]int, len(m.keys))
	for i, k := range m.keys {
		m.index[k] = i
	}
}

// Delete removes k if present.
func (m *Map) Delete(k string) {
	i := m.find(k)
	if i < 0 {
		return
	}
	// Fresh slices: Keys() may have been handed out and must not change.
	m.keys = append(m.keys[:i:i], m.keys[i+1:]...)
	m.vals = append(m.vals[:i:i], m.vals[i+1:]...)
	if m.index != nil {
		m.reindex()
	}
}

// Update copies every entry of o into m, like dict.update.
func (m *Map) Update(o *Map) {
	for _, k := range o.Keys() {
		v, _ := o.Get(k)
		m.Set(k, v)
	}
}

// SortedKeys returns the keys in lexical order.
func (m *Map) SortedKeys() []string {
	ks := append([]string(nil), m.Keys()...)
	sort.Strings(ks)
	return ks
}

// Clone returns a deep copy of v.
func Clone(v any) any {
	switch t := v.(type) {
	case *Map:
		if t == nil {
			return (*Map)(nil)
		}
		c := &Map{keys: append([]string(nil), t.keys...), vals: make([]any, len(t.vals))}
		for i, x := range t.vals {
			c.vals[i] = Clone(x)
		}
		if t.index != nil {
			c.reindex()
		}
		return c
	case []any:
		if t == nil {
			return []any(nil)
		}
		c := make([]any, len(t))
		for i, x := range t {
			c[i] = Clone(x)
		}
		return c
	default:
		return v
	}
}

// Equal reports deep equality. Mapping order does not matter (Python dict
// equality ignores it); int64 and float64 compare by value as in Python.
func Equal(a, b any) bool {
	switch x := a.(type) {
	case *Map:
		y, ok := b.(*Map)
		if !ok || x.Len() != y.Len() {
			return false
		}
		for _, k := range x.Keys() {
			xv, _ := x.Get(k)
			yv, ok := y.Get(k)
			if !ok || !Equal(xv, yv) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !Equal(x[i], y[i]) {
				return false
			}
		}
		return true
	case int64:
		switch y := b.(type) {
		case int64:
			return x == y
		case float64:
			return float64(x) == y
		}
		return false
	case float64:
		switch y := b.(type) {
		case int64:
			return x == float64(y)
		case float64:
			return x == y
		}
		return false
	default:
		return a == b
	}
}
