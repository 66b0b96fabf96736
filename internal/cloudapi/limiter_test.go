package cloudapi

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestLimiterBoundsAndPauses(t *testing.T) {
	l := NewLimiter(2)
	var inFlight atomic.Int32
	release := make(chan struct{})
	var wg sync.WaitGroup
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := l.acquire(context.Background(), sleepCtx, "GET x", false)
			if err != nil {
				t.Error(err)
				return
			}
			inFlight.Add(1)
			<-release
			inFlight.Add(-1)
			l.release(s, outcomeOK, s.start)
		}()
	}
	// Two get a slot; the other four must wait however the goroutines are scheduled.
	deadline := time.Now().Add(10 * time.Second)
	for inFlight.Load() < 2 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond)
	if n := inFlight.Load(); n != 2 {
		t.Errorf("%d in flight, want 2", n)
	}
	close(release)
	wg.Wait()
	if l.Window() != 2 || l.Adaptive() {
		t.Errorf("a pinned limiter moved: window %d, adaptive %v", l.Window(), l.Adaptive())
	}

	l.pause(80 * time.Millisecond)
	l.pause(10 * time.Millisecond) // never shortens
	start := time.Now()
	s, err := l.acquire(context.Background(), sleepCtx, "GET x", false)
	if err != nil {
		t.Fatal(err)
	}
	l.release(s, outcomeOK, s.start)
	if d := time.Since(start); d < 60*time.Millisecond {
		t.Errorf("acquire did not wait for the pause: %v", d)
	}
	l.pause(time.Hour)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := l.acquire(ctx, sleepCtx, "GET x", false); err == nil || !strings.Contains(err.Error(), "deadline") {
		t.Errorf("acquire during a long pause: %v", err)
	}
}

// simulate answers n requests of one class through an adaptive limiter, as
// a server with the given latency model would (latency as a function of
// the requests in flight), and returns the windows seen.
func simulate(l *Limiter, n int, latency func(inFlight int) time.Duration, congested func(inFlight int) bool) []int {
	var windows []int
	for i := 0; i < n; i++ {
		l.mu.Lock()
		w := l.limitLocked(&l.writes)
		l.mu.Unlock()
		windows = append(windows, w)
		// A round of w requests sent together; each is answered with the
		// latency the server has at that load.
		slots := make([]*slot, w)
		for j := range slots {
			s, _ := l.acquire(context.Background(), sleepCtx, "PATCH deployments", true)
			slots[j] = s
		}
		lat := latency(w)
		for _, s := range slots {
			s.start = time.Now().Add(-lat)
			o := outcomeOK
			if congested(w) {
				o = outcomeCongested
			}
			l.release(s, o, s.start)
		}
	}
	return windows
}

func TestAdaptiveWindowGrowsWhileLatencyHolds(t *testing.T) {
	// A distant server with room to spare: 80 ms whatever the load.
	l := NewLimiter(0)
	w := simulate(l, 10, func(int) time.Duration { return 80 * time.Millisecond }, func(int) bool { return false })
	if w[0] != initialWrites || w[len(w)-1] != maxWindow {
		t.Fatalf("windows %v: want %d growing to %d", w, initialWrites, maxWindow)
	}
	if w[1] < 2*w[0]-1 {
		t.Errorf("windows %v: the start-up phase should double per round trip", w)
	}
}

func TestAdaptiveWindowSettlesWhereTheServerQueues(t *testing.T) {
	// A server that answers one request at a time in 10 ms, 80 ms away:
	// beyond 9 in flight requests only queue.
	l := NewLimiter(0)
	lat := func(n int) time.Duration {
		return max(90*time.Millisecond, time.Duration(n)*10*time.Millisecond+10*time.Millisecond)
	}
	w := simulate(l, 60, lat, func(int) bool { return false })
	last := w[len(w)-10:]
	for _, x := range last {
		if x < 8 || x > 16 {
			t.Fatalf("windows %v: want to settle between 8 and 16 (the server is full at 9)", w)
		}
	}
}

func TestAdaptiveWindowHalvesOncePerEpisode(t *testing.T) {
	l := NewLimiter(0)
	// Grow first.
	simulate(l, 3, func(int) time.Duration { return 10 * time.Millisecond }, func(int) bool { return false })
	before := l.Window()
	// A whole round answered 503: one cut, not one per answer.
	simulate(l, 1, func(int) time.Duration { return 10 * time.Millisecond }, func(int) bool { return true })
	after := l.Window()
	if after != max(1, before/2) {
		t.Fatalf("window %d after a congested round from %d, want %d", after, before, before/2)
	}
	// And it never goes below one.
	simulate(l, 20, func(int) time.Duration { return 10 * time.Millisecond }, func(int) bool { return true })
	if l.Window() != 1 {
		t.Fatalf("window %d, want 1 under constant congestion", l.Window())
	}
}

func TestRequestClass(t *testing.T) {
	for path, want := range map[string]string{
		"deployments/3b0c1b8e-7a6e-4c62-9d1e-0d5c5f0b9e11": "PATCH deployments",
		"deployments/filter": "PATCH deployments filter",
		"automations/owned-by/prefect.deployment.3b0c1b8e-7a6e-4c62-9d1e": "PATCH automations owned-by",
		"deployments/name/my flow/d":                                      "PATCH deployments name",
	} {
		if got := requestClass("PATCH", path); got != want {
			t.Errorf("requestClass(%q) = %q, want %q", path, got, want)
		}
	}
}

func TestIsWrite(t *testing.T) {
	for _, tc := range []struct {
		method, path string
		want         bool
	}{
		{"GET", "deployments/name/f/d", false},
		{"POST", "deployments/filter", false},
		{"POST", "automations/filter/", false},
		{"POST", "deployments/count", false},
		{"POST", "deployments/", true},
		{"POST", "flows/", true},
		{"PATCH", "deployments/x", true},
		{"DELETE", "automations/owned-by/x", true},
	} {
		if got := isWrite(tc.method, tc.path); got != tc.want {
			t.Errorf("isWrite(%s %s) = %v", tc.method, tc.path, got)
		}
	}
}
