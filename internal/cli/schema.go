package cli

import (
	"github.com/spf13/cobra"

	"github.com/prefectctl/prefectctl/internal/project"
)

func newSchemaCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "schema",
		Short: "Print a JSON Schema for prefect.yaml (for editors)",
		Long: `Print a JSON Schema (draft-07) describing prefect.yaml. Editors using
yaml-language-server (VS Code's YAML extension, Neovim, Helix, ...) then
complete keys and flag the unknown ones that prefectctl validate warns about.`,
		Example: `  prefectctl schema > .prefect.schema.json
  # then, as the first line of prefect.yaml:
  # yaml-language-server: $schema=.prefect.schema.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return writeJSON(a.io.Out, project.Schema())
		},
	}
}
