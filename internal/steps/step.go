// Package steps runs prefect.yaml build and push steps the way Prefect's
// run_steps does: one-key step mappings, inputs templated just before each
// step with the outputs so far, outputs merged under the step's id and
// flat, and the first failure stopping everything after it.
package steps

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/prefectctl/prefectctl/internal/diag"
	"github.com/prefectctl/prefectctl/internal/py"
)

// Canonical names of the steps prefectctl knows.
const (
	RunShellScript         = "prefect.deployments.steps.run_shell_script"
	PipInstallRequirements = "prefect.deployments.steps.pip_install_requirements"
	SetWorkingDirectory    = "prefect.deployments.steps.set_working_directory"
	GitClone               = "prefect.deployments.steps.git_clone"
	PullFromRemoteStorage  = "prefect.deployments.steps.pull_from_remote_storage"
	PullWithBlock          = "prefect.deployments.steps.pull_with_block"
	BuildDockerImage       = "prefect_docker.deployments.steps.build_docker_image"
	PushDockerImage        = "prefect_docker.deployments.steps.push_docker_image"
)

// Step is one parsed entry of a build, push or pull section.
type Step struct {
	// FQN is the canonical name (an alias such as
	// prefect.deployments.steps.utility.run_shell_script maps to
	// RunShellScript); Written is the name as the user wrote it.
	FQN     string
	Written string
	// Legacy is set for Prefect 2 names (prefect.projects.steps.*) that
	// Prefect 3 can no longer import.
	Legacy   bool
	ID       string
	Requires []string
	// Inputs are the keyword arguments, without id and requires, not yet
	// templated.
	Inputs  *py.Map
	Index   int    // position in its section, 0-based
	Section string // build, push or pull
}

// Name is the last dotted segment, what Prefect prints (" > Running
// run_shell_script step...").
func (s *Step) Name() string {
	return s.Written[strings.LastIndex(s.Written, ".")+1:]
}

// Where places the step for messages: "build step 2, id get-sha".
func (s *Step) Where() string {
	w := fmt.Sprintf("%s step %d", s.Section, s.Index+1)
	if s.ID != "" {
		w += ", id " + s.ID
	}
	return w
}

// aliases maps every spelling Prefect 3.9.1 can import, plus the Prefect 2
// prefect.projects names, to the canonical name. Module-qualified forms
// (…steps.utility.x, …steps:x) import the same function.
var aliases = func() map[string]string {
	m := map[string]string{}
	add := func(canon string, mods ...string) {
		fn := canon[strings.LastIndex(canon, ".")+1:]
		base := canon[:strings.LastIndex(canon, ".")]
		m[canon] = canon
		m[base+":"+fn] = canon
		for _, mod := range mods {
			m[mod+"."+fn] = canon
			m[mod+":"+fn] = canon
		}
	}
	add(RunShellScript, "prefect.deployments.steps.utility")
	add(PipInstallRequirements, "prefect.deployments.steps.utility")
	for _, c := range []string{SetWorkingDirectory, GitClone, PullFromRemoteStorage, PullWithBlock} {
		add(c, "prefect.deployments.steps.pull")
	}
	add(BuildDockerImage)
	add(PushDockerImage)
	return m
}()

// legacy maps Prefect 2 names to their Prefect 3 equivalents.
var legacy = map[string]string{
	"prefect.projects.steps.run_shell_script":          RunShellScript,
	"prefect.projects.steps.pip_install_requirements":  PipInstallRequirements,
	"prefect.projects.steps.set_working_directory":     SetWorkingDirectory,
	"prefect.projects.steps.git_clone":                 GitClone,
	"prefect.projects.steps.git_clone_project":         GitClone,
	"prefect.projects.steps.pull_from_remote_storage":  PullFromRemoteStorage,
	"prefect.projects.steps.pull_with_block":           PullWithBlock,
	"prefect_docker.projects.steps.build_docker_image": BuildDockerImage,
	"prefect_docker.projects.steps.push_docker_image":  PushDockerImage,
}

// Canonical returns the canonical name for fqn and whether it is a Prefect
// 2 name; unknown names come back unchanged.
func Canonical(fqn string) (canon string, isLegacy bool) {
	if c, ok := aliases[fqn]; ok {
		return c, false
	}
	if c, ok := legacy[fqn]; ok {
		return c, true
	}
	return fqn, false
}

