package jsonschema_test

// The server checks a deployment's parameters against its flow's schema on
// three paths with different rules (POST /deployments/, PATCH
// /deployments/{id}, POST /deployments/{id}/create_flow_run). This test
// sends every case to a real Prefect 3.9.1 server on each path and requires
// prefectctl's rules for that path to give the same verdict and, where the
// server refuses, to predict its message word for word. The schema is the
// one real Prefect generates for testdata/parameters_flow.py.

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prefectctl/prefectctl/internal/jsonschema"
	"github.com/prefectctl/prefectctl/internal/py"
	"github.com/prefectctl/prefectctl/internal/testenv"
)

// parameterCases are parameters for testdata/parameters_flow.py, each to be
// judged on every path. A case's comment names the rule it proves.
var parameterCases = []string{
	`{}`,                               // required removed on create and update, kept for runs
	`{"x": "1"}`,                       // type
	`{"x": 1.0}`,                       // 1.0 is an integer
	`{"x": 1.5}`,                       // 1.5 is not
	`{"x": true}`,                      // True is not an integer
	`{"y": 2}`,                         // an int is a number
	`{"y": true}`,                      // True is not a number
	`{"lit": "c"}`,                     // enum
	`{"color": "blue"}`,                // enum behind $ref
	`{"color": "red"}`,                 // ...
	`{"zzz": 1}`,                       // extra parameters are accepted by the server
	`{"optreq": null}`,                 // required Optional
	`{"opt": null}`,                    // Optional
	`{"y": null}`,                      // a default, so null is refused
	`{"dt": null}`,                     // the flow's own default None is refused
	`{"x": null}`,                      // required, not Optional
	`{"model": {"inner": {}}}`,         // nested required: runs only
	`{"model": {"inner": {"a": "z"}}}`, // nested type
	`{"model": {"inner": {"a": 1, "q": 2}, "extra": 1}}`, // nested extras
	`{"model": {"inner": {"a": 1}, "counts": null}}`,     // default_factory field: no default, so update allows null
	`{"model": {"inner": {"a": 1}, "tags": null}}`,       // a default: null refused everywhere
	`{"maybe_model": {"inner": {"a": "z"}}}`,             // Optional model: best_match descends into the anyOf
	`{"maybe_model": {"inner": {}}}`,                     // required inside an anyOf branch is kept
	`{"maybe_model": 5}`,
	`{"lst": [1, "a"]}`,                                  // items
	`{"tup": ["b", 2]}`,                                  // prefixItems, greatest index reported
	`{"tup": [1, "a", 3]}`,                               // maxItems
	`{"tup": [1]}`,                                       // minItems
	`{"dt": "not-a-date", "d": "2024-13-45"}`,            // formats are not checked
	`{"x": "{{ x }}"}`,                                   // a template is a plain string to the server
	`{"x": {"__prefect_kind": "json", "value": "5"}}`,    // raw on create, hydrated on update and runs
	`{"x": {"__prefect_kind": "json", "value": "{bad"}}`, // hydration error on update and runs
	`{"x": {"__prefect_kind": "none", "value": 3}}`,
	`{"x": {"__prefect_kind": "json"}}`, // removed by hydration
	`{"s": {"__prefect_kind": "jinja", "template": "{{ 1 + 1 }}"}}`,
	`{"x": {"__prefect_kind": "jinja", "template": "{{ 1 + 1 }}"}}`,
	`{"u": [1]}`, // anyOf without a clear branch
	`{"u": "a"}`,
	`{"dct": {"a": "b"}}`,  // additionalProperties schema
	`{"lit": "c", "s": 5}`, // the greatest sibling path is reported
	`{"x": "q", "y": "q"}`,
	`{"bounded": 0}`,  // minimum
	`{"bounded": 11}`, // maximum
	`{"bounded": 10.0}`,
	`{"code": "a"}`,         // minLength before pattern (both fail)
	`{"code": "ab"}`,        // pattern
	`{"code": "abcde12"}`,   // maxLength and pattern
	`{"code": "abc1\n"}`,    // Python's $ matches before a final newline
	`{"code": "ab٣"}`,       // Python's \d is any Unicode digit
	`{"names": ["a", "a"]}`, // uniqueItems
	`{"names": ["a", "b"]}`,
	`{"ratio": 0.3}`, // constraints of a Field default are not in Prefect's schema
	`{"few": [1, 2, 3, 4]}`,
	`{"pet": {"kind": "cat"}}`,
	`{"pet": {"kind": "cow"}}`,   // const in anyOf branches
	`{"pet": {"lives": 3}}`,      // required inside $ref'd branches is kept
	`{"secret": {"value": "s"}}`, // a block value
	`{"secret": {}}`,             // a block: create ignores required, update wraps it in a oneOf
	`{"secret": "plain"}`,
	`{"secret": {"$ref": {"block_document_id": "0b1c6c1e-0000-4000-8000-000000000000"}}}`,
	`{"secret": {"$ref": "not-a-uuid"}}`,
	`{"secret": {"$ref": {}}}`,
	`{"required": "nope"}`, // a parameter named required is unchecked on create and update
	`{"anyv": {"deep": [1, {"x": null}]}}`,
	`{"b": "true"}`,
	`{"b": 1}`,
}

