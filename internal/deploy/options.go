package deploy

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/prefectctl/prefectctl/internal/cloudapi"
	"github.com/prefectctl/prefectctl/internal/diag"
	"github.com/prefectctl/prefectctl/internal/py"
	"github.com/prefectctl/prefectctl/internal/steps"
	"github.com/prefectctl/prefectctl/internal/template"
)

// Options are what the user asked of a deploy, and nothing else: what
// deploying talks to comes in Deps, and neither is changed by the calls
// that take them.
type Options struct {
	// Dir is the working directory: entrypoints and the default pull step
	// are relative to it, as for prefect deploy.
	Dir string
	// Env is the process environment; nil means os.LookupEnv.
	Env func(string) (string, bool)
	// SkipBuild and SkipPush leave the build and push steps out.
	SkipBuild, SkipPush bool
	// Image, when set, stands in for the image a skipped build step would
	// produce.
	Image string
	// Force re-sends deployments that have not changed.
	Force bool
	// Project, when set, is the project's identity: the deployments this
	// deploy creates carry it as their mark (MarkLabel). Empty: they carry
	// no labels, as with prefect deploy.
	Project string
	// Prune, with Project, reads the project's marked deployments with the
	// snapshot; Plan lists those prefect.yaml no longer defines and Apply
	// reports them (Report.Prune) for the caller to Prune.
	Prune PruneMode
	// Atomic puts the server back as the snapshot found it when a write
	// fails after others succeeded or the run is interrupted (--atomic).
	Atomic bool
	// FullBuild builds every image with Docker, never as a code layer.
	FullBuild bool
	// PinDigests registers job_variables.image as name@sha256:… of the
	// image the steps pushed, instead of name:tag.
	PinDigests bool
}

func (o Options) env() func(string) (string, bool) {
	if o.Env != nil {
		return o.Env
	}
	return os.LookupEnv
}

// Deps are what deploying reads from, talks to and reports through. Each
// call uses them for its own duration only; a nil field is documented with
// what it means.
type Deps struct {
	// API is the Prefect API; Prepare, Finalize and DryRun do not need it.
	API API
	// Flows reads a flow's metadata from its entrypoint.
	Flows FlowLoader
	// Resolver reads prefect.variables and prefect.blocks; nil leaves
	// them as placeholders (Prepare and DryRun offline). Give the
	// invocation's template.NewCachedResolver, shared with the step runner.
	Resolver template.Resolver
	// Steps runs the build and push steps.
	Steps StepRunner
	// Docker checks the Docker daemon before steps that need it; nil
	// skips the check.
	Docker DockerChecker
	// Images decides before the steps run whether each image is a full
	// Docker build or a code layer, so Docker is needed only for full
	// builds; nil builds every image with Docker.
	Images ImagePlanner
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Warn receives problems that do not stop the deploy.
	Warn func(*diag.Error)
	// Progress receives what happens to each deployment during Apply.
	Progress func(Event)
}

func (d Deps) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

func (d Deps) warn(e *diag.Error) {
	if d.Warn != nil {
		d.Warn(e)
	}
}

func (d Deps) emit(k EventKind, name, format string, args ...any) {
	if d.Progress != nil {
		d.Progress(Event{Kind: k, Name: name, Message: fmt.Sprintf(format, args...)})
	}
}

// ServerReader is what deploying reads from the Prefect API: the filter
// requests a Snapshot is made of, and the workers of a pool whose status
// does not say whether one is online.
type ServerReader interface {
	FilterFlows(ctx context.Context, body any) ([]cloudapi.Flow, error)
	FilterDeployments(ctx context.Context, body any) ([]cloudapi.Deployment, error)
	FilterWorkPools(ctx context.Context, body any) ([]cloudapi.WorkPool, error)
	FilterAutomations(ctx context.Context, body any) ([]*py.Map, error)
	FilterWorkers(ctx context.Context, pool string, onlineOnly bool) ([]cloudapi.Worker, error)
}

// ServerWriter is what deploying changes on the Prefect API: registering,
// and the calls that put a deployment back or remove it.
type ServerWriter interface {
	// PrepareWrites fetches what the first write needs (a CSRF token), so
	// that it travels with the snapshot's reads.
	PrepareWrites(ctx context.Context) error
	CreateFlow(ctx context.Context, name string) (*cloudapi.Flow, error)
	CreateDeployment(ctx context.Context, body *py.Map) (*cloudapi.Deployment, bool, error)
	UpdateDeployment(ctx context.Context, id string, body *py.Map) error
	DeleteDeployment(ctx context.Context, id string) error
	DeleteAutomationsOwnedBy(ctx context.Context, resourceID string) error
	CreateAutomation(ctx context.Context, body *py.Map) (*cloudapi.Automation, error)
}

// API is the part of the Prefect API deploying uses; *cloudapi.Client is
// the real one.
type API interface {
	ServerReader
	ServerWriter
	// InFlightLimit is how many requests the client lets be in flight now
	// (its cloudapi.Limiter decides: adaptive, or pinned by
	// --concurrency); Apply registers as many deployments at once.
	InFlightLimit() int
}

var _ API = (*cloudapi.Client)(nil)

// FlowLoader reads a flow's metadata from its entrypoint.
type FlowLoader interface {
	LoadFlow(ctx context.Context, entrypoint string) (*Flow, error)
}

// StepRunner runs build and push steps; *steps.Runner is the real one.
type StepRunner interface {
	Run(ctx context.Context, s []*steps.Step, outputs *py.Map) (*py.Map, error)
}

// DockerChecker checks the Docker daemon the steps would use;
// *steps.Runner is the real one.
type DockerChecker interface {
	CheckDocker(ctx context.Context) error
}
