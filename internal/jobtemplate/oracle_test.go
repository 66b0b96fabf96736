package jobtemplate

// Conformance with the real workers: each case is rendered by Prefect's own
// code (testdata/oracle.py, run in the test base image, which carries the
// pinned prefect, prefect-kubernetes and prefect-docker) and by Render, and
// the documents must be equal field by field.

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prefectctl/prefectctl/internal/py"
	"github.com/prefectctl/prefectctl/internal/testenv"
)

const (
	tFlowID   = "0b7c2f7e-1d55-4c7a-9a3e-6a0f7a1b2c3d"
	tDepID    = "5d1e3c2b-8f4a-4b6c-9d7e-1f2a3b4c5d6e"
	tRunID    = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
	tWorkerID = "c0ffee00-1234-4abc-8def-0123456789ab"
	tPoolID   = "7e6d5c4b-3a29-4180-9f8e-7d6c5b4a3928"
)

// runOracle runs testdata/oracle.py with stdin in the base image.
func runOracle(t *testing.T, stdin any, script string) any {
	t.Helper()
	host := testenv.Docker(t)
	image := testenv.BaseImage(t)
	in, err := py.EncodeJSON(stdin)
	if err != nil {
		t.Fatal(err)
	}
	abs, err := filepath.Abs(script)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "docker", "run", "--rm", "-i", "--network", "none", "-v", abs+":/oracle.py:ro", image, "python", "/oracle.py")
	cmd.Env = append(os.Environ(), "DOCKER_HOST="+host)
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("oracle: %v\n%s", err, stderr.String())
	}
	v, err := py.DecodeJSON(out)
	if err != nil {
		t.Fatalf("oracle output: %v\n%s", err, out)
	}
	return v
}

type oracleCase struct {
	name      string
	poolType  string
	customise func(tmpl *py.Map) // nil: the default template
	depVars   *py.Map
	runVars   *py.Map
}

