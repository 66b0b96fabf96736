package template

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/prefectctl/prefectctl/internal/diag"
	"github.com/prefectctl/prefectctl/internal/memo"
	"github.com/prefectctl/prefectctl/internal/py"
)

// Resolver reads variables and block documents from the Prefect API.
type Resolver interface {
	// Variable reads GET /variables/name/{name}; a 404 is found=false.
	Variable(ctx context.Context, name string) (val any, found bool, err error)
	// BlockDocumentByName reads the data of
	// GET /block_types/slug/{slug}/block_documents/name/{name}?include_secrets=true;
	// a 404 is an error wrapping ErrNotFound.
	BlockDocumentByName(ctx context.Context, typeSlug, name string) (data *py.Map, err error)
	// BlockDocumentByID reads the data of
	// GET /block_documents/{id}?include_secrets=true; a 404 is an error
	// wrapping ErrNotFound.
	BlockDocumentByID(ctx context.Context, id string) (data *py.Map, err error)
}

// ErrNotFound is what a Resolver wraps for a block document that does not
// exist.
var ErrNotFound = errors.New("not found")

const blockGoneHint = "It may have been deleted: create it again (e.g. `prefect block create <type>`) or fix the reference in prefect.yaml"

// lookupErr gives a failed API read context, keeping the cause's kind when
// it has one.
func lookupErr(err error, path, format string, args ...any) error {
	k := diag.Runtime
	var de *diag.Error
	if errors.As(err, &de) {
		k = de.Kind
	}
	e := diag.Wrap(k, err, "check that the Prefect API is reachable (PREFECT_API_URL) and try again", format, args...)
	e.Path = path
	return e
}

// ResolveVariables is Prefect's resolve_variables: each
// {{ prefect.variables.NAME }} is replaced by the variable's value, keeping
// its JSON type when the placeholder is the whole string and as Python's
// str() inline. A missing variable becomes "" (the key stays). There is no
// key path: prefect.variables.cfg.key names the variable "cfg.key". Each
// name is read once per call. Other placeholders and non-string scalars are
// left as they are; v is not modified.
func ResolveVariables(ctx context.Context, v any, r Resolver) (any, error) {
	var cache memo.Cache[string, variable]
	read := func(name, path string) (variable, error) {
		name = strings.ReplaceAll(name, variablePrefix, "")
		return cache.Get(name, func() (variable, error) {
			val, found, err := r.Variable(ctx, name)
			if err != nil {
				return variable{}, lookupErr(err, path, "Could not read variable %s", py.StrRepr(name))
			}
			return variable{val, found}, nil
		})
	}
	var resolve func(t any, path string) (any, error)
	resolve = func(t any, path string) (any, error) {
		switch x := t.(type) {
		case string:
			phs := stringPlaceholders(x)
			if !hasKind(phs, Variable) {
				return x, nil
			}
			if len(phs) == 1 && phs[0].Full == x {
				e, err := read(phs[0].Name, path)
				if err != nil {
					return nil, err
				}
				if !e.found {
					return "", nil
				}
				return py.Clone(e.val), nil
			}
			repl := map[string]string{}
			for _, p := range phs {
				if p.Kind != Variable {
					continue
				}
				e, err := read(p.Name, path)
				if err != nil {
					return nil, err
				}
				if e.found {
					repl[p.Full] = py.Str(e.val)
				} else {
					repl[p.Full] = ""
				}
			}
			return replaceFull(x, repl), nil
		default:
			return eachChild(t, path, resolve)
		}
	}
	return resolve(v, "")
}

func hasKind(phs []Placeholder, k Kind) bool {
	for _, p := range phs {
		if p.Kind == k {
			return true
		}
	}
	return false
}

