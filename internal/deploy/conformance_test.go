package deploy_test

// Side-by-side conformance: every project under testdata/conformance is
// deployed by the real `prefect deploy --all` (Prefect 3.9.1, from the
// testenv venv) and by `prefectctl deploy --all` against the same real
// server, from the same directory with the same environment, each twice
// (the second run exercises the update path). After each run, the
// deployments and their automations read back from the server, and the
// create/update request bodies recorded by a proxy, must be identical once
// server-made ids and timestamps are normalised. The only tolerated
// differences are listed in knownDifferences and in docs/differences.md.
//
// PREFECTCTL_CONFORMANCE_ONLY=c07 runs the projects whose name contains it;
// PREFECTCTL_CONFORMANCE_BIN uses a prebuilt binary instead of building one.

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/prefectctl/prefectctl/internal/cloudapi"
	"github.com/prefectctl/prefectctl/internal/py"
	"github.com/prefectctl/prefectctl/internal/testenv"
)

// conformanceCase is a project's case.yaml: what the test sets up on the
// server before deploying, and which deployments must come out.
type conformanceCase struct {
	// Expect lists every flow/deployment the project registers.
	Expect []string `yaml:"expect"`
	// Env is added to both tools' environment.
	Env map[string]string `yaml:"env"`
	// Git makes the copy a git checkout with one commit and an origin
	// remote, so the version is inferred from git.
	Git bool `yaml:"git"`
	// Redeploy names another prefect.yaml in the project that the second
	// deploy of each tool uses, to exercise the update path with changes.
	Redeploy string `yaml:"redeploy"`
	// PauseBetween pauses every deployment through the API before the
	// redeploy, as a user would in the UI.
	PauseBetween bool `yaml:"pause_between"`
	// Pools are process work pools that must exist (conformance-process
	// always does).
	Pools []string `yaml:"pools"`
	// Variables are Prefect variables (name → JSON value) to create.
	Variables map[string]any `yaml:"variables"`
	// Blocks are block documents to create with Prefect's own classes.
	Blocks []struct {
		Type  string `yaml:"type"` // secret (its value may be any JSON)
		Name  string `yaml:"name"`
		Value any    `yaml:"value"`
	} `yaml:"blocks"`
}

const conformancePool = "conformance-process"

// venvBin is the bin directory of the venv holding Prefect 3.9.1; both tools
// find python3 there, as a user with the venv activated does.
var venvBin string

type server struct {
	api    string
	cli    string
	python string
	c      *cloudapi.Client
}

// serverKinds are the Prefect servers the side-by-side tests run against:
// SQLite, the single-machine default, and PostgreSQL, what teams run.
var serverKinds = []string{"sqlite", "postgres"}

func realServer(t *testing.T, kind string) (*server, context.Context) {
	t.Helper()
	if testing.Short() {
		t.Skip("needs the real Prefect server and the Prefect 3.9.1 CLI")
	}
	api := testenv.Prefect(t)
	if kind == "postgres" {
		api = testenv.PrefectPostgres(t)
	}
	s := &server{api: api, cli: testenv.PrefectCLI(t), python: testenv.Python(t)}
	venvBin = filepath.Dir(s.python)
	c, err := cloudapi.New(cloudapi.Options{BaseURL: api, MaxRetries: 6, Timeout: 60 * time.Second, CSRF: true, BackoffBase: 500 * time.Millisecond}) // the shared SQLite server answers 503 while busy with other packages
	if err != nil {
		t.Fatal(err)
	}
	s.c = c
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	t.Cleanup(cancel)
	return s, ctx
}

