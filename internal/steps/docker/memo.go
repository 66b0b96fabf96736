package docker

import (
	"sync"

	"github.com/prefectctl/prefectctl/internal/py"
)

// memoKey is the step name plus its inputs as JSON with sorted keys,
// without ignore_cache, like prefect-docker's cache key.
func memoKey(fn string, in *py.Map) string {
	c := py.Clone(in).(*py.Map)
	c.Delete("ignore_cache")
	b, err := py.EncodeJSONSortedKeys(c)
	if err != nil {
		return ""
	}
	return fn + "\x00" + string(b)
}

// memoized runs a Docker step once per step name, directory and inputs
// (ignore_cache aside) for the life of s, like prefect-docker's
// @cacheable; ignore_cache runs it again and keeps the new result. Callers
// get copies of the outputs.
func (s *Steps) memoized(fn, dir string, in *py.Map, run func() (*py.Map, error)) (*py.Map, error) {
	// The directory is part of the key: the same inputs in another
	// directory build another context.
	key := memoKey(fn+"\x00"+dir, in)
	if key == "" {
		return run()
	}
	if v, ok := in.Get("ignore_cache"); ok && py.Truthy(v) {
		s.memo.Forget(key)
	}
	out, err := s.memo.Get(key, run)
	if err != nil {
		return nil, err
	}
	return py.Clone(out).(*py.Map), nil
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
