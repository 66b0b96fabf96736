package cli

// Wrong parameters, against a real Prefect server of the test's own: every
// case exits 2 and sends nothing but reads (counted at the HTTP level by a
// recording proxy), and a deploy --all whose last deployment has a bad
// parameter leaves the server exactly as it was (a full read before and
// after, timestamps included).

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/prefectctl/prefectctl/internal/cloudapi"
	"github.com/prefectctl/prefectctl/internal/py"
)

// recorder is a reverse proxy in front of the Prefect API that records
// every request it forwards.
type recorder struct {
	mu   sync.Mutex
	reqs []string
	URL  string
}

func newRecorder(t *testing.T, api string) *recorder {
	t.Helper()
	u, err := url.Parse(api)
	if err != nil {
		t.Fatal(err)
	}
	r := &recorder{}
	proxy := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: u.Scheme, Host: u.Host})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.reqs = append(r.reqs, req.Method+" "+req.URL.Path)
		r.mu.Unlock()
		proxy.ServeHTTP(w, req)
	}))
	t.Cleanup(srv.Close)
	r.URL = srv.URL + u.Path
	return r
}

// isRead reports whether a request only reads: GET, or one of the API's
// POST queries (filter, count, paginate).
func isRead(req string) bool {
	method, path, _ := strings.Cut(req, " ")
	if method == http.MethodGet {
		return true
	}
	path = strings.TrimSuffix(path, "/")
	return method == http.MethodPost && (strings.HasSuffix(path, "/filter") || strings.HasSuffix(path, "/count") || strings.HasSuffix(path, "/paginate"))
}

func (r *recorder) reset() {
	r.mu.Lock()
	r.reqs = nil
	r.mu.Unlock()
}

func (r *recorder) writes() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, q := range r.reqs {
		if !isRead(q) {
			out = append(out, q)
		}
	}
	return out
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.reqs)
}

// serverState reads everything a deploy could change on the server, every
// field kept (ids and timestamps too), in a stable order.
func serverState(t *testing.T, c *cloudapi.Client) string {
	t.Helper()
	ctx := context.Background()
	var b strings.Builder
	for _, res := range []string{"flows", "deployments", "work_pools", "work_queues", "variables", "automations", "block_documents", "flow_runs", "v2/concurrency_limits"} {
		var all []string
		for offset := 0; ; offset += 200 {
			var page []json.RawMessage
			if _, err := c.Do(ctx, "POST", "/"+res+"/filter", nil, py.MapOf("limit", int64(200), "offset", int64(offset)), &page); err != nil {
				t.Fatalf("reading %s: %v", res, err)
			}
			for _, raw := range page {
				all = append(all, string(raw))
			}
			if len(page) < 200 {
				break
			}
		}
		sort.Strings(all)
		fmt.Fprintf(&b, "%s (%d):\n%s\n", res, len(all), strings.Join(all, "\n"))
	}
	return b.String()
}

const paramsFlow = `from typing import List, Literal, Optional

from pydantic import BaseModel, Field

from prefect import flow


class Window(BaseModel):
    days: int
    skip: List[int] = Field(default_factory=list)


@flow(name="%[1]s")
def etl(batch: int = 10, mode: Literal["full", "delta"] = "delta", window: Optional[Window] = None, source: str = "s3"):
    return batch
`

// paramsProject is a test project on a private server: a flow named by
// prefix, a process pool, and a client.
type paramsProject struct {
	t      *testing.T
	c      *cloudapi.Client
	api    string
	rec    *recorder
	prefix string
	pool   string
}

func newParamsProject(t *testing.T) *paramsProject {
	t.Helper()
	api := privatePrefect(t)
	isolate(t)
	c, err := cloudapi.New(cloudapi.Options{BaseURL: api, MaxRetries: 5})
	if err != nil {
		t.Fatal(err)
	}
	pp := &paramsProject{t: t, c: c, api: api, rec: newRecorder(t, api), prefix: uniquePrefix("params")}
	pp.pool = pp.prefix + "-pool"
	if _, err := c.CreateWorkPool(context.Background(), py.MapOf("name", pp.pool, "type", "process")); err != nil {
		t.Fatal(err)
	}
	must(t, os.MkdirAll("flows", 0o755))
	must(t, os.WriteFile(filepath.Join("flows", "etl.py"), []byte(fmt.Sprintf(paramsFlow, pp.prefix+"-etl")), 0o644))
	t.Setenv("NO_COLOR", "1")
	return pp
}

