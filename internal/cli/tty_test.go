package cli

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prefectctl/prefectctl/internal/cloudapi"
	"github.com/prefectctl/prefectctl/internal/py"
	"github.com/prefectctl/prefectctl/internal/testenv"
)

// applyProject is a three-deployment project whose build steps print
// something (and, for gamma, take a moment) so both progress renderings
// have step output to interleave with.
const applyProject = `build:
- prefect.deployments.steps.run_shell_script:
    script: echo preparing the release
pull:
- prefect.deployments.steps.set_working_directory:
    directory: /opt/flows
deployments:
- name: alpha-SFX
  entrypoint: flows/hello.py:hello
  work_pool: {name: POOL}
- name: beta-SFX
  entrypoint: flows/hello.py:hello
  work_pool: {name: POOL}
  parameters: {name: Beta}
- name: gamma-SFX
  entrypoint: flows/hello.py:hello
  work_pool: {name: POOL}
  schedules: [{cron: "0 9 * * *"}]
  build:
  - prefect.deployments.steps.run_shell_script:
      script: sleep 2
`

const helloFlow = `from prefect import flow


@flow
def hello(name: str = "Marvin"):
    print(f"Hello, {name}!")
`

type applyEnv struct {
	bin, dir, api, sfx, pool string
}

// newApplyEnv builds prefectctl, creates a process work pool on the real
// Prefect server and writes the project into a temporary directory.
func newApplyEnv(t *testing.T) *applyEnv {
	t.Helper()
	api := testenv.Prefect(t)
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	e := &applyEnv{api: api, sfx: hex.EncodeToString(b), dir: t.TempDir()}
	e.pool = "tty-pool-" + e.sfx
	c, err := cloudapi.New(cloudapi.Options{BaseURL: api})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := c.CreateWorkPool(ctx, py.MapOf("name", e.pool, "type", "process")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx := context.Background()
		ds, _ := c.FilterDeployments(ctx, py.MapOf("work_pools", py.MapOf("name", py.MapOf("any_", []any{e.pool}))))
		for _, d := range ds {
			_ = c.DeleteDeployment(ctx, d.ID)
		}
		_ = c.DeleteWorkPool(ctx, e.pool)
	})

	e.bin = filepath.Join(t.TempDir(), "prefectctl")
	root, _ := filepath.Abs(filepath.Join("..", ".."))
	build := exec.Command("go", "build", "-o", e.bin, "./cmd/prefectctl")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	project := strings.NewReplacer("SFX", e.sfx, "POOL", e.pool).Replace(applyProject)
	must(t, os.MkdirAll(filepath.Join(e.dir, "flows"), 0o755))
	must(t, os.WriteFile(filepath.Join(e.dir, "prefect.yaml"), []byte(project), 0o644))
	must(t, os.WriteFile(filepath.Join(e.dir, "flows", "hello.py"), []byte(helloFlow), 0o644))
	return e
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// env is the environment prefectctl runs with: only what it needs, so the
// developer's settings cannot change the output.
func (e *applyEnv) env(extra ...string) []string {
	return append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + e.dir, "PREFECT_HOME=" + filepath.Join(e.dir, ".prefect"),
		"PREFECT_API_URL=" + e.api}, extra...)
}

var (
	uuidRE    = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
	secondsRE = regexp.MustCompile(`\b\d+\.\ds\b`)
	elapsedRE = regexp.MustCompile(`\[\s*\d+\.\ds\]`)
)

// normalize replaces what changes from run to run.
func (e *applyEnv) normalize(s string) string {
	s = strings.ReplaceAll(s, e.sfx, "SFX")
	s = strings.ReplaceAll(s, strings.TrimSuffix(e.api, "/api"), "http://PREFECT")
	s = uuidRE.ReplaceAllString(s, "<id>")
	s = elapsedRE.ReplaceAllString(s, "[ T ]")
	return secondsRE.ReplaceAllString(s, "T")
}

