package cli

// Secrets: the API key, the auth string, a resolved Secret block and a
// wrong key on a 401 never appear in prefectctl's stdout, stderr (with
// --debug) or in any file it wrote; profiles.toml, which holds a key by
// design, is mode 0600. The literals come from testdata/secrets.txt, which
// scripts/scan-secrets.sh also greps the whole suite's output for.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prefectctl/prefectctl/internal/cloudapi"
	"github.com/prefectctl/prefectctl/internal/py"
	"github.com/prefectctl/prefectctl/internal/testenv"
	"github.com/prefectctl/prefectctl/internal/testenv/cloudproxy"
)

// testSecrets reads testdata/secrets.txt: name → literal.
func testSecrets(t *testing.T) map[string]string {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "testdata", "secrets.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && !strings.HasPrefix(fields[0], "#") {
			out[fields[0]] = fields[1]
		}
	}
	if len(out) < 4 {
		t.Fatalf("testdata/secrets.txt has %d secrets", len(out))
	}
	return out
}

// leaks names the secrets found in s, without printing them.
func leaks(s string, secrets map[string]string) []string {
	var out []string
	for name, v := range secrets {
		if strings.Contains(s, v) {
			out = append(out, name)
		}
	}
	return out
}

func TestSecretsNeverLeak(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the real Prefect server")
	}
	secrets := testSecrets(t)
	upstream := testenv.Prefect(t)
	home := isolate(t)
	work, _ := os.Getwd()
	ctx := context.Background()
	direct, err := cloudapi.New(cloudapi.Options{BaseURL: upstream, MaxRetries: 5})
	if err != nil {
		t.Fatal(err)
	}
	prefix, pool := scratchPool(t, direct, "secrets", "process")

	// A Secret block document holding the block secret.
	var bt struct{ ID string }
	if _, err := direct.Do(ctx, http.MethodGet, "block_types/slug/secret", nil, nil, &bt); err != nil {
		t.Fatal(err)
	}
	var schemas []struct{ ID string }
	if _, err := direct.Do(ctx, http.MethodPost, "block_schemas/filter", nil,
		py.MapOf("block_schemas", py.MapOf("block_type_id", py.MapOf("any_", []any{bt.ID}))), &schemas); err != nil || len(schemas) == 0 {
		t.Fatalf("secret block schema: %v", err)
	}
	block := prefix + "-blk"
	var doc struct{ ID string }
	if _, err := direct.Do(ctx, http.MethodPost, "block_documents/", nil, py.MapOf("name", block, "block_type_id", bt.ID,
		"block_schema_id", schemas[0].ID, "data", py.MapOf("value", secrets["secret-block"])), &doc); err != nil {
		t.Fatal("create the secret block failed") // its error would echo the value
	}
	t.Cleanup(func() { direct.Do(context.Background(), http.MethodDelete, "block_documents/"+doc.ID, nil, nil, nil) })

	// A project whose build step gets the secret in its environment (and
	// checks it without printing it), and whose job variables reference it.
	must(t, os.MkdirAll(filepath.Join(work, "flows"), 0o755))
	must(t, os.WriteFile(filepath.Join(work, "flows", "f.py"), []byte(fmt.Sprintf("from prefect import flow\n\n\n@flow(name=%q)\ndef f():\n    pass\n", prefix+"-flow")), 0o644))
	must(t, os.WriteFile(filepath.Join(work, "prefect.yaml"), []byte(fmt.Sprintf(`build:
- prefect.deployments.steps.run_shell_script:
    script: sh -c 'test -n "$TOKEN" && echo token-length-${#TOKEN}'
    env:
      TOKEN: "{{ prefect.blocks.secret.%s }}"
pull: []
deployments:
- name: d
  entrypoint: flows/f.py:f
  work_pool: {name: %s, job_variables: {env: {TOKEN: "{{ prefect.blocks.secret.%s }}"}}}
`, block, pool, block)), 0o644))

	var all strings.Builder // every byte prefectctl printed
	runLogged := func(args ...string) (int, string, string) {
		code, out, errOut := run(args...)
		all.WriteString(out)
		all.WriteString(errOut)
		return code, out, errOut
	}
	check := func(step string) {
		t.Helper()
		if l := leaks(all.String(), secrets); len(l) > 0 {
			t.Fatalf("%s: secrets %v appear in prefectctl's output", step, l)
		}
	}

	// 1. API key, through a Cloud-shaped proxy that checks it.
	proxy, err := cloudproxy.Start(upstream, secrets["api-key"], nil)
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	t.Setenv("PREFECT_CLOUD_API_URL", proxy.CloudAPIURL)
	if code, _, errOut := runLogged("cloud", "login", "--key", secrets["api-key"], "--workspace", "acme/prod"); code != 0 {
		check("cloud login")
		t.Fatalf("cloud login: exit %d\n%s", code, errOut)
	}
	check("cloud login")
	if st, err := os.Stat(filepath.Join(home, "profiles.toml")); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("profiles.toml holds the key and must be 0600: %v %v", err, st)
	}
	code, out, errOut := runLogged("--debug", "deploy", "--all", "-o", "json")
	check("deploy --debug with an API key and a secret block")
	if code != 0 || !strings.Contains(errOut, fmt.Sprintf("token-length-%d", len(secrets["secret-block"]))) || !strings.Contains(errOut, "debug: ") {
		t.Fatalf("deploy through the Cloud proxy: exit %d\n%s\n%s", code, out, errOut)
	}
	// The server holds the resolved value (as Prefect sends it), prefectctl
	// never printed it.
	d, err := direct.ReadDeploymentByName(ctx, prefix+"-flow", "d")
	if err != nil {
		t.Fatal(err)
	}
	if jv, _ := py.EncodeJSON(py.FromGo(d.JobVariables)); !strings.Contains(string(jv), secrets["secret-block"]) {
		t.Error("the job variables on the server do not hold the resolved secret block")
	}
	runLogged("deploy", "--all", "--plan", "-o", "json")
	runLogged("--debug", "deploy", "--all", "--plan")
	check("deploy --plan")
	runLogged("config", "view")
	runLogged("config", "view", "-o", "json")
	// (deployment inspect is left out: it prints the job variables the
	// server holds, resolved secret included, as prefect's does.)
	check("config view")

	// 2. A wrong key: the 401 path.
	t.Setenv("PREFECT_API_KEY", secrets["api-key-wrong"])
	t.Setenv("PREFECT_API_URL", proxy.WorkspaceURL(0))
	if code, _, errOut := runLogged("--debug", "deploy", "--all", "--force"); code == 0 || !strings.Contains(strings.ToLower(errOut), "auth") {
		check("401")
		t.Fatalf("deploy with a wrong key: exit %d\n%s", code, errOut)
	}
	check("401")

	// 3. An auth string, straight to the server (it ignores the header;
	// what matters is what prefectctl prints).
	os.Unsetenv("PREFECT_API_KEY")
	t.Setenv("PREFECT_API_URL", upstream)
	t.Setenv("PREFECT_API_AUTH_STRING", secrets["auth-string"])
	if code, out, errOut := runLogged("--debug", "deploy", "--all", "--force", "-o", "json"); code != 0 {
		check("auth string")
		t.Fatalf("deploy with an auth string: exit %d\n%s\n%s", code, out, errOut)
	}
	runLogged("config", "view", "-o", "json")
	check("auth string")

	// Every file prefectctl wrote (home and project), but profiles.toml,
	// holds none of the secrets.
	for _, root := range []string{home, work} {
		filepath.WalkDir(root, func(path string, e fs.DirEntry, err error) error {
			if err != nil || e.IsDir() || filepath.Base(path) == "profiles.toml" {
				return nil
			}
			b, _ := os.ReadFile(path)
			if l := leaks(string(b), secrets); len(l) > 0 {
				t.Errorf("%s holds secrets %v", path, l)
			}
			return nil
		})
	}
}

