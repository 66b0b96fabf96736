package deploy

import (
	"context"
	"fmt"
	"strings"

	"github.com/prefectctl/prefectctl/internal/diag"
	"github.com/prefectctl/prefectctl/internal/py"
	"github.com/prefectctl/prefectctl/internal/steps"
	"github.com/prefectctl/prefectctl/internal/steps/docker"
)

// ImagePlanner decides, before the steps run, how each deployment's
// images are made — a full Docker build, or a code layer appended to the
// previous image in its registry — and reports what was pushed;
// *steps.Runner is the real one.
type ImagePlanner interface {
	PlanImages(ctx context.Context, build, push []*steps.Step, o steps.ImageOptions) (*steps.ImagePlan, error)
	Pushed() []docker.Pushed
}

// planImages decides every deployment's images (deps.Images) and keeps the
// plan on the deployment. need says a step needs the Docker daemon, why
// names it. The image each deployment runs now on the server (as the
// snapshot holds it) is a candidate for the image a code layer goes on.
func planImages(ctx context.Context, ds []*Deployment, snap *Snapshot, opt Options, deps Deps) (need bool, why string, problems diag.List) {
	for _, d := range ds {
		var build, push []*steps.Step
		if !opt.SkipBuild {
			build = d.build
		}
		if !opt.SkipPush {
			push = d.push
		}
		var previous []string
		if snap != nil && hasStep(build, steps.BuildDockerImage) {
			if st := snap.Deployment(preparedKey(d)); st != nil {
				previous = serverImages(st.Server)
			}
		}
		plan, err := deps.Images.PlanImages(ctx, build, push, steps.ImageOptions{Previous: previous, FullBuild: opt.FullBuild})
		if err != nil {
			problems = append(problems, diag.AsList(err)...)
			continue
		}
		d.images = plan
		if plan.NeedDocker && !need {
			need, why = true, d.FullName()+": "+plan.Why
		}
	}
	return need, why, problems
}

func hasStep(list []*steps.Step, fqn string) bool {
	for _, s := range list {
		if s.FQN == fqn {
			return true
		}
	}
	return false
}

// serverImages is the image a deployment on the server runs (its
// job_variables.image), when it names one.
func serverImages(server *py.Map) []string {
	jv, _ := get(server, "job_variables").(*py.Map)
	if img, ok := get(jv, "image").(string); ok && img != "" && !strings.Contains(img, "{{") {
		return []string{img}
	}
	return nil
}

// Decisions are the image decisions of d's plan (nil without one).
func (d *Deployment) Decisions() []*docker.Decision {
	if d.images == nil {
		return nil
	}
	return d.images.Decisions
}

// emitImages reports, before d's steps run, how its images will be made.
func emitImages(deps Deps, d *Deployment) {
	for _, dec := range d.Decisions() {
		deps.emit(EventImage, d.FullName(), "%s: %s", dec.Image, dec.String())
		for _, w := range dec.Warnings {
			deps.emit(EventImage, d.FullName(), "%s: warning: %s", dec.Image, w)
		}
	}
}

// pinImage rewrites job_variables.image from name:tag to name@sha256:…
// when the steps pushed that tag and the registry confirmed its digest
// (deploy --pin-digest): the deployment then runs exactly that image, and
// a rollback is re-pointing it at an older digest.
func pinImage(s *Spec, pushed []docker.Pushed) error {
	jv, _ := get(s.Body, "job_variables").(*py.Map)
	img, ok := get(jv, "image").(string)
	if !ok || img == "" || strings.Contains(img, "@") {
		return nil
	}
	for i := len(pushed) - 1; i >= 0; i-- {
		p := pushed[i]
		if p.Image != img {
			continue
		}
		if p.Digest == "" {
			return &diag.Error{Kind: diag.Runtime, Path: s.FlowName + "/" + s.Name + ".work_pool.job_variables.image",
				Msg:  fmt.Sprintf("cannot pin %s to its digest: the registry could not be read back after the push", img),
				Hint: "make the registry reachable from this machine, or deploy without --pin-digest"}
		}
		name := img
		if i := strings.LastIndex(img, ":"); i > strings.LastIndex(img, "/") {
			name = img[:i]
		}
		jv = py.Clone(jv).(*py.Map)
		jv.Set("image", name+"@"+p.Digest)
		s.Body.Set("job_variables", jv)
		return nil
	}
	return nil
}
