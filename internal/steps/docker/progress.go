package docker

import (
	"fmt"
	"io"
)

// progress prints push progress per layer: every status change, and
// upload progress only at quarter steps so logs stay readable.
type progress struct {
	w     io.Writer
	last  map[string]string
	quart map[string]int64
}

func newProgress(w io.Writer) *progress {
	return &progress{w: w, last: map[string]string{}, quart: map[string]int64{}}
}

func (p *progress) update(m *message) {
	if m.Status == "" {
		return
	}
	if m.ID == "" {
		fmt.Fprintln(p.w, m.Status)
		return
	}
	if m.Status == "Pushing" && m.ProgressDetail != nil && m.ProgressDetail.Total > 0 {
		q := m.ProgressDetail.Current * 4 / m.ProgressDetail.Total
		if q <= p.quart[m.ID] {
			return
		}
		p.quart[m.ID] = q
		fmt.Fprintf(p.w, "%s: Pushing %d%% of %s\n", m.ID, q*25, humanBytes(m.ProgressDetail.Total))
		return
	}
	if p.last[m.ID] == m.Status {
		return
	}
	p.last[m.ID] = m.Status
	fmt.Fprintf(p.w, "%s: %s\n", m.ID, m.Status)
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for x := n / unit; x >= unit; x /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