// server talks to the Prefect API with the shared server's answers to load
// (503, 429) retried.
type server struct {
	t   *testing.T
	api string
	hc  *http.Client
}

func (s *server) do(method, path string, body any) (int, any) {
	s.t.Helper()
	var data []byte
	if body != nil {
		var err error
		if data, err = py.EncodeJSON(body); err != nil {
			s.t.Fatal(err)
		}
	}
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(context.Background(), method, s.api+path, bytes.NewReader(data))
		if err != nil {
			s.t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := s.hc.Do(req)
		if err != nil {
			s.t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if (resp.StatusCode == 503 || resp.StatusCode == 429) && attempt < 10 {
			time.Sleep(time.Duration(attempt+1) * 300 * time.Millisecond)
			continue
		}
		var out any
		if len(bytes.TrimSpace(raw)) > 0 {
			if out, err = py.DecodeJSON(raw); err != nil {
				s.t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, raw)
			}
		}
		return resp.StatusCode, out
	}
}

// detail is the server's refusal text: the pydantic message of a 422 on
// create, the detail of a 409 or 400 otherwise.
func detail(out any) string {
	m, _ := out.(*py.Map)
	if d, ok := m.Get("detail"); ok {
		return py.Str(d)
	}
	if l, ok := m.Get("exception_detail"); ok {
		if items, ok := l.([]any); ok && len(items) > 0 {
			msg, _ := items[0].(*py.Map).Get("msg")
			return strings.TrimPrefix(py.Str(msg), "Value error, ")
		}
	}
	return py.Repr(out)
}

func idOf(t *testing.T, out any) string {
	t.Helper()
	m, ok := out.(*py.Map)
	if !ok {
		t.Fatalf("no object in %s", py.Repr(out))
	}
	id, _ := m.Get("id")
	return py.Str(id)
}

func realParameterSchema(t *testing.T) *py.Map {
	python := testenv.Python(t)
	script := `import json, sys, importlib.util
spec = importlib.util.spec_from_file_location("parameters_flow", sys.argv[1])
m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)
from prefect.utilities.callables import parameter_schema
print(json.dumps(parameter_schema(m.conformance).model_dump(exclude_unset=True)))`
	cmd := exec.Command(python, "-c", script, filepath.Join("testdata", "parameters_flow.py"))
	cmd.Env = append(cmd.Environ(), "PREFECT_HOME="+t.TempDir(), "PREFECT_SERVER_ANALYTICS_ENABLED=false", "DO_NOT_TRACK=1")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("parameter_schema: %v", err)
	}
	v, err := py.DecodeJSON(out)
	if err != nil {
		t.Fatal(err)
	}
	return v.(*py.Map)
}

