// Package flowrun starts and follows flow runs of deployments, as
// `prefect deployment run` does: it finds the deployment, checks the run's
// parameters against it, formats the run's name, creates the run, and
// watches its states and logs until it ends. Reading the user's input
// (flags, --start-in texts) is internal/cli's; this package takes it
// parsed.
package flowrun

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/prefectctl/prefectctl/internal/cloudapi"
	"github.com/prefectctl/prefectctl/internal/diag"
	"github.com/prefectctl/prefectctl/internal/py"
)

// API is the part of the Prefect API that starting and watching a flow
// run uses; *cloudapi.Client is the real one.
type API interface {
	ReadDeployment(ctx context.Context, id string) (*cloudapi.Deployment, error)
	ReadDeploymentByName(ctx context.Context, flowName, name string) (*cloudapi.Deployment, error)
	ReadFlow(ctx context.Context, id string) (*cloudapi.Flow, error)
	CreateFlowRunFromDeployment(ctx context.Context, deploymentID string, body *py.Map) (*cloudapi.FlowRun, bool, error)
	ReadFlowRun(ctx context.Context, id string) (*cloudapi.FlowRun, error)
	ReadFlowRunStates(ctx context.Context, flowRunID string) ([]cloudapi.State, error)
	FlowRunLogs(ctx context.Context, flowRunID, afterRFC3339 string, limit, offset int) ([]cloudapi.Log, error)
}

var _ API = (*cloudapi.Client)(nil)

// Target names the deployment to run: FLOW/DEPLOYMENT (the flow's
// registered name) or the deployment's id, exactly one of them.
type Target struct {
	Name string
	ID   string
}

// Inputs are what the user asks of the run, already read from the
// command line.
type Inputs struct {
	Parameters     *py.Map // the values the user gave; the server merges them over the deployment's
	JobVariables   *py.Map
	Tags           []string
	NameTemplate   string // a Python format string over the parameters; "" lets the server pick a name
	IdempotencyKey string
	Scheduled      time.Time
}

// Request is a checked flow run request, ready to send.
type Request struct {
	Inputs
	Deployment *cloudapi.Deployment
	Flow       *cloudapi.Flow
	Name       string // NameTemplate formatted; "" lets the server pick one
}

// FullName is "flow/deployment".
func (r *Request) FullName() string { return r.Flow.Name + "/" + r.Deployment.Name }

// Prepare does what Prefect does before it creates a run: it reads the
// deployment named by t and its flow, checks the parameter names against
// the deployment's schema, and formats the run's name over the
// deployment's and the run's parameters.
func Prepare(ctx context.Context, api API, t Target, in Inputs) (*Request, error) {
	r := &Request{Inputs: in}
	if r.Parameters == nil {
		r.Parameters = py.NewMap()
	}
	var err error
	if r.Deployment, err = ResolveDeployment(ctx, api, t); err != nil {
		return nil, err
	}
	if r.Flow, err = api.ReadFlow(ctx, r.Deployment.FlowID); err != nil {
		return nil, err
	}
	if err := CheckParameterNames(r.Deployment, r.Parameters); err != nil {
		var up *UnknownParametersError
		if errors.As(err, &up) {
			up.Deployment = r.FullName()
		}
		return nil, err
	}
	if in.NameTemplate == "" {
		return r, nil
	}
	merged := py.NewMap()
	if r.Deployment.Parameters != nil {
		merged.Update(r.Deployment.Parameters)
	}
	merged.Update(r.Parameters)
	name, err := py.Format(in.NameTemplate, merged)
	var ke *py.FormatKeyError
	switch {
	case errors.As(err, &ke):
		return nil, usage(fmt.Sprintf("Missing parameter for flow run name: '%s' is undefined", ke.Key), "every {field} of --flow-run-name must be a parameter of the run or the deployment")
	case err != nil:
		return nil, usage("Failed to format flow run name: "+err.Error(), "--flow-run-name is a Python format string: {name} inserts a parameter, {{ and }} are literal braces")
	}
	r.Name = name
	return r, nil
}

// NotFoundError is a deployment that does not exist; Ref is the name or
// id as the user gave it.
type NotFoundError struct{ Ref string }

func (e *NotFoundError) Error() string {
	return fmt.Sprintf("Deployment %s not found!", py.Repr(e.Ref))
}

