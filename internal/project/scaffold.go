package project

// `prefect init`: a new prefect.yaml (from one of Prefect's recipes) and
// .prefectignore for a project directory.

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/go-git/go-git/v5"

	"github.com/prefectctl/prefectctl/internal/diag"
	"github.com/prefectctl/prefectctl/internal/py"
	"github.com/prefectctl/prefectctl/internal/template"
)

// Recipe is one of `prefect init`'s recipes: the build, push and pull
// sections and the deployment skeleton, with {{ placeholders }} filled from
// the project directory, git and the user's inputs.
type Recipe struct {
	Name        string
	Description string
	Inputs      []RecipeInput // what the user must give, in prompt order
	build, push any
	pull        any
}

// RecipeInput is one value a recipe asks for.
type RecipeInput struct{ Name, Description string }

func dockerBuildSteps() []any {
	return []any{py.MapOf("prefect_docker.deployments.steps.build_docker_image", py.MapOf(
		"id", "build_image", "requires", "prefect-docker>=0.3.1",
		"image_name", "{{ image_name }}", "tag", "{{ tag }}", "dockerfile", "{{ dockerfile }}"))}
}

func dockerPushSteps() []any {
	return []any{py.MapOf("prefect_docker.deployments.steps.push_docker_image", py.MapOf(
		"requires", "prefect-docker>=0.3.1",
		"image_name", "{{ build_image.image_name }}", "tag", "{{ build_image.tag }}"))}
}

func gitCloneSteps() []any {
	return []any{py.MapOf("prefect.deployments.steps.git_clone", py.MapOf(
		"repository", "{{ repository }}", "branch", "{{ branch }}", "access_token", nil))}
}

var dockerInputs = []RecipeInput{
	{"image_name", "the image name, including the registry and repository, for the built image"},
	{"tag", "the tag of the built image"},
}

// recipes are the recipes prefectctl can write; the names and contents
// follow Prefect 3.9.1's (prefect/deployments/recipes/<name>/prefect.yaml).
var recipes = map[string]Recipe{
	"local": {
		Description: "Run flows from the directory they were deployed from (same machine)",
		pull: []any{py.MapOf("prefect.deployments.steps.set_working_directory",
			py.MapOf("directory", "{{ directory }}"))},
	},
	"git": {
		Description: "Clone the project's git repository when a run starts",
		pull:        gitCloneSteps(),
	},
	"docker": {
		Description: "Build a Docker image holding the flow code and its environment",
		Inputs:      dockerInputs,
		build:       dockerBuildSteps(),
		push:        dockerPushSteps(),
		pull: []any{py.MapOf("prefect.deployments.steps.set_working_directory",
			py.MapOf("directory", "/opt/prefect/{{ name }}"))},
	},
	"docker-git": {
		Description: "Build a Docker image for the environment; clone the code from git at run time",
		Inputs:      dockerInputs,
		build:       dockerBuildSteps(),
		push:        dockerPushSteps(),
		pull:        gitCloneSteps(),
	},
}

