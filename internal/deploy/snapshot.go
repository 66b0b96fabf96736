package deploy

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/prefectctl/prefectctl/internal/cloudapi"
	"github.com/prefectctl/prefectctl/internal/py"
)

// Key names a deployment on the server: its flow's name and its own.
type Key struct {
	Flow, Name string
}

func (k Key) String() string { return k.Flow + "/" + k.Name }

// Snapshot is what the server holds for a selection of deployments, read
// before anything is written in a number of requests that does not grow
// with the selection (one filter request per kind of object, each paged by
// the server's limit of 200 objects). Plan, the unchanged check, preflight
// and registration all read it, and nothing else reads the server before
// the writes begin.
//
// It holds the deployments whole, as the server returned them, and what can
// be known about their automations, so that a later step can put a
// deployment back as it was.
type Snapshot struct {
	// Taken is when the reads were sent.
	Taken time.Time
	// Flows are the selection's flows that exist, by name.
	Flows map[string]*cloudapi.Flow
	// Deployments are the selection's deployments that exist.
	Deployments map[Key]*DeploymentState
	// Pools are the selection's work pools that exist, by name.
	Pools map[string]*cloudapi.WorkPool
	// AutomationsSupported is false when the server has no automations
	// (it answered 404, as servers before automations and some Cloud
	// tiers do); prefect deploy then skips triggers, and so does
	// prefectctl.
	AutomationsSupported bool
	// Automations is every automation of the workspace, whole, newest
	// first; DeploymentState.Automations points into it.
	Automations []*py.Map
	// Marked are the workspace's deployments that carry the mark of the
	// project being pruned (read only with Options.Prune; see prune.go).
	Marked []Marked

	read map[Key]bool // the keys asked for, found or not
}

// DeploymentState is one deployment as the snapshot found it.
type DeploymentState struct {
	Deployment *cloudapi.Deployment
	// Server is the deployment as the server returned it, in its field
	// order: what Diff compares and what a restore would send back.
	Server *py.Map
	// Automations are the automations that may be owned by this
	// deployment (see MayOwn): the server never says which resource owns
	// an automation, so these are candidates, not proof. An owned
	// automation is among them unless it was edited to neither act on the
	// deployment nor keep the name prefect deploy gave it.
	Automations []*py.Map
}

// ID is the deployment's id.
func (s *DeploymentState) ID() string { return s.Deployment.ID }

// pageLimit is the server's maximum page (PREFECT_SERVER_API_DEFAULT_LIMIT).
const pageLimit = 200

// pairsPerRequest bounds the flow/deployment pairs asked for in one
// deployments filter. The filter matches the cross product of the flow
// names and the deployment names, so a page can hold deployments that were
// not asked for; staying below the page size leaves room for them, and a
// full page is split and asked again.
const pairsPerRequest = 150

// ReadSnapshot reads the server's state for the deployments named by keys
// and the work pools named by pools: the flows, the deployments, the pools
// and every automation, in one round of parallel filter requests (more
// only where a kind has more than one page). alongside, when not nil, runs
// in the same round (prefectctl fetches its CSRF token there).
func ReadSnapshot(ctx context.Context, api ServerReader, keys []Key, pools []string, alongside func(context.Context) error) (*Snapshot, error) {
	snap := &Snapshot{Taken: time.Now(), Flows: map[string]*cloudapi.Flow{}, Deployments: map[Key]*DeploymentState{},
		Pools: map[string]*cloudapi.WorkPool{}, AutomationsSupported: true, read: map[Key]bool{}}
	keys = uniqueKeys(keys)
	var flowNames []string
	seen := map[string]bool{}
	for _, k := range keys {
		snap.read[k] = true
		if !seen[k.Flow] {
			seen[k.Flow] = true
			flowNames = append(flowNames, k.Flow)
		}
	}
	var (
		flows       []cloudapi.Flow
		deployments []cloudapi.Deployment
		poolList    []cloudapi.WorkPool
		automations []*py.Map
		noAutos     bool
	)
	err := parallel(ctx,
		func(ctx context.Context) (err error) {
			flows, err = readFlows(ctx, api, flowNames)
			return err
		},
		func(ctx context.Context) (err error) {
			deployments, err = readDeployments(ctx, api, keys)
			return err
		},
		func(ctx context.Context) (err error) {
			poolList, err = readPools(ctx, api, uniqueStrings(pools))
			return err
		},
		func(ctx context.Context) (err error) {
			automations, err = readAutomations(ctx, api)
			if errors.Is(err, cloudapi.ErrNotFound) {
				noAutos, err = true, nil
			}
			return err
		},
		alongside,
	)
	if err != nil {
		return nil, err
	}
	for i := range flows {
		snap.Flows[flows[i].Name] = &flows[i]
	}
	for i := range poolList {
		snap.Pools[poolList[i].Name] = &poolList[i]
	}
	snap.AutomationsSupported = !noAutos
	snap.Automations = automations
	if err := snap.add(deployments); err != nil {
		return nil, err
	}
	return snap, nil
}

