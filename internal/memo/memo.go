// Package memo is prefectctl's one cache: a value is resolved once per key
// and shared, and callers asking for a key while it is being resolved wait
// for that one resolution (single flight).
//
// Its one error policy: a success is kept for the life of the cache; a
// failure is handed to every caller that waited for it and then
// forgotten, so the next call tries again. A transient failure (a busy
// server, a registry that was still starting) then costs one retry
// instead of failing every later deployment that needs the same value.
//
// Values are shared as they are: a cache of mutable values (maps, slices)
// hands each caller a copy it may change, or documents that it must not.
package memo

import (
	"errors"
	"sync"
)

// Cache holds one value per key. The zero value is ready to use; a Cache
// must not be copied after first use.
type Cache[K comparable, V any] struct {
	mu    sync.Mutex
	calls map[K]*call[V]
}

type call[V any] struct {
	done chan struct{}
	val  V
	err  error
}

// errPanicked is what the callers waiting on a load that panicked get.
var errPanicked = errors.New("memo: the load panicked")

// Get returns key's value, calling load when no call has succeeded yet.
// Concurrent callers of one key share one load and its outcome.
func (c *Cache[K, V]) Get(key K, load func() (V, error)) (V, error) {
	c.mu.Lock()
	if cl, ok := c.calls[key]; ok {
		c.mu.Unlock()
		<-cl.done
		return cl.val, cl.err
	}
	if c.calls == nil {
		c.calls = map[K]*call[V]{}
	}
	cl := &call[V]{done: make(chan struct{})}
	c.calls[key] = cl
	c.mu.Unlock()

	finished := false
	defer func() {
		if !finished {
			cl.err = errPanicked
		}
		if cl.err != nil {
			c.mu.Lock()
			if c.calls[key] == cl {
				delete(c.calls, key)
			}
			c.mu.Unlock()
		}
		close(cl.done)
	}()
	cl.val, cl.err = load()
	finished = true
	return cl.val, cl.err
}

// Forget drops key's value, so the next Get loads it again. A load under
// way is not stopped: the callers already waiting for it still share it.
func (c *Cache[K, V]) Forget(key K) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.calls, key)
}

// Value is a Cache of a single value.
type Value[V any] struct{ c Cache[struct{}, V] }

// Get returns the value, calling load when no call has succeeded yet.
func (v *Value[V]) Get(load func() (V, error)) (V, error) { return v.c.Get(struct{}{}, load) }