// TestApplyPlainOutput is the CI-log rendering of a real apply: one line
// per event, no escape sequences, results on stdout.
func TestApplyPlainOutput(t *testing.T) {
	if testing.Short() {
		t.Skip("needs a Prefect server")
	}
	e := newApplyEnv(t)
	cmd := exec.Command(e.bin, "deploy", "--all", "--concurrency", "1")
	cmd.Dir, cmd.Env = e.dir, e.env()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("deploy: %v\n%s", err, stderr.String())
	}
	if strings.Contains(stdout.String()+stderr.String(), "\x1b") {
		t.Errorf("escape sequences outside a terminal:\n%q", stderr.String())
	}
	golden(t, "tty/apply-plain.stdout", e.normalize(stdout.String()))
	golden(t, "tty/apply-plain.stderr", e.normalize(stderr.String()))

	// Shell completion of `deployment run` asks the server.
	complete := exec.Command(e.bin, "__complete", "deployment", "run", "hello/beta-"+e.sfx[:4])
	complete.Dir, complete.Env = e.dir, e.env()
	out, err := complete.Output()
	if err != nil {
		t.Fatal(err)
	}
	if got := string(out); got != "hello/beta-"+e.sfx+"\n:4\n" {
		t.Errorf("completion from the server: %q", got)
	}
}

// TestApplyInTmux runs prefectctl in a real terminal (tmux) and looks at
// the screen as a person would: a live status list while steps run,
// redrawn in place, in colour, and the final list once at the end.
func TestApplyInTmux(t *testing.T) {
	if testing.Short() {
		t.Skip("needs a Prefect server and tmux")
	}
	tmux, err := exec.LookPath("tmux")
	if err != nil {
		t.Fatal("this test needs tmux to see prefectctl on a terminal: install it (apt-get install tmux; scripts/testenv.sh installs it)")
	}
	e := newApplyEnv(t)
	sock := "prefectctl-test-" + e.sfx
	run := func(args ...string) string {
		t.Helper()
		out, err := exec.Command(tmux, append([]string{"-L", sock}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("tmux %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	done := filepath.Join(e.dir, "exit-code")
	var envArgs []string
	for _, kv := range e.env("TERM=xterm-256color") {
		envArgs = append(envArgs, "-e", kv)
	}
	script := "cd " + e.dir + " && " + e.bin + " deploy --all; echo $? > " + done + "; sleep 600"
	run(append(append([]string{"-f", "/dev/null", "new-session", "-d", "-x", "120", "-y", "40"}, envArgs...), script)...)
	t.Cleanup(func() { _ = exec.Command(tmux, "-L", sock, "kill-server").Run() }) // our own server only

	// While gamma's slow step runs, the list shows it with a spinner.
	var mid string
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		mid = run("capture-pane", "-p")
		if strings.Contains(mid, "hello/gamma-"+e.sfx+"  running build and push steps") {
			break
		}
		if _, err := os.Stat(done); err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !regexp.MustCompile(`[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] hello/gamma-` + e.sfx + `  running build and push steps \d+s`).MatchString(mid) {
		t.Errorf("no live status line for gamma while its step ran:\n%s", mid)
	}
	if !strings.Contains(mid, "0/3 applied") {
		t.Errorf("no live summary while steps ran:\n%s", mid)
	}
	for time.Now().Before(deadline) {
		if _, err := os.Stat(done); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	code, err := os.ReadFile(done)
	if err != nil || strings.TrimSpace(string(code)) != "0" {
		t.Fatalf("prefectctl exit code %q (%v):\n%s", code, err, run("capture-pane", "-p"))
	}
	final := strings.TrimRight(run("capture-pane", "-p"), "\n") + "\n"
	colored := run("capture-pane", "-p", "-e")
	if !regexp.MustCompile(`\x1b\[[0-9;]*m✓`).MatchString(colored) {
		t.Errorf("no colour on the terminal:\n%q", colored)
	}
	for _, n := range []string{"alpha", "beta", "gamma"} {
		re := regexp.MustCompile(`(?m)^✓ hello/` + n + `-` + e.sfx + ` +created `)
		if c := len(re.FindAllString(final, -1)); c != 1 {
			t.Errorf("status line of %s is on screen %d times, want once (redrawn in place):\n%s", n, c, final)
		}
	}
	if strings.Contains(final, "running build and push steps") {
		t.Errorf("a stale status line is left on screen:\n%s", final)
	}
	golden(t, "tty/apply-tmux.screen", e.normalize(final))
}
