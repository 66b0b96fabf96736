package jsonschema_test

// prefectctl checks job variables against the work pool's schema before any
// step runs; Prefect leaves that to the server at registration. This test
// asks the real server about each case (POST /deployments/) and requires
// jsonschema.Validate with the JobVariables rules to accept and refuse
// exactly the same ones, for the default templates of the process,
// Kubernetes and Docker workers.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prefectctl/prefectctl/internal/cloudapi"
	"github.com/prefectctl/prefectctl/internal/jsonschema"
	"github.com/prefectctl/prefectctl/internal/py"
	"github.com/prefectctl/prefectctl/internal/testenv"
)

func TestJobVariablesLikeTheServer(t *testing.T) {
	api := testenv.Prefect(t)
	// The shared SQLite server answers 503 while busy with other packages.
	client, err := cloudapi.New(cloudapi.Options{BaseURL: api, MaxRetries: 6, Timeout: 60 * time.Second, CSRF: true, BackoffBase: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	var raw json.RawMessage
	if _, err := client.Do(ctx, "GET", "/collections/views/aggregate-worker-metadata", nil, nil, &raw); err != nil {
		t.Fatal(err)
	}
	registry, err := py.DecodeJSON(raw)
	if err != nil {
		t.Fatal(err)
	}
	pools := map[string]struct{ collection, worker string }{
		"conformance-jv-process":    {"prefect", "process"},
		"conformance-jv-kubernetes": {"prefect-kubernetes", "kubernetes"},
		"conformance-jv-docker":     {"prefect-docker", "docker"},
	}
	templates := map[string]*py.Map{}
	for name, p := range pools {
		tmpl, ok := dig(registry, p.collection, p.worker, "default_base_job_configuration").(*py.Map)
		if !ok {
			t.Fatalf("no %s template in the server's worker registry", p.worker)
		}
		wp, err := client.ReadWorkPool(ctx, name)
		if errors.Is(err, cloudapi.ErrNotFound) {
			wp, err = client.CreateWorkPool(ctx, py.MapOf("name", name, "type", p.worker, "base_job_template", tmpl))
			if err != nil && !errors.Is(err, cloudapi.ErrConflict) {
				t.Fatal(err)
			}
			if err != nil {
				wp, err = client.ReadWorkPool(ctx, name)
			}
		}
		if err != nil {
			t.Fatal(err)
		}
		templates[name] = wp.BaseJobTemplate
	}
	flow, err := client.CreateFlow(ctx, "conformance-job-variables")
	if err != nil {
		t.Fatal(err)
	}

	cases := []struct{ pool, jv string }{
		{"process", `{"env": {"A": "1"}}`},
		{"process", `{"env": {"A": 1}}`},
		{"process", `{"env": {"A": null}}`},
		{"process", `{"env": null}`},
		{"process", `{"env": ["A=1"]}`},
		{"process", `{"stream_output": "yes"}`},
		{"process", `{"stream_output": 1}`},
		{"process", `{"stream_output": false}`},
		{"process", `{"working_dir": 5}`},
		{"process", `{"working_dir": null}`},
		{"process", `{"working_dir": "/srv"}`},
		{"process", `{"command": ["python", "x.py"]}`},
		{"process", `{"labels": {"a": 1}}`},
		{"process", `{"labels": {"a": "b"}}`},
		{"process", `{"not_in_template": {"x": [1]}}`},
		{"process", `{"name": ""}`},
		{"kubernetes", `{"cpu_request": "500m"}`},
		{"kubernetes", `{"cpu_request": {"a": 1}}`},
		{"kubernetes", `{"cpu_request": 1}`},
		{"kubernetes", `{"finished_job_ttl": 10}`},
		{"kubernetes", `{"finished_job_ttl": "10"}`},
		{"kubernetes", `{"finished_job_ttl": 1.5}`},
		{"kubernetes", `{"finished_job_ttl": 10.0}`},
		{"kubernetes", `{"finished_job_ttl": true}`},
		{"kubernetes", `{"image_pull_policy": "Always"}`},
		{"kubernetes", `{"image_pull_policy": "Sometimes"}`},
		{"kubernetes", `{"image_pull_policy": null}`},
		{"kubernetes", `{"namespace": null}`},
		{"kubernetes", `{"job_watch_timeout_seconds": null}`},
		{"kubernetes", `{"job_watch_timeout_seconds": -1}`},
		{"kubernetes", `{"image": "repo/img:1", "env": {"X": "y"}, "stream_output": true}`},
		{"kubernetes", `{"cluster_config": "a-block"}`},
		{"kubernetes", `{"cluster_config": {"$ref": {"block_document_id": "00000000-0000-0000-0000-000000000000"}}}`},
		{"kubernetes", `{"memory_limit": 512}`},
		{"kubernetes", `{"cluster_config": null}`},
		{"kubernetes", `{"finished_job_ttl": null}`},
		{"kubernetes", `{"image": null, "command": null}`},
		{"process", `{"labels": null, "command": null, "name": null}`},
		{"docker", `{"image_pull_policy": null, "volumes": null}`},
		{"docker", `{"registry_credentials": null}`},
		{"docker", `{"registry_credentials": {"username": "u"}}`},
		{"docker", `{"registry_credentials": {"username": "u", "password": "p", "registry_url": "r"}}`},
		{"docker", `{"registry_credentials": {"username": "u", "password": "p", "registry_url": "r", "reauth": null}}`},
		{"docker", `{"registry_credentials": {"$ref": "0b1c6c1e-0000-4000-8000-000000000000"}}`},
		{"docker", `{"registry_credentials": {"$ref": {}}}`},
		{"docker", `{"registry_credentials": {"$ref": {"block_document_id": 5}}}`},
		{"docker", `{"image": {"$ref": "x"}}`},
		{"docker", `{"volumes": ["/a:/b"]}`},
		{"docker", `{"volumes": "/a:/b"}`},
		{"docker", `{"mem_limit": "1g"}`},
		{"docker", `{"privileged": "true"}`},
		{"docker", `{"networks": ["host"], "network_mode": "host"}`},
		{"docker", `{"auto_remove": 0}`},
		{"docker", `{"image_pull_policy": "never"}`},
		{"docker", `{"container_create_kwargs": {"shm_size": "1g"}}`},
		{"docker", `{"env": {"K": "{{ ctx.flow.name }}"}}`},
	}
	for i, c := range cases {
		pool := "conformance-jv-" + c.pool
		name := fmt.Sprintf("%s %s", c.pool, c.jv)
		t.Run(name, func(t *testing.T) {
			v, err := py.DecodeJSON([]byte(c.jv))
			if err != nil {
				t.Fatal(err)
			}
			jv := v.(*py.Map)
			body := py.MapOf("name", fmt.Sprintf("case-%d", i), "flow_id", flow.ID, "work_pool_name", pool, "job_variables", py.Clone(jv))
			d, _, err := client.CreateDeployment(ctx, body)
			serverOK := err == nil
			var apiErr *cloudapi.APIError
			if err != nil && (!errors.As(err, &apiErr) || apiErr.Status != 422) {
				t.Fatalf("server: %v", err)
			}
			if d != nil {
				if err := client.DeleteDeployment(ctx, d.ID); err != nil {
					t.Fatal(err)
				}
			}
			schema, _ := templates[pool].Get("variables")
			problems := jsonschema.Validate(schema.(*py.Map), jv, jsonschema.JobVariables)
			var msgs []string
			for _, p := range problems {
				msgs = append(msgs, p.String())
			}
			switch {
			case serverOK && len(problems) > 0:
				t.Errorf("the server accepts these job variables, prefectctl refuses them: %s", strings.Join(msgs, "; "))
			case !serverOK && len(problems) == 0:
				t.Errorf("the server refuses these job variables (%v), prefectctl accepts them", err)
			}
		})
	}
}

func dig(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(*py.Map)
		if !ok {
			return nil
		}
		v, _ = m.Get(k)
	}
	return v
}