// ResolveBlockReferences is Prefect's resolve_block_document_references:
//
//   - A mapping {"$ref": {"block_document_id": ID}} (with a non-empty ID)
//     becomes a copy of that block document's data.
//   - "{{ prefect.blocks.SLUG.NAME[.KEYPATH] }}" as the whole string becomes
//     the document's data with its type, after unwrapping a single-entry
//     {"value": …} document (unless KEYPATH is "value" or goes below it)
//     and following KEYPATH with GetFromDict.
//   - Inline, block placeholders are replaced by Python's str() of a scalar
//     value; a mapping or list is an error. Other placeholders stay.
//
// Documents are read once per call. v is not modified.
//
// Errors are *diag.Error: Invalid for a malformed placeholder, a key path
// that does not resolve, a non-scalar inline value or a "$ref" that is not a
// mapping (Prefect crashes there with AttributeError); Runtime (or the
// Resolver error's own kind) for a failed read, with a missing document
// wrapping ErrNotFound. No message contains a resolved value.
func ResolveBlockReferences(ctx context.Context, v any, r Resolver) (any, error) {
	b := blockResolver{ctx: ctx, r: r}
	return b.resolve(v, "")
}

type blockResolver struct {
	ctx  context.Context
	r    Resolver
	docs memo.Cache[string, *py.Map]
}

// read loads a block document once per call; gone makes the message for
// one that does not exist, what names it for other failures.
func (b *blockResolver) read(key, path string, load func() (*py.Map, error), gone func() *diag.Error, what string) (*py.Map, error) {
	return b.docs.Get(key, func() (*py.Map, error) {
		d, err := load()
		switch {
		case errors.Is(err, ErrNotFound):
			e := gone()
			e.Kind, e.Path, e.Err = diag.Runtime, path, err
			return nil, e
		case err != nil:
			return nil, lookupErr(err, path, "Could not read %s", what)
		case d == nil:
			return py.NewMap(), nil
		}
		return d, nil
	})
}

func (b *blockResolver) readByID(id, path string) (*py.Map, error) {
	return b.read("id\x00"+id, path, func() (*py.Map, error) { return b.r.BlockDocumentByID(b.ctx, id) },
		func() *diag.Error {
			return &diag.Error{Hint: blockGoneHint,
				Msg: fmt.Sprintf("Block not found: ID '%s'. This block was referenced in your deployment or work pool "+
					"configuration but no longer exists. It may have been deleted. Please check your configuration "+
					"or create a new block.", id)}
		}, fmt.Sprintf("block document with ID '%s'", id))
}

func (b *blockResolver) readByName(slug, name, path string) (*py.Map, error) {
	return b.read("name\x00"+slug+"\x00"+name, path, func() (*py.Map, error) { return b.r.BlockDocumentByName(b.ctx, slug, name) },
		func() *diag.Error {
			return &diag.Error{Hint: strings.Replace(blockGoneHint, "<type>", slug, 1),
				Msg: fmt.Sprintf("Block not found: '%s' of type '%s'. This block was referenced in your deployment or "+
					"work pool configuration but no longer exists. It may have been deleted. Please check your "+
					"configuration or create a new block.", name, slug)}
		}, fmt.Sprintf("block document '%s' of type '%s'", name, slug))
}

