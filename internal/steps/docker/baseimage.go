package docker

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// DefaultPrefectVersion and DefaultPythonVersion are used for the
// `dockerfile: auto` base image when nothing better is known.
const (
	DefaultPrefectVersion = "3.9.1"
	DefaultPythonVersion  = "3.11"
)

// Environment variables that pin the `dockerfile: auto` base image.
const (
	EnvPrefectImageVersion = "PREFECTCTL_PREFECT_IMAGE_VERSION"
	EnvPythonVersion       = "PREFECTCTL_PYTHON_VERSION"
)

// Versions are the Prefect and Python versions the generated Dockerfile's
// base image is named after, and where each came from (for --debug output).
type Versions struct {
	Prefect, PrefectFrom string
	Python, PythonFrom   string
}

// ResolveVersions picks the base-image versions for `dockerfile: auto`.
//
// prefect-docker names the image after the Prefect and Python running the
// CLI. prefectctl has no Python of its own, so the precedence is:
//
//	Prefect: opts.PrefectVersion or $PREFECTCTL_PREFECT_IMAGE_VERSION
//	         > the prefect installed in the user's python3
//	         > the project's prefect-version
//	         > DefaultPrefectVersion (3.9.1)
//	Python:  opts.PythonVersion or $PREFECTCTL_PYTHON_VERSION
//	         > the user's python3 (major.minor)
//	         > DefaultPythonVersion (3.11)
//
// The user's python3 is asked only when one of the two is still unknown.
func ResolveVersions(ctx context.Context, o *Options, dir string) Versions {
	var v Versions
	get := func(k string) string {
		if o.Environ == nil {
			return ""
		}
		s, _ := o.Environ(k)
		return strings.TrimSpace(s)
	}
	switch {
	case o.PrefectVersion != "":
		v.Prefect, v.PrefectFrom = o.PrefectVersion, "option"
	case get(EnvPrefectImageVersion) != "":
		v.Prefect, v.PrefectFrom = get(EnvPrefectImageVersion), EnvPrefectImageVersion
	}
	switch {
	case o.PythonVersion != "":
		v.Python, v.PythonFrom = o.PythonVersion, "option"
	case get(EnvPythonVersion) != "":
		v.Python, v.PythonFrom = get(EnvPythonVersion), EnvPythonVersion
	}
	if v.Prefect == "" || v.Python == "" {
		pf, py := probePython(ctx, o.Python, dir)
		if v.Prefect == "" && pf != "" {
			v.Prefect, v.PrefectFrom = pf, "python3"
		}
		if v.Python == "" && py != "" {
			v.Python, v.PythonFrom = py, "python3"
		}
	}
	if v.Prefect == "" && o.ProjectPrefectVersion != "" {
		v.Prefect, v.PrefectFrom = o.ProjectPrefectVersion, "prefect.yaml prefect-version"
	}
	if v.Prefect == "" {
		v.Prefect, v.PrefectFrom = DefaultPrefectVersion, "default"
	}
	if v.Python == "" {
		v.Python, v.PythonFrom = DefaultPythonVersion, "default"
	}
	if m := regexp.MustCompile(`^(\d+)\.(\d+)`).FindString(v.Python); m != "" {
		v.Python = m
	}
	return v
}

// probeScript prints the installed prefect version (empty when missing)
// and the interpreter's major.minor.
const probeScript = `import sys
try:
    from importlib.metadata import version
    v = version("prefect")
except Exception:
    v = ""
print(v)
print("%d.%d" % sys.version_info[:2])
`

func probePython(ctx context.Context, python, dir string) (prefect, py string) {
	if python == "" {
		python = "python3"
	}
	exe, err := exec.LookPath(python)
	if err != nil {
		return "", ""
	}
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, exe, "-c", probeScript)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		return "", ""
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 2 {
		return "", ""
	}
	return strings.TrimSpace(lines[0]), strings.TrimSpace(lines[1])
}

// BaseImage names the Prefect image for the versions, as Prefect's
// get_prefect_image_name does: prefecthq/prefect:<version>-python<X.Y>,
// or prefecthq/prefect-dev:sha-<sha>-python<X.Y> for a local ("+") build.
func BaseImage(ctx context.Context, v Versions, dir string) string {
	public, local, isLocal := strings.Cut(v.Prefect, "+")
	image := "prefect"
	if isLocal {
		image = "prefect-dev"
		public = "sha-" + shortSHA(ctx, dir, local)
	}
	return "prefecthq/" + image + ":" + slugTag(public+"-python"+v.Python, 128)
}

// shortSHA mirrors Prefect: `git rev-parse --short=7 HEAD` in the current
// directory, else the revision in the version's local part ("…gabc1234").
func shortSHA(ctx context.Context, dir, local string) string {
	cmd := exec.CommandContext(ctx, "git", "rev-parse", "--short=7", "HEAD")
	cmd.Dir = dir
	if out, err := cmd.Output(); err == nil && len(strings.TrimSpace(string(out))) > 0 {
		return strings.TrimSpace(string(out))
	}
	if m := regexp.MustCompile(`g([0-9a-f]{7,})`).FindStringSubmatch(local); m != nil {
		return m[1][:7]
	}
	return "unknown"
}

// AutoDockerfile is the exact text prefect-docker 0.7.4 writes for
// `dockerfile: auto` in dir (with Prefect ≥ 3.4.11's `uv pip install`).
func AutoDockerfile(baseImage, dir string, hasRequirements bool) string {
	d := filepath.Base(dir)
	var b strings.Builder
	fmt.Fprintf(&b, "FROM %s\n", baseImage)
	if hasRequirements {
		fmt.Fprintf(&b, "COPY requirements.txt /opt/prefect/%s/requirements.txt\n", d)
		fmt.Fprintf(&b, "RUN uv pip install -r /opt/prefect/%s/requirements.txt\n", d)
	}
	fmt.Fprintf(&b, "COPY . /opt/prefect/%s/\n", d)
	fmt.Fprintf(&b, "WORKDIR /opt/prefect/%s/\n", d)
	return b.String()
}
