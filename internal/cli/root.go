// Package cli is prefectctl's command layer: cobra commands, flags and
// rendering. It is the only package that imports cobra or lipgloss; the
// work itself lives in internal/deploy and the packages below it.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/prefectctl/prefectctl/internal/diag"
)

// Main runs prefectctl with args and returns the exit code.
func Main(args []string, in io.Reader, out, errOut io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	a := &app{io: newIOStreams(in, out, errOut)}
	root := newRootCmd(a)
	root.SetArgs(args)
	root.SetIn(in)
	root.SetOut(out)
	root.SetErr(errOut)
	err := root.ExecuteContext(ctx)
	if err != nil && ctx.Err() != nil && !errors.Is(err, context.Canceled) {
		err = &diag.Error{Kind: diag.Interrupted, Msg: "interrupted", Err: err}
	} else if err != nil && ctx.Err() != nil {
		err = &diag.Error{Kind: diag.Interrupted, Msg: "interrupted"}
	}
	if err != nil {
		a.ensureUI()
		a.ui.reportError(err)
	}
	return exitCode(err)
}

func newRootCmd(a *app) *cobra.Command {
	root := &cobra.Command{
		Use:   "prefectctl",
		Short: "Deploy and run Prefect flows from prefect.yaml, without Python",
		Long: `prefectctl deploys the flows of a prefect.yaml project to a Prefect server or
Prefect Cloud, exactly as ` + "`prefect deploy`" + ` would, and starts and watches their runs.

It reads flow names and parameter schemas from the Python source without running
Python, builds and pushes Docker images through the Docker Engine API, and talks to
the Prefect REST API directly.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRun: func(cmd *cobra.Command, args []string) {
			a.ensureUI()
		},
	}
	root.SetUsageTemplate(root.UsageTemplate() + "\n" + exitCodeHelp + "\n")
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return &diag.Error{Kind: diag.Usage, Msg: err.Error(), Hint: fmt.Sprintf("run '%s --help' for usage", cmd.CommandPath())}
	})
	pf := root.PersistentFlags()
	pf.BoolVar(&a.opts.NoColor, "no-color", false, "disable colour (also NO_COLOR)")
	pf.BoolVar(&a.opts.Quiet, "quiet", false, "print only results and errors")
	pf.BoolVarP(&a.opts.Verbose, "verbose", "v", false, "print more detail about each step")
	pf.BoolVar(&a.opts.Debug, "debug", false, "print HTTP calls and internal detail (secrets redacted)")
	pf.StringVar(&a.opts.Profile, "profile", "", "Prefect profile to use (default: the active profile)")

	root.AddCommand(
		newVersionCmd(a),
		newDeployCmd(a),
		newValidateCmd(a),
		newFlowCmd(a),
		newConfigCmd(a),
		newCloudCmd(a),
		newDeploymentCmd(a),
		newSchemaCmd(a),
		newInitCmd(a),
		newCompletionCmd(a),
		newEnvironmentTopic(),
		newGenDocsCmd(a),
	)
	root.CompletionOptions.DisableDefaultCmd = true // newCompletionCmd replaces it with documented help
	registerCompletions(root, a)
	return root
}

// usageErr makes a usage problem with a hint.
func usageErr(hint, format string, args ...any) error {
	return &diag.Error{Kind: diag.Usage, Msg: fmt.Sprintf(format, args...), Hint: hint}
}
