package steps

import (
	"errors"
	"strings"
	"testing"

	"github.com/prefectctl/prefectctl/internal/diag"
	"github.com/prefectctl/prefectctl/internal/py"
)

func decode(t *testing.T, s string) any {
	t.Helper()
	v, err := py.DecodeJSON([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestParse(t *testing.T) {
	cases := []struct {
		raw      string
		fqn, id  string
		requires []string
		inputs   string
		legacy   bool
		nilStep  bool
		err      string
	}{
		{raw: `{"prefect.deployments.steps.run_shell_script": {"id": "x", "requires": "prefect>=3", "script": "ls"}}`,
			fqn: RunShellScript, id: "x", requires: []string{"prefect>=3"}, inputs: `{"script":"ls"}`},
		{raw: `{"prefect.deployments.steps.utility.run_shell_script": {"script": "ls"}}`, fqn: RunShellScript, inputs: `{"script":"ls"}`},
		{raw: `{"prefect.deployments.steps.pull:git_clone": {"repository": "r"}}`, fqn: GitClone, inputs: `{"repository":"r"}`},
		{raw: `{"prefect_docker.deployments.steps.build_docker_image": {"requires": ["prefect-docker", "x"], "image_name": "a"}}`,
			fqn: BuildDockerImage, requires: []string{"prefect-docker", "x"}, inputs: `{"image_name":"a"}`},
		{raw: `{"prefect.projects.steps.git_clone_project": {"repository": "r"}}`, fqn: GitClone, legacy: true, inputs: `{"repository":"r"}`},
		{raw: `{"prefect_docker.projects.steps.push_docker_image": {}}`, fqn: PushDockerImage, legacy: true, inputs: `{}`},
		{raw: `{"my_pkg.steps.do_thing": {"a": 1}}`, fqn: "my_pkg.steps.do_thing", inputs: `{"a":1}`},
		{raw: `{"flows/steps.py:do_thing": {}}`, fqn: "flows/steps.py:do_thing", inputs: `{}`},
		{raw: `{}`, nilStep: true},
		{raw: `null`, nilStep: true},
		{raw: `{"a.b": {}, "id": "x"}`, err: "Step has unexpected additional keys: id"},
		{raw: `{"a.b": null}`, err: "step a.b has no inputs mapping (null)"},
		{raw: `{"a.b": "x"}`, err: "the inputs of step a.b must be a mapping, got str"},
		{raw: `"a.b"`, err: "a step must be a mapping"},
		{raw: `{"shell": {}}`, err: `invalid step name "shell"`},
		{raw: `{"a.b": {"id": 3}}`, err: "id must be a string, got int"},
		{raw: `{"a.b": {"requires": {"x": 1}}}`, err: "requires must be a string or a list"},
	}
	for _, c := range cases {
		s, err := Parse(decode(t, c.raw), "build", 2)
		if c.err != "" {
			var de *diag.Error
			if !errors.As(err, &de) || !strings.Contains(err.Error(), c.err) || de.Kind != diag.Invalid || de.Path != "build[2]" || de.Hint == "" {
				t.Errorf("Parse(%s) err = %v, want Invalid build[2] with hint containing %q", c.raw, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("Parse(%s): %v", c.raw, err)
			continue
		}
		if c.nilStep {
			if s != nil {
				t.Errorf("Parse(%s) = %+v, want nil", c.raw, s)
			}
			continue
		}
		in, _ := py.EncodeJSON(s.Inputs)
		if s.FQN != c.fqn || s.ID != c.id || strings.Join(s.Requires, ",") != strings.Join(c.requires, ",") || string(in) != c.inputs || s.Legacy != c.legacy || s.Index != 2 || s.Section != "build" {
			t.Errorf("Parse(%s) = %+v inputs %s", c.raw, s, in)
		}
	}
}

func TestParseSectionReportsAll(t *testing.T) {
	_, err := ParseSection(decode(t, `[{"a.b": null}, {}, {"c.d": 1}]`), "push")
	var l diag.List
	if !errors.As(err, &l) || len(l) != 2 || l[0].Path != "push[0]" || l[1].Path != "push[2]" {
		t.Fatalf("err = %v", err)
	}
	if _, err := ParseSection("x", "push"); err == nil {
		t.Fatal("a string section was accepted")
	}
}

func TestValidatePullStep(t *testing.T) {
	cases := []struct{ raw, err string }{
		{`{"prefect.deployments.steps.set_working_directory": {"directory": "/opt/prefect/flows"}}`, ""},
		{`{"prefect.deployments.steps.set_working_directory": {}}`, "set_working_directory() missing 1 required positional argument: 'directory'"},
		{`{"prefect.deployments.steps.set_working_directory": {"directory": "/x", "path": "/y"}}`, "got an unexpected keyword argument 'path'"},
		{`{"prefect.deployments.steps.git_clone": {"repository": "https://github.com/o/r.git", "branch": "main", "access_token": "{{ prefect.blocks.secret.t }}"}}`, ""},
		{`{"prefect.deployments.steps.git_clone": {"repository": "r", "access_token": "a", "credentials": {"username": "u"}}}`, "Please provide either an access token or credentials but not both."},
		{`{"prefect.deployments.steps.git_clone": {"repository": "r", "credentials": {"username": "u"}}}`, "If a username is provided, an access token or password must also be provided."},
		{`{"prefect.deployments.steps.git_clone": {"repository": "r", "branch": "b", "commit_sha": "abcd"}}`, "Cannot provide both a branch and a commit SHA."},
		{`{"prefect.deployments.steps.git_clone": {"repository": "r", "branch": "--upload-pack=x"}}`, "Branch names cannot start with '-'."},
		{`{"prefect.deployments.steps.git_clone": {"repository": "r", "commit_sha": "main"}}`, "Invalid commit SHA: 'main'."},
		{`{"prefect.deployments.steps.git_clone": {"repository": "r", "commit_sha": "{{ get-sha.stdout }}"}}`, ""},
		{`{"prefect.deployments.steps.git_clone": {"branch": "main"}}`, "missing 1 required positional argument: 'repository'"},
		{`{"prefect.deployments.steps.pull_from_remote_storage": {"url": "s3://b/p", "key": "k", "secret": "s"}}`, ""},
		{`{"prefect.deployments.steps.pull_with_block": {"block_document_name": "n"}}`, "missing 1 required positional argument: 'block_type_slug'"},
		{`{"prefect.deployments.steps.pip_install_requirements": {"requirements_file": "r.txt"}}`, ""},
		{`{"prefect_aws.deployments.steps.pull_from_s3": {"bucket": "b"}}`, ""},
		{`{"prefect.projects.steps.git_clone": {"repository": "r"}}`, "Prefect 2 name"},
		{`{"prefect.deployments.steps.run_shell_script": {"script": "pip install -r requirements.txt"}}`, ""},
		{`{"prefect.deployments.steps.run_shell_script": {"command": "ls"}}`, "run_shell_script() got an unexpected keyword argument 'command'"}, // Python names the unexpected keyword first
		{`{"prefect.deployments.steps.run_shell_script": {"stream_output": false}}`, "run_shell_script() missing 1 required positional argument: 'script'"},
	}
	for _, c := range cases {
		s, err := Parse(decode(t, c.raw), "pull", 0)
		if err != nil {
			t.Fatal(err)
		}
		err = ValidatePullStep(s)
		if c.err == "" {
			if err != nil {
				t.Errorf("%s: %v", c.raw, err)
			}
			continue
		}
		var de *diag.Error
		if !errors.As(err, &de) || !strings.Contains(err.Error(), c.err) || de.Kind != diag.Invalid || de.Hint == "" {
			t.Errorf("%s: err = %v, want Invalid with hint containing %q", c.raw, err, c.err)
		}
	}
}
