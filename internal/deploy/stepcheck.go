package deploy

import (
	"errors"
	"strings"

	"github.com/prefectctl/prefectctl/internal/diag"
	"github.com/prefectctl/prefectctl/internal/project"
	"github.com/prefectctl/prefectctl/internal/steps"
	"github.com/prefectctl/prefectctl/internal/template"
)

// CheckSteps parses a deployment's build, push and pull steps and checks
// the pull steps' arguments, without running anything. Problems are located
// in prefect.yaml: at the deployment's own section when it has one, at the
// top-level section otherwise.
func CheckSteps(p *project.Project, d *Deployment) (build, push []*steps.Step, problems diag.List) {
	locate := func(section string, err error) {
		for _, e := range diag.AsList(err) {
			prefix := ""
			if sd := d.Selected.Deployment; sd != nil && sd.Config.Has(section) {
				prefix = sd.Path() + "."
			}
			if strings.HasPrefix(e.Path, section) && p != nil && p.File != nil {
				e.Path = prefix + e.Path
				pos := p.File.Pos(e.Path)
				e.File, e.Line, e.Col = pos.File, pos.Line, pos.Col
			}
			problems = append(problems, e)
		}
	}
	var err error
	if build, err = steps.ParseSection(d.BuildSteps, "build"); err != nil {
		locate("build", err)
	}
	if push, err = steps.ParseSection(d.PushSteps, "push"); err != nil {
		locate("push", err)
	}
	pull, err := steps.ParseSection(d.PullSteps, "pull")
	if err != nil {
		locate("pull", err)
	}
	for _, list := range [][]*steps.Step{build, push, pull} {
		for _, s := range list {
			if err := unknownBuiltin(s); err != nil {
				locate(s.Section, err)
			}
		}
	}
	problems = append(problems, checkBlockPlaceholders(p, d)...)
	for _, s := range pull {
		if err := steps.ValidatePullStep(s); err != nil {
			var de *diag.Error
			if errors.As(err, &de) && de.Path == "" {
				de.Path = s.Section + "[" + itoa(s.Index) + "]"
			}
			locate("pull", err)
		}
	}
	return build, push, problems
}

// builtinModules are the modules whose steps prefectctl knows completely:
// a name there that is not a known step is a typo, not a user's own step.
var builtinModules = []string{"prefect.deployments.steps.", "prefect_docker.deployments.steps.", "prefect.projects.steps.", "prefect_docker.projects.steps."}

var knownSteps = []string{steps.RunShellScript, steps.PipInstallRequirements, steps.SetWorkingDirectory, steps.GitClone,
	steps.PullFromRemoteStorage, steps.PullWithBlock, steps.BuildDockerImage, steps.PushDockerImage}

func unknownBuiltin(s *steps.Step) error {
	for _, mod := range builtinModules {
		if !strings.HasPrefix(s.FQN, mod) {
			continue
		}
		for _, k := range knownSteps {
			if s.FQN == k {
				return nil
			}
		}
		hint := "the steps Prefect provides: " + strings.Join(knownSteps, ", ")
		if c := closestStep(s.FQN); c != "" {
			hint = "did you mean " + c + "?"
		}
		return &diag.Error{Kind: diag.Invalid, Path: s.Section + "[" + itoa(s.Index) + "]", Msg: "unknown step " + s.Written, Hint: hint}
	}
	return nil
}

func closestStep(fqn string) string {
	fn := fqn[strings.LastIndexAny(fqn, ".:")+1:]
	best, bestD, limit := "", 1<<30, 0
	for _, k := range knownSteps {
		name := k[strings.LastIndex(k, ".")+1:]
		d := project.EditDistance(fn, name)
		if d < bestD {
			best, bestD, limit = k, d, max(3, max(len(fn), len(name))/2)
		}
	}
	if bestD <= limit {
		return best
	}
	return ""
}

// checkBlockPlaceholders reports {{ prefect.blocks.x }} placeholders that
// name no block document, which Prefect only finds when it resolves them.
func checkBlockPlaceholders(p *project.Project, d *Deployment) diag.List {
	var problems diag.List
	all := []any{d.Selected.Config, d.BuildSteps, d.PushSteps, d.PullSteps}
	for _, v := range all {
		ps, err := template.FindPlaceholders(v)
		if err != nil {
			continue
		}
		for _, ph := range ps {
			if ph.Kind != template.BlockDocument {
				continue
			}
			name := strings.TrimPrefix(ph.Name, "prefect.blocks.")
			if parts := strings.SplitN(name, ".", 3); len(parts) < 2 || parts[0] == "" || parts[1] == "" {
				e := &diag.Error{Kind: diag.Invalid, Msg: "invalid block placeholder " + ph.Full,
					Hint: "write {{ prefect.blocks.<block-type-slug>.<block-document-name> }}, e.g. {{ prefect.blocks.secret.my-token }}"}
				if sd := d.Selected.Deployment; sd != nil && p != nil && p.File != nil {
					pos := p.File.Pos(sd.Path())
					e.File, e.Line, e.Col, e.Path = pos.File, pos.Line, pos.Col, sd.Path()
				}
				problems = append(problems, e)
			}
		}
	}
	return problems
}

func itoa(i int) string {
	const digits = "0123456789"
	if i < 10 {
		return digits[i : i+1]
	}
	return itoa(i/10) + digits[i%10:i%10+1]
}
