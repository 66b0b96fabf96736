package cli

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/prefectctl/prefectctl/internal/project"
)

// addUserCommands adds the commands that help people use prefectctl
// (schema, init, completion, the environment help topic, the docs
// generator) and the dynamic completions of commands defined elsewhere.
func addUserCommands(root *cobra.Command, a *app) {
	root.AddCommand(newSchemaCmd(a), newInitCmd(a), newCompletionCmd(a), newEnvironmentTopic(), newGenDocsCmd(a))
	root.CompletionOptions.DisableDefaultCmd = true // newCompletionCmd replaces it with documented help
	for _, c := range root.Commands() {
		switch c.Name() {
		case "deploy":
			_ = c.RegisterFlagCompletionFunc("name", a.completeProjectDeployments)
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

// completeProjectDeployments offers the deployments of the prefect.yaml in
// effect (--prefect-file or ./prefect.yaml) for deploy -n.
func (a *app) completeProjectDeployments(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	file := project.DefaultFile
	if f := cmd.Flags().Lookup("prefect-file"); f != nil && f.Value.String() != "" {
		file = f.Value.String()
	}
	p, err := project.Load(file)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	return projectDeploymentNames(p, toComplete), cobra.ShellCompDirectiveNoFileComp
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

// envVars documents every environment variable prefectctl reads; a test
// checks the source code reads no variable missing from this list.
var envVars = []struct{ name, doc string }{
	{"PREFECT_API_URL", "the Prefect API, e.g. http://127.0.0.1:4200/api or a Cloud workspace URL"},
	{"PREFECT_API_KEY", "Prefect Cloud API key (never printed)"},
	{"PREFECT_API_AUTH_STRING", "user:password for a self-hosted server with basic auth (never printed)"},
	{"PREFECT_PROFILE", "the profile to use from profiles.toml (like --profile)"},
	{"PREFECT_HOME", "Prefect's home directory (default ~/.prefect)"},
	{"PREFECT_PROFILES_PATH", "the profiles file (default $PREFECT_HOME/profiles.toml)"},
	{"PREFECT_API_REQUEST_TIMEOUT", "seconds before an API request times out"},
	{"PREFECT_API_SSL_CERT_FILE", "CA bundle used to verify the API's TLS certificate"},
	{"PREFECT_API_TLS_INSECURE_SKIP_VERIFY", "do not verify the API's TLS certificate"},
	{"PREFECT_API_ENABLE_HTTP2", "use HTTP/2 with the API when the server offers it"},
	{"PREFECT_CLIENT_MAX_RETRIES", "retries of failed API calls"},
	{"PREFECT_CLIENT_RETRY_EXTRA_CODES", "extra HTTP status codes that are retried"},
	{"PREFECT_CLIENT_RETRY_JITTER_FACTOR", "jitter of the retry back-off"},
	{"PREFECT_CLIENT_CUSTOM_HEADERS", "extra HTTP headers, a JSON object"},
	{"PREFECT_CLIENT_CSRF_SUPPORT_ENABLED", "fetch and send a CSRF token when the server asks for one"},
	{"PREFECT_CLIENT_SERVER_VERSION_CHECK_ENABLED", "check the server's version before the first call"},
	{"PREFECT_CLOUD_API_URL", "Prefect Cloud's API (default https://api.prefect.cloud/api)"},
	{"PREFECT_CLOUD_UI_URL", "Prefect Cloud's UI, for links"},
	{"PREFECT_UI_URL", "the server's UI, for links"},
	{"PREFECT_CLI_PROMPT", "read for compatibility; prefectctl never prompts"},
	{"PREFECT_DEBUG_MODE", "Prefect's debug setting, shown by config view"},
	{"PREFECT_SILENCE_API_URL_MISCONFIGURATION", "silence the warning about an API URL missing /api"},
	{"PREFECT_SERVER_EPHEMERAL_ENABLED", "Prefect's ephemeral server setting; prefectctl needs a real server"},
	{"PREFECT_SERVER_DATABASE_CONNECTION_URL", "read only to report Prefect's settings faithfully"},
	{"PREFECT_DEFAULT_WORK_POOL_NAME", "work pool of deployments that name none (old name)"},
	{"PREFECT_DEPLOYMENTS_DEFAULT_WORK_POOL_NAME", "work pool of deployments that name none"},
	{"PREFECT_DEFAULT_DOCKER_BUILD_NAMESPACE", "registry namespace for image names without one (old name)"},
	{"PREFECT_DEPLOYMENTS_DEFAULT_DOCKER_BUILD_NAMESPACE", "registry namespace for image names without one"},
	{"PREFECT_*", "any other Prefect setting, also read from .env and profiles.toml as Prefect does"},
	{"SSL_CERT_FILE", "CA bundle for HTTPS, as for Python's httpx"},
	{"DOCKER_HOST", "the Docker Engine to build and push with (default unix:///var/run/docker.sock)"},
	{"DOCKER_CONTEXT", "the Docker CLI context whose endpoint is used"},
	{"DOCKER_BUILDKIT", "1 builds images with the Engine's BuildKit instead of the legacy builder prefect deploy uses"},
	{"DOCKER_CONFIG", "the Docker CLI config directory, for registry credentials (default ~/.docker)"},
	{"HOME", "home directory, for ~/.docker and ~/.prefect"},
	{"PATH", "where shell steps (run_shell_script) find their programs"},
	{"PREFECTCTL_FLOW_METADATA", "how deploy reads flow metadata when --flow-metadata is not given: static or python"},
	{"PREFECTCTL_PYTHON_VERSION", "Python version of the default base image for auto-built Dockerfiles"},
	{"PREFECTCTL_PREFECT_IMAGE_VERSION", "Prefect version of the default base image for auto-built Dockerfiles"},
	{"GITHUB_SHA", "with GITHUB_REPOSITORY, GITHUB_REF_NAME, GITHUB_SERVER_URL: version info of a vcs:github deployment"},
	{"GITHUB_REPOSITORY", "see GITHUB_SHA"},
	{"GITHUB_REF_NAME", "see GITHUB_SHA"},
	{"GITHUB_SERVER_URL", "see GITHUB_SHA"},
	{"NO_COLOR", "when set (to anything), no colour, like --no-color"},
	{"TERM", "TERM=dumb turns colour and live progress off"},
	{"PREFECTCTL_FORCE_TTY", "1 makes prefectctl behave as on a terminal (for tests and screen recordings)"},
	{"$VAR in prefect.yaml", "{{ $VAR }} placeholders read any variable of the environment"},
}

func newEnvironmentTopic() *cobra.Command {
	var b strings.Builder
	b.WriteString("prefectctl reads these environment variables. Prefect settings (PREFECT_*) may\n")
	b.WriteString("also come from a .env file in the current directory and from the active\n")
	b.WriteString("profile, with Prefect's precedence; 'prefectctl config view' shows the source\n")
	b.WriteString("of each.\n\n")
	width := 0
	for _, v := range envVars {
		width = max(width, len(v.name))
	}
	for _, v := range envVars {
		fmt.Fprintf(&b, "  %-*s  %s\n", width, v.name, v.doc)
	}
	return &cobra.Command{
		Use:   "environment",
		Short: "Environment variables prefectctl reads",
		Long:  strings.TrimRight(b.String(), "\n"),
	}
}