func TestParametersLikeTheServer(t *testing.T) {
	srv := &server{t: t, api: testenv.Prefect(t), hc: &http.Client{Timeout: 60 * time.Second}}
	schema := realParameterSchema(t)
	flowName := fmt.Sprintf("conformance-parameters-%d", time.Now().UnixNano())
	status, out := srv.do("POST", "/flows/", py.MapOf("name", flowName))
	if status != 201 {
		t.Fatalf("creating the flow: %d %s", status, py.Repr(out))
	}
	flowID := idOf(t, out)
	defer srv.do("DELETE", "/flows/"+flowID, nil)

	deployment := func(name string, params *py.Map) string {
		status, out := srv.do("POST", "/deployments/", py.MapOf("name", name, "flow_id", flowID, "enforce_parameter_schema", true,
			"parameter_openapi_schema", schema, "parameters", params))
		if status != 201 {
			t.Fatalf("creating %s: %d %s", name, status, detail(out))
		}
		return idOf(t, out)
	}
	patchBase := deployment("patch-base", py.NewMap())
	runBase := deployment("run-base", py.NewMap())
	defer srv.do("DELETE", "/deployments/"+patchBase, nil)
	defer srv.do("DELETE", "/deployments/"+runBase, nil)

	for i, c := range parameterCases {
		v, err := py.DecodeJSON([]byte(c))
		if err != nil {
			t.Fatalf("case %s: %v", c, err)
		}
		params := v.(*py.Map)
		t.Run(c, func(t *testing.T) {
			srv := &server{t: t, api: srv.api, hc: srv.hc}
			// POST /deployments/ with enforcement on, as prefectctl sends it.
			status, out := srv.do("POST", "/deployments/", py.MapOf("name", fmt.Sprintf("case-%d", i), "flow_id", flowID,
				"enforce_parameter_schema", true, "parameter_openapi_schema", schema, "parameters", py.Clone(params)))
			if status == 201 {
				srv.do("DELETE", "/deployments/"+idOf(t, out), nil)
			}
			compare(t, "create", schema, params, jsonschema.ParametersCreate, status, out, 201)

			// PATCH an existing deployment whose enforcement is on.
			status, out = srv.do("PATCH", "/deployments/"+patchBase, py.MapOf("parameters", py.Clone(params)))
			compare(t, "update", schema, params, jsonschema.ParametersUpdate, status, out, 204)

			// A run of a deployment without parameters: its own parameters
			// are all there is; x and optreq, which the flow requires, are
			// given unless the case is about them.
			run := py.MapOf("x", int64(1), "optreq", nil)
			if params.Len() == 0 {
				run = py.NewMap()
			}
			for _, k := range params.Keys() {
				x, _ := params.Get(k)
				run.Set(k, py.Clone(x))
			}
			status, out = srv.do("POST", "/deployments/"+runBase+"/create_flow_run", py.MapOf("parameters", py.Clone(run)))
			if status == 201 {
				srv.do("DELETE", "/flow_runs/"+idOf(t, out), nil)
			}
			compare(t, "run", schema, run, jsonschema.ParametersRun, status, out, 201)
		})
	}

	// With enforcement off the server checks nothing, which prefectctl's
	// deploy follows by not checking (internal/deploy).
	status, out = srv.do("POST", "/deployments/", py.MapOf("name", "unenforced", "flow_id", flowID, "enforce_parameter_schema", false,
		"parameter_openapi_schema", schema, "parameters", py.MapOf("x", "one", "model", "none")))
	if status != 201 {
		t.Errorf("enforcement off: the server refused: %d %s", status, detail(out))
	} else {
		srv.do("DELETE", "/deployments/"+idOf(t, out), nil)
	}
}

// compare requires prefectctl's verdict under rules to equal the server's,
// and its prediction of the server's message to equal the server's.
func compare(t *testing.T, path string, schema *py.Map, params *py.Map, rules jsonschema.Rules, status int, out any, okStatus int) {
	t.Helper()
	violations := jsonschema.Validate(schema, params, rules)
	predicted, predictedOK, known := jsonschema.ServerError(schema, params, rules)
	serverOK := status == okStatus
	if !serverOK && status != 409 && status != 422 && status != 400 {
		t.Fatalf("%s: unexpected answer %d %s", path, status, detail(out))
	}
	switch {
	case serverOK && len(violations) > 0:
		t.Errorf("%s: the server accepts, prefectctl refuses: %v", path, violations)
	case !serverOK && len(violations) == 0:
		t.Errorf("%s: the server refuses (%d %s), prefectctl accepts", path, status, detail(out))
	}
	if !known {
		t.Errorf("%s: prefectctl cannot decide this case", path)
		return
	}
	if predictedOK != serverOK {
		t.Errorf("%s: ServerError predicts ok=%v, the server answered %d %s", path, predictedOK, status, detail(out))
		return
	}
	if serverOK {
		return
	}
	got := detail(out)
	if status == 400 {
		// Hydration errors carry Python's json error text; the verdict and
		// the kind of error are what must agree.
		if !strings.HasPrefix(predicted, "Error hydrating") || !strings.Contains(got, "hydrating") {
			t.Errorf("%s: server %q, predicted %q", path, got, predicted)
		}
		return
	}
	got = strings.TrimPrefix(strings.TrimPrefix(got, "Error updating deployment: "), "Error creating flow run: ")
	// The text a Jinja template renders to is the server's to compute.
	if i := strings.Index(predicted, "'<rendered "); i >= 0 {
		j := i + strings.Index(predicted[i:], ">'") + 2
		re := regexp.MustCompile("^" + regexp.QuoteMeta(predicted[:i]) + "'[^']*'" + regexp.QuoteMeta(predicted[j:]) + "$")
		if re.MatchString(got) {
			return
		}
	}
	if got != predicted {
		t.Errorf("%s: server message\n  %s\npredicted\n  %s", path, got, predicted)
	}
}
