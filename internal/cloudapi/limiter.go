package cloudapi

import (
	"context"
	"strings"
	"sync"
	"time"
)

// Limiter decides how many requests are in flight at once. It is shared by
// every client and goroutine that talks to one Prefect API, and it is the
// one place that decides prefectctl's concurrency.
//
// A pinned limiter (NewLimiter(n), n > 0; `deploy --concurrency n`) keeps
// n requests in flight at most. An adaptive one (NewLimiter(0), the
// default) finds the server's capacity by itself, separately for reads
// (GET and the POST …/filter queries) and writes, because a server on
// SQLite answers reads in parallel but serialises writes. For each, in the
// manner of TCP Vegas with a multiplicative cut:
//
//   - it starts small (initialWrites, initialReads) and, while answers
//     come back as fast as the fastest seen for that kind of request,
//     grows by one per answer (doubling each round trip);
//   - once answers slow down the server is queueing: the estimated queue,
//     window × (1 − fastest/latency), above queueHigh shrinks the window by
//     one per round trip, below queueLow grows it by one per round trip;
//     latency counts from the first attempt, so the retries of requests
//     the database turned away ("database is locked") slow it too;
//   - a 503, 429, 502, 504, 408, a timeout, a reset or a request the
//     database turned away ("database is locked") halves it (once per
//     episode: the answers to requests sent before the cut do not cut
//     again), ends the doubling, and makes later growth twice as slow
//     (up to maxProbe round trips per step), so that a server whose
//     writes collide at two in flight is not probed every other request;
//   - a 429's Retry-After holds every request back until then.
//
// Windows stay between 1 and maxWindow.
type Limiter struct {
	mu      sync.Mutex
	pinned  int // > 0: a fixed window for all requests
	reads   window
	writes  window
	seq     uint64 // requests admitted so far
	fastest map[string]time.Duration
	changed chan struct{}   // closed when a slot may have become free
	waiters []chan struct{} // busy requests waiting for a handoff
	until   time.Time       // paused until (429 Retry-After)

	debug func(format string, args ...any) // logs each change of a window
}

// window is the adaptive state of one kind of request.
type window struct {
	size     float64
	doubling bool    // still in the start-up phase
	inFlight int     //
	cutSeq   uint64  // requests admitted before the last cut belong to its episode
	probe    float64 // round trips per step of growth: doubles with each cut
}

// Bounds of the adaptive windows. Reads start wide enough for a deploy's
// snapshot (four filter queries and a CSRF token) to go in one round trip;
// writes start at two. 32 keeps within the transport's connection pool and
// below the rate limits of Prefect Cloud, which answer 429 anyway.
const (
	initialReads  = 6
	initialWrites = 2
	maxWindow     = 32
	maxProbe      = 16
)

// Thresholds on the estimated number of requests queued at the server:
// below one the server has room, above two it is only queueing them.
const (
	queueLow  = 1.0
	queueHigh = 2.0
)

// NewLimiter allows at most concurrent requests in flight; 0 makes it
// adaptive.
func NewLimiter(concurrent int) *Limiter {
	return &Limiter{pinned: concurrent,
		reads:   window{size: initialReads, doubling: true},
		writes:  window{size: initialWrites, doubling: true},
		fastest: map[string]time.Duration{}, changed: make(chan struct{})}
}

// Window is how many writes may be in flight now: how many deployments a
// deploy registers at once.
func (l *Limiter) Window() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.limitLocked(&l.writes)
}

// Adaptive reports whether the windows adapt to the server.
func (l *Limiter) Adaptive() bool { return l.pinned <= 0 }

func (l *Limiter) limitLocked(w *window) int {
	if l.pinned > 0 {
		return l.pinned
	}
	return max(1, int(w.size))
}

func (l *Limiter) kind(write bool) *window {
	if write {
		return &l.writes
	}
	return &l.reads
}

// slot is one admitted request.
type slot struct {
	seq   uint64
	start time.Time
	class string
	write bool
}

// outcome is what an answer says about the server's load.
type outcome int

func (o outcome) String() string {
	switch o {
	case outcomeOK:
		return "answered"
	case outcomeCongested:
		return "overloaded"
	case outcomeBusy:
		return "database locked"
	}
	return "other"
}

const (
	outcomeOK        outcome = iota // answered: its latency counts
	outcomeCongested                // 503, 429, 502, 504, 408, a timeout, a reset: too much
	outcomeNeutral                  // says nothing about load (4xx, refused, cancelled)
	outcomeBusy                     // the database turned it away: a collision, retried
)

