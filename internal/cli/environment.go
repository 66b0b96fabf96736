package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

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
	{"PREFECTCTL_ENV", "the environment whose overlay prefect.ENV.yaml deploy and validate merge when --env is not given"},
	{"PREFECTCTL_FLOW_METADATA", "how deploy reads flow metadata when --flow-metadata is not given: static or python"},
	{"PREFECTCTL_PYTHON_VERSION", "Python version of the default base image for auto-built Dockerfiles"},
	{"PREFECTCTL_PREFECT_IMAGE_VERSION", "Prefect version of the default base image for auto-built Dockerfiles"},
	{"PREFECTCTL_REGISTRY_MIRRORS", "Docker Hub mirrors (comma-separated URLs, as the daemon's registry-mirrors) for re-checking base images of code layers without Docker"},
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