// prefectctlBinary builds the CLI into the test's temporary directory (the
// go build cache makes a second build cheap), so projects can be deployed
// from their own working directory in parallel.
func prefectctlBinary(t *testing.T) string {
	t.Helper()
	// A developer may point the test at a binary built elsewhere.
	if b := os.Getenv("PREFECTCTL_CONFORMANCE_BIN"); b != "" {
		return b
	}
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "prefectctl")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/prefectctl")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// toolEnv is the environment both tools run with: the test's own minus any
// Prefect setting or CI variable that would change the outcome.
func toolEnv(api, home string, extra map[string]string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		switch {
		case k == "PATH" && venvBin != "":
			// As with an activated venv: custom steps run in Prefect's Python.
			env = append(env, "PATH="+venvBin+string(os.PathListSeparator)+v)
			continue
		case strings.HasPrefix(k, "PREFECT_"), strings.HasPrefix(k, "GITHUB_"), strings.HasPrefix(k, "CI_"),
			strings.HasPrefix(k, "BITBUCKET_"), strings.HasPrefix(k, "BUILD_"):
			continue
		}
		env = append(env, kv)
	}
	env = append(env, "PREFECT_API_URL="+api, "PREFECT_HOME="+home,
		"PREFECT_SERVER_ANALYTICS_ENABLED=false", "DO_NOT_TRACK=1", "NO_COLOR=1", "COLUMNS=200")
	keys := make([]string, 0, len(extra))
	for k := range extra {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		env = append(env, k+"="+extra[k])
	}
	return env
}

