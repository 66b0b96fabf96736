package testenv

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A project deployed with prefectctl to the PostgreSQL-backed server reads back as
// prefect.yaml says, and what the server stored is in PostgreSQL (not in a SQLite
// file a misconfigured server would fall back to without a word).
func TestPrefectPostgresDeploy(t *testing.T) {
	api := PrefectPostgres(t)
	db := PrefectPostgresDatabase(t)
	c := &http.Client{Timeout: 10 * time.Second}
	code, body := get(t, c, api+"/admin/version")
	if code != http.StatusOK || strings.Trim(strings.TrimSpace(body), `"`) != wantPrefectVersion {
		t.Fatalf("GET %s/admin/version = %d %q, want %q", api, code, body, wantPrefectVersion)
	}
	psql, err := exec.LookPath("psql")
	if err != nil {
		t.Fatalf("psql (Debian's postgresql-client, installed with the prefect-pg part) is needed: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	suffix := fmt.Sprint(time.Now().UnixNano())
	pool, deployment := "pg-pool-"+suffix, "pg-smoke-"+suffix
	home := t.TempDir()
	env := append(cleanPrefectEnv(), "PREFECT_API_URL="+api, "PREFECT_HOME="+home)
	run := func(dir, name string, args ...string) string {
		t.Helper()
		cmd := exec.CommandContext(ctx, name, args...)
		cmd.Dir, cmd.Env = dir, env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	run(home, PrefectCLI(t), "--no-prompt", "work-pool", "create", pool, "--type", "process")

	project := t.TempDir()
	files := map[string]string{
		"flows/hello.py": `from prefect import flow


@flow(name="pg-hello")
def hello(who: str = "world", times: int = 1) -> None:
    for _ in range(times):
        print(f"Hello, {who}!")
`,
		"prefect.yaml": fmt.Sprintf(`name: pg-smoke
prefect-version: %s
pull:
- prefect.deployments.steps.set_working_directory:
    directory: /tmp
deployments:
- name: %s
  entrypoint: flows/hello.py:hello
  description: deployed to the PostgreSQL-backed server
  tags: [pg, smoke]
  parameters:
    who: postgres
  work_pool:
    name: %s
`, wantPrefectVersion, deployment, pool),
	}
	for name, text := range files {
		p := filepath.Join(project, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	bin := buildPrefectctl(t)
	run(project, bin, "deploy", "--all")

	var got struct {
		Name         string         `json:"name"`
		Entrypoint   string         `json:"entrypoint"`
		WorkPoolName string         `json:"work_pool_name"`
		Description  string         `json:"description"`
		Tags         []string       `json:"tags"`
		Parameters   map[string]any `json:"parameters"`
		Schema       struct {
			Properties map[string]any `json:"properties"`
		} `json:"parameter_openapi_schema"`
	}
	out := run(project, bin, "deployment", "inspect", "pg-hello/"+deployment, "-o", "json")
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("deployment inspect -o json: %v\n%s", err, out)
	}
	if got.Name != deployment || got.Entrypoint != "flows/hello.py:hello" || got.WorkPoolName != pool ||
		got.Description != "deployed to the PostgreSQL-backed server" || strings.Join(got.Tags, ",") != "pg,smoke" ||
		got.Parameters["who"] != "postgres" || got.Schema.Properties["who"] == nil || got.Schema.Properties["times"] == nil {
		t.Fatalf("deployment read back from %s = %+v", api, got)
	}

	// The rows themselves, read from PostgreSQL.
	q := fmt.Sprintf(`SELECT d.name || '|' || w.name FROM deployment d JOIN flow f ON f.id = d.flow_id
		JOIN work_queue q ON q.id = d.work_queue_id JOIN work_pool w ON w.id = q.work_pool_id
		WHERE f.name = 'pg-hello' AND d.name = '%s'`, deployment)
	rows := strings.TrimSpace(run(home, psql, "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", db, "-c", q))
	if want := deployment + "|" + pool; rows != want {
		t.Fatalf("PostgreSQL holds %q for the deployment, want %q", rows, want)
	}
}

// cleanPrefectEnv is the test's environment without any Prefect setting.
func cleanPrefectEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); !strings.HasPrefix(k, "PREFECT_") {
			env = append(env, kv)
		}
	}
	return env
}

// buildPrefectctl builds the CLI into the test's temporary directory (the go
// build cache makes it cheap after the first time).
func buildPrefectctl(t *testing.T) string {
	t.Helper()
	script, err := findScript()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "prefectctl")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/prefectctl")
	cmd.Dir = filepath.Dir(filepath.Dir(script))
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}
