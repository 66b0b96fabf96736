package deploy

// Pruning: removing (or pausing) the deployments a project registered
// earlier and no longer defines. A deployment belongs to a project only
// when it carries the project's mark, the label MarkLabel, which prefectctl
// writes when it creates a deployment for a user who opted in (--prune or
// --project). Labels are the one deployment field that fits: the server
// stores them, Prefect 3.9.1's DeploymentUpdate has no labels (so a later
// `prefect deploy` of the same deployment, which PATCHes it, keeps them, and
// other projects never touch them), and they change nothing a flow run
// executes with (see docs/prune.md for what they do reach).

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/prefectctl/prefectctl/internal/cloudapi"
	"github.com/prefectctl/prefectctl/internal/diag"
	"github.com/prefectctl/prefectctl/internal/py"
)

// MarkLabel is the deployment label whose value names the project that
// created the deployment.
const MarkLabel = "prefectctl.project"

// PruneMode is what --prune does to a candidate.
type PruneMode string

const (
	PruneOff    PruneMode = ""
	PruneDelete PruneMode = "delete"
	PrunePause  PruneMode = "pause"
)

// Marked is a deployment of the workspace that carries a project's mark.
type Marked struct {
	Key    Key
	ID     string
	Paused bool
}

// PruneItem is one deployment a prune removes or pauses.
type PruneItem struct {
	Name   string // flow/deployment
	ID     string
	Mode   PruneMode
	Action string // planned: delete, pause; done: deleted, paused, gone, failed, skipped
	Error  error
}

// markBody is the labels a created deployment carries: the mark when the
// user opted in, else the empty labels prefect deploy sends.
func markBody(project string) *py.Map {
	if project == "" {
		return py.NewMap()
	}
	return py.MapOf(MarkLabel, project)
}

// readMarked reads the deployments of the workspace that carry project's
// mark, with their flows' names. Prefect's deployment filter has no filter
// on labels, so the workspace's deployments are read page by page (one
// request per 200 deployments, newest first) and filtered here; the flows
// of the marked ones that known does not name cost one more request.
func readMarked(ctx context.Context, api ServerReader, project string, known map[string]*cloudapi.Flow) ([]Marked, error) {
	var marked []cloudapi.Deployment
	seen := map[string]bool{}
	for offset := 0; ; offset += pageLimit {
		page, err := api.FilterDeployments(ctx, py.MapOf("sort", "CREATED_DESC", "limit", int64(pageLimit), "offset", int64(offset)))
		if err != nil {
			return nil, err
		}
		for _, d := range page {
			// A deployment created while reading shifts the pages: one can
			// come twice. One deleted meanwhile can be missed, and is
			// then pruned by the next run.
			if seen[d.ID] {
				continue
			}
			seen[d.ID] = true
			if d.Labels == nil {
				continue
			}
			if v, _ := d.Labels.Get(MarkLabel); v == any(project) {
				marked = append(marked, d)
			}
		}
		if len(page) < pageLimit {
			break
		}
	}
	flowName := map[string]string{}
	for name, f := range known {
		flowName[f.ID] = name
	}
	var ids []string
	for _, d := range marked {
		if _, ok := flowName[d.FlowID]; !ok {
			ids = append(ids, d.FlowID)
		}
	}
	for _, part := range chunks(uniqueStrings(ids), pageLimit) {
		flows, err := api.FilterFlows(ctx, py.MapOf("flows", py.MapOf("id", py.MapOf("any_", anyStrings(part))), "limit", int64(pageLimit)))
		if err != nil {
			return nil, err
		}
		for _, f := range flows {
			flowName[f.ID] = f.Name
		}
	}
	out := make([]Marked, 0, len(marked))
	for _, d := range marked {
		name, ok := flowName[d.FlowID]
		if !ok {
			continue // its flow went away while reading
		}
		out = append(out, Marked{Key: Key{Flow: name, Name: d.Name}, ID: d.ID, Paused: d.Paused})
	}
	return out, nil
}

