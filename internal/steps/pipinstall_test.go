package steps

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prefectctl/prefectctl/internal/template"
	"github.com/prefectctl/prefectctl/internal/testenv"
)

// writeWheel writes a minimal pure-Python wheel providing
// prefectctl_demo_step.steps.hello, so pip installs it with no index.
func writeWheel(t *testing.T, dir string) string {
	t.Helper()
	files := []struct{ name, body string }{
		{"prefectctl_demo_step/__init__.py", ""},
		{"prefectctl_demo_step/steps.py", "def hello(name):\n    return {\"hi\": \"hello \" + name}\n"},
		{"prefectctl_demo_step-1.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: prefectctl-demo-step\nVersion: 1.0\n"},
		{"prefectctl_demo_step-1.0.dist-info/WHEEL", "Wheel-Version: 1.0\nGenerator: prefectctl-test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"},
	}
	var record strings.Builder
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range files {
		w, err := zw.Create(f.name)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = w.Write([]byte(f.body))
		sum := sha256.Sum256([]byte(f.body))
		fmt.Fprintf(&record, "%s,sha256=%s,%d\n", f.name, base64.RawURLEncoding.EncodeToString(sum[:]), len(f.body))
	}
	record.WriteString("prefectctl_demo_step-1.0.dist-info/RECORD,,\n")
	w, err := zw.Create("prefectctl_demo_step-1.0.dist-info/RECORD")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = w.Write([]byte(record.String()))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "prefectctl_demo_step-1.0-py3-none-any.whl")
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestBridgeInstallsRequires: with AllowPipInstall the bridge pip-installs
// a missing step's requires (here a local wheel, so no index is needed)
// into the user's Python, then runs the step; without it, nothing is
// installed.
func TestBridgeInstallsRequires(t *testing.T) {
	base := testenv.Python(t)
	tmp := t.TempDir()
	venv := filepath.Join(tmp, "venv")
	if out, err := exec.Command(base, "-m", "venv", venv).CombinedOutput(); err != nil {
		t.Fatalf("python -m venv: %v\n%s", err, out)
	}
	py := filepath.Join(venv, "bin", "python")
	wheel := writeWheel(t, tmp)
	steps := mustParse(t, "build", `[{"prefectctl_demo_step.steps.hello": {"id": "h", "requires": "`+wheel+`", "name": "bridge"}}]`)

	var log bytes.Buffer
	r := NewRunner(&Env{Dir: tmp, Python: py, Stdout: &log, Stderr: &log})
	if _, err := r.Run(context.Background(), steps, nil); err == nil || !strings.Contains(err.Error(), "cannot import prefectctl_demo_step.steps.hello") {
		t.Fatalf("without --allow-pip-install: %v", err)
	}
	r = NewRunner(&Env{Dir: tmp, Python: py, Stdout: &log, Stderr: &log, AllowPipInstall: true})
	out, err := r.Run(context.Background(), steps, nil)
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	if got, _ := template.GetFromDict(out, "h.hi"); got != "hello bridge" {
		t.Fatalf("h.hi = %v\n%s", got, log.String())
	}
	if !strings.Contains(log.String(), "Unable to load step function: prefectctl_demo_step.steps.hello. Attempting install of") {
		t.Fatalf("install message missing:\n%s", log.String())
	}
}