func (b *blockResolver) resolve(t any, path string) (any, error) {
	switch x := t.(type) {
	case *py.Map:
		if ref, ok := x.Get("$ref"); ok {
			refMap, isMap := ref.(*py.Map)
			if !isMap {
				return nil, &diag.Error{
					Kind: diag.Invalid, Path: joinKey(path, "$ref"),
					Msg: fmt.Sprintf("Invalid block document reference: \"$ref\" holds a %s, not a mapping "+
						"('%s' object has no attribute 'get')", py.TypeName(ref), py.TypeName(ref)),
					Hint: `a "$ref" key is read as a block reference {"$ref": {"block_document_id": "<id>"}}; rename the key if it is meant as something else`,
				}
			}
			if id, _ := refMap.Get("block_document_id"); py.Truthy(id) {
				ids, ok := id.(string)
				if !ok {
					ids = py.Str(id)
				}
				d, err := b.readByID(ids, path)
				if err != nil {
					return nil, err
				}
				return py.Clone(d), nil
			}
		}
		return eachChild(x, path, b.resolve)
	case []any:
		return eachChild(x, path, b.resolve)
	case string:
		phs := stringPlaceholders(x)
		if !hasKind(phs, BlockDocument) {
			return x, nil
		}
		if len(phs) == 1 && phs[0].Full == x {
			return b.single(phs[0], x, path)
		}
		repl := map[string]string{}
		for _, p := range phs {
			if p.Kind != BlockDocument {
				continue
			}
			v, err := b.single(p, x, path)
			if err != nil {
				return nil, err
			}
			switch vv := v.(type) {
			case *py.Map, []any:
				attr := "value"
				if m, ok := vv.(*py.Map); ok && m.Len() > 0 {
					attr = m.Keys()[0]
				}
				return nil, &diag.Error{
					Kind: diag.Invalid, Path: path,
					Msg: fmt.Sprintf("Invalid template: %s. Block placeholder %s resolved to a %s, which cannot be "+
						"used for inline string substitution. Resolve a scalar attribute instead (e.g., '.value' or '.url').",
						py.StrRepr(x), py.StrRepr(p.Full), py.TypeName(v)),
					Hint: "name a scalar attribute, e.g. {{ " + p.Name + "." + attr + " }}, or make the placeholder the whole value",
				}
			}
			repl[p.Full] = py.Str(v)
		}
		return replaceFull(x, repl), nil
	default:
		return t, nil
	}
}

// single resolves one block placeholder; tmpl is the string it came from,
// for error messages.
func (b *blockResolver) single(p Placeholder, tmpl, path string) (any, error) {
	parts := strings.SplitN(strings.ReplaceAll(p.Name, blockPrefix, ""), ".", 3)
	if len(parts) < 2 {
		return nil, &diag.Error{
			Kind: diag.Invalid, Path: path,
			Msg: fmt.Sprintf("Invalid block placeholder format: '%s'. Expected format: "+
				"prefect.blocks.<block-type-slug>.<block-document-name>", p.Name),
			Hint: "name the block type and the document, e.g. {{ prefect.blocks.secret.my-token }}",
		}
	}
	data, err := b.readByName(parts[0], parts[1], path)
	if err != nil {
		return nil, err
	}
	var cur any = data
	hasPath := len(parts) == 3
	keyPath := ""
	if hasPath {
		keyPath = parts[2]
	}
	if data.Len() == 1 && data.Has("value") {
		if !(hasPath && (keyPath == "value" || strings.HasPrefix(keyPath, "value.") || strings.HasPrefix(keyPath, "value["))) {
			cur, _ = data.Get("value")
		}
	}
	if hasPath {
		v, ok := GetFromDict(cur, keyPath)
		if !ok {
			hint := "check the attribute path after the block document name"
			if m, isMap := cur.(*py.Map); isMap && m.Len() > 0 {
				hint += "; the document has: " + strings.Join(m.Keys(), ", ")
			}
			return nil, &diag.Error{
				Kind: diag.Invalid, Path: path, Hint: hint,
				Msg: fmt.Sprintf("Invalid template: %s. Could not resolve the keypath in the block document data.",
					py.StrRepr(tmpl)),
			}
		}
		cur = v
	}
	return py.Clone(cur), nil
}

// eachChild copies a mapping or a list with each of its values replaced
// by fn(value, its path); anything else comes back as it is.
func eachChild(t any, path string, fn func(v any, path string) (any, error)) (any, error) {
	switch x := t.(type) {
	case *py.Map:
		out := py.NewMap()
		for _, k := range x.Keys() {
			v, _ := x.Get(k)
			nv, err := fn(v, joinKey(path, k))
			if err != nil {
				return nil, err
			}
			out.Set(k, nv)
		}
		return out, nil
	case []any:
		out := make([]any, len(x))
		for i, v := range x {
			nv, err := fn(v, joinIndex(path, i))
			if err != nil {
				return nil, err
			}
			out[i] = nv
		}
		return out, nil
	}
	return t, nil
}
