// Package deploy is prefectctl's action layer: it turns selected prefect.yaml
// deployments into the exact requests prefect deploy would send, runs their
// build and push steps, and registers them. It knows nothing of cobra or of
// terminals; internal/cli drives it and renders its results.
package deploy

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/prefectctl/prefectctl/internal/diag"
	"github.com/prefectctl/prefectctl/internal/project"
	"github.com/prefectctl/prefectctl/internal/py"
	"github.com/prefectctl/prefectctl/internal/steps"
	"github.com/prefectctl/prefectctl/internal/template"
)

// Flow is what deploy needs to know about a flow function.
type Flow struct {
	Name            string
	Description     string
	Version         string
	ParameterSchema *py.Map
	Warnings        []*diag.Error
}

// Deployment is one selected deployment on its way to the server.
type Deployment struct {
	Selected *project.Selected
	Label    string

	// Config is the configuration after block, variable and environment
	// resolution, in that order, as prefect deploy resolves them.
	Config *py.Map

	// The steps as captured before any resolution.
	BuildSteps, PushSteps []any
	// PullSteps are the steps that will be stored, before the final
	// templating with step outputs; nil with PullUnset means Prefect could
	// not work them out (a custom Dockerfile in non-interactive mode).
	PullSteps []any
	PullUnset bool

	// build and push are the parsed steps, set by the checks before any
	// step runs.
	build, push []*steps.Step
	// images is how the build steps make their images, decided before
	// they run (nil without Deps.Images).
	images *steps.ImagePlan

	Flow     *Flow
	FlowName string
	Name     string
	WorkPool string
	Notes    []string // what Prefect prints along the way
	// PullFromHere is the directory on this machine the default pull step
	// points workers at ("" when the pull steps go elsewhere).
	PullFromHere string
}

// FullName is flow/deployment, how deployments are named on the server.
func (d *Deployment) FullName() string { return d.FlowName + "/" + d.Name }

// Prepare runs the part of prefect deploy's pipeline that comes before the
// build steps, without its API checks: it captures the
// steps, resolves blocks, variables and the environment, loads the flow and
// works out the pull steps.
func Prepare(ctx context.Context, p *project.Project, sel *project.Selected, opt Options, deps Deps) (*Deployment, error) {
	cfg := py.Clone(sel.Config).(*py.Map)
	d := &Deployment{Selected: sel, Label: sel.Label()}
	where := func(field string) (string, string) {
		if sel.Deployment == nil {
			return "", field
		}
		path := sel.Deployment.Path()
		if field != "" {
			path += "." + field
		}
		return p.File.Path, path
	}
	invalid := func(field, hint, format string, args ...any) error {
		file, path := where(field)
		e := &diag.Error{Kind: diag.Invalid, File: file, Path: path, Msg: fmt.Sprintf(format, args...), Hint: hint}
		if sel.Deployment != nil {
			pos := p.File.Pos(path)
			e.File, e.Line, e.Col = pos.File, pos.Line, pos.Col
		}
		return e
	}

	d.BuildSteps = stepsOr(cfg, "build", p.Build)
	d.PushSteps = stepsOr(cfg, "push", p.Push)
	// 3.9.1 falls back to the top-level push steps even when the deployment
	// says push: null (see docs/differences.md).
	if len(d.PushSteps) == 0 {
		d.PushSteps = p.Push.Steps
	}
	capturedPull := stepsOr(cfg, "pull", p.Pull)
	explicitNoPull := false
	if x, ok := cfg.Get("pull"); ok {
		l, isList := x.([]any)
		explicitNoPull = isList && len(l) == 0
	} else {
		explicitNoPull = p.Pull.Explicit()
	}

	var err error
	var resolved any = cfg
	if deps.Resolver != nil {
		if resolved, err = template.ResolveBlockReferences(ctx, resolved, deps.Resolver); err != nil {
			return nil, err
		}
		if resolved, err = template.ResolveVariables(ctx, resolved, deps.Resolver); err != nil {
			return nil, err
		}
	}
	resolved, err = template.ApplyValues(resolved, template.EnvValues(opt.env()), template.Options{RemoveNotSet: false, Env: opt.env()})
	if err != nil {
		return nil, invalid("", "check the placeholders in this deployment", "%v", err)
	}
	cfg = resolved.(*py.Map)
	d.Config = cfg

	entrypoint, _ := cfg.Get("entrypoint")
	ep, _ := entrypoint.(string)
	if ep == "" {
		return nil, invalid("entrypoint", "add entrypoint: path/to/file.py:flow_function to the deployment, or pass it as the argument of deploy",
			"an entrypoint must be provided")
	}
	if deps.Flows == nil {
		return nil, fmt.Errorf("deploy: no flow loader configured")
	}
	flow, err := deps.Flows.LoadFlow(ctx, ep)
	if err != nil {
		return nil, err
	}
	for _, w := range flow.Warnings {
		deps.warn(w)
	}
	d.Flow = flow
	d.FlowName = flow.Name
	cfg.Set("flow_name", flow.Name)
	name, _ := cfg.Get("name")
	d.Name, _ = name.(string)
	if d.Name == "" {
		return nil, invalid("name", "add name: to the deployment, or pass -n NAME", "a deployment name must be provided")
	}
	pool, _ := template.GetFromDict(cfg, "work_pool.name")
	d.WorkPool, _ = pool.(string)
	if d.WorkPool == "" {
		return nil, invalid("work_pool", "set work_pool: {name: POOL} in prefect.yaml, pass --pool POOL, or set PREFECT_DEFAULT_WORK_POOL_NAME",
			"a work pool is required to deploy this flow")
	}

	switch {
	case explicitNoPull:
		d.PullSteps = []any{}
	case len(capturedPull) > 0:
		d.PullSteps = capturedPull
	default:
		if l, _ := cfg.Get("pull"); nonEmptyList(l) {
			d.PullSteps = l.([]any)
		} else if len(p.Pull.Steps) > 0 {
			d.PullSteps = p.Pull.Steps
		} else {
			d.PullSteps, d.PullUnset = defaultPullSteps(d, cfg, p, opt, deps)
		}
	}
	return d, nil
}

