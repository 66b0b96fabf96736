package testenv

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The pinned Prefect release the environment must serve.
const wantPrefectVersion = "3.9.1"

func TestParseEnv(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    map[string]string
		wantErr string
	}{
		{name: "empty", in: "", want: map[string]string{}},
		{
			name: "plain lines",
			in:   "export PREFECT_API_URL='http://127.0.0.1:4200/api'\nexport DOCKER_HOST='unix:///tmp/x/docker.sock'\n",
			want: map[string]string{"PREFECT_API_URL": "http://127.0.0.1:4200/api", "DOCKER_HOST": "unix:///tmp/x/docker.sock"},
		},
		{name: "escaped quote", in: `export D='/tmp/it'\''s here'`, want: map[string]string{"D": "/tmp/it's here"}},
		{name: "empty value", in: `export D=''`, want: map[string]string{"D": ""}},
		{name: "comment and blank", in: "# note\n\nexport A='1'", want: map[string]string{"A": "1"}},
		{name: "not export", in: "A='1'", wantErr: "line 1: want `export NAME='value'`"},
		{name: "unquoted", in: "export A=1", wantErr: "must be single-quoted"},
		{name: "unterminated", in: "export A='1", wantErr: "unterminated quote"},
		{name: "no name", in: "export ='1'", wantErr: "no NAME="},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseEnv(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("parseEnv(%q) error = %v, want it to contain %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseEnv(%q): %v", tt.in, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("parseEnv(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestCheckLoopbackURL(t *testing.T) {
	tests := []struct {
		url string
		ok  bool
	}{
		{"http://127.0.0.1:4200/api", true},
		{"http://127.8.9.10:4200/api", true},
		{"http://localhost:4200/api", true},
		{"http://[::1]:4200/api", true},
		{"https://api.prefect.cloud/api/accounts/a/workspaces/w", false},
		{"http://10.0.0.5:4200/api", false},
		{"not a url", false},
	}
	for _, tt := range tests {
		if err := checkLoopbackURL(tt.url); (err == nil) != tt.ok {
			t.Errorf("checkLoopbackURL(%q) = %v, want ok=%v", tt.url, err, tt.ok)
		}
	}
}

func TestFindScript(t *testing.T) {
	s, err := findScript()
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(s) != "testenv.sh" || filepath.Base(filepath.Dir(s)) != "scripts" {
		t.Fatalf("findScript() = %s", s)
	}

	t.Chdir(t.TempDir())
	if _, err := findScript(); err == nil || !strings.Contains(err.Error(), "run the tests from inside") {
		t.Fatalf("findScript() outside the repo: err = %v", err)
	}
}

// The script's own `env` output must parse: this guards the format both sides rely on.
func TestScriptEnvParses(t *testing.T) {
	s, err := findScript()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "it's state")
	cmd := exec.Command("bash", s, "env")
	cmd.Env = append(os.Environ(), EnvDir+"="+dir)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("testenv.sh env: %v", err)
	}
	env, err := parseEnv(string(out))
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if env[EnvDir] != dir {
		t.Fatalf("%s = %q, want %q", EnvDir, env[EnvDir], dir)
	}
	// Nothing runs in a fresh state directory, so no service address may be printed.
	for _, k := range []string{EnvPrefectAPIURL, EnvDockerHost, EnvRegistry, EnvAuthRegistry, EnvBaseImage, EnvPGAPIURL, EnvPGDatabaseURL} {
		if v, ok := env[k]; ok {
			t.Errorf("fresh state directory, yet env prints %s=%q", k, v)
		}
	}
}

func get(t *testing.T, c *http.Client, url string) (int, string) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: reading body: %v", url, err)
	}
	return resp.StatusCode, string(body)
}

func TestPrefectServer(t *testing.T) {
	api := Prefect(t)
	c := &http.Client{Timeout: 10 * time.Second}

	code, body := get(t, c, api+"/health")
	if code != http.StatusOK || strings.TrimSpace(body) != "true" {
		t.Fatalf("GET %s/health = %d %q, want 200 true", api, code, body)
	}
	code, body = get(t, c, api+"/admin/version")
	var version string
	if err := json.Unmarshal([]byte(body), &version); code != http.StatusOK || err != nil {
		t.Fatalf("GET %s/admin/version = %d %q (%v)", api, code, body, err)
	}
	if version != wantPrefectVersion {
		t.Fatalf("server version = %q, want %q", version, wantPrefectVersion)
	}
}

func TestPythonVenv(t *testing.T) {
	py := Python(t)
	out, err := exec.Command(py, "-c", "import prefect, prefect_docker; print(prefect.__version__)").CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", py, err, out)
	}
	if got := strings.TrimSpace(string(out)); got != wantPrefectVersion {
		t.Fatalf("venv prefect version = %q, want %q", got, wantPrefectVersion)
	}

	cli := PrefectCLI(t)
	out, err = exec.Command(cli, "version").CombinedOutput()
	if err != nil {
		t.Fatalf("%s version: %v\n%s", cli, err, out)
	}
	if !strings.Contains(string(out), wantPrefectVersion) {
		t.Fatalf("%s version does not mention %s:\n%s", cli, wantPrefectVersion, out)
	}
}

