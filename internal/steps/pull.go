package steps

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/prefectctl/prefectctl/internal/diag"
	"github.com/prefectctl/prefectctl/internal/py"
	"github.com/prefectctl/prefectctl/internal/template"
)

// pullSignatures are the keyword parameters of Prefect's pull steps (and
// pip_install_requirements, which runs on either side).
var pullSignatures = map[string]py.Signature{
	SetWorkingDirectory:    {Name: "set_working_directory", Required: []string{"directory"}},
	GitClone:               {Name: "git_clone", Required: []string{"repository"}, Optional: []string{"branch", "commit_sha", "include_submodules", "access_token", "credentials", "directories", "clone_directory_name"}},
	PullFromRemoteStorage:  {Name: "pull_from_remote_storage", Required: []string{"url"}, VarKw: true},
	PullWithBlock:          {Name: "pull_with_block", Required: []string{"block_document_name", "block_type_slug"}},
	PipInstallRequirements: {Name: "pip_install_requirements", Optional: []string{"directory", "requirements_file", "stream_output"}},
}

var commitSHA = regexp.MustCompile(`^[0-9a-fA-F]{4,64}$`)

// ValidatePullStep checks a pull step the way its Prefect function would
// reject it on the worker: known step, required and unexpected arguments,
// and git_clone's rules. Values still templated are not judged.
func ValidatePullStep(s *Step) error {
	bad := func(hint string, err error) error {
		return &diag.Error{Kind: diag.Invalid, Path: fmt.Sprintf("%s[%d]", s.Section, s.Index),
			Msg: fmt.Sprintf("%s: %v", s.Written, err), Hint: hint}
	}
	if s.Legacy {
		return bad("rename it to "+s.FQN, fmt.Errorf("this Prefect 2 name cannot be imported by Prefect 3 workers"))
	}
	sig, ok := pullSignatures[s.FQN]
	if s.FQN == RunShellScript {
		sig, ok = shellSig, true
	}
	if !ok {
		// Any importable function may be a pull step (prefect_aws's
		// pull_from_s3, …); the worker imports it, not prefectctl.
		return nil
	}
	if err := sig.Bind(s.Inputs); err != nil {
		return bad("see the step's arguments in Prefect's documentation", err)
	}
	if s.FQN != GitClone {
		return nil
	}
	get := func(k string) (any, bool) {
		v, ok := s.Inputs.Get(k)
		if !ok || v == nil || template.IsTemplated(v) {
			return nil, false
		}
		return v, py.Truthy(v)
	}
	_, hasToken := get("access_token")
	creds, hasCreds := get("credentials")
	if hasToken && hasCreds {
		return bad("keep only one of access_token and credentials", fmt.Errorf("Please provide either an access token or credentials but not both."))
	}
	if m, ok := creds.(*py.Map); ok {
		u, _ := m.Get("username")
		t, _ := m.Get("access_token")
		p, _ := m.Get("password")
		if py.Truthy(u) && !py.Truthy(t) && !py.Truthy(p) {
			return bad("add an access_token or password to the credentials", fmt.Errorf("If a username is provided, an access token or password must also be provided."))
		}
	}
	branch, hasBranch := get("branch")
	sha, hasSHA := get("commit_sha")
	if hasBranch && hasSHA {
		return bad("keep only one of branch and commit_sha", fmt.Errorf("Cannot provide both a branch and a commit SHA. Please provide only one."))
	}
	if b, ok := branch.(string); ok && strings.HasPrefix(b, "-") {
		return bad("fix the branch name", fmt.Errorf("Branch names cannot start with '-'."))
	}
	if hasSHA {
		str, isStr := sha.(string)
		if !isStr || !commitSHA.MatchString(str) {
			return bad("use the branch parameter for branch or tag names", fmt.Errorf("Invalid commit SHA: %s. Expected a hexadecimal Git commit SHA (4–64 characters).", py.Repr(sha)))
		}
	}
	if r, ok := get("repository"); ok {
		if _, isStr := r.(string); !isStr {
			return bad("give the repository URL as a string", fmt.Errorf("repository must be a string, got %s", py.TypeName(r)))
		}
	}
	return nil
}
