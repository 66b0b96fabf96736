package deploy

import (
	"context"
	"sync"

	"github.com/prefectctl/prefectctl/internal/py"
	"github.com/prefectctl/prefectctl/internal/template"
)

// cachedResolver asks the API for each variable and block once per
// invocation, however many deployments use it.
type cachedResolver struct {
	next template.Resolver
	mu   sync.Mutex
	vars map[string]*varResult
	docs map[string]*docResult
}

type varResult struct {
	once  sync.Once
	val   any
	found bool
	err   error
}

type docResult struct {
	once sync.Once
	data *py.Map
	err  error
}

func NewCachedResolver(next template.Resolver) template.Resolver {
	return &cachedResolver{next: next, vars: map[string]*varResult{}, docs: map[string]*docResult{}}
}

func (c *cachedResolver) Variable(ctx context.Context, name string) (any, bool, error) {
	c.mu.Lock()
	r, ok := c.vars[name]
	if !ok {
		r = &varResult{}
		c.vars[name] = r
	}
	c.mu.Unlock()
	r.once.Do(func() { r.val, r.found, r.err = c.next.Variable(ctx, name) })
	return py.Clone(r.val), r.found, r.err
}

func (c *cachedResolver) doc(key string, load func() (*py.Map, error)) (*py.Map, error) {
	c.mu.Lock()
	r, ok := c.docs[key]
	if !ok {
		r = &docResult{}
		c.docs[key] = r
	}
	c.mu.Unlock()
	r.once.Do(func() { r.data, r.err = load() })
	if r.data == nil {
		return nil, r.err
	}
	return py.Clone(r.data).(*py.Map), r.err
}

func (c *cachedResolver) BlockDocumentByName(ctx context.Context, slug, name string) (*py.Map, error) {
	return c.doc("name\x00"+slug+"\x00"+name, func() (*py.Map, error) { return c.next.BlockDocumentByName(ctx, slug, name) })
}

func (c *cachedResolver) BlockDocumentByID(ctx context.Context, id string) (*py.Map, error) {
	return c.doc("id\x00"+id, func() (*py.Map, error) { return c.next.BlockDocumentByID(ctx, id) })
}
