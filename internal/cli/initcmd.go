package cli

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/prefectctl/prefectctl/internal/cloudapi"
	"github.com/prefectctl/prefectctl/internal/diag"
	"github.com/prefectctl/prefectctl/internal/project"
	"github.com/prefectctl/prefectctl/internal/py"
)

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
			inputs, err := parseFields(fields)
			if err != nil {
				return err
			}
			res, err := project.Scaffold(project.ScaffoldOptions{Dir: dir, Name: name, Recipe: recipeName, Inputs: inputs, PrefectVersion: cloudapi.TargetPrefectVersion})
			var mi *project.MissingInputsError
			var de *diag.Error
			if errors.As(err, &mi) && errors.As(err, &de) {
				de.Hint = "pass " + fieldFlags(mi.Missing)
			}
			if err != nil {
				return err
			}
			if len(res.Unfilled) > 0 {
				a.ui.warn(&diag.Error{Kind: diag.Invalid, Msg: fmt.Sprintf("the guessed %s recipe has inputs left as {{ placeholders }} in prefect.yaml", res.Recipe),
					Hint: "edit prefect.yaml, or remove it and pass " + fieldFlags(res.Unfilled)})
			}
			files := res.Created
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
	var names []string
	for _, r := range project.Recipes() {
		names = append(names, r.Name)
	}
	cmd.Flags().StringVar(&recipeName, "recipe", "", "recipe: "+strings.Join(names, ", ")+" (default: guessed from git and Dockerfile)")
	cmd.Flags().StringArrayVarP(&fields, "field", "f", nil, "a recipe input as key=value (repeatable), e.g. image_name=repo/img")
	_ = cmd.RegisterFlagCompletionFunc("recipe", func(_ *cobra.Command, _ []string, prefix string) ([]string, cobra.ShellCompDirective) {
		var out []string
		for _, r := range project.Recipes() {
			if strings.HasPrefix(r.Name, prefix) {
				out = append(out, r.Name+"\t"+r.Description)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	})
	return cmd
}

// parseFields reads --field key=value values.
func parseFields(fields []string) (*py.Map, error) {
	inputs := py.NewMap()
	for _, f := range fields {
		k, v, ok := strings.Cut(f, "=")
		if !ok || k == "" {
			return nil, usageErr("write --field key=value, e.g. --field image_name=repo/flows", "--field %q is not key=value", f)
		}
		inputs.Set(k, v)
	}
	return inputs, nil
}

// fieldFlags phrases recipe inputs as the --field flags that give them.
func fieldFlags(ins []project.RecipeInput) string {
	parts := make([]string, len(ins))
	for i, in := range ins {
		parts[i] = fmt.Sprintf("--field %s=... (%s)", in.Name, in.Description)
	}
	return strings.Join(parts, " and ")
}