// write writes prefect.yaml; POOL in it names the test's pool.
func (pp *paramsProject) write(yaml string) {
	must(pp.t, os.WriteFile("prefect.yaml", []byte(strings.ReplaceAll(yaml, "POOL", pp.pool)), 0o644))
}

// deploy runs deploy --all through the recording proxy.
func (pp *paramsProject) deploy(args ...string) (int, string, string) {
	pp.t.Setenv("PREFECT_API_URL", pp.rec.URL)
	pp.rec.reset()
	return run(append([]string{"deploy", "--all"}, args...)...)
}

func TestWrongParametersSendNoWrites(t *testing.T) {
	pp := newParamsProject(t)
	ctx := context.Background()
	if _, err := pp.c.Do(ctx, "POST", "/variables/", nil, py.MapOf("name", "batch_size", "value", "a lot"), nil); err != nil {
		t.Fatal(err)
	}
	// A Secret block whose value goes into an int parameter: the error
	// must not show it.
	const secretValue = "pctl-secret-value-8f3a"
	var bt struct{ ID string }
	if _, err := pp.c.Do(ctx, http.MethodGet, "block_types/slug/secret", nil, nil, &bt); err != nil {
		t.Fatal(err)
	}
	var schemas []struct{ ID string }
	if _, err := pp.c.Do(ctx, http.MethodPost, "block_schemas/filter", nil,
		py.MapOf("block_schemas", py.MapOf("block_type_id", py.MapOf("any_", []any{bt.ID}))), &schemas); err != nil || len(schemas) == 0 {
		t.Fatalf("secret block schema: %v", err)
	}
	if _, err := pp.c.Do(ctx, http.MethodPost, "block_documents/", nil, py.MapOf("name", "pw", "block_type_id", bt.ID,
		"block_schema_id", schemas[0].ID, "data", py.MapOf("value", secretValue)), nil); err != nil {
		t.Fatal("creating the secret block failed")
	}
	t.Setenv("PCTL_TEST_BATCH", "many")
	os.Unsetenv("PREFECT_IMAGE_NAME")
	cases := []struct {
		name, yaml, want string
		reads            bool // reads are needed to find the problem
	}{
		{"type", `deployments:
- {name: a, entrypoint: flows/etl.py:etl, parameters: {batch: 1}, work_pool: {name: POOL}}
- {name: b, entrypoint: flows/etl.py:etl, parameters: {batch: "a lot"}, work_pool: {name: POOL}}
`, `deployments[1].parameters.batch: expected integer, got string 'a lot'`, false},
		{"enum", `deployments:
- {name: a, entrypoint: flows/etl.py:etl, parameters: {mode: partial}, work_pool: {name: POOL}}
`, `deployments[0].parameters.mode: expected one of 'full', 'delta', got 'partial'`, false},
		{"extra parameter", `deployments:
- {name: a, entrypoint: flows/etl.py:etl, parameters: {batchsize: 5}, work_pool: {name: POOL}}
`, `has no parameter "batchsize"`, false},
		{"nested model", `deployments:
- {name: a, entrypoint: flows/etl.py:etl, parameters: {window: {days: seven}}, work_pool: {name: POOL}}
`, `deployments[0].parameters.window.days: expected integer, got string 'seven'`, false},
		{"environment variable", `deployments:
- {name: a, entrypoint: flows/etl.py:etl, parameters: {batch: "{{ $PCTL_TEST_BATCH }}"}, work_pool: {name: POOL}}
`, `deployments[0].parameters.batch: expected integer, got string (the value of '{{ $PCTL_TEST_BATCH }}', not shown)`, false},
		{"step output", `build:
- prefect.deployments.steps.run_shell_script:
    id: size
    script: echo a lot
deployments:
- {name: a, entrypoint: flows/etl.py:etl, parameters: {batch: 1}, work_pool: {name: POOL}}
- {name: b, entrypoint: flows/etl.py:etl, parameters: {batch: "{{ size.stdout }}"}, work_pool: {name: POOL}}
`, `expected integer, got string 'a lot' (the value of '{{ size.stdout }}')`, true},
		{"Prefect variable", `deployments:
- {name: a, entrypoint: flows/etl.py:etl, parameters: {batch: "{{ prefect.variables.batch_size }}"}, work_pool: {name: POOL}}
`, `expected integer, got string 'a lot'`, true},
		{"secret block", `deployments:
- {name: a, entrypoint: flows/etl.py:etl, parameters: {batch: "{{ prefect.blocks.secret.pw }}"}, work_pool: {name: POOL}}
`, `deployments[0].parameters.batch: expected integer, got string (the value of '{{ prefect.blocks.secret.pw }}', not shown)`, true},
		{"refused on create only", `deployments:
- {name: new, entrypoint: flows/etl.py:etl, parameters: {window: {days: 1, skip: null}}, work_pool: {name: POOL}}
`, `deployments[0].parameters.window.skip: expected array, got null None`, true},
		{"unset image name", `build:
- prefect_docker.deployments.steps.build_docker_image:
    id: build-image
    image_name: "{{ $PREFECT_IMAGE_NAME }}"
    tag: v1
    dockerfile: auto
deployments:
- {name: a, entrypoint: flows/etl.py:etl, work_pool: {name: POOL, job_variables: {image: "{{ build-image.image }}"}}}
`, `the image name uses $PREFECT_IMAGE_NAME, which is not set`, false},
	}
	before := serverState(t, pp.c)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pp.t = t
			pp.write(c.yaml)
			code, out, errOut := pp.deploy()
			if code != ExitUsage {
				t.Fatalf("exit %d, want %d\n%s\n%s", code, ExitUsage, out, errOut)
			}
			if !strings.Contains(errOut, c.want) {
				t.Errorf("stderr lacks %q:\n%s", c.want, errOut)
			}
			if strings.Contains(out+errOut, secretValue) {
				t.Errorf("the secret block's value is in the output")
			}
			if w := pp.rec.writes(); len(w) > 0 {
				t.Errorf("requests that write were sent: %v", w)
			}
			if n := pp.rec.count(); !c.reads && n > 0 {
				t.Errorf("%d requests sent for a problem found without the server", n)
			}
		})
	}
	pp.t = t
	if after := serverState(t, pp.c); after != before {
		t.Errorf("the server changed:\n--- before\n%s\n--- after\n%s", before, after)
	}

	// The value only create refuses is accepted when it updates an
	// existing deployment, as the server does.
	pp.write(`deployments:
- {name: new, entrypoint: flows/etl.py:etl, parameters: {window: {days: 1}}, work_pool: {name: POOL}}
`)
	if code, out, errOut := pp.deploy(); code != 0 {
		t.Fatalf("creating: exit %d\n%s\n%s", code, out, errOut)
	}
	pp.write(`deployments:
- {name: new, entrypoint: flows/etl.py:etl, parameters: {window: {days: 1, skip: null}}, work_pool: {name: POOL}}
`)
	if code, out, errOut := pp.deploy(); code != 0 {
		t.Fatalf("updating with a value only create refuses: exit %d\n%s\n%s", code, out, errOut)
	}
	d, err := pp.c.ReadDeploymentByName(ctx, pp.prefix+"-etl", "new")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(d.Raw), `"skip":null`) {
		t.Errorf("the server did not store the update: %s", d.Raw)
	}
}

