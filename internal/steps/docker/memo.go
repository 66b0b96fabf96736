package docker

import (
	"sync"

	"github.com/prefectctl/prefectctl/internal/py"
)

// memoKey is the step name plus its inputs as sorted JSON, without
// ignore_cache, like prefect-docker's cache key.
func memoKey(fn string, in *py.Map) string {
	c := py.Clone(in).(*py.Map)
	c.Delete("ignore_cache")
	b, err := py.EncodeJSON(sortedClone(c))
	if err != nil {
		return ""
	}
	return fn + "\x00" + string(b)
}

func sortedClone(v any) any {
	switch t := v.(type) {
	case *py.Map:
		out := py.NewMap()
		for _, k := range t.SortedKeys() {
			x, _ := t.Get(k)
			out.Set(k, sortedClone(x))
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = sortedClone(x)
		}
		return out
	}
	return v
}

func (s *Steps) memoized(fn, dir string, in *py.Map, run func() (*py.Map, error)) (*py.Map, error) {
	ignore := false
	if v, ok := in.Get("ignore_cache"); ok {
		ignore = py.Truthy(v)
	}
	// The directory is part of the key: the same inputs in another
	// directory build another context.
	key := memoKey(fn+"\x00"+dir, in)
	if key == "" {
		return run()
	}
	for {
		s.mu.Lock()
		c, ok := s.memo[key]
		if ok && (ignore || c.done && c.err != nil) {
			ok = false
		}
		if !ok {
			c = &memoCall{ready: make(chan struct{})}
			s.memo[key] = c
			s.mu.Unlock()
			c.out, c.err = run()
			s.mu.Lock()
			c.done = true
			if c.err != nil {
				// Failures are not remembered: the next call tries again.
				delete(s.memo, key)
			}
			s.mu.Unlock()
			close(c.ready)
			if c.err != nil {
				return nil, c.err
			}
			return py.Clone(c.out).(*py.Map), nil
		}
		s.mu.Unlock()
		// An identical step is running or has run: share its result.
		<-c.ready
		if c.err == nil {
			return py.Clone(c.out).(*py.Map), nil
		}
		// It failed; run it ourselves (loop to take the slot).
	}
}

// memoCall is one memoised step run; ready closes when it ends.
type memoCall struct {
	ready chan struct{}
	done  bool
	out   *py.Map
	err   error
}

// dirLock serialises `dockerfile: auto` builds per directory: each writes
// its own Dockerfile there.
func (s *Steps) dirLock(dir string) *sync.Mutex {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dirLocks == nil {
		s.dirLocks = map[string]*sync.Mutex{}
	}
	m, ok := s.dirLocks[dir]
	if !ok {
		m = &sync.Mutex{}
		s.dirLocks[dir] = m
	}
	return m
}
