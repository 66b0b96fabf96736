package cloudapi

import (
	"encoding/json"
	"time"

	"github.com/prefectctl/prefectctl/internal/py"
)

// Fields that carry user data (parameters, job variables, schemas, block
// data, pull steps) are *py.Map or []any so their key order and number
// types survive a round trip; everything else is typed.

// Flow is a flow record.
type Flow struct {
	ID      string    `json:"id"`
	Created time.Time `json:"created"`
	Updated time.Time `json:"updated"`
	Name    string    `json:"name"`
	Tags    []string  `json:"tags"`
	Labels  *py.Map   `json:"labels,omitempty"`
}

// Schedule is one schedule of a deployment.
type Schedule struct {
	ID               string    `json:"id"`
	Created          time.Time `json:"created"`
	Updated          time.Time `json:"updated"`
	DeploymentID     string    `json:"deployment_id"`
	Schedule         *py.Map   `json:"schedule"`
	Active           bool      `json:"active"`
	MaxScheduledRuns *int64    `json:"max_scheduled_runs"`
	Parameters       *py.Map   `json:"parameters"`
	Slug             *string   `json:"slug"`
}

// Deployment is a DeploymentResponse.
type Deployment struct {
	ID                       string          `json:"id"`
	Created                  time.Time       `json:"created"`
	Updated                  time.Time       `json:"updated"`
	Name                     string          `json:"name"`
	Version                  *string         `json:"version"`
	VersionInfo              *py.Map         `json:"version_info"`
	Description              *string         `json:"description"`
	FlowID                   string          `json:"flow_id"`
	Paused                   bool            `json:"paused"`
	Schedules                []Schedule      `json:"schedules"`
	ConcurrencyLimit         *int64          `json:"concurrency_limit"`
	GlobalConcurrencyLimit   *py.Map         `json:"global_concurrency_limit"`
	ConcurrencyOptions       *py.Map         `json:"concurrency_options"`
	JobVariables             *py.Map         `json:"job_variables"`
	Parameters               *py.Map         `json:"parameters"`
	Tags                     []string        `json:"tags"`
	Labels                   *py.Map         `json:"labels"`
	WorkQueueName            *string         `json:"work_queue_name"`
	WorkQueueID              *string         `json:"work_queue_id"`
	WorkPoolName             *string         `json:"work_pool_name"`
	LastPolled               *time.Time      `json:"last_polled"`
	ParameterOpenAPISchema   *py.Map         `json:"parameter_openapi_schema"`
	Path                     *string         `json:"path"`
	PullSteps                []*py.Map       `json:"pull_steps"`
	Entrypoint               *string         `json:"entrypoint"`
	StorageDocumentID        *string         `json:"storage_document_id"`
	InfrastructureDocumentID *string         `json:"infrastructure_document_id"`
	CreatedBy                *py.Map         `json:"created_by"`
	UpdatedBy                *py.Map         `json:"updated_by"`
	Status                   *string         `json:"status"`
	EnforceParameterSchema   bool            `json:"enforce_parameter_schema"`
	Raw                      json.RawMessage `json:"-"` // the whole response, for -o json and comparisons (a deploy snapshot keeps its decoded map instead)
}

// UnmarshalJSON keeps the raw response next to the typed fields.
func (d *Deployment) UnmarshalJSON(b []byte) error {
	type plain Deployment
	if err := json.Unmarshal(b, (*plain)(d)); err != nil {
		return err
	}
	d.Raw = append(json.RawMessage(nil), b...)
	return nil
}

// WorkPool is a WorkPoolResponse.
type WorkPool struct {
	ID                   string    `json:"id"`
	Created              time.Time `json:"created"`
	Updated              time.Time `json:"updated"`
	Name                 string    `json:"name"`
	Description          *string   `json:"description"`
	Type                 string    `json:"type"`
	BaseJobTemplate      *py.Map   `json:"base_job_template"`
	IsPaused             bool      `json:"is_paused"`
	ConcurrencyLimit     *int64    `json:"concurrency_limit"`
	Status               *string   `json:"status"`
	DefaultQueueID       *string   `json:"default_queue_id"`
	StorageConfiguration *py.Map   `json:"storage_configuration"`
}

// WorkQueue is a work queue of a pool.
type WorkQueue struct {
	ID               string     `json:"id"`
	Name             string     `json:"name"`
	Description      *string    `json:"description"`
	IsPaused         bool       `json:"is_paused"`
	ConcurrencyLimit *int64     `json:"concurrency_limit"`
	Priority         int64      `json:"priority"`
	WorkPoolID       *string    `json:"work_pool_id"`
	WorkPoolName     *string    `json:"work_pool_name"`
	LastPolled       *time.Time `json:"last_polled"`
	Status           *string    `json:"status"`
}