func run(ctx context.Context, t *testing.T, dir string, env []string, name string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// copyTree copies a project into a fresh directory.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		if rel == "case.yaml" {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func gitInit(ctx context.Context, t *testing.T, dir string) {
	t.Helper()
	env := append(os.Environ(), "GIT_AUTHOR_NAME=Conformance", "GIT_AUTHOR_EMAIL=c@example.com",
		"GIT_COMMITTER_NAME=Conformance", "GIT_COMMITTER_EMAIL=c@example.com",
		"GIT_AUTHOR_DATE=2026-01-02T03:04:05Z", "GIT_COMMITTER_DATE=2026-01-02T03:04:05Z")
	for _, args := range [][]string{
		{"init", "-q", "-b", "main"},
		{"add", "-A"},
		{"commit", "-q", "-m", "Initial import\n\nBody of the message."},
		{"remote", "add", "origin", "https://example.com/acme/conformance.git"},
	} {
		if out, err := run(ctx, t, dir, env, "git", args...); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
}

var poolMu sync.Mutex

// ensureProcessPool creates a process work pool with Prefect's own CLI, which
// fills in the default base job template.
func (s *server) ensureProcessPool(ctx context.Context, t *testing.T, name string) {
	t.Helper()
	poolMu.Lock()
	defer poolMu.Unlock()
	if _, err := s.c.ReadWorkPool(ctx, name); err == nil {
		return
	} else if !errors.Is(err, cloudapi.ErrNotFound) {
		t.Fatal(err)
	}
	env := toolEnv(s.api, t.TempDir(), nil)
	if out, err := run(ctx, t, t.TempDir(), env, s.cli, "--no-prompt", "work-pool", "create", name, "--type", "process"); err != nil {
		t.Fatalf("creating work pool %s: %v\n%s", name, err, out)
	}
}

// setupCase creates the variables and blocks a project refers to.
func (s *server) setupCase(ctx context.Context, t *testing.T, cc *conformanceCase) {
	t.Helper()
	s.ensureProcessPool(ctx, t, conformancePool)
	for _, p := range cc.Pools {
		s.ensureProcessPool(ctx, t, p)
	}
	names := make([]string, 0, len(cc.Variables))
	for k := range cc.Variables {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, name := range names {
		if err := s.c.DeleteVariableByName(ctx, name); err != nil && !errors.Is(err, cloudapi.ErrNotFound) {
			t.Fatal(err)
		}
		if _, err := s.c.CreateVariable(ctx, name, py.FromGo(cc.Variables[name]), nil); err != nil {
			t.Fatal(err)
		}
	}
	for _, b := range cc.Blocks {
		raw, err := json.Marshal(b.Value)
		if err != nil {
			t.Fatal(err)
		}
		script := `import json, sys
from prefect.blocks.system import Secret
cls = {"secret": Secret}[sys.argv[1]]
cls(value=json.loads(sys.argv[3])).save(sys.argv[2], overwrite=True)
`
		env := toolEnv(s.api, t.TempDir(), nil)
		if out, err := run(ctx, t, t.TempDir(), env, s.python, "-c", script, b.Type, b.Name, string(raw)); err != nil {
			t.Fatalf("creating block %s/%s: %v\n%s", b.Type, b.Name, err, out)
		}
	}
}

// snapshot is what the server holds for a project's flows.
type snapshot struct {
	deployments map[string]any // flow/name → normalised deployment
	count       int            // deployments of the project's flows, duplicates included
	ids         map[string]string
}

func flowNames(expect []string) []any {
	seen := map[string]bool{}
	var out []any
	for _, e := range expect {
		f, _, _ := strings.Cut(e, "/")
		if !seen[f] {
			seen[f] = true
			out = append(out, f)
		}
	}
	return out
}

func (s *server) filterDeployments(ctx context.Context, t *testing.T, flows []any) []*py.Map {
	t.Helper()
	var raw json.RawMessage
	body := py.MapOf("flows", py.MapOf("name", py.MapOf("any_", flows)))
	if _, err := s.c.Do(ctx, "POST", "/deployments/filter", nil, body, &raw); err != nil {
		t.Fatal(err)
	}
	v, err := py.DecodeJSON(raw)
	if err != nil {
		t.Fatal(err)
	}
	var out []*py.Map
	for _, d := range v.([]any) {
		out = append(out, d.(*py.Map))
	}
	return out
}

// automationsOf reads the automations related to the deployment: those it
// owns and those that run it (the server returns no owner, so this is the
// one read that sees owned ones; in these projects every automation comes
// from a trigger and runs its own deployment).
func (s *server) automationsOf(ctx context.Context, t *testing.T, id string) []any {
	t.Helper()
	var raw json.RawMessage
	if _, err := s.c.Do(ctx, "GET", "/automations/related-to/prefect.deployment."+id, nil, nil, &raw); err != nil {
		t.Fatal(err)
	}
	v, err := py.DecodeJSON(raw)
	if err != nil {
		t.Fatal(err)
	}
	var out []any
	for _, a := range v.([]any) {
		out = append(out, a.(*py.Map))
	}
	sort.Slice(out, func(i, j int) bool {
		a, _ := out[i].(*py.Map).Get("name")
		b, _ := out[j].(*py.Map).Get("name")
		return py.Str(a) < py.Str(b)
	})
	return out
}

// read reads every expected deployment by name, with its automations.
func (s *server) read(ctx context.Context, t *testing.T, cc *conformanceCase, since time.Time) *snapshot {
	t.Helper()
	snap := &snapshot{deployments: map[string]any{}, ids: map[string]string{}}
	snap.count = len(s.filterDeployments(ctx, t, flowNames(cc.Expect)))
	for _, full := range cc.Expect {
		flow, name, _ := strings.Cut(full, "/")
		var raw json.RawMessage
		_, err := s.c.Do(ctx, "GET", "/deployments/name/"+url.PathEscape(flow)+"/"+url.PathEscape(name), nil, nil, &raw)
		if err != nil {
			t.Fatalf("reading %s: %v", full, err)
		}
		v, err := py.DecodeJSON(raw)
		if err != nil {
			t.Fatal(err)
		}
		d := v.(*py.Map)
		id, _ := d.Get("id")
		snap.ids[full] = py.Str(id)
		d.Set("automations", s.automationsOf(ctx, t, py.Str(id)))
		snap.deployments[full] = normaliseDeployment(d, since)
	}
	return snap
}

// recorder is a reverse proxy in front of the server that keeps the bodies
// of deployment creates and updates. The OSS server drops some fields
// (version_info) and normalises others, so the requests are compared too.
type recorder struct {
	api  string
	mu   sync.Mutex
	reqs []recorded
}

type recorded struct {
	method, id string // id: the deployment a PATCH updates
	body       any
}

var deploymentPath = regexp.MustCompile(`/deployments/([0-9a-f-]{36})?$`)

func newRecorder(t *testing.T, api string) *recorder {
	t.Helper()
	target, err := url.Parse(api)
	if err != nil {
		t.Fatal(err)
	}
	r := &recorder{}
	proxy := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: target.Scheme, Host: target.Host})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		m := deploymentPath.FindStringSubmatch(req.URL.Path)
		if m == nil || !((req.Method == http.MethodPost && m[1] == "") || (req.Method == http.MethodPatch && m[1] != "")) {
			proxy.ServeHTTP(w, req)
			return
		}
		b, err := io.ReadAll(req.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		req.Body = io.NopCloser(bytes.NewReader(b))
		req.ContentLength = int64(len(b))
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		proxy.ServeHTTP(sw, req)
		// Only what the server took: a retried request (a busy server
		// answering 503, say) counts once, as its successful attempt.
		if sw.status >= 300 {
			return
		}
		if v, err := py.DecodeJSON(b); err == nil {
			r.mu.Lock()
			r.reqs = append(r.reqs, recorded{method: req.Method, id: m[1], body: v})
			r.mu.Unlock()
		}
	}))
	t.Cleanup(srv.Close)
	r.api = srv.URL + target.Path
	return r
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// take returns the recorded bodies by flow/deployment (the request kind
// prefixed, "POST flow/name"), normalised like the read-back deployments,
// and forgets them.
func (r *recorder) take(t *testing.T, snap *snapshot, since time.Time) *snapshot {
	t.Helper()
	r.mu.Lock()
	reqs := r.reqs
	r.reqs = nil
	r.mu.Unlock()
	byID := map[string]string{}
	byName := map[string]string{}
	for full, id := range snap.ids {
		byID[id] = full
		_, name, _ := strings.Cut(full, "/")
		byName[name] = full
	}
	out := &snapshot{deployments: map[string]any{}, ids: map[string]string{}}
	for _, q := range reqs {
		body, ok := q.body.(*py.Map)
		if !ok {
			t.Fatalf("%s /deployments body is not an object: %s", q.method, mustJSON(q.body))
		}
		full := byID[q.id]
		if q.method == http.MethodPost {
			full = byName[py.Str(get(body, "name"))]
		}
		if full == "" {
			t.Fatalf("a %s /deployments/%s request for a deployment not in case.yaml: %s", q.method, q.id, mustJSON(body))
		}
		if testing.Verbose() {
			t.Logf("recorded %s /deployments/%s for %s", q.method, q.id, full)
		}
		out.deployments[full] = normaliseDeployment(body, since)
		out.count++
	}
	return out
}

