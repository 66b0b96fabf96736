package flowrun

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/prefectctl/prefectctl/internal/cloudapi"
	"github.com/prefectctl/prefectctl/internal/diag"
	"github.com/prefectctl/prefectctl/internal/py"
)

// WatchOptions control Watch.
type WatchOptions struct {
	Interval time.Duration // between polls; default 2s
	Timeout  time.Duration // 0 = wait for ever
	// LogGrace is how long logs are still collected after the run reached
	// a final state: the flow's process ships its last log lines in a batch
	// after it reports the state. Default 5s.
	LogGrace time.Duration
	// OnState and OnLog receive each state the run entered and each log
	// line once; what one poll finds is delivered in timestamp order.
	OnState func(run *cloudapi.FlowRun, st cloudapi.State)
	OnLog   func(l cloudapi.Log)
}

// logLookback is how far before the newest log seen each poll looks again:
// a run's logs come from several processes in batches, so a line can
// arrive after a later one. Lines already shown are skipped by id.
const logLookback = 30 * time.Second

// ErrWatchTimeout is the cause of the context when Watch's timeout ran out.
var ErrWatchTimeout = errors.New("watch timeout")

// Watch polls the run, its state history and its logs until it is in a
// final state. It returns the final run, and an error of kind RunFailed
// unless it ended COMPLETED, or of kind Timeout when o.Timeout ran out
// first. Prefect itself streams websockets here; polling gives the same
// lines and works behind proxies that drop websockets.
func Watch(ctx context.Context, c API, runID string, o WatchOptions) (*cloudapi.FlowRun, error) {
	if o.Interval <= 0 {
		o.Interval = 2 * time.Second
	}
	if o.LogGrace <= 0 {
		o.LogGrace = 5 * time.Second
	}
	parent := ctx
	if o.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, o.Timeout, ErrWatchTimeout)
		defer cancel()
	}
	w := &runWatcher{c: c, runID: runID, o: o, seenLog: map[string]bool{}, seenState: map[string]bool{}}
	timedOut := func(err error) error {
		if parent.Err() == nil && errors.Is(context.Cause(ctx), ErrWatchTimeout) {
			return &diag.Error{Kind: diag.Timeout,
				Msg:  fmt.Sprintf("Flow run with ID %s exceeded watch timeout of %s", runID, o.Timeout),
				Hint: "the run goes on without the watch; follow it in the UI, or watch again with a longer --timeout"}
		}
		return err
	}
	for {
		run, err := c.ReadFlowRun(ctx, runID)
		if err != nil {
			return nil, timedOut(err)
		}
		if _, err := w.poll(ctx, run); err != nil {
			return nil, timedOut(err)
		}
		if run.State.Terminal() {
			w.drain(parent, run)
			return run, finalStateError(run)
		}
		select {
		case <-ctx.Done():
			return nil, timedOut(ctx.Err())
		case <-time.After(o.Interval):
		}
	}
}

// runWatcher remembers what was already reported.
type runWatcher struct {
	c         API
	runID     string
	o         WatchOptions
	seenLog   map[string]bool
	seenState map[string]bool
	newest    time.Time // newest log timestamp seen
}

type runWatchItem struct {
	at    time.Time
	state *cloudapi.State
	log   *cloudapi.Log
}

// poll reports the states and logs not seen yet, oldest first, and says
// how many there were.
func (w *runWatcher) poll(ctx context.Context, run *cloudapi.FlowRun) (int, error) {
	var items []runWatchItem
	states, err := w.c.ReadFlowRunStates(ctx, w.runID)
	if err != nil {
		return 0, err
	}
	if run.State != nil && len(states) == 0 {
		states = []cloudapi.State{*run.State}
	}
	for i := range states {
		st := &states[i]
		key := st.ID
		if key == "" {
			key = st.Type + "/" + st.Name + "/" + st.Timestamp.String()
		}
		if w.seenState[key] {
			continue
		}
		w.seenState[key] = true
		items = append(items, runWatchItem{at: st.Timestamp, state: st})
	}
	logs, err := w.logs(ctx)
	if err != nil {
		return 0, err
	}
	for i := range logs {
		items = append(items, runWatchItem{at: logs[i].Timestamp, log: &logs[i]})
	}
	sort.SliceStable(items, func(i, j int) bool { return items[i].at.Before(items[j].at) })
	for _, it := range items {
		switch {
		case it.state != nil && w.o.OnState != nil:
			w.o.OnState(run, *it.state)
		case it.log != nil && w.o.OnLog != nil:
			w.o.OnLog(*it.log)
		}
	}
	return len(items), nil
}

// logs fetches the run's log lines not seen yet, from a little before the
// newest one seen, page by page.
func (w *runWatcher) logs(ctx context.Context) ([]cloudapi.Log, error) {
	const page = 200 // the server's default and maximum limit
	after := ""
	if !w.newest.IsZero() {
		after = py.DateTime{Time: w.newest.Add(-logLookback).UTC()}.ISO()
	}
	var fresh []cloudapi.Log
	for offset := 0; ; offset += page {
		got, err := w.c.FlowRunLogs(ctx, w.runID, after, page, offset)
		if err != nil {
			return nil, err
		}
		for _, l := range got {
			if w.seenLog[l.ID] {
				continue
			}
			w.seenLog[l.ID] = true
			if l.Timestamp.After(w.newest) {
				w.newest = l.Timestamp
			}
			fresh = append(fresh, l)
		}
		if len(got) < page {
			return fresh, nil
		}
	}
}

// drain keeps reading logs after the run ended, for up to LogGrace, and
// stops early once a poll finds nothing new after two seconds (the flow
// process flushes its last batch as it exits, just after the final state).
func (w *runWatcher) drain(ctx context.Context, run *cloudapi.FlowRun) {
	step := min(w.o.Interval, time.Second)
	start := time.Now()
	for time.Since(start) < w.o.LogGrace {
		select {
		case <-ctx.Done():
			return
		case <-time.After(step):
		}
		n, err := w.poll(ctx, run)
		if err != nil {
			return // the run's outcome is known; missing tail lines are not worth failing for
		}
		if n == 0 && time.Since(start) >= 2*time.Second {
			return
		}
	}
}

// finalStateError is nil for COMPLETED and a RunFailed problem otherwise.
func finalStateError(run *cloudapi.FlowRun) error {
	if run.State.Type == "COMPLETED" {
		return nil
	}
	hint := "see the run's logs above or in the UI"
	if run.State.Message != nil && *run.State.Message != "" {
		hint = "the state message says: " + *run.State.Message
	}
	return &diag.Error{Kind: diag.RunFailed, Msg: fmt.Sprintf("Flow run finished in state %s.", py.Repr(run.State.Name)), Hint: hint}
}