// ResolveDeployment reads a deployment by FLOW/NAME or by id, with
// Prefect's messages for the usual mistakes. A deployment that does not
// exist is a *diag.Error wrapping a *NotFoundError.
func ResolveDeployment(ctx context.Context, api API, t Target) (*cloudapi.Deployment, error) {
	notFound := func(ref string) error {
		nf := &NotFoundError{Ref: ref}
		return &diag.Error{Kind: diag.Runtime, Msg: nf.Error(), Err: nf,
			Hint: "check the flow's registered name and the deployment's name, or the id"}
	}
	switch {
	case t.Name != "" && t.ID != "":
		return nil, usage("Only provide a deployed flow's name or id", "pass FLOW/DEPLOYMENT or --id, not both")
	case t.Name == "" && t.ID == "":
		return nil, usage("Must provide a deployed flow's name or id", "pass FLOW/DEPLOYMENT or --id ID")
	case t.ID != "":
		if !uuidRe.MatchString(t.ID) {
			return nil, usage(fmt.Sprintf("Invalid deployment ID: %s", py.Repr(t.ID)), "a deployment id is a UUID such as 0b5c4f3e-6f1a-4a8e-9d47-2a4f6f1f9a11")
		}
		d, err := api.ReadDeployment(ctx, t.ID)
		if errors.Is(err, cloudapi.ErrNotFound) {
			return nil, notFound(t.ID)
		}
		return d, err
	}
	flow, dep, ok := strings.Cut(t.Name, "/")
	if !ok || flow == "" || dep == "" || strings.Contains(dep, "/") {
		return nil, usage("Invalid deployment name. Expected '<flow-name>/<deployment-name>'", "use the flow's registered name, e.g. hello/arthur")
	}
	d, err := api.ReadDeploymentByName(ctx, flow, dep)
	if errors.Is(err, cloudapi.ErrNotFound) {
		return nil, notFound(t.Name)
	}
	return d, err
}

// uuidRe is what Python's uuid.UUID accepts.
var uuidRe = regexp.MustCompile(`^(?i)(urn:uuid:)?\{?[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}\}?$`)

// UnknownParametersError lists parameters the deployment does not take,
// with Prefect's message.
type UnknownParametersError struct {
	Deployment string   // FLOW/DEPLOYMENT, when known
	Unknown    []string // sorted (Prefect prints a set, in no fixed order)
	Known      []string // the deployment's, in its schema's order
}

func (e *UnknownParametersError) Error() string {
	avail := "This deployment does not accept parameters."
	if len(e.Known) > 0 {
		avail = "The following parameters are available on the deployment: " + py.JoinRepr(e.Known)
	}
	return "The following parameters were specified but not found on the deployment: " + py.JoinRepr(e.Unknown) + "\n" + avail
}

// CheckParameterNames rejects parameters the deployment's schema does not
// list, client-side, as Prefect does: a usage *diag.Error wrapping an
// *UnknownParametersError.
func CheckParameterNames(d *cloudapi.Deployment, params *py.Map) error {
	var known []string
	if d.ParameterOpenAPISchema != nil {
		if props, ok := d.ParameterOpenAPISchema.Get("properties"); ok {
			if m, ok := props.(*py.Map); ok {
				known = m.Keys()
			}
		}
	}
	isKnown := map[string]bool{}
	for _, k := range known {
		isKnown[k] = true
	}
	var unknown []string
	for _, k := range params.Keys() {
		if !isKnown[k] {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	sort.Strings(unknown)
	e := &UnknownParametersError{Unknown: unknown, Known: known}
	return &diag.Error{Kind: diag.Usage, Msg: e.Error(), Err: e, Hint: "pass only the parameters the deployment lists"}
}

// Body is the POST /deployments/{id}/create_flow_run body, field for
// field what Prefect's client sends.
func (r *Request) Body() *py.Map {
	tags := []any{}
	for _, t := range r.Tags {
		tags = append(tags, t)
	}
	var name, key any
	if r.Name != "" {
		name = r.Name
	}
	if r.IdempotencyKey != "" {
		key = r.IdempotencyKey
	}
	jv := r.JobVariables
	if jv == nil {
		jv = py.NewMap()
	}
	params := r.Parameters
	if params == nil {
		params = py.NewMap()
	}
	state := py.MapOf(
		"type", "SCHEDULED", "name", "Scheduled", "message", nil,
		"state_details", py.MapOf("scheduled_time", py.DateTime{Time: r.Scheduled.UTC()}.ISO(), "traceparent", nil),
		"data", nil)
	return py.MapOf(
		"state", state, "name", name, "parameters", params, "context", py.NewMap(),
		"tags", tags, "idempotency_key", key, "parent_task_run_id", nil,
		"job_variables", jv, "labels", py.NewMap())
}

// Create posts the flow run. created is false when the idempotency key
// matched an existing run. An HTTP error with a detail is reported as that
// detail, as Prefect does.
func Create(ctx context.Context, api API, r *Request) (run *cloudapi.FlowRun, created bool, err error) {
	run, created, err = api.CreateFlowRunFromDeployment(ctx, r.Deployment.ID, r.Body())
	var ae *cloudapi.APIError
	if err != nil && errors.As(err, &ae) && (ae.Detail != "" || len(ae.Issues) > 0) {
		msg := ae.Detail
		if len(ae.Issues) > 0 {
			msg = strings.TrimSpace(msg + "\n" + strings.Join(ae.Issues, "\n"))
		}
		return nil, false, &diag.Error{Kind: diag.Runtime, Msg: msg, Hint: ae.Hint, Err: errNoRepeat{ae}}
	}
	return run, created, err
}

// errNoRepeat keeps an APIError reachable by errors.As without printing
// its text a second time after the detail.
type errNoRepeat struct{ e *cloudapi.APIError }

func (e errNoRepeat) Error() string { return e.e.Detail }
func (e errNoRepeat) Unwrap() error { return e.e }

func usage(msg, hint string) *diag.Error {
	return &diag.Error{Kind: diag.Usage, Msg: msg, Hint: hint}
}