// pauseAll pauses the project's deployments, as the UI's toggle does.
func (s *server) pauseAll(ctx context.Context, t *testing.T, cc *conformanceCase) {
	t.Helper()
	for _, d := range s.filterDeployments(ctx, t, flowNames(cc.Expect)) {
		id := py.Str(get(d, "id"))
		if _, err := s.c.Do(ctx, "PATCH", "/deployments/"+id, nil, py.MapOf("paused", true), nil); err != nil {
			t.Fatal(err)
		}
	}
}

// wipe deletes the project's deployments, their automations and flows.
func (s *server) wipe(ctx context.Context, t *testing.T, cc *conformanceCase) {
	t.Helper()
	flows := map[string]bool{}
	for _, d := range s.filterDeployments(ctx, t, flowNames(cc.Expect)) {
		id := py.Str(get(d, "id"))
		flows[py.Str(get(d, "flow_id"))] = true
		if err := s.c.DeleteAutomationsOwnedBy(ctx, "prefect.deployment."+id); err != nil && !errors.Is(err, cloudapi.ErrNotFound) {
			t.Fatal(err)
		}
		if err := s.c.DeleteDeployment(ctx, id); err != nil && !errors.Is(err, cloudapi.ErrNotFound) {
			t.Fatal(err)
		}
	}
	for id := range flows {
		if _, err := s.c.Do(ctx, "DELETE", "/flows/"+id, nil, nil, nil); err != nil && !errors.Is(err, cloudapi.ErrNotFound) {
			t.Fatal(err)
		}
	}
}

func get(m *py.Map, k string) any {
	if m == nil {
		return nil
	}
	v, _ := m.Get(k)
	return v
}

// Keys the server makes up: ids, timestamps, who made the change.
var volatileKeys = []string{"id", "created", "updated", "flow_id", "created_by", "updated_by", "last_polled",
	"work_queue_id", "deployment_id", "owner_resource"}

