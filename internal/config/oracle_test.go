package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/prefectctl/prefectctl/internal/testenv"
)

// TestAgainstRealPrefect resolves the same directories, homes and
// environments with Prefect 3.9.1's own `prefect config view` and with
// Load, and compares the settings prefectctl uses.
func TestAgainstRealPrefect(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the real prefect CLI")
	}
	python := testenv.Python(t)
	oracle, err := filepath.Abs("testdata/settings_oracle.py")
	if err != nil {
		t.Fatal(err)
	}
	profiles := "active = \"cloud\"\n\n[profiles.cloud]\nPREFECT_API_URL = \"https://api.prefect.cloud/api/accounts/a1/workspaces/w1\"\nPREFECT_API_KEY = \"pnu_p\"\nPREFECT_DEFAULT_WORK_POOL_NAME = \"prof-pool\"\n\n[profiles.dev]\nPREFECT_API_URL = \"http://127.0.0.1:4200/api\"\nPREFECT_API_REQUEST_TIMEOUT = 7\nPREFECT_CLIENT_MAX_RETRIES = \"2\"\n"
	cases := []struct {
		name    string
		files   map[string]string
		env     map[string]string
		profile string
	}{
		{name: "file active cloud", files: map[string]string{"home/.prefect/profiles.toml": profiles}},
		{name: "PREFECT_PROFILE", files: map[string]string{"home/.prefect/profiles.toml": profiles}, env: map[string]string{"PREFECT_PROFILE": "dev"}},
		{name: "--profile", files: map[string]string{"home/.prefect/profiles.toml": profiles}, profile: "dev"},
		{name: "unknown PREFECT_PROFILE", files: map[string]string{"home/.prefect/profiles.toml": profiles}, env: map[string]string{"PREFECT_PROFILE": "ghost"}},
		{name: "packaged name not in user file", files: map[string]string{"home/.prefect/profiles.toml": profiles}, profile: "local"},
		{name: "no user file, packaged local", profile: "local"},
		{name: "no user file at all"},
		{name: "all layers", files: map[string]string{
			"home/.prefect/profiles.toml": profiles,
			"proj/.env":                   "prefect_api_key=dotenv-key\nPREFECT_API_REQUEST_TIMEOUT='3.5'\n",
			"proj/prefect.toml":           "[api]\nurl = \"http://toml:1/api\"\nkey = \"toml-key\"\n[deployments]\ndefault_work_pool_name = \"toml-pool\"\n",
			"proj/pyproject.toml":         "[tool.prefect.api]\nurl = \"http://py:1/api\"\n[tool.prefect.client]\nmax_retries = 9\n",
		}, env: map[string]string{"PREFECT_DEFAULT_WORK_POOL_NAME": "env-pool"}},
		{name: "pyproject over profile", files: map[string]string{
			"home/.prefect/profiles.toml": profiles,
			"proj/pyproject.toml":         "[tool.prefect]\nui_url = \"http://ui.example\"\n[tool.prefect.api]\nurl = \"http://py:1/api\"\n",
		}},
		{name: "PREFECT_HOME only in .env: read from ~/.prefect, written there", files: map[string]string{
			"proj/.env":                   "PREFECT_HOME=" + "../h\n",
			"home/.prefect/profiles.toml": profiles}},
		{name: "PREFECT_HOME and env alias order", files: map[string]string{"h/profiles.toml": "active = \"x\"\n[profiles.x]\nPREFECT_API_URL = \"http://h:1/api\"\n"},
			env: map[string]string{"PREFECT_HOME": "$ROOT/h", "PREFECT_DEFAULT_WORK_POOL_NAME": "b", "PREFECT_DEPLOYMENTS_DEFAULT_WORK_POOL_NAME": "a"}},
		{name: "profiles_path in prefect.toml", files: map[string]string{
			"proj/prefect.toml":     "profiles_path = \"my-profiles.toml\"\n",
			"proj/my-profiles.toml": "active = \"p\"\n[profiles.p]\nPREFECT_API_URL = \"http://pp:1/api\"\nPREFECT_API_AUTH_STRING = \"u:p\"\n"}},
		{name: "unknown PREFECT_PROFILE with a user-defined ephemeral", files: map[string]string{"home/.prefect/profiles.toml": profiles + "\n[profiles.ephemeral]\nPREFECT_API_URL = \"http://eph:1/api\"\n"}, env: map[string]string{"PREFECT_PROFILE": "ghost"}},
		{name: "unknown --profile", files: map[string]string{"home/.prefect/profiles.toml": profiles}, profile: "ghost"},
		{name: "extra retry codes from .env", files: map[string]string{"proj/.env": "PREFECT_CLIENT_RETRY_EXTRA_CODES=500, 404\n"}},
		{name: "custom cloud API URL", env: map[string]string{"PREFECT_CLOUD_API_URL": "http://127.0.0.1:9/api", "PREFECT_API_URL": "http://127.0.0.1:9/api/accounts/a/workspaces/w"}},
	}
	keys := []string{"PREFECT_CLIENT_RETRY_EXTRA_CODES", "PREFECT_PROFILE", "PREFECT_API_URL", "PREFECT_API_KEY", "PREFECT_API_AUTH_STRING", "PREFECT_API_REQUEST_TIMEOUT",
		"PREFECT_UI_URL", "PREFECT_CLOUD_UI_URL", "PREFECT_DEPLOYMENTS_DEFAULT_WORK_POOL_NAME", "PREFECT_CLIENT_MAX_RETRIES"}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel() // each case is one Python start-up (~1.5 s)
			root := t.TempDir()
			for name, body := range tc.files {
				p := filepath.Join(root, name)
				os.MkdirAll(filepath.Dir(p), 0o755)
				if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			home, dir := filepath.Join(root, "home"), filepath.Join(root, "proj")
			os.MkdirAll(home, 0o755)
			os.MkdirAll(dir, 0o755)
			env := map[string]string{}
			for k, v := range tc.env {
				env[k] = strings.ReplaceAll(v, "$ROOT", root)
			}

			// Python: a clean environment with only HOME, PATH and the case's variables.
			args := []string{oracle}
			if tc.profile != "" {
				args = append(args, tc.profile)
			}
			cmd := exec.Command(python, args...)
			cmd.Dir = dir
			cmd.Env = []string{"HOME=" + home, "PATH=" + os.Getenv("PATH")}
			for k, v := range env {
				cmd.Env = append(cmd.Env, k+"="+v)
			}
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("oracle: %v\n%s", err, stderr.String())
			}
			want := map[string]any{}
			if err := json.Unmarshal(out, &want); err != nil {
				t.Fatalf("oracle output %q: %v", out, err)
			}

			s, err := Load(LoadOptions{Dir: dir, Home: home, Profile: tc.profile, Env: func(k string) (string, bool) { v, ok := env[k]; return v, ok }})
			if want["error"] != nil {
				if err == nil {
					t.Fatalf("Prefect refused the profile (%v); Load did not", want["error"])
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]any{"PREFECT_PROFILE": s.ProfileName(), "is_cloud": s.IsCloud(), "profiles_path": s.ProfilesPath()}
			for _, k := range keys {
				if k != "PREFECT_PROFILE" {
					got[k] = s.Value(k)
				}
			}
			got["PREFECT_CLIENT_RETRY_EXTRA_CODES"] = strings.Trim(strings.ReplaceAll(fmt.Sprint(s.RetryExtraCodes()), " ", ","), "[]")
			for k, w := range want {
				g := got[k]
				if k == "PREFECT_API_REQUEST_TIMEOUT" { // Python prints floats: 7 -> 7.0
					gf, _ := strconv.ParseFloat(g.(string), 64)
					wf, _ := strconv.ParseFloat(w.(string), 64)
					if gf == wf {
						continue
					}
				}
				if g != w {
					t.Errorf("%s: prefectctl %q, Prefect %q", k, g, w)
				}
			}
		})
	}
}