func TestBadLastParameterLeavesTheServerAsItWas(t *testing.T) {
	pp := newParamsProject(t)
	pp.write(`deployments:
- {name: a, entrypoint: flows/etl.py:etl, tags: [v1], parameters: {batch: 1}, work_pool: {name: POOL}, schedules: [{cron: "0 1 * * *"}]}
- {name: b, entrypoint: flows/etl.py:etl, tags: [v1], parameters: {batch: 2}, work_pool: {name: POOL}}
- {name: c, entrypoint: flows/etl.py:etl, tags: [v1], parameters: {batch: 3}, work_pool: {name: POOL}}
`)
	if code, out, errOut := pp.deploy(); code != 0 {
		t.Fatalf("first deploy: exit %d\n%s\n%s", code, out, errOut)
	}
	for _, last := range []struct{ name, yaml, want string }{
		{"as written", `- {name: d, entrypoint: flows/etl.py:etl, parameters: {batch: "a lot"}, work_pool: {name: POOL}}`,
			"deployments[3].parameters.batch: expected integer, got string 'a lot'"},
		{"from a step", `- {name: d, entrypoint: flows/etl.py:etl, parameters: {batch: "{{ size.stdout }}"}, work_pool: {name: POOL}}`,
			"deployments[3].parameters.batch: expected integer, got string 'a lot' (the value of '{{ size.stdout }}')"},
		{"an existing deployment", `- {name: c, entrypoint: flows/etl.py:etl, parameters: {mode: "{{ size.stdout }}"}, work_pool: {name: POOL}}`,
			"deployments[3].parameters.mode: expected one of 'full', 'delta', got 'a lot'"},
	} {
		t.Run(last.name, func(t *testing.T) {
			pp.t = t
			before := serverState(t, pp.c)
			pp.write(`build:
- prefect.deployments.steps.run_shell_script:
    id: size
    script: echo a lot
deployments:
- {name: a, entrypoint: flows/etl.py:etl, tags: [v2], parameters: {batch: 10}, work_pool: {name: POOL}, schedules: [{cron: "0 2 * * *"}]}
- {name: b, entrypoint: flows/etl.py:etl, tags: [v2], description: changed, parameters: {batch: 20}, work_pool: {name: POOL}}
- {name: x, entrypoint: flows/etl.py:etl, tags: [v2], parameters: {batch: 30}, work_pool: {name: POOL}}
` + last.yaml + "\n")
			code, out, errOut := pp.deploy()
			if code != ExitUsage {
				t.Fatalf("exit %d, want %d\n%s\n%s", code, ExitUsage, out, errOut)
			}
			if !strings.Contains(errOut, last.want) {
				t.Errorf("stderr lacks %q:\n%s", last.want, errOut)
			}
			if w := pp.rec.writes(); len(w) > 0 {
				t.Errorf("requests that write were sent: %v", w)
			}
			if after := serverState(t, pp.c); after != before {
				t.Errorf("the server changed:\n--- before\n%s\n--- after\n%s", before, after)
			}
		})
	}
}