// normaliseDeployment blanks what differs between two registrations of
// the same configuration: ids, timestamps, creators, the generated name of
// the concurrency limit, and interval anchors taken from the clock.
func normaliseDeployment(d *py.Map, since time.Time) any {
	var walk func(x any) any
	walk = func(x any) any {
		switch t := x.(type) {
		case *py.Map:
			for _, k := range volatileKeys {
				if t.Has(k) && get(t, k) != nil {
					t.Set(k, "<"+k+">")
				}
			}
			if a, ok := get(t, "anchor_date").(string); ok {
				if ts, err := time.Parse(time.RFC3339Nano, a); err == nil && !ts.Before(since.Add(-time.Minute)) {
					t.Set("anchor_date", "<now>")
				}
			}
			for _, k := range t.Keys() {
				t.Set(k, walk(get(t, k)))
			}
			return t
		case []any:
			for i := range t {
				t[i] = walk(t[i])
			}
			return t
		}
		return x
	}
	if labels, ok := get(d, "labels").(*py.Map); ok && labels.Has("prefect.flow.id") {
		labels.Set("prefect.flow.id", "<flow_id>")
	}
	if gcl, ok := get(d, "global_concurrency_limit").(*py.Map); ok {
		gcl.Set("name", "<deployment limit>")
	}
	autos, _ := get(d, "automations").([]any)
	for _, a := range autos {
		for _, act := range get(a.(*py.Map), "actions").([]any) {
			am := act.(*py.Map)
			if am.Has("deployment_id") {
				am.Set("deployment_id", "<deployment_id>")
			}
		}
	}
	out := walk(d).(*py.Map)
	// The server lists schedules newest first; two registrations made in
	// the same instant can come back in either order.
	if sl, ok := get(out, "schedules").([]any); ok {
		sort.SliceStable(sl, func(i, j int) bool {
			return string(mustJSON(sl[i])) < string(mustJSON(sl[j]))
		})
	}
	return out
}

func mustJSON(v any) []byte {
	b, err := py.EncodeJSON(v)
	if err != nil {
		panic(err)
	}
	return b
}

// diffValues lists where want and got differ, by JSON path.
func diffValues(path string, want, got any) []string {
	wm, wok := want.(*py.Map)
	gm, gok := got.(*py.Map)
	if wok && gok {
		var out []string
		keys := append([]string{}, wm.Keys()...)
		for _, k := range gm.Keys() {
			if !wm.Has(k) {
				keys = append(keys, k)
			}
		}
		for _, k := range keys {
			wv, wh := wm.Get(k)
			gv, gh := gm.Get(k)
			switch {
			case !wh:
				out = append(out, fmt.Sprintf("%s.%s: prefect has no key, prefectctl has %s", path, k, mustJSON(gv)))
			case !gh:
				out = append(out, fmt.Sprintf("%s.%s: prefect has %s, prefectctl has no key", path, k, mustJSON(wv)))
			default:
				out = append(out, diffValues(path+"."+k, wv, gv)...)
			}
		}
		return out
	}
	wl, wok := want.([]any)
	gl, gok := got.([]any)
	if wok && gok && len(wl) == len(gl) {
		var out []string
		for i := range wl {
			out = append(out, diffValues(fmt.Sprintf("%s[%d]", path, i), wl[i], gl[i])...)
		}
		return out
	}
	if !bytes.Equal(mustJSON(want), mustJSON(got)) {
		return []string{fmt.Sprintf("%s: prefect %s, prefectctl %s", path, mustJSON(want), mustJSON(got))}
	}
	return nil
}

// knownDifference is a difference decided on purpose and written down in
// docs/differences.md: the comparison accepts exactly this pair of values
// at this field, nothing else.
type knownDifference struct {
	project             string // "" for any
	stage, field        string // stage "" for any
	prefect, prefectctl string // compact JSON; {md5:PATH} stands for the MD5 of that project file
}

var md5Ref = regexp.MustCompile(`\{md5:[^}]+\}`)

