package template

import (
	"context"

	"github.com/prefectctl/prefectctl/internal/memo"
	"github.com/prefectctl/prefectctl/internal/py"
)

// NewCachedResolver wraps next so that each variable and block document
// is read once for the life of the returned Resolver (one prefectctl
// invocation), however many deployments and steps use it, with memo's
// error policy (a failed read is tried again by the next caller). Callers
// get copies they may change.
func NewCachedResolver(next Resolver) Resolver {
	return &cachedResolver{next: next}
}

type cachedResolver struct {
	next Resolver
	vars memo.Cache[string, variable]
	docs memo.Cache[string, *py.Map]
}

type variable struct {
	val   any
	found bool
}

func (c *cachedResolver) Variable(ctx context.Context, name string) (any, bool, error) {
	v, err := c.vars.Get(name, func() (variable, error) {
		val, found, err := c.next.Variable(ctx, name)
		return variable{val, found}, err
	})
	return py.Clone(v.val), v.found, err
}

func (c *cachedResolver) doc(key string, load func() (*py.Map, error)) (*py.Map, error) {
	d, err := c.docs.Get(key, load)
	if d == nil {
		return nil, err
	}
	return py.Clone(d).(*py.Map), err
}

func (c *cachedResolver) BlockDocumentByName(ctx context.Context, slug, name string) (*py.Map, error) {
	return c.doc("name\x00"+slug+"\x00"+name, func() (*py.Map, error) { return c.next.BlockDocumentByName(ctx, slug, name) })
}

func (c *cachedResolver) BlockDocumentByID(ctx context.Context, id string) (*py.Map, error) {
	return c.doc("id\x00"+id, func() (*py.Map, error) { return c.next.BlockDocumentByID(ctx, id) })
}
