// What an --atomic deploy wrote, recorded before each write (the rollback reads it).

package deploy

// --atomic: what an Apply wrote is recorded (a journal), and when a write
// fails after others succeeded, or the run is interrupted, every deployment
// it touched is put back as the Snapshot found it, every deployment it
// created is deleted, and every flow it created is deleted when nothing
// else uses it. See docs/registration.md ("--atomic").

import (
	"sort"
	"sync"
)

// journal records, before each write is sent, what it may change: a write
// whose answer was lost (a dropped connection, an interrupt) may still
// have been done by the server, so a rollback treats an attempted write as
// done and reads the server to find out.
type journal struct {
	mu          sync.Mutex
	deployments map[Key]*journalEntry
	flows       map[string]string // flow name → id ("" while unknown) of flows this Apply tried to create
}

type journalEntry struct {
	key Key
	id  string // "" for a create whose answer never came
	// created: the deployment was not in the snapshot (a create was sent).
	created bool
	// existedUnseen: the create answered 200 (an update): see deleteCreated.
	existedUnseen bool
}

func newJournal() *journal {
	return &journal{deployments: map[Key]*journalEntry{}, flows: map[string]string{}}
}

// touch records a write to a deployment of the snapshot (its fields or
// its automations).
func (j *journal) touch(k Key, id string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.deployments[k] == nil {
		j.deployments[k] = &journalEntry{key: k, id: id}
	}
}

// creating records a create about to be sent; created records its answer.
func (j *journal) creating(k Key) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.deployments[k] == nil {
		j.deployments[k] = &journalEntry{key: k, created: true}
	}
}

func (j *journal) created(k Key, id string, isNew bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	e := j.deployments[k]
	e.id, e.existedUnseen = id, !isNew
}

func (j *journal) creatingFlow(name string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if _, ok := j.flows[name]; !ok {
		j.flows[name] = ""
	}
}

func (j *journal) createdFlow(name, id string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.flows[name] = id
}

func (j *journal) keys() []Key {
	j.mu.Lock()
	defer j.mu.Unlock()
	var out []Key
	for k := range j.deployments {
		out = append(out, k)
	}
	sort.Slice(out, func(a, b int) bool { return out[a].String() < out[b].String() })
	return out
}

func (j *journal) empty() bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	return len(j.deployments) == 0 && len(j.flows) == 0
}