// dockerClient speaks HTTP to the engine over the unix socket of DOCKER_HOST.
func dockerClient(t *testing.T, host string) *http.Client {
	t.Helper()
	sock, ok := strings.CutPrefix(host, "unix://")
	if !ok {
		t.Fatalf("DOCKER_HOST = %q, want unix://PATH", host)
	}
	return &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		}},
	}
}

func TestDockerEngine(t *testing.T) {
	c := dockerClient(t, Docker(t))

	code, body := get(t, c, "http://docker/_ping")
	if code != http.StatusOK || body != "OK" {
		t.Fatalf("GET /_ping = %d %q, want 200 OK", code, body)
	}
	code, body = get(t, c, "http://docker/version")
	var v struct{ APIVersion string }
	if err := json.Unmarshal([]byte(body), &v); code != http.StatusOK || err != nil || v.APIVersion == "" {
		t.Fatalf("GET /version = %d %q (%v)", code, body, err)
	}
	// The engine must not own a bridge network: its private-range addresses are off limits here.
	code, body = get(t, c, "http://docker/networks")
	var nets []struct{ Name, Driver string }
	if err := json.Unmarshal([]byte(body), &nets); code != http.StatusOK || err != nil {
		t.Fatalf("GET /networks = %d %q (%v)", code, body, err)
	}
	for _, n := range nets {
		if n.Driver == "bridge" {
			t.Errorf("engine has bridge network %q; dockerd must run with --bridge=none", n.Name)
		}
	}
}

func TestRegistry(t *testing.T) {
	c := &http.Client{Timeout: 10 * time.Second}
	addr := Registry(t)
	if code, body := get(t, c, "http://"+addr+"/v2/"); code != http.StatusOK {
		t.Fatalf("GET http://%s/v2/ = %d %q, want 200", addr, code, body)
	}
}

func TestAuthRegistry(t *testing.T) {
	addr, user, pass := AuthRegistry(t)
	c := &http.Client{Timeout: 10 * time.Second}
	tests := []struct {
		name       string
		user, pass string
		want       int
	}{
		{"no credentials", "", "", http.StatusUnauthorized},
		{"wrong password", user, pass + "x", http.StatusUnauthorized},
		{"unknown user", user + "x", pass, http.StatusUnauthorized},
		{"right credentials", user, pass, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodGet, "http://"+addr+"/v2/", nil)
			if err != nil {
				t.Fatal(err)
			}
			if tt.user != "" {
				req.SetBasicAuth(tt.user, tt.pass)
			}
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Fatalf("GET /v2/ = %d, want %d", resp.StatusCode, tt.want)
			}
			if tt.want == http.StatusUnauthorized && !strings.HasPrefix(resp.Header.Get("Www-Authenticate"), "Basic ") {
				t.Fatalf("401 without a Basic challenge: Www-Authenticate = %q", resp.Header.Get("Www-Authenticate"))
			}
		})
	}
}

