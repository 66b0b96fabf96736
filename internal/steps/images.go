package steps

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/prefectctl/prefectctl/internal/py"
	reg "github.com/prefectctl/prefectctl/internal/registry"
	"github.com/prefectctl/prefectctl/internal/steps/docker"
	"github.com/prefectctl/prefectctl/internal/template"
)

// ImageOptions describe the deployment whose images PlanImages decides.
type ImageOptions struct {
	// Previous are the images the deployment runs now (its
	// job_variables.image on the server).
	Previous []string
	// FullBuild forces Docker builds (deploy --full-build).
	FullBuild bool
}

// ImagePlan is how a deployment's build and push steps will make and send
// its images.
type ImagePlan struct {
	// Decisions has one entry per build_docker_image step, in order.
	Decisions []*docker.Decision
	// NeedDocker says a step needs the Docker daemon; Why names the first
	// such step and the reason.
	NeedDocker bool
	Why        string
}

// PlanImages decides, before any step runs, how each build_docker_image
// step of build will make its image: a full Docker build, or a code layer
// appended in the registry (docker.Steps.Decide). Inputs are templated
// with what is known before the steps run (the environment, blocks and
// variables); a step whose image name or build options need an earlier
// step's output is decided when it runs (Pending), and a tag that does
// only leaves the step's own tag out of the candidates. The runner keeps
// each step's deployment context, so the steps decide the same way when
// Run runs them. Nothing is built, pushed or written.
func (r *Runner) PlanImages(ctx context.Context, build, push []*Step, o ImageOptions) (*ImagePlan, error) {
	plan := &ImagePlan{}
	need := func(why string) {
		if !plan.NeedDocker {
			plan.NeedDocker, plan.Why = true, why
		}
	}
	outputs := py.NewMap()
	dir := r.Dir()
	codeLayers := map[string]bool{}
	for _, s := range build {
		switch s.FQN {
		case SetWorkingDirectory:
			in, open, err := r.planTemplate(ctx, s, outputs)
			if err != nil {
				return nil, err
			}
			if d, ok := in.Get("directory"); ok && len(open) == 0 {
				if ds, isStr := d.(string); isStr {
					if !filepath.IsAbs(ds) {
						ds = filepath.Join(dir, ds)
					}
					dir = ds
				}
			}
		case BuildDockerImage:
			in, open, err := r.planTemplate(ctx, s, outputs)
			if err != nil {
				return nil, err
			}
			h := &docker.Hints{FullBuild: o.FullBuild, Previous: o.Previous}
			rawName, _ := s.Inputs.Get("image_name")
			name, _ := in.Get("image_name")
			nameStr, _ := name.(string)
			if open["image_name"] || nameStr == "" {
				h.Pushed = r.pushedByTemplate(s, py.Str(rawName), push)
				r.setHints(s, h)
				d := &docker.Decision{Image: py.Str(rawName), Mode: docker.ModeFullBuild, Pending: true,
					Reason: "its image name needs an earlier step's output; decided when the step runs"}
				plan.Decisions = append(plan.Decisions, d)
				need(fmt.Sprintf("%s (%s): %s", s.Written, s.Where(), d.Reason))
				continue
			}
			qualified := r.docker.QualifyImageName(nameStr)
			tag := ""
			if open["tag"] {
				in.Delete("tag")
			} else if t, ok := in.Get("tag"); ok && t != nil {
				tag = py.Str(t)
			}
			h.Pushed, h.Credentials = r.pushedBy(ctx, s, qualified, tag, push, outputs)
			r.setHints(s, h)
			delete(open, "tag")
			var d *docker.Decision
			if len(open) > 0 {
				d = &docker.Decision{Image: qualified, Mode: docker.ModeFullBuild, Pending: true,
					Reason: "its inputs need an earlier step's output; decided when the step runs"}
			} else if d, err = r.docker.Decide(ctx, dir, in, h); err != nil {
				return nil, r.fail(s, r.stepEnv(), err, nil)
			}
			plan.Decisions = append(plan.Decisions, d)
			if d.Mode == docker.ModeCodeLayer {
				codeLayers[qualified] = true
			} else {
				need(fmt.Sprintf("%s (%s) of %s: %s", s.Written, s.Where(), qualified, d.String()))
			}
			addImageOutputs(outputs, s.ID, qualified, tag)
		}
	}
	for _, s := range push {
		if s.FQN != PushDockerImage {
			continue
		}
		in, open, err := r.planTemplate(ctx, s, outputs)
		if err != nil {
			return nil, err
		}
		name, _ := in.Get("image_name")
		n, _ := name.(string)
		if open["image_name"] || !codeLayers[r.docker.QualifyImageName(n)] {
			need(fmt.Sprintf("%s (%s) pushes %s from the Docker daemon", s.Written, s.Where(), py.Str(name)))
		}
	}
	return plan, nil
}