func TestSecretsRegistryPassword(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the real Prefect server, dockerd and the auth registry")
	}
	secrets := testSecrets(t)
	api := testenv.Prefect(t)
	dockerHost := testenv.Docker(t)
	addr, user, pass := testenv.AuthRegistry(t)
	secrets["registry-password"] = pass
	home := isolate(t)
	work, _ := os.Getwd()
	c, err := cloudapi.New(cloudapi.Options{BaseURL: api, MaxRetries: 5})
	if err != nil {
		t.Fatal(err)
	}
	prefix, pool := scratchPool(t, c, "regsecret", "docker")
	// The password comes in through the environment, so the project file
	// holds none.
	writePushProject(t, work, prefix, addr+"/"+prefix+"/img", pool,
		fmt.Sprintf(`credentials: {username: %s, password: "{{ $PCTL_TEST_REGISTRY_PASSWORD }}", registry_url: %s}`, user, addr))
	t.Setenv("PREFECT_API_URL", api)
	t.Setenv("DOCKER_HOST", dockerHost)
	t.Setenv("PCTL_TEST_REGISTRY_PASSWORD", pass)
	var all strings.Builder
	code, out, errOut := run("--debug", "deploy", "--all", "-o", "json")
	all.WriteString(out + errOut)
	if l := leaks(all.String(), secrets); len(l) > 0 {
		t.Fatalf("secrets %v appear in the output of a push with credentials", l)
	}
	if code != 0 {
		t.Fatalf("deploy with registry credentials: exit %d\n%s", code, lastLines(errOut, 20))
	}
	// A wrong password: the registry's 401 path.
	t.Setenv("PCTL_TEST_REGISTRY_PASSWORD", secrets["api-key-wrong"])
	code, out, errOut = run("--debug", "deploy", "--all", "--force", "-o", "json")
	if l := leaks(out+errOut, secrets); len(l) > 0 {
		t.Fatalf("secrets %v appear in the output of a rejected push", l)
	}
	if code == 0 {
		t.Fatal("a push with a wrong password succeeded")
	}
	for _, root := range []string{home, work} {
		filepath.WalkDir(root, func(path string, e fs.DirEntry, err error) error {
			if err != nil || e.IsDir() {
				return nil
			}
			b, _ := os.ReadFile(path)
			if l := leaks(string(b), secrets); len(l) > 0 {
				t.Errorf("%s holds secrets %v", path, l)
			}
			return nil
		})
	}
}

