package cli

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/prefectctl/prefectctl/internal/deploy"
)

// progress renders the events of an apply. On a terminal it keeps a status
// list of the deployments at the bottom of stderr and redraws it in place;
// anything else written to stderr meanwhile (step output, warnings) scrolls
// above it. Elsewhere (CI logs, pipes) it prints one line per event.
type progress struct {
	mu    sync.Mutex
	w     io.Writer // the real stderr
	live  bool
	quiet bool
	p     palette
	now   func() time.Time
	start time.Time

	order []string
	rows  map[string]*progressRow
	drawn int  // lines of the status list currently on screen
	mid   bool // foreign output ended mid-line: do not draw under it
	frame int

	stopc   chan struct{}
	done    chan struct{}
	stopped bool
	prev    io.Writer // a.io.ErrOut before start, restored by stop
	a       *app
}

type progressRow struct {
	kind  deploy.EventKind
	msg   string
	since time.Time
}

var spinnerFrames = []string{"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"}

// startProgress begins rendering for a; while it runs, a's stderr goes
// through the renderer so other output never tears the status list.
//
// The live list needs a capable terminal; --verbose and --debug keep the
// one-line-per-event log instead, so every state change and HTTP call
// stays in the scrollback in order.
func startProgress(a *app) *progress {
	live := a.io.ErrTTY && !a.opts.Quiet && !a.opts.Verbose && !a.opts.Debug && os.Getenv("TERM") != "dumb"
	return startProgressWith(a, live, time.Now, 120*time.Millisecond)
}

// startProgressWith is startProgress with the mode, clock and animation
// interval chosen by the caller (tests).
func startProgressWith(a *app, live bool, now func() time.Time, interval time.Duration) *progress {
	pr := &progress{
		w:     a.io.ErrOut,
		live:  live,
		quiet: a.opts.Quiet,
		p:     a.ui.p,
		now:   now,
		rows:  map[string]*progressRow{},
		a:     a,
		prev:  a.io.ErrOut,
	}
	pr.start = pr.now()
	if pr.live {
		a.io.ErrOut = &progressWriter{pr}
		pr.stopc, pr.done = make(chan struct{}), make(chan struct{})
		go pr.tick(interval)
	} else {
		// Event lines, debug traces and step output come from concurrent
		// registrations: one lock keeps stderr's lines whole (and a
		// non-file stderr, e.g. a buffer, free of races).
		a.io.ErrOut = &lockedWriter{mu: &pr.mu, w: pr.prev}
	}
	return pr
}

// lockedWriter serialises writes with the progress lock.
type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// tick animates the spinners and elapsed times of running deployments.
func (pr *progress) tick(interval time.Duration) {
	defer close(pr.done)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-pr.stopc:
			return
		case <-t.C:
			pr.mu.Lock()
			pr.frame++
			pr.redraw()
			pr.mu.Unlock()
		}
	}
}

// stop draws the final state and gives stderr back; calling it again does nothing.
func (pr *progress) stop() {
	if pr.stopped {
		return
	}
	pr.stopped = true
	if !pr.live {
		pr.mu.Lock()
		pr.a.io.ErrOut = pr.prev
		pr.mu.Unlock()
		return
	}
	close(pr.stopc)
	<-pr.done
	pr.mu.Lock()
	defer pr.mu.Unlock()
	pr.redraw()
	pr.drawn = 0 // the final list stays on screen
	pr.a.io.ErrOut = pr.prev
}

// event records one apply event; deploy.Apply calls it from several goroutines.
func (pr *progress) event(e deploy.Event) {
	pr.mu.Lock()
	defer pr.mu.Unlock()
	row, ok := pr.rows[e.Name]
	if !ok {
		row = &progressRow{}
		pr.rows[e.Name] = row
		pr.order = append(pr.order, e.Name)
	}
	row.kind, row.msg, row.since = e.Kind, e.Message, pr.now()
	if pr.live {
		pr.redraw()
		return
	}
	if pr.quiet {
		return
	}
	fmt.Fprintf(pr.w, "[%6.1fs] %s: %s\n", pr.now().Sub(pr.start).Seconds(), e.Name, eventText(e.Kind, e.Message))
}

