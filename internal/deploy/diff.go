package deploy

import (
	"sort"

	"github.com/prefectctl/prefectctl/internal/py"
)

// Change is one field that differs between the server and prefect.yaml.
type Change struct {
	Field string
	Old   any // nil when the field is new
	New   any
}

// diffFields are the deployment fields a deploy sets, compared one by one.
var diffFields = []string{
	"description", "version", "paused", "parameters", "tags", "job_variables", "work_pool_name",
	"work_queue_name", "concurrency_limit", "concurrency_options", "enforce_parameter_schema",
	"parameter_openapi_schema", "pull_steps", "entrypoint",
}

// Diff compares the deployment as the server has it (its JSON) with the
// spec prefectctl would send, field by field. An empty result means sending
// the spec would change nothing that prefect.yaml controls.
//
// Values prefect.yaml leaves to the server are not differences: a null
// work_queue_name (the server picks the pool's default queue),
// enforce_parameter_schema when not configured (an update keeps it), and the
// anchor of an interval schedule whose anchor_date was not configured.
func Diff(server *py.Map, s *Spec) []Change {
	var out []Change
	for _, f := range diffFields {
		want, ok := s.Body.Get(f)
		if !ok {
			continue
		}
		have, _ := server.Get(f)
		switch f {
		case "work_queue_name":
			if want == nil {
				continue
			}
		case "enforce_parameter_schema":
			if !s.EnforceSet {
				continue
			}
		case "concurrency_options":
			// The server fills in the options' defaults (a missing
			// grace_period_seconds reads back null).
			if sameOptions(have, want) {
				continue
			}
		case "concurrency_limit":
			// 3.9.1 always reads concurrency_limit back as null: the
			// deployment's limit is the global concurrency limit it points
			// at, and the number is what a deploy sets.
			if gcl, ok := get(server, "global_concurrency_limit").(*py.Map); ok {
				have = get(gcl, "limit")
			}
		case "pull_steps":
			if s.PullUnset {
				continue
			}
		}
		if !py.Equal(normalise(have), normalise(want)) {
			out = append(out, Change{Field: f, Old: have, New: want})
		}
	}
	if vi, ok := s.Body.Get("version_info"); ok {
		// A self-hosted server does not store version_info; only compare
		// what the server reports.
		if have, _ := server.Get("version_info"); have != nil && !versionInfoEqual(have, vi) {
			out = append(out, Change{Field: "version_info", Old: have, New: vi})
		}
	}
	wantSched, _ := s.Body.Get("schedules")
	haveSched, _ := server.Get("schedules")
	if ws, _ := wantSched.([]any); len(ws) > 0 && !schedulesEqual(haveSched, ws, s.AnchorSet, s.ActiveSet) {
		out = append(out, Change{Field: "schedules", Old: scheduleSummary(haveSched), New: scheduleSummary(ws)})
	}
	return out
}

// normalise makes server and spec values comparable: a missing list or
// mapping and an empty one are the same.
func normalise(x any) any {
	switch t := x.(type) {
	case nil:
		return nil
	case []any:
		if len(t) == 0 {
			return nil
		}
	case *py.Map:
		if t.Len() == 0 {
			return nil
		}
	}
	return x
}

// sameOptions compares concurrency options, a missing key as null.
func sameOptions(have, want any) bool {
	h, _ := have.(*py.Map)
	w, _ := want.(*py.Map)
	if h.Len() == 0 || w.Len() == 0 {
		return h.Len() == 0 && w.Len() == 0
	}
	for _, m := range []*py.Map{h, w} {
		for _, k := range m.Keys() {
			if !py.Equal(get(h, k), get(w, k)) {
				return false
			}
		}
	}
	return true
}

func versionInfoEqual(have, want any) bool {
	h, _ := have.(*py.Map)
	w, _ := want.(*py.Map)
	if h == nil || w == nil {
		return h == nil && w == nil
	}
	for _, k := range w.Keys() {
		wv, _ := w.Get(k)
		hv, _ := h.Get(k)
		if !py.Equal(hv, wv) {
			return false
		}
	}
	return true
}

// scheduleKey is what identifies a schedule's behaviour.
func scheduleKey(m *py.Map, ignoreAnchor, ignoreActive bool) *py.Map {
	inner, _ := m.Get("schedule")
	im, _ := inner.(*py.Map)
	key := py.NewMap()
	if im != nil {
		c := py.Clone(im).(*py.Map)
		if ignoreAnchor {
			c.Delete("anchor_date")
		}
		if tz, _ := c.Get("timezone"); tz == nil && c.Has("cron") {
			c.Delete("timezone")
		}
		key.Set("schedule", c)
	}
	for _, k := range []string{"active", "slug"} {
		if k == "active" && ignoreActive {
			continue // an update leaves an unconfigured active flag as the server has it
		}
		v, _ := m.Get(k)
		key.Set(k, v)
	}
	p, _ := m.Get("parameters")
	key.Set("parameters", normalise(p))
	return key
}

func schedulesEqual(have any, want []any, anchorSet, activeSet []bool) bool {
	hl, _ := have.([]any)
	if len(hl) != len(want) {
		return false
	}
	used := make([]bool, len(hl))
	for i, w := range want {
		wm, ok := w.(*py.Map)
		if !ok {
			return false
		}
		ignore := i >= len(anchorSet) || !anchorSet[i]
		ignoreActive := i >= len(activeSet) || !activeSet[i]
		wk := scheduleKey(wm, ignore, ignoreActive)
		found := false
		for j, h := range hl {
			hm, ok := h.(*py.Map)
			if used[j] || !ok {
				continue
			}
			hk := scheduleKey(hm, ignore, ignoreActive)
			// A cron schedule sent without a timezone is stored with the
			// server's default; only compare timezones the spec sets.
			if ws, _ := wk.Get("schedule"); ws != nil {
				if tz, ok := ws.(*py.Map).Get("timezone"); !ok || tz == nil {
					if hs, _ := hk.Get("schedule"); hs != nil {
						hs.(*py.Map).Delete("timezone")
					}
				}
			}
			if py.Equal(hk, wk) {
				used[j], found = true, true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

func scheduleSummary(x any) []string {
	l, _ := x.([]any)
	out := []string{}
	for _, s := range l {
		m, ok := s.(*py.Map)
		if !ok {
			continue
		}
		inner, _ := m.Get("schedule")
		out = append(out, py.Repr(inner))
	}
	sort.Strings(out)
	return out
}