// Recipes lists the recipes prefectctl can write, by name.
func Recipes() []Recipe {
	out := make([]Recipe, 0, len(recipes))
	for name, r := range recipes {
		r.Name = name
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func recipeNames() []string {
	var names []string
	for _, r := range Recipes() {
		names = append(names, r.Name)
	}
	return names
}

// deploymentSkeleton is the one deployment entry a new prefect.yaml holds.
func deploymentSkeleton(docker bool) *py.Map {
	jobVars := py.NewMap()
	if docker {
		jobVars.Set("image", "{{ build_image.image }}")
	}
	return py.MapOf("name", nil, "version", nil, "tags", []any{}, "description", nil, "schedule", py.NewMap(),
		"flow_name", nil, "entrypoint", nil, "parameters", py.NewMap(),
		"work_pool", py.MapOf("name", nil, "work_queue_name", nil, "job_variables", jobVars))
}

// ScaffoldOptions say what project to write.
type ScaffoldOptions struct {
	Dir            string  // the project directory
	Name           string  // the project's name; "" is the directory's name
	Recipe         string  // a recipe's name; "" guesses one as prefect init does
	Inputs         *py.Map // the recipe's inputs the user gave
	PrefectVersion string  // the prefect-version the file names
}

// Scaffolded is what Scaffold wrote.
type Scaffolded struct {
	Created []string // the files written, of .prefectignore and prefect.yaml
	Recipe  string   // the recipe used
	// Unfilled are the inputs of a guessed recipe the user did not give:
	// they stay {{ placeholders }} in prefect.yaml, as with prefect init.
	Unfilled []RecipeInput
}

// MissingInputsError is a recipe, named by the user, lacking inputs.
type MissingInputsError struct {
	Recipe  string
	Missing []RecipeInput
}

func (e *MissingInputsError) Error() string {
	return fmt.Sprintf("the %s recipe needs %d more input(s)", e.Recipe, len(e.Missing))
}

// Scaffold writes the missing project files of `prefect init` in o.Dir:
// prefect.yaml from a recipe, and .prefectignore. Existing files are never
// overwritten. Without a recipe one is chosen as Prefect does: a git remote
// and a Dockerfile give docker-git, a git remote alone git, a Dockerfile
// alone docker, otherwise local. A named recipe that lacks inputs is a
// usage *diag.Error wrapping a *MissingInputsError, and nothing is written.
func Scaffold(o ScaffoldOptions) (*Scaffolded, error) {
	inputs := o.Inputs
	if inputs == nil {
		inputs = py.NewMap()
	}
	dir, recipeName := o.Dir, o.Recipe
	values := py.MapOf("directory", dir)
	base := filepath.Base(dir)
	remote, branch := gitRemote(dir)
	if remote != "" {
		values.Set("repository", remote)
		values.Set("branch", branch)
	}
	values.Set("name", base)
	hasDockerfile := fileExists(filepath.Join(dir, "Dockerfile"))
	if hasDockerfile {
		values.Set("dockerfile", "Dockerfile")
	} else if strings.Contains(recipeName, "docker") {
		values.Set("dockerfile", "auto")
	}
	guessed := recipeName == ""
	if guessed {
		switch {
		case remote != "" && hasDockerfile:
			recipeName = "docker-git"
		case remote != "":
			recipeName = "git"
		case hasDockerfile:
			recipeName = "docker"
		default:
			recipeName = "local"
		}
	}
	r, ok := recipes[recipeName]
	if !ok {
		return nil, &diag.Error{Kind: diag.Usage, Msg: fmt.Sprintf("unknown recipe %q", recipeName), Hint: "choose one of: " + strings.Join(recipeNames(), ", ")}
	}
	res := &Scaffolded{Recipe: recipeName}
	var missing []RecipeInput
	for _, in := range r.Inputs {
		if !inputs.Has(in.Name) {
			missing = append(missing, in)
		}
	}
	if len(missing) > 0 && !guessed {
		e := &MissingInputsError{Recipe: recipeName, Missing: missing}
		return nil, &diag.Error{Kind: diag.Usage, Msg: e.Error(), Err: e, Hint: "give the recipe's inputs"}
	}
	// prefect init asks for inputs only for a recipe named with --recipe;
	// a guessed one keeps its placeholders. So does this.
	res.Unfilled = missing
	values.Update(inputs)
	contents := py.MapOf("build", r.build, "push", r.push, "pull", r.pull,
		"deployments", []any{deploymentSkeleton(strings.Contains(recipeName, "docker"))})
	filled, err := template.ApplyValues(contents, values, template.Options{})
	if err != nil {
		return nil, err
	}
	name := o.Name
	if name == "" {
		name = base
	}
	ok, err = writeNew(filepath.Join(dir, ".prefectignore"), prefectIgnore)
	if err != nil {
		return nil, err
	}
	if ok {
		res.Created = append(res.Created, ".prefectignore")
	}
	ok, err = writeNew(filepath.Join(dir, "prefect.yaml"), renderPrefectYAML(name, o.PrefectVersion, filled.(*py.Map)))
	if err != nil {
		return nil, err
	}
	if ok {
		res.Created = append(res.Created, "prefect.yaml")
	}
	return res, nil
}

// gitRemote returns the origin URL and current branch of the repository
// holding dir, as `git config remote.origin.url` and `git rev-parse
// --abbrev-ref HEAD` would; branch is "main" when HEAD has no commit yet.
func gitRemote(dir string) (remote, branch string) {
	repo, err := git.PlainOpenWithOptions(dir, &git.PlainOpenOptions{DetectDotGit: true})
	if err != nil {
		return "", ""
	}
	rem, err := repo.Remote("origin")
	if err != nil || len(rem.Config().URLs) == 0 {
		return "", ""
	}
	branch = "main"
	if head, err := repo.Head(); err == nil {
		if head.Name().IsBranch() {
			branch = head.Name().Short()
		} else {
			branch = "HEAD" // detached, as git rev-parse --abbrev-ref says
		}
	}
	return rem.Config().URLs[0], branch
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// writeNew creates path with content unless it exists; it never overwrites.
func writeNew(path, content string) (bool, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, fs.ErrExist) {
		return false, nil
	}
	if err != nil {
		return false, &diag.Error{Kind: diag.Runtime, File: path, Msg: "cannot create the file", Err: err}
	}
	if _, err := f.WriteString(content); err != nil {
		f.Close()
		return false, &diag.Error{Kind: diag.Runtime, File: path, Msg: "cannot write the file", Err: err}
	}
	return true, f.Close()
}

// renderPrefectYAML lays out a new prefect.yaml as prefect init does: a
// comment header, name and prefect-version, then build, push, pull and
// deployments, each under a comment.
func renderPrefectYAML(name, prefectVersion string, c *py.Map) string {
	var b strings.Builder
	b.WriteString("---\n")
	b.WriteString("# prefect.yaml describes how this project's flows are deployed: what to build\n")
	b.WriteString("# and push, how a worker gets the code back, and the deployments themselves.\n")
	b.WriteString("# Keep it in version control next to the flows.\n\n")
	b.WriteString("# The project\n")
	writeYAML(&b, py.MapOf("name", name), 0)
	writeYAML(&b, py.MapOf("prefect-version", prefectVersion), 0)
	sections := []struct{ key, comment string }{
		{"build", "# build: steps that build artifacts such as Docker images\n"},
		{"push", "# push: steps that upload what was built (images, code) where workers can reach it\n"},
		{"pull", "# pull: steps a worker runs to get the code before a flow run starts\n"},
		{"deployments", "# deployments: one entry per deployment of a flow\n"},
	}
	for _, s := range sections {
		b.WriteString("\n")
		b.WriteString(s.comment)
		v, _ := c.Get(s.key)
		writeYAML(&b, py.MapOf(s.key, v), 0)
	}
	return b.String()
}

// prefectIgnore lists what `prefect deploy`-time uploads leave out, with
// the same patterns as Prefect's default .prefectignore.
const prefectIgnore = `# Files Prefect leaves out when it copies this project (gitignore syntax).
# This file itself
.prefectignore

# Python bytecode and packaging
__pycache__/
*.py[cod]
*$py.class
*.egg-info/
*.egg

# Type checker caches
.mypy_cache/
.dmypy.json
dmypy.json
.pyre/

# Jupyter and IPython
profile_default/
ipython_config.py
*.ipynb_checkpoints/*

# Virtual environments and local settings
.python-version
.env
.venv
env/
venv/

# macOS
.DS_Store

# Dask
dask-worker-space/

# Editor settings
.idea/
.vscode/

# Version control
.git/
.hg/
`
