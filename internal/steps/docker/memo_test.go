package docker

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prefectctl/prefectctl/internal/py"
)

func TestMemo(t *testing.T) {
	s := New(Options{}, Deps{})
	var runs atomic.Int32
	run := func() (*py.Map, error) {
		n := runs.Add(1)
		time.Sleep(20 * time.Millisecond)
		return py.MapOf("run", int64(n)), nil
	}
	in := py.MapOf("image_name", "a", "labels", py.MapOf("b", "1", "a", "2"))
	// Identical calls at once share one run.
	var wg sync.WaitGroup
	outs := make([]*py.Map, 8)
	for i := range outs {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			out, err := s.memoized("build_docker_image", "/d", py.Clone(in).(*py.Map), run)
			if err != nil {
				t.Error(err)
			}
			outs[i] = out
		}(i)
	}
	wg.Wait()
	if runs.Load() != 1 {
		t.Fatalf("%d runs for identical concurrent calls", runs.Load())
	}
	for _, o := range outs {
		if !py.Equal(o, py.MapOf("run", int64(1))) {
			t.Fatalf("output %v", o)
		}
	}
	// Key order in a mapping does not matter; another directory or
	// function does; ignore_cache runs again and refreshes the memo.
	reordered := py.MapOf("labels", py.MapOf("a", "2", "b", "1"), "image_name", "a", "ignore_cache", false)
	if out, _ := s.memoized("build_docker_image", "/d", reordered, run); !py.Equal(out, py.MapOf("run", int64(1))) {
		t.Fatalf("reordered inputs missed the memo: %v", out)
	}
	if out, _ := s.memoized("build_docker_image", "/other", in, run); !py.Equal(out, py.MapOf("run", int64(2))) {
		t.Fatalf("another directory hit the memo: %v", out)
	}
	if out, _ := s.memoized("push_docker_image", "/d", in, run); !py.Equal(out, py.MapOf("run", int64(3))) {
		t.Fatalf("another step hit the memo: %v", out)
	}
	ign := py.Clone(in).(*py.Map)
	ign.Set("ignore_cache", true)
	if out, _ := s.memoized("build_docker_image", "/d", ign, run); !py.Equal(out, py.MapOf("run", int64(4))) {
		t.Fatalf("ignore_cache: %v", out)
	}
	if out, _ := s.memoized("build_docker_image", "/d", in, run); !py.Equal(out, py.MapOf("run", int64(4))) {
		t.Fatalf("after ignore_cache the memo holds %v", out)
	}
	// Failures are not remembered.
	fails := 0
	failing := func() (*py.Map, error) { fails++; return nil, errors.New("boom") }
	for i := 0; i < 2; i++ {
		if _, err := s.memoized("build_docker_image", "/f", in, failing); err == nil {
			t.Fatal("no error")
		}
	}
	if fails != 2 {
		t.Fatalf("failing step ran %d times, want 2", fails)
	}
	// Outputs are copies: changing one does not change the memo.
	out, _ := s.memoized("build_docker_image", "/d", in, run)
	out.Set("run", "changed")
	if again, _ := s.memoized("build_docker_image", "/d", in, run); !py.Equal(again, py.MapOf("run", int64(4))) {
		t.Fatalf("memo changed through an output: %v", again)
	}
}