// Extend reads the deployments named by keys that the snapshot was not
// asked for (a name that a build step's output completed), in the same
// way, and adds them.
func (s *Snapshot) Extend(ctx context.Context, api ServerReader, keys []Key) error {
	var missing []Key
	for _, k := range uniqueKeys(keys) {
		if !s.read[k] {
			missing = append(missing, k)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	var flowNames []string
	for _, k := range missing {
		s.read[k] = true
		if s.Flows[k.Flow] == nil {
			flowNames = append(flowNames, k.Flow)
		}
	}
	var flows []cloudapi.Flow
	var deployments []cloudapi.Deployment
	err := parallel(ctx,
		func(ctx context.Context) (err error) {
			flows, err = readFlows(ctx, api, uniqueStrings(flowNames))
			return err
		},
		func(ctx context.Context) (err error) {
			deployments, err = readDeployments(ctx, api, missing)
			return err
		})
	if err != nil {
		return err
	}
	for i := range flows {
		s.Flows[flows[i].Name] = &flows[i]
	}
	return s.add(deployments)
}

// Deployment is the state of the deployment named by k, or nil when the
// server does not hold it.
func (s *Snapshot) Deployment(k Key) *DeploymentState { return s.Deployments[k] }

// add keeps the deployments that were asked for (the filter also returns
// other pairs of the same flow and deployment names) and finds their
// candidate automations.
func (s *Snapshot) add(list []cloudapi.Deployment) error {
	flowName := map[string]string{}
	for name, f := range s.Flows {
		flowName[f.ID] = name
	}
	for i := range list {
		d := &list[i]
		k := Key{Flow: flowName[d.FlowID], Name: d.Name}
		if k.Flow == "" || !s.read[k] {
			continue
		}
		v, err := py.DecodeJSON(d.Raw)
		m, ok := v.(*py.Map)
		if err != nil || !ok {
			return fmt.Errorf("reading deployment %s: the server's answer is not a JSON object", k)
		}
		d.Raw = nil // Server holds it; a snapshot of hundreds keeps it once
		st := &DeploymentState{Deployment: d, Server: m}
		for _, a := range s.Automations {
			if MayOwn(st.ID(), k.Name, a) {
				st.Automations = append(st.Automations, a)
			}
		}
		s.Deployments[k] = st
	}
	return nil
}

// defaultAutomationName is the name prefect deploy gives the automation of
// a trigger without one: "<deployment>__automation_<n>".
var defaultAutomationName = regexp.MustCompile(`^(.*)__automation_[0-9]+$`)

// MayOwn reports whether automation a may be owned by the deployment with
// this id and name: it acts on the deployment (an action naming its id:
// run-deployment, which every automation prefect deploy creates from a
// trigger carries, or pause or resume), or it has the name prefect deploy
// gives a trigger's automation. The server stores ownership but never
// returns it (GET /automations/related-to mixes owned and merely related
// automations, and there is one such request per deployment), so this is
// the rule that decides whether a deploy must delete the deployment's
// owned automations; see docs/differences.md.
func MayOwn(id, name string, a *py.Map) bool {
	actions, _ := get(a, "actions").([]any)
	for _, list := range [][]any{actions, anyList(get(a, "actions_on_trigger")), anyList(get(a, "actions_on_resolve"))} {
		for _, x := range list {
			if act, ok := x.(*py.Map); ok && get(act, "deployment_id") == id {
				return true
			}
		}
	}
	if n, ok := get(a, "name").(string); ok {
		if m := defaultAutomationName.FindStringSubmatch(n); m != nil && m[1] == name {
			return true
		}
	}
	return false
}

func anyList(x any) []any {
	l, _ := x.([]any)
	return l
}

func automationNames(list []*py.Map) []any {
	out := []any{}
	for _, a := range list {
		out = append(out, get(a, "name"))
	}
	return out
}

// readFlows reads the named flows (names are unique: a page of ≤ 200 names
// holds every match).
func readFlows(ctx context.Context, api ServerReader, names []string) ([]cloudapi.Flow, error) {
	var out []cloudapi.Flow
	var mu sync.Mutex
	var jobs []func(context.Context) error
	for _, chunk := range chunks(names, pageLimit) {
		jobs = append(jobs, func(ctx context.Context) error {
			got, err := api.FilterFlows(ctx, py.MapOf("flows", py.MapOf("name", py.MapOf("any_", anyStrings(chunk))), "limit", int64(pageLimit)))
			mu.Lock()
			out = append(out, got...)
			mu.Unlock()
			return err
		})
	}
	return out, parallel(ctx, jobs...)
}

// readPools reads the named work pools.
func readPools(ctx context.Context, api ServerReader, names []string) ([]cloudapi.WorkPool, error) {
	var out []cloudapi.WorkPool
	var mu sync.Mutex
	var jobs []func(context.Context) error
	for _, chunk := range chunks(names, pageLimit) {
		jobs = append(jobs, func(ctx context.Context) error {
			got, err := api.FilterWorkPools(ctx, py.MapOf("work_pools", py.MapOf("name", py.MapOf("any_", anyStrings(chunk))), "limit", int64(pageLimit)))
			mu.Lock()
			out = append(out, got...)
			mu.Unlock()
			return err
		})
	}
	return out, parallel(ctx, jobs...)
}

// readDeployments reads the deployments of the given flow/name pairs, in
// requests of at most pairsPerRequest pairs (grouped by flow, so that the
// cross product the filter matches stays close to the pairs asked for). A
// page that comes back full may have left some out: it is split in two and
// asked again, down to a single pair, which matches at most one deployment.
// Offset paging is not used: the server sorts without a tiebreak, so pages
// can overlap or skip.
func readDeployments(ctx context.Context, api ServerReader, keys []Key) ([]cloudapi.Deployment, error) {
	sorted := append([]Key(nil), keys...)
	sort.Slice(sorted, func(i, j int) bool {
		if sorted[i].Flow != sorted[j].Flow {
			return sorted[i].Flow < sorted[j].Flow
		}
		return sorted[i].Name < sorted[j].Name
	})
	var out []cloudapi.Deployment
	var mu sync.Mutex
	var read func(ctx context.Context, part []Key) error
	read = func(ctx context.Context, part []Key) error {
		flows, names := uniqueStrings(keyFlows(part)), uniqueStrings(keyNames(part))
		body := py.MapOf("flows", py.MapOf("name", py.MapOf("any_", anyStrings(flows))),
			"deployments", py.MapOf("name", py.MapOf("any_", anyStrings(names))),
			"limit", int64(pageLimit))
		got, err := api.FilterDeployments(ctx, body)
		if err != nil {
			return err
		}
		if len(got) >= pageLimit && len(part) > 1 {
			half := len(part) / 2
			return parallel(ctx, func(ctx context.Context) error { return read(ctx, part[:half]) },
				func(ctx context.Context) error { return read(ctx, part[half:]) })
		}
		mu.Lock()
		out = append(out, got...)
		mu.Unlock()
		return nil
	}
	var jobs []func(context.Context) error
	for _, part := range chunks(sorted, pairsPerRequest) {
		jobs = append(jobs, func(ctx context.Context) error { return read(ctx, part) })
	}
	if err := parallel(ctx, jobs...); err != nil {
		return nil, err
	}
	// Split requests can return one deployment twice.
	seen := map[string]bool{}
	unique := out[:0]
	for _, d := range out {
		if !seen[d.ID] {
			seen[d.ID] = true
			unique = append(unique, d)
		}
	}
	return unique, nil
}

// readAutomations reads every automation, newest first, page by page. The
// filter has no way to ask for the automations of some deployments, and it
// sorts without a tiebreak, so the pages are cut by creation time (each
// page asks for those created at or before the oldest of the last page)
// rather than by offset, and overlaps are dropped by id.
func readAutomations(ctx context.Context, api ServerReader) ([]*py.Map, error) {
	var out []*py.Map
	seen := map[string]bool{}
	var before any
	for {
		body := py.MapOf("sort", "CREATED_DESC", "limit", int64(pageLimit))
		if before != nil {
			body.Set("automations", py.MapOf("created", py.MapOf("before_", before)))
		}
		page, err := api.FilterAutomations(ctx, body)
		if err != nil {
			return nil, err
		}
		fresh := 0
		for _, a := range page {
			id := py.Str(get(a, "id"))
			if !seen[id] {
				seen[id] = true
				out = append(out, a)
				fresh++
			}
		}
		if len(page) < pageLimit {
			return out, nil
		}
		if fresh == 0 {
			return nil, errors.New("reading automations: more than 200 were created in the same instant; prefectctl cannot page through them")
		}
		before = get(page[len(page)-1], "created")
	}
}

// parallel runs the jobs (nil ones skipped) at once and returns the first
// error; the others are cancelled then.
func parallel(ctx context.Context, jobs ...func(context.Context) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	for _, job := range jobs {
		if job == nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := job(ctx); err != nil {
				once.Do(func() { first = err; cancel() })
			}
		}()
	}
	wg.Wait()
	return first
}

func chunks[T any](list []T, n int) [][]T {
	var out [][]T
	for len(list) > 0 {
		k := min(n, len(list))
		out = append(out, list[:k])
		list = list[k:]
	}
	return out
}

func uniqueKeys(keys []Key) []Key {
	seen := map[Key]bool{}
	var out []Key
	for _, k := range keys {
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	return out
}

func uniqueStrings(list []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range list {
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

func keyFlows(keys []Key) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = k.Flow
	}
	return out
}

func keyNames(keys []Key) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = k.Name
	}
	return out
}

func anyStrings(list []string) []any {
	out := make([]any, len(list))
	for i, s := range list {
		out[i] = s
	}
	return out
}

// keyOf is the key a spec registers under.
func keyOf(s *Spec) Key { return Key{Flow: s.FlowName, Name: s.Name} }

// preparedKey is the key a prepared deployment will most likely register
// under: its name as prefect deploy stores it (the stem of a *.py name). A
// name a build step completes is read again after the steps (Extend).
func preparedKey(d *Deployment) Key {
	return Key{Flow: d.FlowName, Name: strings.TrimSuffix(d.Name, ".py")}
}
