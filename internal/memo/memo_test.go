package memo

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestOneLoadPerKeyShared(t *testing.T) {
	var c Cache[string, int]
	var loads atomic.Int32
	load := func() (int, error) {
		loads.Add(1)
		time.Sleep(20 * time.Millisecond)
		return 7, nil
	}
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if v, err := c.Get("k", load); v != 7 || err != nil {
				t.Errorf("got %d, %v", v, err)
			}
		}()
	}
	wg.Wait()
	if v, _ := c.Get("k", load); v != 7 || loads.Load() != 1 {
		t.Fatalf("%d loads for one key", loads.Load())
	}
	if v, _ := c.Get("other", func() (int, error) { return 8, nil }); v != 8 {
		t.Fatalf("another key: %d", v)
	}
}

func TestFailuresAreSharedThenForgotten(t *testing.T) {
	var c Cache[string, int]
	var loads atomic.Int32
	release := make(chan struct{})
	failing := func() (int, error) {
		loads.Add(1)
		<-release
		return 0, errors.New("busy")
	}
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func(i int) { defer wg.Done(); _, errs[i] = c.Get("k", failing) }(i)
	}
	time.Sleep(20 * time.Millisecond)
	close(release)
	wg.Wait()
	for _, err := range errs {
		if err == nil || err.Error() != "busy" {
			t.Fatalf("a waiter got %v, want the shared failure", err)
		}
	}
	if loads.Load() != 1 {
		t.Fatalf("%d loads for callers that waited together", loads.Load())
	}
	if v, err := c.Get("k", func() (int, error) { return 3, nil }); v != 3 || err != nil {
		t.Fatalf("after a failure the next call tries again: %d, %v", v, err)
	}
}

func TestForgetAndPanic(t *testing.T) {
	var c Cache[int, string]
	c.Get(1, func() (string, error) { return "a", nil })
	c.Forget(1)
	if v, _ := c.Get(1, func() (string, error) { return "b", nil }); v != "b" {
		t.Fatalf("after Forget: %q", v)
	}
	func() {
		defer func() { _ = recover() }()
		c.Get(2, func() (string, error) { panic("boom") })
	}()
	if v, err := c.Get(2, func() (string, error) { return "ok", nil }); v != "ok" || err != nil {
		t.Fatalf("after a panic the key loads again: %q, %v", v, err)
	}
	var one Value[int]
	n := 0
	for i := 0; i < 3; i++ {
		one.Get(func() (int, error) { n++; return n, nil })
	}
	if n != 1 {
		t.Fatalf("Value loaded %d times", n)
	}
}