var knownDifferences = []knownDifference{
	// Prefect's DeploymentCreate runs str() on the description, so a flow
	// without a docstring gets the text "None" on create (and null again on
	// the next deploy, which PATCHes). prefectctl sends null.
	{"", "first deploy", "description", `"None"`, `null`},
	{"", "first deploy request", "description", `"None"`, `null`},
	// A flow file whose imports are missing where prefect deploy runs is
	// read from its source instead, and its version is lost (null).
	// prefectctl never imports the file: the version is the file's MD5, as
	// Prefect gives when the imports are installed.
	{"c25-missing-imports", "", "version", `null`, `"{md5:flows/heavy.py}"`},
	{"c25-missing-imports", "", "version_info", `{"type":"prefect:simple","version":""}`, `{"type":"prefect:simple","version":"{md5:flows/heavy.py}"}`},
}

func (k knownDifference) matches(project, dir, stage, field string, want, got any) bool {
	if (k.project != "" && k.project != project) || (k.stage != "" && k.stage != stage) || k.field != field {
		return false
	}
	expand := func(s string) string {
		return md5Ref.ReplaceAllStringFunc(s, func(ref string) string {
			b, err := os.ReadFile(filepath.Join(dir, ref[len("{md5:"):len(ref)-1]))
			if err != nil {
				return "<unreadable " + ref + ">"
			}
			return fmt.Sprintf("%x", md5.Sum(b))
		})
	}
	return string(mustJSON(want)) == expand(k.prefect) && string(mustJSON(got)) == expand(k.prefectctl)
}

func compareSnapshots(t *testing.T, stage, project, dir string, cc *conformanceCase, want, got *snapshot) {
	t.Helper()
	for _, full := range cc.Expect {
		w, _ := want.deployments[full].(*py.Map)
		g, _ := got.deployments[full].(*py.Map)
		for _, k := range knownDifferences {
			if w != nil && g != nil && k.matches(project, dir, stage, k.field, get(w, k.field), get(g, k.field)) {
				t.Logf("%s: %s.%s: known difference (docs/differences.md): prefect %s, prefectctl %s", stage, full, k.field, k.prefect, k.prefectctl)
				w.Set(k.field, get(g, k.field))
			}
		}
	}
	if want.count != len(cc.Expect) {
		t.Errorf("%s: prefect deploy: %d deployments, expected %d (%v)", stage, want.count, len(cc.Expect), cc.Expect)
	}
	if got.count != want.count {
		t.Errorf("%s: prefectctl: %d deployments, prefect deploy %d", stage, got.count, want.count)
	}
	for _, full := range cc.Expect {
		if d := diffValues(full, want.deployments[full], got.deployments[full]); len(d) > 0 {
			t.Errorf("%s: %s differs from prefect deploy:\n  %s", stage, full, strings.Join(d, "\n  "))
		}
	}
}

// repoRoot is the directory holding go.mod, found from the test's
// working directory (its package directory).
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found above the test directory")
		}
		dir = parent
	}
}

func loadCase(t *testing.T, dir string) *conformanceCase {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "case.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cc := &conformanceCase{}
	if err := yaml.Unmarshal(b, cc); err != nil {
		t.Fatalf("%s/case.yaml: %v", dir, err)
	}
	if len(cc.Expect) == 0 {
		t.Fatalf("%s/case.yaml: expect lists no deployment", dir)
	}
	return cc
}

func TestConformanceWithPrefectDeploy(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the real Prefect servers and the Prefect 3.9.1 CLI")
	}
	bin := prefectctlBinary(t)
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	dirs, err := filepath.Glob(filepath.Join(root, "testdata", "conformance", "*"))
	only := os.Getenv("PREFECTCTL_CONFORMANCE_ONLY") // a developer's filter; make test never sets it
	if err != nil || (only == "" && len(dirs) < 15) {
		t.Fatalf("expected at least 15 conformance projects, found %d (%v)", len(dirs), err)
	}
	for _, kind := range serverKinds {
		if k := os.Getenv("PREFECTCTL_CONFORMANCE_SERVER"); k != "" && k != kind { // a developer's filter too
			continue
		}
		t.Run(kind, func(t *testing.T) {
			s, ctx := realServer(t, kind)
			conformanceOn(ctx, t, s, bin, dirs, only)
		})
	}
}

