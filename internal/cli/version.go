package cli

import (
	"runtime"

	"github.com/spf13/cobra"

	"github.com/prefectctl/prefectctl/internal/buildinfo"
)

func newVersionCmd(a *app) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the prefectctl version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			info := map[string]string{
				"version":    buildinfo.Resolved(),
				"commit":     buildinfo.Commit,
				"built":      buildinfo.Date,
				"go":         runtime.Version(),
				"os_arch":    runtime.GOOS + "/" + runtime.GOARCH,
				"api_header": "0.8.4",
			}
			if output == "json" {
				return writeJSON(a.io.Out, info)
			}
			a.ui.printKV(a.io.Out, []kv{
				{"Version", info["version"]},
				{"Commit", info["commit"]},
				{"Built", info["built"]},
				{"Go", info["go"]},
				{"OS/Arch", info["os_arch"]},
				{"API version", info["api_header"]},
			})
			return nil
		},
	}
	addOutputFlag(cmd, &output)
	return cmd
}
