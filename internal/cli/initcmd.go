package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/go-git/go-git/v5"
	"github.com/spf13/cobra"

	"github.com/prefectctl/prefectctl/internal/cloudapi"
	"github.com/prefectctl/prefectctl/internal/diag"
	"github.com/prefectctl/prefectctl/internal/py"
	"github.com/prefectctl/prefectctl/internal/template"
)

// recipe is one of `prefect init`'s recipes: the build, push and pull
// sections and the deployment skeleton, with {{ placeholders }} filled from
// the project directory, git and --field values.
type recipe struct {
	description string
	required    [][2]string // name, description, in prompt order
	build, push any
	pull        any
}

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

var dockerInputs = [][2]string{
	{"image_name", "the image name, including the registry and repository, for the built image"},
	{"tag", "the tag of the built image"},
}

// recipes are the recipes prefectctl can write; the names and contents
// follow Prefect 3.9.1's (prefect/deployments/recipes/<name>/prefect.yaml).
var recipes = map[string]recipe{
	"local": {
		description: "Run flows from the directory they were deployed from (same machine)",
		pull: []any{py.MapOf("prefect.deployments.steps.set_working_directory",
			py.MapOf("directory", "{{ directory }}"))},
	},
	"git": {
		description: "Clone the project's git repository when a run starts",
		pull:        gitCloneSteps(),
	},
	"docker": {
		description: "Build a Docker image holding the flow code and its environment",
		required:    dockerInputs,
		build:       dockerBuildSteps(),
		push:        dockerPushSteps(),
		pull: []any{py.MapOf("prefect.deployments.steps.set_working_directory",
			py.MapOf("directory", "/opt/prefect/{{ name }}"))},
	},
	"docker-git": {
		description: "Build a Docker image for the environment; clone the code from git at run time",
		required:    dockerInputs,
		build:       dockerBuildSteps(),
		push:        dockerPushSteps(),
		pull:        gitCloneSteps(),
	},
}