// conformanceOn deploys every project side by side on one server.
func conformanceOn(ctx context.Context, t *testing.T, s *server, bin string, dirs []string, only string) {
	for _, src := range dirs {
		name := filepath.Base(src)
		if only != "" && !strings.Contains(name, only) {
			continue
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cc := loadCase(t, src)
			s.setupCase(ctx, t, cc)
			work := filepath.Join(t.TempDir(), name)
			copyTree(t, src, work)
			if cc.Git {
				gitInit(ctx, t, work)
			}
			rec := newRecorder(t, s.api)
			env := toolEnv(rec.api, t.TempDir(), cc.Env)
			s.wipe(ctx, t, cc)
			t.Cleanup(func() { s.wipe(context.Background(), t, cc) })

			keepState := false // the third prefectctl run deploys onto the redeployed state as it is
			deployWith := func(tool string, redeploy bool, extra ...string) {
				t.Helper()
				args := append([]string{"deploy", "--all"}, extra...)
				if redeploy && cc.Redeploy != "" {
					args = append(args, "--prefect-file", cc.Redeploy)
				}
				if redeploy && cc.PauseBetween && !keepState {
					s.pauseAll(ctx, t, cc)
				}
				var out string
				var err error
				if tool == "prefect" {
					out, err = run(ctx, t, work, env, s.cli, append([]string{"--no-prompt"}, args...)...)
				} else {
					out, err = run(ctx, t, work, env, bin, args...)
				}
				if err != nil {
					t.Fatalf("%s deploy --all: %v\n%s", tool, err, out)
				}
				if testing.Verbose() {
					t.Logf("%s deploy --all:\n%s", tool, out)
				}
			}
			start := time.Now()
			deployWith("prefect", false)
			ref1 := s.read(ctx, t, cc, start)
			refReq1 := rec.take(t, ref1, start)
			deployWith("prefect", true)
			ref2 := s.read(ctx, t, cc, start)
			refReq2 := rec.take(t, ref2, start)
			s.wipe(ctx, t, cc)

			start = time.Now()
			deployWith("prefectctl", false)
			got1 := s.read(ctx, t, cc, start)
			gotReq1 := rec.take(t, got1, start)
			// --force: re-send every deployment, as prefect deploy always does,
			// so the requests compare one to one.
			deployWith("prefectctl", true, "--force")
			got2 := s.read(ctx, t, cc, start)
			gotReq2 := rec.take(t, got2, start)
			// Without --force an unchanged deployment is not re-sent; the
			// server must end in the same state all the same, and nothing
			// but automations may be sent.
			keepState = true
			deployWith("prefectctl", true)
			got3 := s.read(ctx, t, cc, start)
			if sent := rec.take(t, got3, start); sent.count > 0 {
				t.Errorf("redeploy of an unchanged project: prefectctl sent %d deployment writes (%v); an unchanged deployment must cost no request",
					sent.count, mapKeys(sent.deployments))
			}
			// Straight from the first deploy to the redeploy without
			// --force: only what changed is sent, and the end state is
			// prefect deploy's, automations included.
			s.wipe(ctx, t, cc)
			keepState = false
			start = time.Now()
			deployWith("prefectctl", false)
			rec.take(t, s.read(ctx, t, cc, start), start)
			deployWith("prefectctl", true)
			got4 := s.read(ctx, t, cc, start)
			rec.take(t, got4, start)
			compareSnapshots(t, "first deploy request", name, work, cc, refReq1, gotReq1)
			compareSnapshots(t, "redeploy request", name, work, cc, refReq2, gotReq2)
			for _, full := range cc.Expect {
				if got1.ids[full] != got2.ids[full] {
					t.Errorf("redeploy: prefectctl replaced %s (id %s → %s) instead of updating it", full, got1.ids[full], got2.ids[full])
				}
			}
			compareSnapshots(t, "first deploy", name, work, cc, ref1, got1)
			compareSnapshots(t, "redeploy", name, work, cc, ref2, got2)
			compareSnapshots(t, "redeploy without --force", name, work, cc, ref2, got3)
			compareSnapshots(t, "redeploy without --force after the first deploy", name, work, cc, ref2, got4)
		})
	}
}

func mapKeys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
