package cloudapi

import (
	"context"
	"errors"
	"fmt"

	"github.com/prefectctl/prefectctl/internal/py"
	"github.com/prefectctl/prefectctl/internal/template"
)

// Resolver reads `prefect.variables.*` and `prefect.blocks.*` values for
// the templating package.
type Resolver struct{ C *Client }

var _ template.Resolver = Resolver{}

// Variable returns a variable's value; a 404 is found=false, as in
// Prefect's client.
func (r Resolver) Variable(ctx context.Context, name string) (any, bool, error) {
	v, err := r.C.ReadVariableByName(ctx, name)
	if errors.Is(err, ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return v.Value, true, nil
}

// BlockDocumentByName returns a block document's data, secrets included.
// A 404 wraps template.ErrNotFound.
func (r Resolver) BlockDocumentByName(ctx context.Context, typeSlug, name string) (*py.Map, error) {
	b, err := r.C.ReadBlockDocumentByName(ctx, typeSlug, name)
	return blockData(b, err, fmt.Sprintf("block document %q of type %q", name, typeSlug))
}

// BlockDocumentByID returns a block document's data by id, secrets included.
func (r Resolver) BlockDocumentByID(ctx context.Context, id string) (*py.Map, error) {
	b, err := r.C.ReadBlockDocument(ctx, id)
	return blockData(b, err, fmt.Sprintf("block document %s", id))
}

func blockData(b *BlockDocument, err error, what string) (*py.Map, error) {
	if errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("%s: %w", what, errors.Join(template.ErrNotFound, err))
	}
	if err != nil {
		return nil, err
	}
	if b.Data == nil {
		return py.NewMap(), nil
	}
	return b.Data, nil
}