// TestWriteProfileAgainstRealPrefect: `prefect config set` updates the
// current profile through the same code path as `prefect cloud login`;
// Load + WriteProfile must leave byte-identical files. (One deliberate
// difference is not exercised here: Prefect drops keys that are not
// Prefect settings from every profile it rewrites; WriteProfile keeps them.)
func TestWriteProfileAgainstRealPrefect(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the real prefect CLI")
	}
	prefect := testenv.PrefectCLI(t)
	const multi = "active = \"work\"\n\n[profiles.work]\nPREFECT_API_URL = \"http://old/api\"\nPREFECT_API_REQUEST_TIMEOUT = 30\n\n[profiles.\"with space\"]\nPREFECT_UI_URL = \"http://ui/\\\"q\\\"\"\n"
	cases := []struct {
		name     string
		existing string // "" = no profiles file
		env      map[string]string
	}{
		{name: "no file"},
		{name: "active profile updated in place", existing: multi},
		{name: "PREFECT_PROFILE names a packaged profile", existing: multi, env: map[string]string{"PREFECT_PROFILE": "local"}},
		{name: "file without active", existing: "[profiles.a]\nPREFECT_DEBUG_MODE = true\n"},
	}
	values := map[string]string{"PREFECT_API_KEY": "pnu_oracle", "PREFECT_API_URL": "https://api.prefect.cloud/api/accounts/a/workspaces/w"}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			results := [2]string{}
			for i := range results {
				home := filepath.Join(t.TempDir(), "home")
				work := filepath.Join(home, "work")
				os.MkdirAll(work, 0o755)
				path := filepath.Join(home, ".prefect", "profiles.toml")
				if tc.existing != "" {
					os.MkdirAll(filepath.Dir(path), 0o755)
					os.WriteFile(path, []byte(tc.existing), 0o600)
				}
				if i == 0 {
					cmd := exec.Command(prefect, "config", "set", "PREFECT_API_KEY="+values["PREFECT_API_KEY"], "PREFECT_API_URL="+values["PREFECT_API_URL"])
					cmd.Dir = work
					cmd.Env = []string{"HOME=" + home, "PATH=" + os.Getenv("PATH")}
					for k, v := range tc.env {
						cmd.Env = append(cmd.Env, k+"="+v)
					}
					if out, err := cmd.CombinedOutput(); err != nil {
						t.Fatalf("prefect config set: %v\n%s", err, out)
					}
				} else {
					s, err := Load(LoadOptions{Dir: work, Home: home, Env: func(k string) (string, bool) { v, ok := tc.env[k]; return v, ok }})
					if err != nil {
						t.Fatal(err)
					}
					if s.ProfilesPath() != path {
						t.Fatalf("ProfilesPath %q, want %q", s.ProfilesPath(), path)
					}
					if err := WriteProfile(s.ProfilesPath(), s.ProfileName(), values, false); err != nil {
						t.Fatal(err)
					}
				}
				b, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				results[i] = string(b)
			}
			if results[0] != results[1] {
				t.Errorf("Prefect wrote:\n%s\nprefectctl wrote:\n%s", results[0], results[1])
			}
		})
	}
}