func TestRenderMatchesWorkers(t *testing.T) {
	settings := py.MapOf("PREFECT_API_URL", "http://127.0.0.1:4200/api", "PREFECT_LOGGING_LEVEL", "DEBUG")
	// The worker also passes what its active profile sets: Prefect's default
	// profile "ephemeral" (no profiles file in the image).
	workerSettings := py.Clone(settings).(*py.Map)
	workerSettings.Set("PREFECT_SERVER_EPHEMERAL_ENABLED", "True")
	// The default templates, from the installed workers.
	defaults := runOracle(t, py.MapOf("settings", settings, "cases", []any{
		oracleInput(oracleCase{poolType: "kubernetes"}, nil), oracleInput(oracleCase{poolType: "docker"}, nil),
	}), "testdata/oracle.py").([]any)
	defTmpl := map[string]*py.Map{
		"kubernetes": mapAt(defaults[0], "default_template"),
		"docker":     mapAt(defaults[1], "default_template"),
	}
	cases := []oracleCase{
		{name: "kubernetes default, image only", poolType: "kubernetes", depVars: py.MapOf("image", "127.0.0.1:5000/hello:abc1234")},
		{
			name: "kubernetes guide pool, run overrides cpu_request", poolType: "kubernetes",
			customise: func(tm *py.Map) {
				props := mapAt(tm, "variables", "properties")
				props.Set("cpu_request", py.MapOf("title", "CPU Request", "type", "string", "default", "500m"))
				spec := mapAt(tm, "job_configuration", "job_manifest", "spec", "template", "spec")
				spec.Set("hostNetwork", true)
				jc := mapAt(tm, "job_configuration")
				jc.Set("env", py.MapOf("PREFECT_API_URL", "http://127.0.0.1:4200/api", "EXTRA", "{{ extra }}"))
			},
			depVars: py.MapOf("image", "127.0.0.1:5000/hello:abc1234", "env", py.MapOf("A", "1", "B", int64(2))),
			runVars: py.MapOf("cpu_request", "250m", "env", py.MapOf("B", "3", "C", true)),
		},
		{
			name: "kubernetes everything", poolType: "kubernetes",
			customise: func(tm *py.Map) {
				c := mapAt(tm, "job_configuration", "job_manifest", "spec", "template", "spec")
				containers := mustGet(c, "containers").([]any)
				ctr := containers[0].(*py.Map)
				// A template that hard-codes env (with a secret reference) instead of {{ env }}.
				ctr.Set("env", []any{
					py.MapOf("name", "FROM_TEMPLATE", "value", "x"),
					py.MapOf("name", "TOKEN", "valueFrom", py.MapOf("secretKeyRef", py.MapOf("name", "s", "key", "k"))),
					py.MapOf("name", "A", "value", "template-loses"),
				})
				mapAt(tm, "job_configuration", "job_manifest", "metadata").Set("labels", py.MapOf("team", "{{ team }}"))
				mapAt(tm, "variables", "properties").Set("team", py.MapOf("type", "string", "default", "Data Eng!"))
			},
			depVars: py.MapOf("image", "reg/x:1", "name", "{{ ctx.flow.name }}-{{ ctx.flow_run.name }}", "namespace", "jobs",
				"labels", py.MapOf("Owner/Key name", "Ä value__", "plain", "v"), "annotations", py.MapOf("note/A B", "keep as is"),
				"backoff_limit", int64(2), "command", `python -c 'print("hi there")' "x y"`, "env", py.MapOf("A", "dep")),
			runVars: py.MapOf("env.EXTRA2", "dotted", "finished_job_ttl", int64(60), "image_pull_policy", "Always", "memory_limit", "1Gi"),
		},
		{name: "docker default, image only", poolType: "docker", depVars: py.MapOf("image", "127.0.0.1:5000/hello:abc1234")},
		{
			name: "docker everything", poolType: "docker",
			depVars: py.MapOf("image", "reg/x:1", "network_mode", "host", "volumes", []any{"/tmp:/data:ro"}, "labels", py.MapOf("team", "x"),
				"env", py.MapOf("A", "1", "N", int64(5)), "auto_remove", true, "mem_limit", "512m", "name", "run {{ ctx.flow_run.name }}!",
				"container_create_kwargs", py.MapOf("user", "1000", "image", "ignored", "extra_hosts", []any{"db:127.0.0.1"})),
			runVars: py.MapOf("privileged", true, "env", py.MapOf("B", "2")),
		},
		{
			name: "docker remote API, networks", poolType: "docker",
			depVars: py.MapOf("image", "reg/x:1", "networks", []any{"n1", "n2"}, "env", py.MapOf("PREFECT_API_URL", "https://api.example.test/api")),
		},
	}
	var inputs []any
	for _, c := range cases {
		tmpl := py.Clone(defTmpl[c.poolType]).(*py.Map)
		if c.customise != nil {
			c.customise(tmpl)
		}
		inputs = append(inputs, oracleInput(c, tmpl))
	}
	want := runOracle(t, py.MapOf("settings", settings, "cases", inputs), "testdata/oracle.py").([]any)
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := inputs[i].(*py.Map)
			got, err := Render(context.Background(), Input{
				PoolType: c.poolType, PoolName: "pool", PoolID: tPoolID, BaseJobTemplate: mapAt(in, "base_job_template"),
				DeploymentID: tDepID, DeploymentName: "arthur", DeploymentUpdated: time.Date(2026, 12, 5, 8, 40, 1, 123456000, time.UTC),
				DeploymentJobVariables: c.depVars, FlowID: tFlowID, FlowName: "hello",
				FlowRun:         &FlowRun{ID: tRunID, Name: "smart-otter"},
				RunJobVariables: c.runVars,
				Worker: Worker{Name: "worker-1", ID: tWorkerID, Cloud: true, Settings: workerSettings, SettingsKnown: true,
					PrefectImage: "prefecthq/prefect:3.9.1-python3.11"},
			})
			if err != nil {
				t.Fatal(err)
			}
			wantDoc := mapAt(want[i], "document")
			if c.poolType == "docker" { // docker-py turns the mapping into the container's Env list, in order
				if w, g := mapAt(wantDoc, "environment").Keys(), mapAt(got.Document, "environment").Keys(); strings.Join(w, " ") != strings.Join(g, " ") {
					t.Errorf("environment order: worker %v, render %v", w, g)
				}
			}
			if diffs := Diff(wantDoc, got.Document); len(diffs) > 0 {
				gotJSON, _ := py.EncodeJSON(got.Document)
				wantJSON, _ := py.EncodeJSON(wantDoc)
				t.Errorf("render differs from the worker's:\n  %s\nworker: %s\nrender: %s", strings.Join(diffs, "\n  "), wantJSON, gotJSON)
			}
		})
	}
}

func oracleInput(c oracleCase, tmpl *py.Map) *py.Map {
	var bjt any
	if tmpl != nil {
		bjt = tmpl
	}
	return py.MapOf(
		"pool_type", c.poolType, "base_job_template", bjt,
		"pool", py.MapOf("id", tPoolID, "name", "pool"),
		"deployment", py.MapOf("id", tDepID, "name", "arthur", "flow_id", tFlowID, "updated", "2026-12-05T08:40:01.123456+00:00", "job_variables", orEmpty(c.depVars)),
		"flow", py.MapOf("id", tFlowID, "name", "hello"),
		"flow_run", py.MapOf("id", tRunID, "name", "smart-otter", "flow_id", tFlowID, "deployment_id", tDepID, "job_variables", orEmpty(c.runVars)),
		"worker_name", "worker-1", "worker_id", tWorkerID,
	)
}

func orEmpty(m *py.Map) *py.Map {
	if m == nil {
		return py.NewMap()
	}
	return m
}

func mapAt(v any, keys ...string) *py.Map {
	for _, k := range keys {
		m, _ := v.(*py.Map)
		v, _ = m.Get(k)
	}
	m, _ := v.(*py.Map)
	return m
}

func TestJSONRoundTrip(t *testing.T) {
	// Result marshals with py.Map's JSON (order kept).
	r := &Result{Kind: "k", Document: py.MapOf("b", int64(1), "a", "x")}
	b, err := json.Marshal(r)
	if err != nil || !strings.Contains(string(b), `"document":{"b":1,"a":"x"}`) {
		t.Fatalf("%s %v", b, err)
	}
}
