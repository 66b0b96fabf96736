// Putting a deployment's schedules back by id, as the snapshot found them.

package deploy

// --atomic: what an Apply wrote is recorded (a journal), and when a write
// fails after others succeeded, or the run is interrupted, every deployment
// it touched is put back as the Snapshot found it, every deployment it
// created is deleted, and every flow it created is deleted when nothing
// else uses it. See docs/registration.md ("--atomic").

import (
	"context"

	"github.com/prefectctl/prefectctl/internal/cloudapi"
	"github.com/prefectctl/prefectctl/internal/py"
)

// scheduleFields are what a schedule holds besides its id and timestamps.
var scheduleFields = []string{"schedule", "active", "max_scheduled_runs", "parameters", "slug"}

func scheduleBody(s *py.Map) *py.Map {
	b := py.NewMap()
	for _, k := range scheduleFields {
		b.Set(k, py.Clone(get(s, k)))
	}
	if get(b, "parameters") == nil {
		b.Set("parameters", py.NewMap())
	}
	return b
}

func sameSchedule(a, b *py.Map) bool {
	for _, k := range scheduleFields {
		if !py.Equal(normalise(get(a, k)), normalise(get(b, k))) {
			return false
		}
	}
	return true
}

// schedulesMatch compares schedules by what they hold, ids aside (a
// schedule the forward update replaced cannot get its id back).
func schedulesMatch(have, want []any) bool {
	if len(have) != len(want) {
		return false
	}
	used := make([]bool, len(have))
	for _, w := range want {
		wm, _ := w.(*py.Map)
		found := false
		for i, h := range have {
			if hm, _ := h.(*py.Map); !used[i] && hm != nil && sameSchedule(hm, wm) {
				used[i], found = true, true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// restoreSchedules makes the deployment's schedules those of want: a
// schedule still there under its id is patched in place when it differs,
// the others are deleted, and the missing ones created. Deletions go first
// so that a slug is free again before it is used.
func restoreSchedules(ctx context.Context, api RestoreAPI, id string, want []any) (bool, error) {
	var cur []cloudapi.Schedule
	if err := retrying(ctx, func(ctx context.Context) (err error) {
		cur, err = api.ReadDeploymentSchedules(ctx, id)
		return err
	}); err != nil {
		return false, err
	}
	have := map[string]*py.Map{}
	var haveOrder []string
	for _, s := range cur {
		have[s.ID] = scheduleMap(s)
		haveOrder = append(haveOrder, s.ID)
	}
	wanted := map[string]bool{}
	for _, w := range want {
		wanted[py.Str(get(w.(*py.Map), "id"))] = true
	}
	changed := false
	for _, sid := range haveOrder {
		if !wanted[sid] {
			if err := retrying(ctx, func(ctx context.Context) error { return ignoreNotFound(api.DeleteDeploymentSchedule(ctx, id, sid)) }); err != nil {
				return changed, err
			}
			changed = true
		}
	}
	var create []any
	for _, w := range want {
		wm := w.(*py.Map)
		sid := py.Str(get(wm, "id"))
		h, ok := have[sid]
		switch {
		case !ok:
			create = append(create, scheduleBody(wm))
		case !sameSchedule(h, wm):
			if err := retrying(ctx, func(ctx context.Context) error { return api.UpdateDeploymentSchedule(ctx, id, sid, scheduleBody(wm)) }); err != nil {
				return changed, err
			}
			changed = true
		}
	}
	if len(create) > 0 {
		// One request for all: a retry after a lost answer could create
		// them twice, so this one is not retried here (the client retries
		// only what never reached the server).
		if _, err := api.CreateDeploymentSchedules(ctx, id, create); err != nil {
			return changed, err
		}
		changed = true
	}
	return changed, nil
}

func scheduleMap(s cloudapi.Schedule) *py.Map {
	var slug, runs any
	if s.Slug != nil {
		slug = *s.Slug
	}
	if s.MaxScheduledRuns != nil {
		runs = *s.MaxScheduledRuns
	}
	var params any = py.NewMap()
	if s.Parameters != nil {
		params = s.Parameters
	}
	var sched any
	if s.Schedule != nil {
		sched = s.Schedule
	}
	return py.MapOf("id", s.ID, "schedule", sched, "active", s.Active, "max_scheduled_runs", runs, "parameters", params, "slug", slug)
}
