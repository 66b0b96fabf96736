package cloudapi

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestCompareVersions(t *testing.T) {
	tests := []struct {
		server      string
		warn, fails bool
	}{
		{"3.9.1", false, false},
		{"3.10.0rc1", false, false},
		{"3.9.2.dev3+g12ab", false, false},
		{"3.8.4", true, false},
		{"3.9.0", true, false},
		{"2.20.1", false, true},
		{"4.0.0", false, true},
		{"garbage", true, false},
	}
	for _, tc := range tests {
		w, err := compareVersions(tc.server, TargetPrefectVersion)
		if (w != nil) != tc.warn || (err != nil) != tc.fails {
			t.Errorf("%s: warn %v err %v", tc.server, w, err)
		}
	}
}

func TestLimiterBoundsAndPauses(t *testing.T) {
	l := NewLimiter(2)
	var inFlight atomic.Int32
	release := make(chan struct{})
	var wg sync.WaitGroup
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := l.acquire(context.Background(), sleepCtx); err != nil {
				t.Error(err)
				return
			}
			inFlight.Add(1)
			<-release
			inFlight.Add(-1)
			l.release()
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

	l.pause(80 * time.Millisecond)
	l.pause(10 * time.Millisecond) // never shortens
	start := time.Now()
	if err := l.acquire(context.Background(), sleepCtx); err != nil {
		t.Fatal(err)
	}
	l.release()
	if d := time.Since(start); d < 60*time.Millisecond {
		t.Errorf("acquire did not wait for the pause: %v", d)
	}
	l.pause(time.Hour)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := l.acquire(ctx, sleepCtx); err == nil || !strings.Contains(err.Error(), "deadline") {
		t.Errorf("acquire during a long pause: %v", err)
	}
}
