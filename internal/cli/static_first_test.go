package cli

// Static problems come before the network: with PREFECT_API_URL pointing at
// a closed port, validate and deploy report every problem of the project
// (a step with two names, a parameter of the wrong type, an unset variable
// in an image, an invalid schedule field) and never a connection error.

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// closedPort is a loopback URL nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr + "/api"
}

func TestStaticProblemsWithTheServerDown(t *testing.T) {
	isolate(t)
	t.Setenv("PREFECT_API_URL", closedPort(t))
	t.Setenv("NO_COLOR", "1")
	os.Unsetenv("PCTL_TEST_UNSET_TAG")
	must(t, os.MkdirAll("flows", 0o755))
	must(t, os.WriteFile(filepath.Join("flows", "hello.py"), []byte("from prefect import flow\n\n\n@flow\ndef hello(times: int = 1):\n    pass\n"), 0o644))
	must(t, os.WriteFile("prefect.yaml", []byte(`build:
- prefect.deployments.steps.run_shell_script:
    script: echo hi
  prefect.deployments.steps.set_working_directory:
    directory: /tmp
- prefect_docker.deployments.steps.build_docker_image:
    image_name: registry.example/flows
    tag: "v-{{ $PCTL_TEST_UNSET_TAG }}:x"
deployments:
- name: a
  entrypoint: flows/hello.py:hello
  parameters: {times: many}
  work_pool: {name: pool}
- name: b
  entrypoint: flows/hello.py:hello
  parameters: {tims: 2}
  work_pool: {name: pool}
  schedules:
  - interval: 60
    anchor_date: "not a date"
`), 0o644))
	want := []string{
		"prefect.yaml:2:3: build[0]: Step has unexpected additional keys",
		"deployments[0].parameters.times: expected integer, got string 'many'",
		`deployments[1].parameters.tims: flow "hello" has no parameter "tims"`,
		"build[1].prefect_docker.deployments.steps.build_docker_image.tag: the image reference uses $PCTL_TEST_UNSET_TAG",
		"deployments[1].schedules[0]: invalid anchor_date",
	}
	for _, args := range [][]string{{"validate"}, {"deploy", "--all"}, {"deploy", "--all", "--dry-run"}, {"deploy", "--all", "--plan"}} {
		code, out, errOut := run(args...)
		if code != ExitUsage {
			t.Errorf("%v: exit %d, want %d\n%s\n%s", args, code, ExitUsage, out, errOut)
		}
		for _, w := range want {
			if !strings.Contains(errOut, w) {
				t.Errorf("%v: stderr lacks %q:\n%s", args, w, errOut)
			}
		}
		if strings.Contains(errOut, "connect") || strings.Contains(errOut, "refused") {
			t.Errorf("%v: a network error with static problems pending:\n%s", args, errOut)
		}
	}
}