func recipeNames() []string {
	names := make([]string, 0, len(recipes))
	for n := range recipes {
		names = append(names, n)
	}
	sort.Strings(names)
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

func newInitCmd(a *app) *cobra.Command {
	var name, recipeName string
	var fields []string
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Write a prefect.yaml (and .prefectignore) for the project in this directory",
		Long: `Write a prefect.yaml and a .prefectignore in the current directory, as
'prefect init' does. Existing files are never overwritten.

Recipes: local (run from this directory), git (clone the repository at run
time), docker (build an image with the code), docker-git (build an image,
clone the code). Without --recipe one is chosen as Prefect does: a git remote
and a Dockerfile give docker-git, a git remote alone git, a Dockerfile alone
docker, otherwise local.

Unlike 'prefect init' this never prompts: with --recipe docker or docker-git
pass --field image_name=... and --field tag=.... A guessed recipe keeps the
inputs it was not given as {{ placeholders }}, as prefect init does.`,
		Example: `  prefectctl init --recipe docker --field image_name=ghcr.io/acme/flows --field tag=latest
  prefectctl init --name etl --recipe git`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			dir, err := os.Getwd()
			if err != nil {
				return err
			}
			files, err := initProject(dir, name, recipeName, fields, a.ui.warn)
			if err != nil {
				return err
			}
			if len(files) == 0 {
				a.ui.infof("Project in %s already has prefect.yaml and .prefectignore; no new files created.", dir)
				return nil
			}
			a.ui.infof("Created project in %s with the following new files:", dir)
			for _, f := range files {
				fmt.Fprintln(a.io.Out, f)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "the project's name (default: the directory's name)")
	cmd.Flags().StringVar(&recipeName, "recipe", "", "recipe: "+strings.Join(recipeNames(), ", ")+" (default: guessed from git and Dockerfile)")
	cmd.Flags().StringArrayVarP(&fields, "field", "f", nil, "a recipe input as key=value (repeatable), e.g. image_name=repo/img")
	_ = cmd.RegisterFlagCompletionFunc("recipe", func(_ *cobra.Command, _ []string, prefix string) ([]string, cobra.ShellCompDirective) {
		var out []string
		for _, n := range recipeNames() {
			if strings.HasPrefix(n, prefix) {
				out = append(out, n+"\t"+recipes[n].description)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	})
	return cmd
}

// initProject writes the missing project files in dir and returns their names.
func initProject(dir, name, recipeName string, fields []string, warn func(*diag.Warning)) ([]string, error) {
	inputs := py.NewMap()
	for _, f := range fields {
		k, v, ok := strings.Cut(f, "=")
		if !ok || k == "" {
			return nil, usageErr("write --field key=value, e.g. --field image_name=repo/flows", "--field %q is not key=value", f)
		}
		inputs.Set(k, v)
	}
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
		return nil, usageErr("choose one of: "+strings.Join(recipeNames(), ", "), "unknown recipe %q", recipeName)
	}
	var missing []string
	for _, in := range r.required {
		if !inputs.Has(in[0]) {
			missing = append(missing, fmt.Sprintf("--field %s=... (%s)", in[0], in[1]))
		}
	}
	if len(missing) > 0 && guessed {
		// prefect init asks for inputs only for a recipe named with
		// --recipe; a guessed one keeps its placeholders. So does this.
		warn(&diag.Error{Kind: diag.Invalid, Msg: fmt.Sprintf("the guessed %s recipe has inputs left as {{ placeholders }} in prefect.yaml", recipeName),
			Hint: "edit prefect.yaml, or remove it and pass " + strings.Join(missing, " and ")})
	} else if len(missing) > 0 {
		return nil, &diag.Error{Kind: diag.Usage, Msg: fmt.Sprintf("the %s recipe needs %d more input(s)", recipeName, len(missing)),
			Hint: "pass " + strings.Join(missing, " and ")}
	}
	values.Update(inputs)
	contents := py.MapOf("build", r.build, "push", r.push, "pull", r.pull,
		"deployments", []any{deploymentSkeleton(strings.Contains(recipeName, "docker"))})
	filled, err := template.ApplyValues(contents, values, template.Options{})
	if err != nil {
		return nil, err
	}
	if name == "" {
		name = base
	}
	var created []string
	ok, err = writeNew(filepath.Join(dir, ".prefectignore"), prefectIgnore)
	if err != nil {
		return nil, err
	}
	if ok {
		created = append(created, ".prefectignore")
	}
	ok, err = writeNew(filepath.Join(dir, "prefect.yaml"), renderPrefectYAML(name, filled.(*py.Map)))
	if err != nil {
		return nil, err
	}
	if ok {
		created = append(created, "prefect.yaml")
	}
	return created, nil
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
func renderPrefectYAML(name string, c *py.Map) string {
	var b strings.Builder
	b.WriteString("---\n")
	b.WriteString("# prefect.yaml describes how this project's flows are deployed: what to build\n")
	b.WriteString("# and push, how a worker gets the code back, and the deployments themselves.\n")
	b.WriteString("# Keep it in version control next to the flows.\n\n")
	b.WriteString("# The project\n")
	writeYAML(&b, py.MapOf("name", name), 0)
	writeYAML(&b, py.MapOf("prefect-version", cloudapi.TargetPrefectVersion), 0)
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

// writeYAML writes v in block style the way PyYAML's default dumper lays it
// out (sequences not indented under their key, flow {} and [] when empty,
// quotes only where a plain scalar would read back differently).
func writeYAML(b *strings.Builder, v any, indent int) {
	pad := strings.Repeat(" ", indent)
	switch x := v.(type) {
	case *py.Map:
		for _, k := range x.Keys() {
			child, _ := x.Get(k)
			b.WriteString(pad + yamlScalar(k) + ":")
			writeYAMLChild(b, child, indent, false)
		}
	case []any:
		for _, item := range x {
			b.WriteString(pad + "-")
			writeYAMLChild(b, item, indent, true)
		}
	}
}

func writeYAMLChild(b *strings.Builder, v any, indent int, inList bool) {
	switch x := v.(type) {
	case *py.Map:
		if x.Len() == 0 {
			b.WriteString(" {}\n")
			return
		}
		if inList {
			// The first key goes on the dash's line; the rest align with it.
			var inner strings.Builder
			writeYAML(&inner, x, indent+2)
			b.WriteString(" " + strings.TrimPrefix(inner.String(), strings.Repeat(" ", indent+2)))
			return
		}
		b.WriteString("\n")
		writeYAML(b, x, indent+2)
	case []any:
		if len(x) == 0 {
			b.WriteString(" []\n")
			return
		}
		if inList {
			var inner strings.Builder
			writeYAML(&inner, x, indent+2)
			b.WriteString(" " + strings.TrimPrefix(inner.String(), strings.Repeat(" ", indent+2)))
			return
		}
		b.WriteString("\n")
		writeYAML(b, x, indent) // PyYAML does not indent a list under its key
	default:
		b.WriteString(" " + yamlScalar(v) + "\n")
	}
}

// yaml11Special matches plain scalars a YAML 1.1 reader (PyYAML) would not
// read back as strings: booleans, nulls, numbers, sexagesimals, dates.
var yaml11Special = regexp.MustCompile(`^(?i:y|n|yes|no|true|false|on|off|null|~)$` +
	`|^[-+]?(0|[1-9][0-9_]*|0[0-7_]+|0x[0-9a-fA-F_]+|0b[01_]+)$` +
	`|^[-+]?([0-9][0-9_]*)?\.[0-9_]*([eE][-+]?[0-9]+)?$|^[-+]?\.(inf|Inf|INF|nan|NaN|NAN)$` +
	`|^[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?$|^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}`)

// plainOK reports whether s can be written unquoted in block context, after
// PyYAML's analysis: no leading indicator, no ": " or " #", no surrounding
// space, nothing that resolves to another type.
func plainOK(s string) bool {
	if s == "" || s != strings.TrimSpace(s) || yaml11Special.MatchString(s) {
		return false
	}
	if strings.ContainsAny(s[:1], "#,[]{}&*!|>'\"%@`") {
		return false
	}
	if strings.ContainsAny(s[:1], "-?:") && (len(s) == 1 || s[1] == ' ') {
		return false
	}
	if strings.Contains(s, ": ") || strings.Contains(s, " #") || strings.HasSuffix(s, ":") {
		return false
	}
	return py.IsASCII(s) && isPrintable(s) && !strings.ContainsAny(s, "\n\t")
}

func yamlScalar(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		if x {
			return "true"
		}
		return "false"
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case string:
		if plainOK(x) {
			return x
		}
		if strings.ContainsAny(x, "\n\t\x00") || !isPrintable(x) || !py.IsASCII(x) {
			return pyDoubleQuoted(x)
		}
		return "'" + strings.ReplaceAll(x, "'", "''") + "'"
	}
	return yamlScalar(py.Str(v))
}

// pyDoubleQuoted escapes as PyYAML does without allow_unicode: non-ASCII
// as \xXX, \uXXXX or \UXXXXXXXX.
func pyDoubleQuoted(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == 0:
			b.WriteString(`\0`)
		case r >= 0x20 && r < 0x7f:
			b.WriteRune(r)
		case r < 0x100:
			fmt.Fprintf(&b, `\x%02X`, r)
		case r < 0x10000:
			fmt.Fprintf(&b, `\u%04X`, r)
		default:
			fmt.Fprintf(&b, `\U%08X`, r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

func isPrintable(s string) bool {
	for _, r := range s {
		if !strconv.IsPrint(r) {
			return false
		}
	}
	return true
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
