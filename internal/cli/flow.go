package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/prefectctl/prefectctl/internal/diag"
	"github.com/prefectctl/prefectctl/internal/flowmeta"
	"github.com/prefectctl/prefectctl/internal/py"
)

func newFlowCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "flow",
		Short: "Inspect flows in the project",
	}
	cmd.AddCommand(newFlowInspectCmd(a))
	return cmd
}

func newFlowInspectCmd(a *app) *cobra.Command {
	var output, mode, python string
	cmd := &cobra.Command{
		Use:   "inspect ENTRYPOINT",
		Short: "Print a flow's name, description, version and parameter schema",
		Long: `Reads the flow at ENTRYPOINT (path/to/file.py:function, path/to/file.py:Class.method,
package.module:function or package.module.function, relative to the current directory)
and prints what prefect deploy would register for it.

With --flow-metadata=static (the default) the Python source is read without running it;
constructs that cannot be read exactly are reported as warnings. With
--flow-metadata=python, python3 (or --python) with prefect installed computes the exact
values by loading the flow module through Prefect itself.`,
		Example: `  prefectctl flow inspect flows/etl.py:main
  prefectctl flow inspect flows/etl.py:main -o json
  prefectctl flow inspect mypkg.flows:main --flow-metadata=python`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageErr("give one entrypoint, such as flows/etl.py:main", "flow inspect takes exactly one ENTRYPOINT, got %d", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			dir, err := os.Getwd()
			if err != nil {
				return diag.Wrap(diag.Runtime, err, "", "cannot read the current directory")
			}
			opt := flowmeta.Options{ProjectDir: dir}
			var f *flowmeta.Flow
			switch mode {
			case "static":
				f, err = flowmeta.Load(args[0], opt)
			case "python":
				f, err = flowmeta.LoadWithPython(cmd.Context(), python, args[0], opt)
			default:
				return usageErr("use --flow-metadata static or --flow-metadata python", "unknown --flow-metadata mode %q", mode)
			}
			if err != nil {
				return err
			}
			for _, w := range f.Warnings {
				a.ui.warn(w)
			}
			if output == "json" {
				return writeJSON(a.io.Out, flowJSON(f))
			}
			return printFlow(a, f)
		},
	}
	addOutputFlag(cmd, &output)
	cmd.Flags().StringVar(&mode, "flow-metadata", "static", "how to read flow metadata: static (no Python) or python (run Prefect)")
	cmd.Flags().StringVar(&python, "python", "python3", "interpreter with prefect installed, for --flow-metadata=python")
	return cmd
}

func flowJSON(f *flowmeta.Flow) *py.Map {
	m := py.NewMap()
	m.Set("name", f.Name)
	if f.HasDescription {
		m.Set("description", f.Description)
	} else {
		m.Set("description", nil)
	}
	m.Set("version", f.Version)
	m.Set("function_name", f.FunctionName)
	m.Set("file", f.File)
	m.Set("parameter_openapi_schema", f.ParameterSchema)
	warnings := make([]any, 0, len(f.Warnings))
	for _, w := range f.Warnings {
		wm := py.MapOf("file", w.File, "line", int64(w.Line), "message", w.Msg)
		warnings = append(warnings, wm)
	}
	m.Set("warnings", warnings)
	return m
}

func printFlow(a *app, f *flowmeta.Flow) error {
	desc := f.Description
	if !f.HasDescription {
		desc = "(none)"
	}
	a.ui.printKV(a.io.Out, []kv{
		{"Name", f.Name},
		{"Function", f.FunctionName},
		{"File", f.File},
		{"Version", f.Version},
	})
	fmt.Fprintf(a.io.Out, "%s\n", a.ui.p.key.Render("Description"))
	for _, l := range strings.Split(desc, "\n") {
		fmt.Fprintf(a.io.Out, "  %s\n", l)
	}
	fmt.Fprintf(a.io.Out, "%s\n", a.ui.p.key.Render("Parameter schema"))
	raw, err := py.EncodeJSON(f.ParameterSchema)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	if err := json.Indent(&b, raw, "", "  "); err != nil {
		return err
	}
	for _, l := range strings.Split(strings.TrimRight(b.String(), "\n"), "\n") {
		fmt.Fprintf(a.io.Out, "  %s\n", l)
	}
	return nil
}