// dockerRun runs the docker CLI against the test engine.
func dockerRun(t *testing.T, args ...string) string {
	t.Helper()
	host := Docker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "docker", args...)
	cmd.Env = append(os.Environ(), EnvDockerHost+"="+host)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("docker %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// The base image must look like Prefect's where builds and flows rely on it.
func TestBaseImageLayout(t *testing.T) {
	image := BaseImage(t)
	out := dockerRun(t, "run", "--rm", "--network", "none", image, "bash", "-c",
		`pwd; command -v python prefect uv; uv pip show prefect | grep '^Version:'`)
	for _, want := range []string{
		"/opt/prefect\n",                        // WORKDIR
		"/opt/venv/bin/python\n",                // the venv leads PATH
		"/opt/venv/bin/prefect\n",               //
		"/opt/venv/bin/uv\n",                    //
		"Version: " + wantPrefectVersion + "\n", // a bare `uv pip` sees the venv (generated Dockerfiles use it)
	} {
		if !strings.Contains(out, want) {
			t.Errorf("image %s: output lacks %q:\n%s", image, want, out)
		}
	}

	// The entrypoint installs EXTRA_PIP_PACKAGES with uv into the venv before the command; an
	// already satisfied requirement resolves offline there, and only there.
	out = dockerRun(t, "run", "--rm", "--network", "none", "-e", "EXTRA_PIP_PACKAGES=--offline prefect=="+wantPrefectVersion,
		image, "echo", "command ran")
	for _, want := range []string{"+ uv pip install --offline prefect==" + wantPrefectVersion, "environment at: /opt/venv", "command ran"} {
		if !strings.Contains(out, want) {
			t.Errorf("EXTRA_PIP_PACKAGES run lacks %q:\n%s", want, out)
		}
	}
}

// A flow runs inside the image against the loopback server, as a worker's container would run it.
func TestBaseImageRunsFlow(t *testing.T) {
	image, api := BaseImage(t), Prefect(t)
	name := fmt.Sprintf("testenv-smoke-%d", time.Now().UnixNano())
	script := `import sys
from prefect import flow, get_run_logger

@flow(name="testenv-smoke")
def smoke(who: str) -> str:
    get_run_logger().info("Hello, %s!", who)
    return who

smoke.with_options(flow_run_name=sys.argv[1])("container")
`
	out := dockerRun(t, "run", "--rm", "--network", "host", "-e", "PREFECT_API_URL="+api, image, "python", "-c", script, name)
	if !strings.Contains(out, "Hello, container!") {
		t.Errorf("flow output lacks its log line:\n%s", out)
	}

	// The server's record decides, not the container's exit code.
	body := fmt.Sprintf(`{"flow_runs": {"name": {"any_": [%q]}}}`, name)
	resp, err := http.Post(api+"/flow_runs/filter", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var runs []struct {
		Name      string `json:"name"`
		StateType string `json:"state_type"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&runs); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /flow_runs/filter = %d (%v)", resp.StatusCode, err)
	}
	if len(runs) != 1 || runs[0].StateType != "COMPLETED" {
		t.Fatalf("flow runs named %s on the server = %+v, want one COMPLETED", name, runs)
	}
}

// The script's own contract, on a private state directory with the cheapest part: concurrent
// `up` calls start the registries once, only the caller that started them reports it, `env`
// names them, and `down` ends exactly those processes.
func TestScriptUpDownRegistry(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real registries")
	}
	script, err := findScript()
	if err != nil {
		t.Fatal(err)
	}
	state := t.TempDir()
	run := func(args ...string) (string, error) {
		cmd := exec.Command("bash", append([]string{script}, args...)...)
		// A private state directory: nothing of it belongs in the ledger of a `make test` run.
		cmd.Env = append(os.Environ(), EnvDir+"="+state, "PREFECTCTL_TESTENV_STARTED=")
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return string(out), fmt.Errorf("testenv.sh %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
		}
		return string(out), nil
	}
	t.Cleanup(func() {
		if _, err := run("down", "registry"); err != nil {
			t.Error(err)
		}
	})

	const n = 3
	outs := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { outs[i], errs[i] = run("up", "registry") })
	}
	wg.Wait()
	started := 0
	for i := range n {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		switch strings.TrimSpace(outs[i]) {
		case "registry":
			started++
		case "":
		default:
			t.Fatalf("up registry printed %q, want \"registry\" or nothing", outs[i])
		}
	}
	if started != 1 {
		t.Fatalf("%d of %d concurrent `up registry` calls report starting it, want exactly 1", started, n)
	}

	out, err := run("env")
	if err != nil {
		t.Fatal(err)
	}
	env, err := parseEnv(out)
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Timeout: 10 * time.Second}
	for k, want := range map[string]int{EnvRegistry: http.StatusOK, EnvAuthRegistry: http.StatusUnauthorized} {
		if code, _ := get(t, c, "http://"+env[k]+"/v2/"); code != want {
			t.Fatalf("%s=%s: GET /v2/ = %d, want %d", k, env[k], code, want)
		}
	}
	if env[EnvPrefectAPIURL] != "" || env[EnvDockerHost] != "" || env[EnvPGAPIURL] != "" {
		t.Fatalf("only the registries run in %s, yet env prints %v", state, env)
	}

	var pids []int
	for _, kind := range []string{"plain", "auth"} {
		// "PID STARTTIME", written by the launcher (scripts/lib/spawn.py).
		b, err := os.ReadFile(filepath.Join(state, "registry", kind, "proc"))
		if err != nil {
			t.Fatal(err)
		}
		f := strings.Fields(string(b))
		if len(f) != 2 {
			t.Fatalf("registry/%s/proc = %q, want \"PID STARTTIME\"", kind, b)
		}
		pid, err := strconv.Atoi(f[0])
		if err != nil {
			t.Fatal(err)
		}
		if cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); !strings.Contains(string(cmdline), "docker-registry") {
			t.Fatalf("registry/%s/proc names pid %d, which runs %q, not the registry", kind, pid, cmdline)
		}
		pids = append(pids, pid)
	}
	if _, err := run("down", "registry"); err != nil {
		t.Fatal(err)
	}
	for _, pid := range pids {
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err == nil {
			if b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); strings.Contains(string(b), state) {
				t.Errorf("registry pid %d still runs after down", pid)
			}
		}
	}
	if _, err := run("status", "registry"); err == nil {
		t.Error("status registry succeeds after down, want a failure")
	}
}

// A failing `up` reaches the test as an error carrying the script's own message.
func TestUpErrorCarriesScriptMessage(t *testing.T) {
	_, err := up("nonsense")
	if err == nil || !strings.Contains(err.Error(), "unknown part 'nonsense'") {
		t.Fatalf("up(nonsense) error = %v, want the script's 'unknown part' message", err)
	}
}
