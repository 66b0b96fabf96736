package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prefectctl/prefectctl/internal/cloudapi"
	"github.com/prefectctl/prefectctl/internal/config"
	"github.com/prefectctl/prefectctl/internal/py"
	"github.com/prefectctl/prefectctl/internal/testenv"
	"github.com/prefectctl/prefectctl/internal/testenv/cloudproxy"
)

// isolate gives the test its own home, PREFECT_HOME and working
// directory, with no Prefect settings inherited from the developer's shell.
func isolate(t *testing.T) (home string) {
	t.Helper()
	root := t.TempDir()
	home = filepath.Join(root, "prefect-home")
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "PREFECT_") {
			v := os.Getenv(k)
			os.Unsetenv(k)
			t.Cleanup(func() { os.Setenv(k, v) })
		}
	}
	t.Setenv("HOME", root)
	t.Setenv("PREFECT_HOME", home)
	work := filepath.Join(root, "work")
	os.MkdirAll(work, 0o755)
	t.Chdir(work)
	return home
}

func run(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = Main(args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

func TestConfigViewRedactsAndNamesSources(t *testing.T) {
	home := isolate(t)
	if err := config.WriteProfile(filepath.Join(home, "profiles.toml"), "dev", map[string]string{
		"PREFECT_API_URL": "http://127.0.0.1:4200/api", "PREFECT_API_KEY": "pnu_very_secret",
	}, true); err != nil {
		t.Fatal(err)
	}
	os.WriteFile("prefect.toml", []byte("[deployments]\ndefault_work_pool_name = \"from-toml\"\n"), 0o644)
	t.Setenv("PREFECT_API_REQUEST_TIMEOUT", "12")
	t.Setenv("PREFECT_UI_URL", "http://ui-user:ui-pass@127.0.0.1:4200")

	code, out, errOut := run("config", "view", "-o", "json")
	if code != 0 || strings.Contains(out+errOut, "pnu_very_secret") || strings.Contains(out+errOut, "ui-pass") {
		t.Fatalf("code %d\n%s\n%s", code, out, errOut)
	}
	var got struct {
		Profile  string
		Settings []struct {
			Name, Value, Source string
			SourceDetail        string `json:"source_detail"`
		}
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"PREFECT_API_KEY":                            "******** profile dev (~/prefect-home/profiles.toml)",
		"PREFECT_API_URL":                            "http://127.0.0.1:4200/api profile dev (~/prefect-home/profiles.toml)",
		"PREFECT_API_REQUEST_TIMEOUT":                "12 env ",
		"PREFECT_DEPLOYMENTS_DEFAULT_WORK_POOL_NAME": "from-toml prefect.toml ~/work/prefect.toml",
	}
	seen := 0
	for _, s := range got.Settings {
		if w, ok := want[s.Name]; ok {
			seen++
			if g := s.Value + " " + s.Source + " " + s.SourceDetail; g != w {
				t.Errorf("%s: %q, want %q", s.Name, g, w)
			}
		}
	}
	if seen != len(want) || got.Profile != "dev" {
		t.Errorf("profile %q, %d of %d settings in\n%s", got.Profile, seen, len(want), out)
	}

	code, out, _ = run("config", "view")
	if code != 0 || !strings.Contains(out, `PREFECT_API_KEY="********" (from profile dev`) {
		t.Errorf("text view:\n%s", out)
	}
	if code, _, errOut := run("--profile", "nope", "config", "view"); code != ExitUsage || !strings.Contains(errOut, `unknown profile "nope"`) {
		t.Errorf("unknown profile: %d %s", code, errOut)
	}
}

func TestCloudLoginThroughProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the real Prefect server")
	}
	upstream := testenv.Prefect(t)
	prefectCLI := testenv.PrefectCLI(t)
	home := isolate(t)
	proxy, err := cloudproxy.Start(upstream, "pnu_proxykey", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	t.Setenv("PREFECT_CLOUD_API_URL", proxy.CloudAPIURL)

	// A deployment on the real server, to read back through Cloud-shaped URLs.
	ctx := context.Background()
	direct, err := cloudapi.New(cloudapi.Options{BaseURL: upstream, MaxRetries: 5, JitterFactor: 0.2}) // the shared server may answer 503 when busy
	if err != nil {
		t.Fatal(err)
	}
	sfx := strconv.FormatInt(time.Now().UnixNano(), 36) // other tests share the server
	flow, err := direct.CreateFlow(ctx, "cloud-flow-"+sfx)
	if err != nil {
		t.Fatal(err)
	}
	dep, _, err := direct.CreateDeployment(ctx, py.MapOf("name", "d", "flow_id", flow.ID))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { direct.DeleteDeployment(context.Background(), dep.ID) })

	// Wrong key, and an ambiguous workspace, fail without writing anything.
	if code, _, errOut := run("cloud", "login", "--key", "pnu_wrong", "--workspace", "acme/prod"); code != ExitFailure || !strings.Contains(errOut, "unable to authenticate with Prefect Cloud") {
		t.Fatalf("wrong key: %d %s", code, errOut)
	}
	if code, _, errOut := run("cloud", "login", "--key", "pnu_proxykey"); code != ExitUsage || !strings.Contains(errOut, "acme/prod, acme/staging") {
		t.Fatalf("ambiguous: %d %s", code, errOut)
	}
	if code, _, errOut := run("cloud", "login", "--key", "pnu_proxykey", "--workspace", "acme/nope"); code != ExitUsage || !strings.Contains(errOut, "available workspaces: acme/prod, acme/staging") {
		t.Fatalf("unknown workspace: %d %s", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(home, "profiles.toml")); !os.IsNotExist(err) {
		t.Fatalf("profiles written after failures: %v", err)
	}

	code, out, errOut := run("cloud", "login", "--key", "pnu_proxykey", "--workspace", "acme/staging")
	if code != 0 || !strings.Contains(out, `Using workspace "acme/staging"`) || strings.Contains(out+errOut, "pnu_proxykey") {
		t.Fatalf("login: %d\n%s\n%s", code, out, errOut)
	}
	path := filepath.Join(home, "profiles.toml")
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("profiles.toml: %v %v", err, st)
	}
	wantFile := "active = \"ephemeral\"\n\n[profiles.ephemeral]\nPREFECT_SERVER_EPHEMERAL_ENABLED = \"true\"\nPREFECT_API_KEY = \"pnu_proxykey\"\nPREFECT_API_URL = \"" + proxy.WorkspaceURL(1) + "\"\n"
	if b, _ := os.ReadFile(path); string(b) != wantFile {
		t.Fatalf("profiles.toml:\n%s\nwant:\n%s", b, wantFile)
	}

	// Real `prefect cloud login` against the same proxy writes the same file.
	pyHome := t.TempDir()
	login := exec.Command(prefectCLI, "cloud", "login", "-k", "pnu_proxykey", "-w", "acme/staging")
	login.Dir = pyHome
	login.Env = []string{"HOME=" + pyHome, "PATH=" + os.Getenv("PATH"), "PREFECT_CLOUD_API_URL=" + proxy.CloudAPIURL}
	if out, err := login.CombinedOutput(); err != nil {
		t.Fatalf("prefect cloud login: %v\n%s", err, out)
	}
	if b, _ := os.ReadFile(filepath.Join(pyHome, ".prefect", "profiles.toml")); string(b) != wantFile {
		t.Fatalf("prefect cloud login wrote:\n%s\nprefectctl wrote:\n%s", b, wantFile)
	}

	// Prefect itself reads the profile prefectctl wrote.
	pc := exec.Command(prefectCLI, "config", "view", "--show-secrets")
	pc.Env = os.Environ()
	pyOut, err := pc.CombinedOutput()
	if err != nil || !strings.Contains(string(pyOut), "PREFECT_API_URL='"+proxy.WorkspaceURL(1)+"'") || !strings.Contains(string(pyOut), "PREFECT_API_KEY='pnu_proxykey'") {
		t.Fatalf("prefect config view: %v\n%s", err, pyOut)
	}

	// prefectctl now talks to the workspace with the key, as Cloud.
	s, err := config.Load(config.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !s.IsCloud() || s.UIURL() != strings.TrimSuffix(proxy.CloudAPIURL, "/api")+"/account/"+cloudproxy.Default[1].AccountID+"/workspace/"+cloudproxy.Default[1].WorkspaceID {
		t.Errorf("cloud %v ui %q", s.IsCloud(), s.UIURL())
	}
	c, err := cloudapi.FromSettings(s, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.ReadDeploymentByName(ctx, "cloud-flow-"+sfx, "d")
	if err != nil || got.ID != dep.ID {
		t.Fatalf("read through proxy: %v", err)
	}
	reqs := strings.Join(proxy.Requests(), "\n")
	if !strings.Contains(reqs, "GET /api/accounts/"+cloudproxy.Default[1].AccountID+"/workspaces/"+cloudproxy.Default[1].WorkspaceID+"/deployments/name/cloud-flow-") {
		t.Errorf("requests:\n%s", reqs)
	}
	if strings.Contains(reqs, "csrf-token") {
		t.Errorf("CSRF token fetched on Cloud:\n%s", reqs)
	}

	// Logging in again with the same key keeps the workspace the profile uses.
	// (with --debug: the call is logged, the key is not)
	code, out, errOut = run("--debug", "cloud", "login", "--key", "pnu_proxykey")
	if code != 0 || !strings.Contains(out, "acme/staging") {
		t.Fatalf("re-login: %d %s %s", code, out, errOut)
	}
	if !strings.Contains(errOut, "GET "+proxy.CloudAPIURL+"/me/workspaces -> 200") || strings.Contains(errOut, "pnu_proxykey") {
		t.Errorf("debug output:\n%s", errOut)
	}
}
