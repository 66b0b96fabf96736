package jobtemplate

import (
	"context"
	"strings"
	"testing"

	"github.com/prefectctl/prefectctl/internal/py"
)

func minimalKubeTemplate() *py.Map {
	return py.MapOf(
		"job_configuration", py.MapOf(
			"env", "{{ env }}", "name", "{{ name }}", "command", "{{ command }}",
			"job_manifest", py.MapOf("apiVersion", "batch/v1", "kind", "Job",
				"metadata", py.MapOf("generateName", "{{ name }}-"),
				"spec", py.MapOf("template", py.MapOf("spec", py.MapOf("restartPolicy", "Never",
					"containers", []any{py.MapOf("name", "prefect-job", "image", "{{ image }}", "env", "{{ env }}",
						"resources", py.MapOf("requests", py.MapOf("cpu", "{{ cpu_request }}")))}))))),
		"variables", py.MapOf("properties", py.MapOf(
			"image", py.MapOf("type", "string"),
			"cpu_request", py.MapOf("type", "string", "default", "500m"),
			"env", py.MapOf("type", "object"),
		)),
	)
}

// A preview (no flow run, no worker) marks what only the worker knows and
// lists it in RunTime.
func TestRenderPreviewMarksRunTimeValues(t *testing.T) {
	res, err := Render(context.Background(), Input{
		PoolType: "kubernetes", PoolName: "k", PoolID: "p1", BaseJobTemplate: minimalKubeTemplate(),
		DeploymentID: "d1", DeploymentName: "arthur", FlowID: "f1", FlowName: "hello",
		RunJobVariables: py.MapOf("cpu_request", "250m"),
		Worker:          Worker{Settings: py.MapOf("PREFECT_API_URL", "http://127.0.0.1:4200/api")},
	})
	if err != nil {
		t.Fatal(err)
	}
	doc := res.Document
	ctr := get(doc, "spec", "template", "spec", "containers").([]any)[0].(*py.Map)
	if got := get(ctr, "resources", "requests", "cpu"); got != "250m" {
		t.Errorf("cpu request %v, want the run's 250m over the default", got)
	}
	if got := get(ctr, "image"); got != MarkPrefectImage {
		t.Errorf("image %v, want the marker for the worker's default image", got)
	}
	if got := get(doc, "metadata", "generateName"); got != MarkFlowRunName+"-" {
		t.Errorf("generateName %v", got)
	}
	if got := get(doc, "metadata", "labels", "prefect.io/flow-run-id"); got != MarkFlowRunID {
		t.Errorf("flow-run-id label %v, want the marker unslugified", got)
	}
	env, _ := py.EncodeJSON(get(ctr, "env"))
	for _, want := range []string{`"PREFECT_API_URL","value":"http://127.0.0.1:4200/api"`, `"PREFECT__FLOW_RUN_ID","value":"<flow-run-id>"`} {
		if !strings.Contains(string(env), want) {
			t.Errorf("env %s lacks %s", env, want)
		}
	}
	if strings.Contains(string(env), "PREFECT__WORKER_ID") {
		t.Errorf("a self-hosted server's worker has no id, but env has PREFECT__WORKER_ID: %s", env)
	}
	paths := map[string]bool{}
	for _, rt := range res.RunTime {
		paths[rt.Path] = true
	}
	for _, p := range []string{"env", "env.PREFECT__FLOW_RUN_ID", "labels.prefect.io/worker-name", "name", "metadata.name"} {
		if !paths[p] {
			t.Errorf("RunTime lacks %s: %+v", p, res.RunTime)
		}
	}
}

func TestRenderErrors(t *testing.T) {
	noContainers := minimalKubeTemplate()
	spec := get(noContainers, "job_configuration", "job_manifest", "spec", "template", "spec").(*py.Map)
	spec.Delete("containers")
	badArgs := minimalKubeTemplate()
	get(badArgs, "job_configuration", "job_manifest", "spec", "template", "spec", "containers").([]any)[0].(*py.Map).Set("args", int64(3))
	tests := []struct {
		name string
		in   Input
		want string
	}{
		{"no template", Input{PoolType: "kubernetes", PoolName: "k"}, `work pool "k" has no base job template`},
		{"no job_configuration", Input{PoolType: "docker", PoolName: "d", BaseJobTemplate: py.MapOf("variables", py.NewMap())}, "has no job_configuration"},
		{"no containers", Input{PoolType: "kubernetes", PoolName: "k", BaseJobTemplate: noContainers}, "/spec/template/spec/containers"},
		{"args not a list", Input{PoolType: "kubernetes", PoolName: "k", BaseJobTemplate: badArgs}, "'command' must be a string or list"},
		{"dotted key into a string", Input{PoolType: "kubernetes", PoolName: "k", BaseJobTemplate: minimalKubeTemplate(),
			DeploymentJobVariables: py.MapOf("image.tag", "x", "image", "y")}, ""},
		{"dotted key through a non-mapping", Input{PoolType: "kubernetes", PoolName: "k", BaseJobTemplate: minimalKubeTemplate(),
			DeploymentJobVariables: py.MapOf("a.b", "x", "a.b.c", "y")}, "Key path exists and contains a non-dict value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Render(context.Background(), tt.in)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestMergeJobVariables(t *testing.T) {
	got := MergeJobVariables(py.MapOf("env", py.MapOf("A", "1", "B", "2"), "image", "a"),
		py.MapOf("env", py.MapOf("B", "3"), "image", "b", "cpu_request", "1"))
	want := py.MapOf("env", py.MapOf("A", "1", "B", "3"), "image", "b", "cpu_request", "1")
	if d := Diff(want, got); d != nil {
		t.Fatalf("%v", d)
	}
	// A deployment env that is not a mapping is replaced whole.
	got = MergeJobVariables(py.MapOf("image", "a"), py.MapOf("env", py.MapOf("B", "3")))
	if d := Diff(py.MapOf("image", "a", "env", py.MapOf("B", "3")), got); d != nil {
		t.Fatalf("%v", d)
	}
}

func get(v any, keys ...string) any {
	for _, k := range keys {
		m, _ := v.(*py.Map)
		if m == nil {
			return nil
		}
		v, _ = m.Get(k)
	}
	return v
}
