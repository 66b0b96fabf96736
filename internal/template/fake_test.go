package template

import (
	"context"
	"fmt"
	"sort"

	"github.com/prefectctl/prefectctl/internal/py"
)

// fakeResolver is an in-memory Prefect API. It counts calls with the same
// keys gen_conformance.py's FakeClient uses.
type fakeResolver struct {
	vars   map[string]any
	blocks map[string]*py.Map // "slug/name"
	ids    map[string]*py.Map
	fail   error // returned by every call when set
	calls  map[string]int
}

func newFake() *fakeResolver {
	return &fakeResolver{vars: map[string]any{}, blocks: map[string]*py.Map{}, ids: map[string]*py.Map{}, calls: map[string]int{}}
}

func (f *fakeResolver) Variable(_ context.Context, name string) (any, bool, error) {
	f.calls["variable:"+name]++
	if f.fail != nil {
		return nil, false, f.fail
	}
	v, ok := f.vars[name]
	return py.Clone(v), ok, nil
}

func (f *fakeResolver) BlockDocumentByName(_ context.Context, slug, name string) (*py.Map, error) {
	f.calls["block:"+slug+"/"+name]++
	if f.fail != nil {
		return nil, f.fail
	}
	d, ok := f.blocks[slug+"/"+name]
	if !ok {
		return nil, fmt.Errorf("GET /block_types/slug/%s/block_documents/name/%s: 404: %w", slug, name, ErrNotFound)
	}
	return py.Clone(d).(*py.Map), nil
}

func (f *fakeResolver) BlockDocumentByID(_ context.Context, id string) (*py.Map, error) {
	f.calls["id:"+id]++
	if f.fail != nil {
		return nil, f.fail
	}
	d, ok := f.ids[id]
	if !ok {
		return nil, fmt.Errorf("GET /block_documents/%s: 404: %w", id, ErrNotFound)
	}
	return py.Clone(d).(*py.Map), nil
}

// callMap returns the counts as a mapping sorted by key.
func (f *fakeResolver) callMap() *py.Map {
	keys := make([]string, 0, len(f.calls))
	for k := range f.calls {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	m := py.NewMap()
	for _, k := range keys {
		m.Set(k, int64(f.calls[k]))
	}
	return m
}