// PruneCandidates are the marked deployments that keys (every deployment
// the project defines) no longer name, sorted by name; with PrunePause, a
// deployment already paused is left out (there is nothing to do).
func (s *Snapshot) PruneCandidates(mode PruneMode, keys []Key) []*PruneItem {
	if s == nil || mode == PruneOff {
		return nil
	}
	defined := map[Key]bool{}
	for _, k := range keys {
		defined[k] = true
	}
	var out []*PruneItem
	for _, m := range s.Marked {
		if defined[m.Key] || (mode == PrunePause && m.Paused) {
			continue
		}
		out = append(out, &PruneItem{Name: m.Key.String(), ID: m.ID, Mode: mode, Action: string(mode)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Prune deletes or pauses the candidates, one request each, as many at
// once as the API client's limiter allows; a deployment already deleted
// counts as done ("gone"). It returns the first error. The caller decides
// whether to prune at all: never after a failed deployment or an
// interrupt.
func Prune(ctx context.Context, api API, items []*PruneItem) error {
	var jobs []func(context.Context) error
	for _, it := range items {
		jobs = append(jobs, func(ctx context.Context) error {
			var err error
			switch it.Mode {
			case PrunePause:
				err = api.UpdateDeployment(ctx, it.ID, py.MapOf("paused", true))
				it.Action = "paused"
			default:
				err = api.DeleteDeployment(ctx, it.ID)
				it.Action = "deleted"
			}
			switch {
			case errors.Is(err, cloudapi.ErrNotFound):
				it.Action = "gone"
			case err != nil:
				it.Action, it.Error = "failed", err
			}
			return nil
		})
	}
	for _, part := range chunks(jobs, max(1, api.InFlightLimit())) {
		if ctx.Err() != nil {
			break
		}
		_ = parallel(ctx, part...)
	}
	var first error
	for _, it := range items {
		if it.Action == string(PruneDelete) || it.Action == string(PrunePause) {
			it.Action = "skipped" // interrupted before it was sent
		}
		if it.Error != nil && first == nil {
			first = it.Error
		}
	}
	if first == nil && ctx.Err() != nil {
		first = ctx.Err()
	}
	return first
}

// PruneFailed reports whether any prune item failed or was not sent.
func PruneFailed(items []*PruneItem) bool {
	for _, it := range items {
		if it.Action == "failed" || it.Action == "skipped" {
			return true
		}
	}
	return false
}

// markWarnings tell about the deployments of keys that existed before this
// deploy without project's mark: Prefect fixes a deployment's labels when
// it is created, so they cannot be marked now and a prune will never remove
// them; and about those marked by another project, whose prune would remove
// them once that project no longer defines them.
func markWarnings(snap *Snapshot, keys []Key, project string) []*diag.Error {
	var unmarked []string
	others := map[string][]string{}
	for _, k := range uniqueKeys(keys) {
		st := snap.Deployment(k)
		if st == nil {
			continue
		}
		var mark any
		if st.Deployment.Labels != nil {
			mark, _ = st.Deployment.Labels.Get(MarkLabel)
		}
		switch m, _ := mark.(string); {
		case m == "":
			unmarked = append(unmarked, k.String())
		case m != project:
			others[m] = append(others[m], k.String())
		}
	}
	var out []*diag.Error
	if len(unmarked) > 0 {
		out = append(out, &diag.Error{Kind: diag.Invalid,
			Msg:  fmt.Sprintf("%d deployment(s) were created without project %q's mark and will never be pruned: %s", len(unmarked), project, strings.Join(unmarked, ", ")),
			Hint: "Prefect sets a deployment's labels only when it is created; to let --prune manage one, delete it ('prefect deployment delete FLOW/NAME') and deploy again with --prune or --project (docs/prune.md)"})
	}
	names := make([]string, 0, len(others))
	for n := range others {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		out = append(out, &diag.Error{Kind: diag.Invalid,
			Msg:  fmt.Sprintf("%s carry the mark of project %q, not %q: that project's --prune removes them once it no longer defines them", strings.Join(others[n], ", "), n, project),
			Hint: "a deployment belongs to the project that created it; deploy it from one project only, or delete it and deploy it again from this one"})
	}
	return out
}