// planTemplate templates a step's inputs like run_step, but keeps the
// placeholders of outputs that are not known yet (open lists the input
// keys that still hold one).
func (r *Runner) planTemplate(ctx context.Context, s *Step, outputs *py.Map) (*py.Map, map[string]bool, error) {
	opt := template.Options{Env: r.env.lookup}
	v, err := template.ApplyValues(s.Inputs, outputs, opt)
	if err != nil {
		return nil, nil, err
	}
	if res := r.env.Resolver; res != nil {
		if v, err = template.ResolveBlockReferences(ctx, v, res); err != nil {
			return nil, nil, err
		}
		if v, err = template.ResolveVariables(ctx, v, res); err != nil {
			return nil, nil, err
		}
	}
	if v, err = template.ApplyValues(v, template.EnvValues(r.env.Environ), opt); err != nil {
		return nil, nil, err
	}
	m, ok := v.(*py.Map)
	if !ok {
		return nil, nil, fmt.Errorf("templated inputs are %s, not a mapping", py.TypeName(v))
	}
	open := map[string]bool{}
	for _, k := range m.Keys() {
		x, _ := m.Get(k)
		walkStrings(x, func(str string) {
			if strings.Contains(str, "{{") {
				open[k] = true
			}
		})
	}
	return m, open, nil
}

// pushedBy finds the push_docker_image step that pushes the image the
// build step s makes (its image_name, once templated with s's outputs,
// is the same image) and returns its credentials mapping, if any.
func (r *Runner) pushedBy(ctx context.Context, s *Step, image, tag string, push []*Step, outputs *py.Map) (bool, *reg.Credentials) {
	out := py.Clone(outputs).(*py.Map)
	addImageOutputs(out, s.ID, image, tag)
	for _, p := range push {
		if p.FQN != PushDockerImage {
			continue
		}
		in, open, err := r.planTemplate(ctx, p, out)
		if err != nil || open["image_name"] {
			continue
		}
		n, _ := in.Get("image_name")
		if ns, ok := n.(string); !ok || r.docker.QualifyImageName(ns) != image {
			continue
		}
		var creds *reg.Credentials
		if c, ok := in.Get("credentials"); ok && !open["credentials"] {
			if m, isMap := c.(*py.Map); isMap {
				str := func(k string) string { x, _ := m.Get(k); return py.Str(x) }
				creds = &reg.Credentials{Username: str("username"), Password: str("password"), RegistryURL: str("registry_url")}
			}
		}
		return true, creds
	}
	return false, nil
}

// pushedByTemplate is pushedBy for a build step whose image name is not
// known before the steps run: a push step whose image_name refers to the
// build step's outputs, or is written the same way, pushes its image.
func (r *Runner) pushedByTemplate(s *Step, rawName string, push []*Step) bool {
	for _, p := range push {
		if p.FQN != PushDockerImage {
			continue
		}
		n, _ := p.Inputs.Get("image_name")
		ns := py.Str(n)
		if ns == rawName || s.ID != "" && (strings.Contains(ns, s.ID+".image_name") || strings.Contains(ns, s.ID+".image ")) {
			return true
		}
	}
	return false
}

func (r *Runner) setHints(s *Step, h *docker.Hints) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.hints == nil {
		r.hints = map[*Step]*docker.Hints{}
	}
	r.hints[s] = h
}

func (r *Runner) hintsFor(s *Step) *docker.Hints {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.hints[s]
}

// addImageOutputs adds what a build step is known to output before it
// runs (image_name, and tag and image when the tag is known) to outputs,
// under the step's id when it has one and at the top level, as run_steps
// merges a step's outputs.
func addImageOutputs(outputs *py.Map, id, image, tag string) {
	out := py.MapOf("image_name", image)
	if tag != "" {
		out.Set("tag", tag)
		out.Set("image", image+":"+tag)
	}
	if id != "" {
		outputs.Set(id, out)
	}
	outputs.Update(out)
}
