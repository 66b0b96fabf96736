package cli

// Helpers of the reliability tests (faults, load, interrupts, secrets):
// a generated project of many deployments and a normalised snapshot of
// what the server holds for it.

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prefectctl/prefectctl/internal/cloudapi"
	"github.com/prefectctl/prefectctl/internal/py"
	"github.com/prefectctl/prefectctl/internal/testenv"
)

// uniquePrefix names everything a test creates on the shared server.
func uniquePrefix(kind string) string {
	return "pctl-" + kind + "-" + strconv.FormatInt(time.Now().UnixNano(), 36)
}

// genProject writes flows/f<i>.py (flow "<prefix>-f<i>") and a
// prefect.yaml with perFlow deployments per flow into dir: tags,
// parameters, a cron and an interval schedule, explicit pull steps, no
// build or push. Returns the full names, "flow/deployment".
// generatedProject is genProject's project with a process pool of its
// own on the server at api, in an isolated Prefect home, removed (with
// everything named by its prefix) when the test ends.
type generatedProject struct {
	c                  *cloudapi.Client
	prefix, pool, work string
	names              []string
}

func newGeneratedProject(t *testing.T, api, kind string, flows, perFlow int) *generatedProject {
	t.Helper()
	isolate(t)
	c, err := cloudapi.New(cloudapi.Options{BaseURL: api, MaxRetries: 5})
	if err != nil {
		t.Fatal(err)
	}
	g := &generatedProject{c: c, prefix: uniquePrefix(kind)}
	g.pool = g.prefix + "-pool"
	if _, err := c.CreateWorkPool(context.Background(), py.MapOf("name", g.pool, "type", "process")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cleanupPrefix(c, g.prefix, g.pool) })
	g.work, _ = os.Getwd()
	g.names = genProject(t, g.work, g.prefix, g.pool, flows, perFlow)
	return g
}

