package cli

import (
	"context"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/prefectctl/prefectctl/internal/project"
)

// registerCompletions gives the commands of root their dynamic
// completions: deployment names from prefect.yaml for `deploy -n`, from
// the server for `deployment run` and `deployment inspect`.
func registerCompletions(root *cobra.Command, a *app) {
	for _, c := range root.Commands() {
		switch c.Name() {
		case "deploy":
			_ = c.RegisterFlagCompletionFunc("name", a.completeProjectDeployments)
			_ = c.RegisterFlagCompletionFunc("env", completeEnvironments)
		case "validate":
			_ = c.RegisterFlagCompletionFunc("env", completeEnvironments)
		case "deployment":
			for _, sub := range c.Commands() {
				if sub.Name() == "run" || sub.Name() == "inspect" {
					if sub.ValidArgsFunction == nil {
						sub.ValidArgsFunction = a.completeServerDeployments
					}
				}
			}
		}
	}
}

// completeProjectDeployments offers the deployments of the prefect.yaml in
// effect (--prefect-file or ./prefect.yaml) for deploy -n.
func (a *app) completeProjectDeployments(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	p, err := project.Load(completionFile(cmd))
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	return projectDeploymentNames(p, toComplete), cobra.ShellCompDirectiveNoFileComp
}

// completionFile is the prefect.yaml in effect: the last --prefect-file,
// or ./prefect.yaml.
func completionFile(cmd *cobra.Command) string {
	if files, err := cmd.Flags().GetStringArray("prefect-file"); err == nil && len(files) > 0 {
		return files[len(files)-1]
	}
	return project.DefaultFile
}

// completeEnvironments offers the environments whose overlay sits beside
// the prefect.yaml in effect.
func completeEnvironments(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	var out []string
	for _, env := range project.Environments(completionFile(cmd)) {
		if strings.HasPrefix(env, toComplete) {
			out = append(out, env+"\t"+project.OverlayPath(completionFile(cmd), env))
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// projectDeploymentNames lists NAME and, when the flow name is written in
// the file, FLOW/NAME, each with its entrypoint as the description.
func projectDeploymentNames(p *project.Project, prefix string) []string {
	var out []string
	seen := map[string]bool{}
	add := func(s, desc string) {
		if s == "" || seen[s] || !strings.HasPrefix(s, prefix) {
			return
		}
		seen[s] = true
		if desc != "" {
			s += "\t" + desc
		}
		out = append(out, s)
	}
	for _, d := range p.Deployments {
		name, entry := d.Name(), d.Entrypoint()
		add(name, entry)
		if fn, ok := d.Config.Get("flow_name"); ok {
			if s, ok := fn.(string); ok && s != "" {
				add(s+"/"+name, entry)
			}
		}
	}
	return out
}

// completeServerDeployments offers FLOW/DEPLOYMENT names from the server,
// when one is configured; it gives up after two seconds so a slow or
// unreachable server never hangs the shell.
func (a *app) completeServerDeployments(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	a.opts.Quiet = true // warnings would garble the shell's completion output
	a.ui = nil
	a.ensureUI()
	client, settings, err := a.apiClient()
	if err != nil || settings.RequireAPI() != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	ctx, cancel := context.WithTimeout(cmd.Context(), 2*time.Second)
	defer cancel()
	ds, flows, err := client.ListDeployments(ctx, nil)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var out []string
	for _, d := range ds {
		full := flows[d.FlowID] + "/" + d.Name
		if strings.HasPrefix(full, toComplete) {
			out = append(out, full)
		}
	}
	sort.Strings(out)
	return out, cobra.ShellCompDirectiveNoFileComp
}

func newCompletionCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "completion bash|zsh|fish|powershell",
		Short: "Print a shell completion script",
		Long: `Print the completion script for your shell. Besides commands and flags it
completes deployment names: 'deploy -n' from prefect.yaml, 'deployment run'
and 'deployment inspect' from the Prefect server when one is configured.`,
		Example: `  # bash (current shell; add to ~/.bashrc to keep it)
  source <(prefectctl completion bash)
  # zsh
  prefectctl completion zsh > "${fpath[1]}/_prefectctl"
  # fish
  prefectctl completion fish > ~/.config/fish/completions/prefectctl.fish
  # PowerShell
  prefectctl completion powershell | Out-String | Invoke-Expression`,
		ValidArgs: []string{"bash", "zsh", "fish", "powershell"},
		Args:      cobra.MatchAll(cobra.ExactArgs(1), cobra.OnlyValidArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			root, out := cmd.Root(), a.io.Out
			switch args[0] {
			case "bash":
				return root.GenBashCompletionV2(out, true)
			case "zsh":
				return root.GenZshCompletion(out)
			case "fish":
				return root.GenFishCompletion(out, true)
			default:
				return root.GenPowerShellCompletionWithDesc(out)
			}
		},
	}
	return cmd
}