// acquire waits for the end of a 429 pause and for a slot for a request of
// the given class (see requestClass).
func (l *Limiter) acquire(ctx context.Context, sleep func(context.Context, time.Duration) error, class string, write bool) (*slot, error) {
	l.mu.Lock()
	wait := time.Until(l.until)
	l.mu.Unlock()
	if wait > 0 {
		if err := sleep(ctx, wait); err != nil {
			return nil, err
		}
	}
	for {
		l.mu.Lock()
		w := l.kind(write)
		inFlight := w.inFlight
		if l.pinned > 0 {
			inFlight = l.reads.inFlight + l.writes.inFlight
		}
		if inFlight < l.limitLocked(w) {
			w.inFlight++
			l.seq++
			s := &slot{seq: l.seq, start: time.Now(), class: class, write: write}
			l.mu.Unlock()
			return s, nil
		}
		ch := l.changed
		l.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// release frees the slot and lets the answer move the window. since is
// when the request's first attempt was admitted: the latency that counts
// is the caller's, busy answers and their retries included.
func (l *Limiter) release(s *slot, o outcome, since time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	w := l.kind(s.write)
	w.inFlight--
	if l.pinned <= 0 {
		l.adapt(w, s, o, time.Since(since))
	}
	if len(l.waiters) > 0 && o != outcomeBusy {
		close(l.waiters[0])
		l.waiters = l.waiters[1:]
	}
	close(l.changed)
	l.changed = make(chan struct{})
}

// handoff returns a channel that is closed when a request finishes after
// the ones already waiting for a handoff were served, one waiter per
// finished request: a request the database turned away because another
// held its lock goes again when that one is done, and only one of the
// waiting goes, so that they do not collide again. cancel withdraws it.
func (l *Limiter) handoff() (wake <-chan struct{}, cancel func()) {
	l.mu.Lock()
	defer l.mu.Unlock()
	ch := make(chan struct{})
	l.waiters = append(l.waiters, ch)
	return ch, func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		for i, w := range l.waiters {
			if w == ch {
				l.waiters = append(l.waiters[:i], l.waiters[i+1:]...)
				return
			}
		}
	}
}

func (l *Limiter) adapt(w *window, s *slot, o outcome, latency time.Duration) {
	before := max(1, int(w.size))
	switch o {
	case outcomeCongested, outcomeBusy:
		if s.seq > w.cutSeq {
			w.size = max(1, w.size/2)
			w.cutSeq = l.seq
			w.doubling = false
			w.probe = min(max(2*w.probe, 1), maxProbe)
		}
	case outcomeOK:
		fastest, seen := l.fastest[s.class]
		if !seen || latency < fastest {
			fastest = latency
			l.fastest[s.class] = latency
		}
		queue := 0.0
		if latency > 0 {
			queue = w.size * (1 - float64(fastest)/float64(latency))
		}
		switch {
		case queue < queueLow && w.doubling:
			w.size++
		case queue < queueLow:
			w.size += 1 / (w.size * max(w.probe, 1))
		case queue > queueHigh:
			w.doubling = false
			w.size -= 1 / w.size
		default:
			w.doubling = false
		}
		w.size = min(max(w.size, 1), maxWindow)
	}
	if now := max(1, int(w.size)); now != before && l.debug != nil {
		kind := "reads"
		if s.write {
			kind = "writes"
		}
		l.debug("limiter: %s in flight %d → %d (%s %s in %s)", kind, before, now, s.class, o, latency.Round(time.Millisecond))
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

// isWrite reports whether a request changes the server (and so may collide
// with other writes): anything but GET, HEAD and the POST queries
// (…/filter, …/count, …/paginate).
func isWrite(method, path string) bool {
	switch method {
	case "GET", "HEAD":
		return false
	case "POST":
		p := strings.TrimRight(path, "/")
		return !(strings.HasSuffix(p, "/filter") || strings.HasSuffix(p, "/count") || strings.HasSuffix(p, "/paginate"))
	}
	return true
}

// requestClass groups requests whose latencies are comparable: the method
// and the first two path segments, ids and names left out
// ("PATCH deployments", "POST deployments filter",
// "DELETE automations owned-by").
func requestClass(method, path string) string {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	class := method
	n := 0
	for _, p := range parts {
		if n == 2 || looksLikeID(p) {
			break
		}
		class += " " + p
		n++
	}
	return class
}

func looksLikeID(s string) bool {
	return len(s) == 36 && strings.Count(s, "-") == 4
}
