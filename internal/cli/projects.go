package cli

// Which prefect.yaml files a command acts on, and for which environment:
// --prefect-file (repeatable, globs), --recursive, --env and --env-file.

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/prefectctl/prefectctl/internal/diag"
	"github.com/prefectctl/prefectctl/internal/project"
)

// projectFiles are the prefect.yaml files a command acts on. Multi is set
// when the command line asks for several projects (--recursive, a glob, or
// --prefect-file more than once), even if only one is found, so that the
// output's shape follows the command line, not the repository.
type projectFiles struct {
	Files []string
	Multi bool
}

// projectFiles resolves --prefect-file and --recursive.
func (f *deployFlags) projectFiles() (projectFiles, error) {
	specs := f.prefectFiles
	if len(specs) == 0 {
		specs = []string{project.DefaultFile}
		if f.recursive {
			specs = []string{"."}
		}
	}
	out := projectFiles{Multi: f.recursive || len(specs) > 1}
	seen := map[string]bool{}
	add := func(file string) {
		key, err := filepath.Abs(file)
		if err != nil {
			key = file
		}
		if !seen[key] {
			seen[key] = true
			out.Files = append(out.Files, file)
		}
	}
	for _, spec := range specs {
		st, statErr := os.Stat(spec)
		switch {
		case f.recursive && statErr == nil && st.IsDir():
			found, err := project.FindProjects(spec)
			if err != nil {
				return out, err
			}
			if len(found) == 0 {
				return out, &diag.Error{Kind: diag.Usage, File: spec, Msg: "no prefect.yaml below this directory",
					Hint: "--recursive skips what git ignores, directories whose name starts with a dot and Python virtual environments; name files with --prefect-file PATH"}
			}
			for _, file := range found {
				add(file)
			}
		case project.IsGlob(spec) && errors.Is(statErr, fs.ErrNotExist):
			out.Multi = true
			found, err := project.GlobProjects(spec)
			if err != nil {
				return out, err
			}
			if len(found) == 0 {
				return out, &diag.Error{Kind: diag.Usage, Msg: fmt.Sprintf("--prefect-file %s matches no file", spec),
					Hint: "quote the pattern so the shell leaves it to prefectctl; matching skips what git ignores, directories whose name starts with a dot and Python virtual environments"}
			}
			for _, file := range found {
				add(file)
			}
		default:
			add(spec)
		}
	}
	return out, nil
}

// loadOptions are --env (or PREFECTCTL_ENV) and --env-file.
func (f *deployFlags) loadOptions(cmd *cobra.Command) project.LoadOptions {
	env := f.env
	if !cmd.Flags().Changed("env") {
		env = os.Getenv("PREFECTCTL_ENV")
	}
	return project.LoadOptions{Env: env, EnvFile: f.envFile}
}

// announceEnv says which overlay was merged; nothing without one.
func announceEnv(a *app, p *project.Project) {
	if p.EnvFile == "" {
		return
	}
	if p.Env != "" {
		a.ui.infof("Environment %s: %s merged over %s", p.Env, p.EnvFile, p.File.Path)
		return
	}
	a.ui.infof("%s merged over %s", p.EnvFile, p.File.Path)
}

// projectLabel names a project in output: its directory relative to the
// current one, or its file when several files share a directory.
func projectLabels(files []string) []string {
	dirs := map[string]int{}
	rel := func(p string) string {
		abs, err := filepath.Abs(p)
		if err != nil {
			return p
		}
		wd, _ := os.Getwd()
		if r, err := filepath.Rel(wd, abs); err == nil && !strings.HasPrefix(r, "..") {
			return filepath.ToSlash(r)
		}
		return filepath.ToSlash(abs)
	}
	for _, f := range files {
		dirs[filepath.Dir(rel(f))]++
	}
	out := make([]string, len(files))
	for i, f := range files {
		d := filepath.Dir(rel(f))
		if dirs[d] > 1 {
			out[i] = rel(f)
		} else {
			out[i] = d
		}
	}
	return out
}
