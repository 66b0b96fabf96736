package template

import (
	"context"
	"errors"
	"testing"

	"github.com/prefectctl/prefectctl/internal/py"
)

func TestCachedResolverReadsOnceAndCopies(t *testing.T) {
	f := newFake()
	f.vars["cfg"] = py.MapOf("k", "v")
	f.blocks["secret/tok"] = py.MapOf("value", "s3cr3t")
	r := NewCachedResolver(f)
	ctx := context.Background()
	for i := 0; i < 3; i++ {
		v, found, err := r.Variable(ctx, "cfg")
		if err != nil || !found {
			t.Fatal(found, err)
		}
		v.(*py.Map).Set("k", "changed") // a caller's change stays its own
		if _, err := r.BlockDocumentByName(ctx, "secret", "tok"); err != nil {
			t.Fatal(err)
		}
	}
	if v, _, _ := r.Variable(ctx, "cfg"); py.Repr(v) != "{'k': 'v'}" {
		t.Errorf("cached value changed: %s", py.Repr(v))
	}
	if f.calls["variable:cfg"] != 1 || f.calls["block:secret/tok"] != 1 {
		t.Errorf("calls %v", f.calls)
	}
	// A failed read is tried again by the next caller.
	f.fail = errors.New("busy")
	if _, _, err := r.Variable(ctx, "other"); err == nil {
		t.Fatal("no error")
	}
	f.fail = nil
	if _, found, err := r.Variable(ctx, "other"); err != nil || found {
		t.Errorf("after a failure: %v %v", found, err)
	}
	if f.calls["variable:other"] != 2 {
		t.Errorf("calls %v", f.calls)
	}
}