// Worker is a worker polling a pool.
type Worker struct {
	ID                string     `json:"id"`
	Name              string     `json:"name"`
	WorkPoolID        string     `json:"work_pool_id"`
	LastHeartbeatTime *time.Time `json:"last_heartbeat_time"`
	Status            string     `json:"status"`
}

// Variable is a workspace variable; Value is any JSON value.
type Variable struct {
	ID      string    `json:"id"`
	Created time.Time `json:"created"`
	Updated time.Time `json:"updated"`
	Name    string    `json:"name"`
	Value   any       `json:"-"`
	Tags    []string  `json:"tags"`
}

// UnmarshalJSON decodes Value with Python's number and order semantics.
func (v *Variable) UnmarshalJSON(b []byte) error {
	type plain Variable
	aux := struct {
		*plain
		Value json.RawMessage `json:"value"`
	}{plain: (*plain)(v)}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	if len(aux.Value) == 0 {
		v.Value = nil
		return nil
	}
	val, err := py.DecodeJSON(aux.Value)
	v.Value = val
	return err
}

// BlockType is the type part of a block document.
type BlockType struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Slug        string `json:"slug"`
	IsProtected bool   `json:"is_protected"`
}

// BlockDocument is a block document, secrets included when asked for.
type BlockDocument struct {
	ID                      string     `json:"id"`
	Name                    *string    `json:"name"`
	IsAnonymous             bool       `json:"is_anonymous"`
	Data                    *py.Map    `json:"data"`
	BlockSchemaID           string     `json:"block_schema_id"`
	BlockSchema             *py.Map    `json:"block_schema"`
	BlockTypeID             string     `json:"block_type_id"`
	BlockTypeName           *string    `json:"block_type_name"`
	BlockType               *BlockType `json:"block_type"`
	BlockDocumentReferences *py.Map    `json:"block_document_references"`
}

// State is a flow run state.
type State struct {
	ID           string    `json:"id"`
	Type         string    `json:"type"`
	Name         string    `json:"name"`
	Timestamp    time.Time `json:"timestamp"`
	Message      *string   `json:"message"`
	StateDetails *py.Map   `json:"state_details"`
}

// Terminal reports whether no further transition is expected.
func (s *State) Terminal() bool {
	if s == nil {
		return false
	}
	switch s.Type {
	case "COMPLETED", "FAILED", "CANCELLED", "CRASHED":
		return true
	}
	return false
}

// FlowRun is a FlowRunResponse.
type FlowRun struct {
	ID                string     `json:"id"`
	Created           time.Time  `json:"created"`
	Updated           time.Time  `json:"updated"`
	Name              string     `json:"name"`
	FlowID            string     `json:"flow_id"`
	DeploymentID      *string    `json:"deployment_id"`
	DeploymentVersion *string    `json:"deployment_version"`
	WorkQueueName     *string    `json:"work_queue_name"`
	WorkPoolName      *string    `json:"work_pool_name"`
	Parameters        *py.Map    `json:"parameters"`
	JobVariables      *py.Map    `json:"job_variables"`
	IdempotencyKey    *string    `json:"idempotency_key"`
	Tags              []string   `json:"tags"`
	StateType         *string    `json:"state_type"`
	StateName         *string    `json:"state_name"`
	RunCount          int64      `json:"run_count"`
	ExpectedStartTime *time.Time `json:"expected_start_time"`
	StartTime         *time.Time `json:"start_time"`
	EndTime           *time.Time `json:"end_time"`
	TotalRunTime      float64    `json:"total_run_time"`
	State             *State     `json:"state"`
}

// Log is one flow or task run log line.
type Log struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Level     int       `json:"level"`
	Message   string    `json:"message"`
	Timestamp time.Time `json:"timestamp"`
	FlowRunID *string   `json:"flow_run_id"`
	TaskRunID *string   `json:"task_run_id"`
}

// Workspace is one entry of Cloud's GET /me/workspaces.
type Workspace struct {
	AccountID            string  `json:"account_id"`
	AccountName          string  `json:"account_name"`
	AccountHandle        string  `json:"account_handle"`
	WorkspaceID          string  `json:"workspace_id"`
	WorkspaceName        string  `json:"workspace_name"`
	WorkspaceDescription *string `json:"workspace_description"`
	WorkspaceHandle      string  `json:"workspace_handle"`
}

// Handle is "account_handle/workspace_handle", what --workspace takes.
func (w Workspace) Handle() string { return w.AccountHandle + "/" + w.WorkspaceHandle }

// APIURL is the workspace API URL under cloudAPIURL, as Prefect builds it.
func (w Workspace) APIURL(cloudAPIURL string) string {
	return cloudAPIURL + "/accounts/" + w.AccountID + "/workspaces/" + w.WorkspaceID
}

// Automation is the part of an automation the CLI reads back.
type Automation struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Enabled bool   `json:"enabled"`
}