// TestScanSecretsScript: scripts/scan-secrets.sh finds each literal of
// testdata/secrets.txt in a log, names the file and line without printing
// the secret, and passes a clean log.
func TestScanSecretsScript(t *testing.T) {
	secrets := testSecrets(t)
	script, _ := filepath.Abs(filepath.Join("..", "..", "scripts", "scan-secrets.sh"))
	dir := t.TempDir()
	clean := filepath.Join(dir, "clean.log")
	must(t, os.WriteFile(clean, []byte("ok  \tpkg\t1.0s\n"), 0o644))
	scan := func(logs ...string) (int, string) {
		cmd := exec.Command(script, logs...)
		cmd.Env = cleanEnv() // no PREFECTCTL_AUTH_REGISTRY_PASSWORD: the fixed list only
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			t.Fatal(err)
		}
		return cmd.ProcessState.ExitCode(), string(out)
	}
	if code, out := scan(clean); code != 0 {
		t.Fatalf("clean log: exit %d\n%s", code, out)
	}
	for name, v := range secrets {
		leaky := filepath.Join(dir, name+".log")
		must(t, os.WriteFile(leaky, []byte("line one\n--- FAIL: x\n    got "+v+"\n"), 0o644))
		code, out := scan(clean, leaky)
		if code != 1 || !strings.Contains(out, leaky+":3") {
			t.Errorf("%s: exit %d, want 1 naming %s:3\n%s", name, code, leaky, out)
		}
		if strings.Contains(out, v) {
			t.Errorf("%s: the scan printed the secret", name)
		}
	}
}