// eventText is the plain wording of an event.
func eventText(k deploy.EventKind, msg string) string {
	switch k {
	case deploy.EventPrepared:
		return "prepared"
	case deploy.EventRunningSteps:
		return "running build and push steps"
	case deploy.EventSteps:
		return "steps done, waiting to register"
	case deploy.EventRegistering:
		return "registering"
	case deploy.EventApplied:
		return msg // "created <id>" or "updated <id>"
	case deploy.EventFailed:
		return "failed: " + firstLine(msg)
	case deploy.EventSkipped:
		return "skipped: " + msg
	case deploy.EventRolledBack:
		return msg // "rolled back: restored", "rolled back: deleted"
	case deploy.EventImage:
		return "image " + msg // "NAME: code layer: …" or "NAME: full build: …"
	}
	return msg
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " …"
	}
	return s
}

// line renders one row of the live list.
func (pr *progress) line(name string, width int) string {
	r := pr.rows[name]
	var icon, text string
	active := false
	switch r.kind {
	case deploy.EventApplied:
		icon, text = pr.p.ok.Render("✓"), pr.p.ok.Render(r.msg)
	case deploy.EventFailed:
		icon, text = pr.p.err.Render("✗"), pr.p.err.Render(eventText(r.kind, r.msg))
	case deploy.EventSkipped:
		icon, text = pr.p.dim.Render("-"), pr.p.dim.Render(eventText(r.kind, r.msg))
	case deploy.EventRolledBack:
		icon, text = pr.p.dim.Render("↺"), pr.p.dim.Render(eventText(r.kind, r.msg))
	case deploy.EventPrepared, deploy.EventSteps:
		icon, text = pr.p.dim.Render("·"), pr.p.dim.Render(eventText(r.kind, r.msg))
	default:
		active = true
		icon = pr.p.key.Render(spinnerFrames[pr.frame%len(spinnerFrames)])
		text = eventText(r.kind, r.msg)
	}
	s := fmt.Sprintf("%s %s%s  %s", icon, pr.p.bold.Render(name), strings.Repeat(" ", width-len(name)), text)
	if active {
		s += " " + pr.p.dim.Render(fmt.Sprintf("%.0fs", pr.now().Sub(r.since).Seconds()))
	}
	return s
}

// redraw replaces the status list on screen. The caller holds mu.
func (pr *progress) redraw() {
	if !pr.live || pr.mid || len(pr.order) == 0 {
		return
	}
	var b bytes.Buffer
	pr.erase(&b)
	width := 0
	for _, n := range pr.order {
		width = max(width, len(n))
	}
	for _, n := range pr.order {
		b.WriteString(pr.line(n, width))
		b.WriteString("\x1b[K\n")
	}
	elapsed := fmt.Sprintf("%.1fs", pr.now().Sub(pr.start).Seconds())
	b.WriteString(pr.p.dim.Render(summary(pr.rows, pr.order) + " · " + elapsed))
	b.WriteString("\x1b[K\n")
	pr.drawn = len(pr.order) + 1
	_, _ = pr.w.Write(b.Bytes())
}

// erase moves the cursor back to the top of the drawn list and clears it.
func (pr *progress) erase(b *bytes.Buffer) {
	if pr.drawn > 0 {
		fmt.Fprintf(b, "\x1b[%dA\r\x1b[J", pr.drawn)
		pr.drawn = 0
	}
}

func summary(rows map[string]*progressRow, order []string) string {
	var applied, failed int
	for _, n := range order {
		switch rows[n].kind {
		case deploy.EventApplied:
			applied++
		case deploy.EventFailed:
			failed++
		}
	}
	s := fmt.Sprintf("%d/%d applied", applied, len(order))
	if failed > 0 {
		s += fmt.Sprintf(", %d failed", failed)
	}
	return s
}

// progressWriter is stderr while the live list is shown: output is written
// above the list, which is drawn again below it.
type progressWriter struct{ pr *progress }

func (w *progressWriter) Write(p []byte) (int, error) {
	pr := w.pr
	pr.mu.Lock()
	defer pr.mu.Unlock()
	var b bytes.Buffer
	if !pr.mid {
		pr.erase(&b)
	}
	b.Write(p)
	if _, err := pr.w.Write(b.Bytes()); err != nil {
		return 0, err
	}
	pr.mid = len(p) > 0 && p[len(p)-1] != '\n'
	pr.redraw()
	return len(p), nil
}
