package deploy

import (
	"errors"
	"strings"

	"github.com/prefectctl/prefectctl/internal/diag"
	"github.com/prefectctl/prefectctl/internal/project"
	"github.com/prefectctl/prefectctl/internal/steps"
)

// CheckSteps parses a deployment's build, push and pull steps and checks
// the pull steps' arguments, without running anything. Problems are located
// in prefect.yaml: at the deployment's own section when it has one, at the
// top-level section otherwise.
func CheckSteps(p *project.Project, d *Deployment) (build, push []*steps.Step, problems diag.List) {
	locate := func(section string, err error) {
		for _, e := range asList(err) {
			prefix := ""
			if sd := d.Selected.Deployment; sd != nil && sd.Config.Has(section) {
				prefix = sd.Path() + "."
			}
			if strings.HasPrefix(e.Path, section) && p != nil && p.File != nil {
				e.Path = prefix + e.Path
				pos := p.File.Pos(e.Path)
				e.File, e.Line, e.Col = p.File.Path, pos.Line, pos.Col
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

func itoa(i int) string {
	const digits = "0123456789"
	if i < 10 {
		return digits[i : i+1]
	}
	return itoa(i/10) + digits[i%10:i%10+1]
}