// IsPullStep reports whether the canonical name is one of Prefect's
// pull-side steps, which deploy stores but does not run.
func IsPullStep(fqn string) bool {
	switch fqn {
	case SetWorkingDirectory, GitClone, PullFromRemoteStorage, PullWithBlock, PipInstallRequirements:
		return true
	}
	return false
}

// Parse reads one step entry. An empty entry ({} or null) gives nil, nil:
// Prefect skips it. Problems are diag.Invalid errors naming the section
// and index.
func Parse(raw any, section string, index int) (*Step, error) {
	path := fmt.Sprintf("%s[%d]", section, index)
	bad := func(hint, format string, a ...any) error {
		return &diag.Error{Kind: diag.Invalid, Path: path, Msg: fmt.Sprintf(format, a...), Hint: hint}
	}
	if raw == nil {
		return nil, nil
	}
	m, ok := raw.(*py.Map)
	if !ok {
		return nil, bad("write each step as `- module.function: {inputs}`", "a step must be a mapping from a function name to its inputs, got %s", py.TypeName(raw))
	}
	if m.Len() == 0 {
		return nil, nil
	}
	keys := m.Keys()
	if len(keys) > 1 {
		return nil, bad("put each step in its own list item (`- ` before each name); an id or requires belongs inside the step's inputs",
			"Step has unexpected additional keys: %s", strings.Join(keys[1:], ", "))
	}
	written := keys[0]
	rawIn, _ := m.Get(written)
	var in *py.Map
	switch t := rawIn.(type) {
	case *py.Map:
		in = py.Clone(t).(*py.Map)
	case nil:
		return nil, bad("write `{}` after the name for a step without inputs", "step %s has no inputs mapping (null)", written)
	default:
		return nil, bad("indent the step's inputs under its name", "the inputs of step %s must be a mapping, got %s", written, py.TypeName(rawIn))
	}
	if !validFQN(written) {
		return nil, bad("name the step by its importable path, e.g. prefect.deployments.steps.run_shell_script or my_pkg.steps:do_thing",
			"invalid step name %q", written)
	}
	s := &Step{Written: written, Index: index, Section: section}
	s.FQN, s.Legacy = Canonical(written)
	if v, ok := in.Get("id"); ok {
		switch t := v.(type) {
		case string:
			s.ID = t
		case nil:
		default:
			return nil, bad("use a string id such as `id: build-image`", "step %s: id must be a string, got %s", written, py.TypeName(v))
		}
		in.Delete("id")
	}
	if v, ok := in.Get("requires"); ok {
		switch t := v.(type) {
		case string:
			if t != "" {
				s.Requires = []string{t}
			}
		case nil:
		case []any:
			for _, x := range t {
				str, isStr := x.(string)
				if !isStr {
					return nil, bad("list package requirements as strings, e.g. `requires: [prefect-docker>=0.7]`", "step %s: requires must hold strings, got %s", written, py.TypeName(x))
				}
				if str != "" {
					s.Requires = append(s.Requires, str)
				}
			}
		default:
			return nil, bad("write requires as a string or a list of strings", "step %s: requires must be a string or a list, got %s", written, py.TypeName(v))
		}
		in.Delete("requires")
	}
	s.Inputs = in
	return s, nil
}

// validFQN accepts Prefect's import_object forms: a.b.c, mod:obj[.attr]
// and path/file.py:obj.
var fqnRE = regexp.MustCompile(`^(?:[^:\s]+\.py:[\w.]+|[\w.]+:[\w.]+|[\w]+(?:\.[\w]+)+)$`)

func validFQN(s string) bool { return fqnRE.MatchString(s) }

// ParseSection parses a whole build/push/pull list; nil entries (skipped
// steps) are left out. All problems are reported together.
func ParseSection(raw any, section string) ([]*Step, error) {
	if raw == nil {
		return nil, nil
	}
	l, ok := raw.([]any)
	if !ok {
		return nil, &diag.Error{Kind: diag.Invalid, Path: section, Msg: fmt.Sprintf("%s must be a list of steps, got %s", section, py.TypeName(raw)),
			Hint: "start each step with `- `"}
	}
	var out []*Step
	var errs diag.List
	for i, r := range l {
		s, err := Parse(r, section, i)
		if err != nil {
			if de, ok := err.(*diag.Error); ok {
				errs = append(errs, de)
				continue
			}
			return nil, err
		}
		if s != nil {
			out = append(out, s)
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return out, nil
}