func nonEmptyList(x any) bool {
	l, ok := x.([]any)
	return ok && len(l) > 0
}

// stepsOr is Python's cfg.get(key, top) or []: a key present with null
// means no steps, a missing key means the top-level steps.
func stepsOr(cfg *py.Map, key string, top project.Action) []any {
	if x, ok := cfg.Get(key); ok {
		l, _ := x.([]any)
		return l
	}
	return top.Steps
}

const (
	stepBuildImage = "prefect_docker.deployments.steps.build_docker_image"
	stepPushImage  = "prefect_docker.deployments.steps.push_docker_image"
	stepSetWorkDir = "prefect.deployments.steps.set_working_directory"
)

// defaultPullSteps is Prefect's _generate_default_pull_action in
// non-interactive mode.
func defaultPullSteps(d *Deployment, cfg *py.Map, p *project.Project, opt Options, deps Deps) ([]any, bool) {
	// Prefect looks at deploy_config.get("build") or the top-level build.
	build := p.Build.Steps
	if l, _ := cfg.Get("build"); nonEmptyList(l) {
		build = l.([]any)
	}
	for _, s := range build {
		m, ok := s.(*py.Map)
		if !ok {
			continue
		}
		in, ok := m.Get(stepBuildImage)
		if !ok {
			continue
		}
		inputs, _ := in.(*py.Map)
		if df, _ := inputs.Get("dockerfile"); df == "auto" {
			return []any{py.MapOf(stepSetWorkDir, py.MapOf("directory", "/opt/prefect/"+filepath.Base(absDir(opt.Dir))))}, false
		}
		d.Notes = append(d.Notes, "the build step uses a custom Dockerfile, so no default pull step is stored; add a set_working_directory pull step naming where your Dockerfile copies the flow code")
		return nil, true
	}
	if img, _ := template.GetFromDict(cfg, "work_pool.job_variables.image"); py.Truthy(img) {
		deps.warn(&diag.Error{Kind: diag.Invalid, Msg: fmt.Sprintf("%s: using the default working directory '/opt/prefect' for your Docker image", d.Label),
			Hint: "if your flow code is elsewhere in the image, add an explicit set_working_directory pull step to prefect.yaml"})
		return []any{py.MapOf(stepSetWorkDir, py.MapOf("directory", "/opt/prefect"))}, false
	}
	d.PullFromHere = absDir(opt.Dir)
	return []any{py.MapOf(stepSetWorkDir, py.MapOf("directory", d.PullFromHere))}, false
}

func absDir(dir string) string {
	if dir == "" {
		dir, _ = os.Getwd()
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return dir
	}
	if r, err := filepath.EvalSymlinks(abs); err == nil {
		return r
	}
	return abs
}

// stepInfo is what planning needs to know about a step without running it.
type stepInfo struct {
	FQN     string
	ID      string
	Outputs []string // the flat output keys the step is known to return
}

// knownOutputs are the output keys of the steps prefectctl runs natively.
var knownOutputs = map[string][]string{
	"run_shell_script":         {"stdout", "stderr"},
	"build_docker_image":       {"image_name", "tag", "image", "image_id", "additional_tags"},
	"push_docker_image":        {"image_name", "tag", "image", "additional_tags"},
	"set_working_directory":    {"directory"},
	"git_clone":                {"directory"},
	"pull_from_remote_storage": {"directory"},
	"pull_with_block":          {"directory"},
	"pip_install_requirements": {"stdout", "stderr"},
}

func describeStep(raw any) stepInfo {
	m, ok := raw.(*py.Map)
	if !ok || m.Len() != 1 {
		return stepInfo{}
	}
	fqn := m.Keys()[0]
	info := stepInfo{FQN: fqn}
	if in, _ := m.Get(fqn); in != nil {
		if inputs, ok := in.(*py.Map); ok {
			if id, ok := inputs.Get("id"); ok {
				info.ID, _ = id.(string)
			}
		}
	}
	info.Outputs = knownOutputs[fqn[strings.LastIndex(fqn, ".")+1:]]
	return info
}

// pendingPrefixes are the placeholder names that the build and push steps
// would fill in: each step id, and each flat output key.
func (d *Deployment) pendingPrefixes() []string {
	seen := map[string]bool{}
	var out []string
	add := func(s string) {
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	for _, s := range append(append([]any{}, d.BuildSteps...), d.PushSteps...) {
		info := describeStep(s)
		if info.ID != "" {
			add(info.ID + ".")
			add(info.ID + "[")
		}
		for _, o := range info.Outputs {
			add(o)
		}
	}
	sort.Strings(out)
	return out
}
