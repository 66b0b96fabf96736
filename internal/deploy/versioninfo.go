package deploy

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/go-git/go-git/v5"

	"github.com/prefectctl/prefectctl/internal/py"
)

// gitFacts are what Prefect's version getters read from git.
type gitFacts struct {
	sha, branch, remote, message string
	hasRemote                    bool
}

// readGit opens the repository holding dir (searching parents, as git
// does) with go-git.
func readGit(dir string) (*gitFacts, error) {
	repo, err := git.PlainOpenWithOptions(dir, &git.PlainOpenOptions{DetectDotGit: true, EnableDotGitCommonDir: true})
	if err != nil {
		return nil, err
	}
	head, err := repo.Head()
	if err != nil {
		return nil, err
	}
	f := &gitFacts{sha: head.Hash().String(), branch: "HEAD"}
	if head.Name().IsBranch() {
		f.branch = head.Name().Short()
	}
	commit, err := repo.CommitObject(head.Hash())
	if err != nil {
		return nil, err
	}
	f.message = firstLine(commit.Message)
	if cfg, err := repo.Config(); err == nil {
		if r, ok := cfg.Remotes["origin"]; ok && len(r.URLs) > 0 {
			f.remote, f.hasRemote = r.URLs[0], true
		}
	}
	return f, nil
}

// firstLine is Python's s.strip().splitlines()[0] ("" for a blank s).
func firstLine(s string) string {
	if lines := py.SplitLines(py.Strip(s)); len(lines) > 0 {
		return lines[0]
	}
	return ""
}

var reScheme = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*:`)

// urlPath is Python's urlparse(url).path, for the forms git remotes take:
// "https://host/org/repo.git" → "/org/repo.git"; an scp-like
// "git@host:org/repo.git" has no scheme, so all of it is the path.
func urlPath(raw string) string {
	rest := raw
	if loc := reScheme.FindStringIndex(rest); loc != nil {
		rest = rest[loc[1]:]
	}
	if strings.HasPrefix(rest, "//") {
		rest = rest[2:]
		if i := strings.IndexAny(rest, "/?#"); i >= 0 {
			rest = rest[i:]
		} else {
			rest = ""
		}
	}
	if i := strings.IndexAny(rest, "?#"); i >= 0 {
		rest = rest[:i]
	}
	return rest
}

// ciGetter describes one CI system's version getter, as Prefect's
// get_inferred_version_info tries them.
type ciGetter struct {
	typ                        string
	shaVar, branchVar, repoVar string
	url                        func(env func(string) string, sha, repo string) string
}

var ciGetters = []ciGetter{
	{"vcs:github", "GITHUB_SHA", "GITHUB_REF_NAME", "GITHUB_REPOSITORY", func(env func(string) string, sha, repo string) string {
		return pyStrEnv(env("GITHUB_SERVER_URL")) + "/" + repo + "/tree/" + sha
	}},
	{"vcs:gitlab", "CI_COMMIT_SHA", "CI_COMMIT_REF_NAME", "CI_PROJECT_NAME", func(env func(string) string, sha, repo string) string {
		return pyStrEnv(env("CI_PROJECT_URL")) + "/-/tree/" + sha
	}},
	{"vcs:bitbucket", "BITBUCKET_COMMIT", "BITBUCKET_BRANCH", "BITBUCKET_REPO_SLUG", func(env func(string) string, sha, repo string) string {
		return pyStrEnv(env("BITBUCKET_GIT_HTTP_ORIGIN")) + "/src/" + sha
	}},
	{"vcs:azuredevops", "BUILD_SOURCEVERSION", "BUILD_SOURCEBRANCHNAME", "BUILD_REPOSITORY_NAME", func(env func(string) string, sha, repo string) string {
		return pyStrEnv(env("BUILD_REPOSITORY_URI")) + "?version=GC" + sha
	}},
}

// pyStrEnv renders an unset variable as Python's f-string renders None.
func pyStrEnv(s string) string {
	if s == "" {
		return "None"
	}
	return s
}

// VersionInfo works out the deployment's version and version_info as
// Prefect's get_inferred_version_info and RunnerDeployment do: the first
// getter that succeeds (CI variables, then local git with an origin remote)
// wins, and its short SHA replaces a version that came from the flow.
func VersionInfo(dir string, env func(string) (string, bool), versionType, version string, fromFlow bool) (string, *py.Map, error) {
	get := func(k string) string { v, _ := env(k); return v }
	if versionType == "prefect:simple" {
		return version, py.MapOf("type", "prefect:simple", "version", version), nil
	}
	facts, gitErr := readGit(dir)
	type result struct{ typ, sha, branch, repo, url, message string }
	try := func(typ string) (*result, error) {
		for _, g := range ciGetters {
			if g.typ != typ {
				continue
			}
			sha, branch, repo := get(g.shaVar), get(g.branchVar), get(g.repoVar)
			if gitErr != nil || facts.message == "" {
				return nil, errors.New("no commit message")
			}
			if sha == "" || branch == "" || repo == "" {
				return nil, errors.New("CI variables not set")
			}
			return &result{typ, sha, branch, repo, g.url(get, sha, repo), facts.message}, nil
		}
		if typ == "vcs:git" {
			if gitErr != nil || !facts.hasRemote || facts.message == "" {
				return nil, errors.New("not a git checkout with an origin remote")
			}
			repo := strings.Trim(urlPath(facts.remote), "/")
			repo = strings.TrimSuffix(repo, ".git")
			url := ""
			if repo != "" {
				url = facts.remote
			}
			if url == "" {
				return nil, errors.New("could not determine git repository URL")
			}
			return &result{typ, facts.sha, facts.branch, repo, url, facts.message}, nil
		}
		return nil, fmt.Errorf("unknown version type: %s", typ)
	}
	order := []string{"vcs:github", "vcs:gitlab", "vcs:bitbucket", "vcs:azuredevops", "vcs:git"}
	if versionType != "" {
		order = []string{versionType}
		if _, err := try(versionType); err != nil && strings.HasPrefix(err.Error(), "unknown version type") {
			return "", nil, err
		}
	}
	for _, typ := range order {
		r, err := try(typ)
		if err != nil {
			continue
		}
		if version == "" || fromFlow {
			version = r.sha[:min(8, len(r.sha))]
		}
		return version, py.MapOf("type", r.typ, "version", version, "commit_sha", r.sha, "message", r.message,
			"branch", r.branch, "repository", r.repo, "url", r.url), nil
	}
	return version, py.MapOf("type", "prefect:simple", "version", version), nil
}