func genProject(t *testing.T, dir, prefix, pool string, flows, perFlow int) []string {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(dir, "flows"), 0o755); err != nil {
		t.Fatal(err)
	}
	var y strings.Builder
	y.WriteString("pull:\n- prefect.deployments.steps.set_working_directory:\n    directory: /opt/app\ndeployments:\n")
	var names []string
	for i := range flows {
		flow := fmt.Sprintf("%s-f%d", prefix, i)
		src := fmt.Sprintf("from prefect import flow\n\n\n@flow(name=%q)\ndef f%d(n: int = %d, label: str = \"x\"):\n    \"\"\"Flow %d.\"\"\"\n    return n\n", flow, i, i, i)
		if err := os.WriteFile(filepath.Join(dir, "flows", fmt.Sprintf("f%d.py", i)), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		for j := range perFlow {
			fmt.Fprintf(&y, `- name: d%d
  entrypoint: flows/f%d.py:f%d
  description: deployment %d of flow %d
  tags: [reliability, t%d]
  parameters: {n: %d, label: "l%d"}
  schedules:
  - {cron: "%d %d * * *", timezone: Europe/Berlin}
  - {interval: %d, active: false}
  work_pool: {name: %s, job_variables: {env: {K: "v%d"}}}
`, j, i, i, j, i, j%3, j, j, j%60, i%24, 3600+j, pool, j)
			names = append(names, flow+"/"+fmt.Sprintf("d%d", j))
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "prefect.yaml"), []byte(y.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return names
}

// volatile are deployment fields that differ between two correct
// registrations of the same project: ids, timestamps, server status.
var volatile = []string{"id", "created", "updated", "flow_id", "last_polled", "status", "created_by", "updated_by",
	"work_queue_id", "storage_document_id", "infrastructure_document_id", "version_id", "deployment_id"}

// snapshot reads every deployment of flows named prefix* and returns
// "flow/deployment" → normalised JSON (volatile fields dropped, schedules
// sorted), and the number of flows with that prefix.
func snapshot(ctx context.Context, t *testing.T, c *cloudapi.Client, prefix string) (map[string]string, int) {
	t.Helper()
	flowFilter := py.MapOf("flows", py.MapOf("name", py.MapOf("like_", prefix)))
	flows, err := c.FilterFlows(ctx, flowFilter)
	if err != nil {
		t.Fatal(err)
	}
	flowName := map[string]string{}
	for _, f := range flows {
		flowName[f.ID] = f.Name
	}
	out := map[string]string{}
	for offset := 0; ; offset += 200 {
		var raw []json.RawMessage
		body := py.MapOf("flows", py.MapOf("name", py.MapOf("like_", prefix)), "limit", int64(200), "offset", int64(offset))
		if _, err := c.Do(ctx, "POST", "/deployments/filter", nil, body, &raw); err != nil {
			t.Fatal(err)
		}
		for _, r := range raw {
			v, err := py.DecodeJSON(r)
			if err != nil {
				t.Fatal(err)
			}
			m := v.(*py.Map)
			flowID, _ := m.Get("flow_id")
			dname, _ := m.Get("name")
			name := flowName[py.Str(flowID)] + "/" + py.Str(dname)
			strip(m)
			// The flow's id is in the labels; an interval's anchor is the
			// time of the registration, as in Prefect.
			if l, ok := m.Get("labels"); ok {
				if lm, ok := l.(*py.Map); ok {
					lm.Delete("prefect.flow.id")
				}
			}
			sv, _ := m.Get("schedules")
			if s, ok := sv.([]any); ok {
				for _, x := range s {
					strip(x.(*py.Map))
					if in, ok := x.(*py.Map).Get("schedule"); ok {
						if im, ok := in.(*py.Map); ok {
							im.Delete("anchor_date")
						}
					}
				}
				sort.Slice(s, func(i, j int) bool { return enc(t, s[i]) < enc(t, s[j]) })
			}
			if _, dup := out[name]; dup {
				t.Errorf("duplicate deployment %s", name)
			}
			out[name] = enc(t, m)
		}
		if len(raw) < 200 {
			break
		}
	}
	return out, len(flows)
}

func strip(m *py.Map) {
	for _, k := range volatile {
		m.Delete(k)
	}
}

func enc(t *testing.T, v any) string {
	b, err := py.EncodeJSON(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// scratchPool makes a name prefix of the test's own and a work pool of
// poolType under it, and removes what the test created under the prefix
// when it ends.
func scratchPool(t *testing.T, c *cloudapi.Client, name, poolType string) (prefix, pool string) {
	t.Helper()
	prefix = uniquePrefix(name)
	pool = prefix + "-pool"
	if _, err := c.CreateWorkPool(context.Background(), py.MapOf("name", pool, "type", poolType)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cleanupPrefix(c, prefix, pool) })
	return prefix, pool
}

// cleanupPrefix deletes every deployment and flow named prefix*, and the
// work pool.
func cleanupPrefix(c *cloudapi.Client, prefix, pool string) {
	ctx := context.Background()
	filter := py.MapOf("flows", py.MapOf("name", py.MapOf("like_", prefix)))
	for {
		var raw []struct {
			ID string `json:"id"`
		}
		if _, err := c.Do(ctx, "POST", "/deployments/filter", nil, py.MapOf("flows", py.MapOf("name", py.MapOf("like_", prefix)), "limit", int64(200)), &raw); err != nil || len(raw) == 0 {
			break
		}
		for _, d := range raw {
			_ = c.DeleteDeployment(ctx, d.ID)
		}
	}
	if flows, err := c.FilterFlows(ctx, filter); err == nil {
		for _, f := range flows {
			_, _ = c.Do(ctx, "DELETE", "/flows/"+f.ID, nil, nil, nil)
		}
	}
	if pool != "" {
		_ = c.DeleteWorkPool(ctx, pool)
	}
}

// applyResult is deploy -o json.
type applyResult struct {
	OK          bool `json:"ok"`
	Deployments []struct {
		Name   string `json:"name"`
		Action string `json:"action"`
		Error  string `json:"error"`
	} `json:"deployments"`
}

func parseApply(t *testing.T, out string) applyResult {
	t.Helper()
	var r applyResult
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("deploy -o json is not JSON: %v\n%s", err, out)
	}
	return r
}

// privatePrefect starts a Prefect 3.9.1 server (API only, no services)
// of the test's own on a free loopback port, for load that the shared
// test server's single SQLite writer should not get from other packages'
// tests at the same time. It is stopped, by the process group of the PID
// started here, when the test ends. Returns the API URL.
func privatePrefect(t *testing.T) string {
	t.Helper()
	return testenv.PrivatePrefect(t)
}

// writePushProject writes into work a project of one flow whose build step
// makes a one-layer image, image:t1, and whose push step pushes it, with
// pushExtra (one line of YAML, such as a credentials mapping) among the
// push step's inputs; the deployment runs on pool.
func writePushProject(t *testing.T, work, prefix, image, pool, pushExtra string) {
	t.Helper()
	must(t, os.MkdirAll(filepath.Join(work, "flows"), 0o755))
	must(t, os.WriteFile(filepath.Join(work, "flows", "f.py"), []byte(fmt.Sprintf("from prefect import flow\n\n\n@flow(name=%q)\ndef f():\n    pass\n", prefix+"-flow")), 0o644))
	// A one-layer image keeps the push small.
	must(t, os.WriteFile(filepath.Join(work, "Dockerfile"), []byte("FROM scratch\nCOPY flows /flows\n"), 0o644))
	if pushExtra != "" {
		pushExtra = "\n      " + pushExtra
	}
	must(t, os.WriteFile(filepath.Join(work, "prefect.yaml"), []byte(fmt.Sprintf(`pull: []
deployments:
- name: a
  entrypoint: flows/f.py:f
  build:
  - prefect_docker.deployments.steps.build_docker_image:
      id: img
      image_name: %s
      tag: t1
      dockerfile: Dockerfile
  push:
  - prefect_docker.deployments.steps.push_docker_image:
      image_name: "{{ img.image_name }}"
      tag: "{{ img.tag }}"%s
  work_pool: {name: %s, job_variables: {image: "{{ img.image }}"}}
`, image, pushExtra, pool)), 0o644))
}