// TestParameterWarnings: the server accepts a deployment without a
// required parameter (each run must give it), and with enforcement off one
// with a parameter the flow does not have; prefectctl registers both and
// says what is wrong.
func TestParameterWarnings(t *testing.T) {
	pp := newParamsProject(t)
	must(t, os.WriteFile(filepath.Join("flows", "req.py"), []byte(fmt.Sprintf(`from prefect import flow


@flow(name="%s-req")
def req(source: str, batch: int = 1):
    return batch
`, pp.prefix)), 0o644))
	pp.write(`deployments:
- {name: a, entrypoint: flows/req.py:req, parameters: {batch: 2}, work_pool: {name: POOL}}
- {name: b, entrypoint: flows/req.py:req, enforce_parameter_schema: false, parameters: {source: s, batch: "x", limit: 5}, work_pool: {name: POOL}}
`)
	code, out, errOut := pp.deploy()
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{
		`deployments[0].parameters: flow "` + pp.prefix + `-req" requires parameter 'source', which the deployment does not give`,
		`deployments[1].parameters.limit: flow "` + pp.prefix + `-req" has no parameter "limit": the server stores it, and every run of the deployment then fails (enforce_parameter_schema is off, so it is registered anyway)`,
	} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	for _, name := range []string{"a", "b"} {
		if _, err := pp.c.ReadDeploymentByName(context.Background(), pp.prefix+"-req", name); err != nil {
			t.Errorf("%s not registered: %v", name, err)
		}
	}
}
