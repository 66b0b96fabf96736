package cloudapi

import (
	"context"
	"sync"
	"time"
)

// Limiter is shared by every client and goroutine that talks to one
// Prefect account. It bounds requests in flight and, when any request is
// answered 429 with Retry-After, holds all of them back until that time,
// so parallel work does not keep hammering a rate-limited account.
type Limiter struct {
	slots chan struct{} // nil = unbounded
	mu    sync.Mutex
	until time.Time
}

// NewLimiter allows at most concurrent requests in flight (0 = no bound).
func NewLimiter(concurrent int) *Limiter {
	l := &Limiter{}
	if concurrent > 0 {
		l.slots = make(chan struct{}, concurrent)
	}
	return l
}

func (l *Limiter) acquire(ctx context.Context, sleep func(context.Context, time.Duration) error) error {
	l.mu.Lock()
	wait := time.Until(l.until)
	l.mu.Unlock()
	if wait > 0 {
		if err := sleep(ctx, wait); err != nil {
			return err
		}
	}
	if l.slots == nil {
		return nil
	}
	select {
	case l.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (l *Limiter) release() {
	if l.slots != nil {
		<-l.slots
	}
}

// pause holds every request back for d from now (never shortening an
// existing pause).
func (l *Limiter) pause(d time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if t := time.Now().Add(d); t.After(l.until) {
		l.until = t
	}
}

// PausedUntil reports when requests may go again (zero time if not paused).
func (l *Limiter) PausedUntil() time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	if time.Now().After(l.until) {
		return time.Time{}
	}
	return l.until
}
