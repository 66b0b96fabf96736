package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prefectctl/prefectctl/internal/diag"
)

// fixture is a working directory and home with the given files.
type fixture struct {
	files map[string]string // relative to a temp root; "home/..." is the home dir, "proj/..." the cwd
	env   map[string]string
	prof  string
}

func (f fixture) load(t *testing.T) (*Settings, string, error) {
	t.Helper()
	root := t.TempDir()
	for name, body := range f.files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	dir := filepath.Join(root, "proj")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	for k, v := range f.env {
		env[k] = strings.ReplaceAll(v, "$ROOT", root)
	}
	s, err := Load(LoadOptions{
		Dir:     dir,
		Home:    filepath.Join(root, "home"),
		Profile: f.prof,
		Env:     func(k string) (string, bool) { v, ok := env[k]; return v, ok },
	})
	return s, root, err
}

const cloudProfiles = `active = "cloud"

[profiles.cloud]
PREFECT_API_URL = "https://api.prefect.cloud/api/accounts/11111111-1111-1111-1111-111111111111/workspaces/22222222-2222-2222-2222-222222222222"
PREFECT_API_KEY = "pnu_secret"

[profiles.local]
PREFECT_API_URL = "http://127.0.0.1:4200/api"
PREFECT_API_REQUEST_TIMEOUT = 30
`

func TestPrecedence(t *testing.T) {
	all := map[string]string{
		"home/.prefect/profiles.toml": "active = \"p\"\n[profiles.p]\nPREFECT_API_URL = \"http://profile/api\"\n",
		"proj/pyproject.toml":         "[tool.prefect.api]\nurl = \"http://pyproject/api\"\n",
		"proj/prefect.toml":           "[api]\nurl = \"http://prefecttoml/api\"\n",
		"proj/.env":                   "# comment\nexport PREFECT_API_URL='http://dotenv/api'\n",
	}
	tests := []struct {
		name     string
		drop     []string
		env      map[string]string
		want     string
		wantKind string
	}{
		{"env wins", nil, map[string]string{"PREFECT_API_URL": "http://env/api"}, "http://env/api", SourceEnv},
		{"empty env still wins, as in pydantic", nil, map[string]string{"PREFECT_API_URL": ""}, "", SourceEnv},
		{".env next", nil, nil, "http://dotenv/api", SourceDotenv},
		{"prefect.toml next", []string{"proj/.env"}, nil, "http://prefecttoml/api", SourcePrefect},
		{"pyproject next", []string{"proj/.env", "proj/prefect.toml"}, nil, "http://pyproject/api", SourcePyproject},
		{"profile last", []string{"proj/.env", "proj/prefect.toml", "proj/pyproject.toml"}, nil, "http://profile/api", SourceProfile},
		{"nothing", []string{"proj/.env", "proj/prefect.toml", "proj/pyproject.toml", "home/.prefect/profiles.toml"}, nil, "", SourceDefault},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			files := map[string]string{}
			for k, v := range all {
				files[k] = v
			}
			for _, d := range tc.drop {
				delete(files, d)
			}
			s, _, err := fixture{files: files, env: tc.env}.load(t)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := s.Get("PREFECT_API_URL")
			if got.Value != tc.want || got.Source.Kind != tc.wantKind {
				t.Fatalf("got %q from %v, want %q from %s", got.Value, got.Source, tc.want, tc.wantKind)
			}
		})
	}
}

func TestDotenvCaseInsensitiveAndLine(t *testing.T) {
	s, root, err := fixture{files: map[string]string{
		"proj/.env": "\n prefect_api_key = \"k\\\"1\" \nPREFECT_API_URL=http://x/api # trailing comment\n",
	}}.load(t)
	if err != nil {
		t.Fatal(err)
	}
	if s.APIKey() != `k"1` {
		t.Errorf("key = %q", s.APIKey())
	}
	if s.APIURL() != "http://x/api" {
		t.Errorf("url = %q", s.APIURL())
	}
	k, _ := s.Get("PREFECT_API_KEY")
	if want := filepath.Join(root, "proj", ".env") + ":2"; k.Source.Detail != want || !k.Secret {
		t.Errorf("source = %+v, want detail %q and Secret", k, want)
	}
}

func TestAliases(t *testing.T) {
	tests := []struct {
		env, files map[string]string
		want, src  string
	}{
		{env: map[string]string{"PREFECT_DEFAULT_WORK_POOL_NAME": "b"}, want: "b", src: "env as PREFECT_DEFAULT_WORK_POOL_NAME"},
		{env: map[string]string{"PREFECT_DEFAULT_WORK_POOL_NAME": "b", "PREFECT_DEPLOYMENTS_DEFAULT_WORK_POOL_NAME": "a"}, want: "a", src: "env"},
		{files: map[string]string{"proj/prefect.toml": "[deployments]\ndefault_work_pool_name = \"t\"\n"}, want: "t"},
		{files: map[string]string{"home/.prefect/profiles.toml": "active='x'\n[profiles.x]\nPREFECT_DEFAULT_WORK_POOL_NAME = \"p\"\n"}, want: "p"},
	}
	for _, tc := range tests {
		s, _, err := fixture{files: tc.files, env: tc.env}.load(t)
		if err != nil {
			t.Fatal(err)
		}
		if s.DefaultWorkPool() != tc.want {
			t.Errorf("%v %v: pool %q, want %q", tc.env, tc.files, s.DefaultWorkPool(), tc.want)
		}
		if g, _ := s.Get("PREFECT_DEPLOYMENTS_DEFAULT_WORK_POOL_NAME"); tc.src != "" && g.Source.String() != tc.src {
			t.Errorf("source %q, want %q", g.Source, tc.src)
		}
	}
}

func TestProfileSelection(t *testing.T) {
	files := map[string]string{"home/.prefect/profiles.toml": cloudProfiles}
	tests := []struct {
		name     string
		fx       fixture
		profile  string
		url      string
		warn     string
		errKind  diag.Kind
		wantErr  string
		timeout  string
		cloud    bool
		uiSuffix string
	}{
		{name: "file active", fx: fixture{files: files}, profile: "cloud", url: "https://api.prefect.cloud/api/accounts/", cloud: true,
			uiSuffix: "https://app.prefect.cloud/account/11111111-1111-1111-1111-111111111111/workspace/22222222-2222-2222-2222-222222222222"},
		{name: "env profile", fx: fixture{files: files, env: map[string]string{"PREFECT_PROFILE": "local"}}, profile: "local", url: "http://127.0.0.1:4200/api", timeout: "30", uiSuffix: "http://127.0.0.1:4200"},
		{name: "flag beats env", fx: fixture{files: files, prof: "cloud", env: map[string]string{"PREFECT_PROFILE": "local"}}, profile: "cloud", url: "https://api.prefect.cloud/", cloud: true},
		{name: "env still beats chosen profile", fx: fixture{files: files, prof: "cloud", env: map[string]string{"PREFECT_API_URL": "http://e/api"}}, profile: "cloud", url: "http://e/api"},
		{name: "unknown flag profile", fx: fixture{files: files, prof: "nope"}, wantErr: `unknown profile "nope"`, errKind: diag.Usage},
		{name: "unknown env profile warns", fx: fixture{files: files, env: map[string]string{"PREFECT_PROFILE": "nope"}}, profile: "ephemeral", url: "", warn: `active profile "nope"`},
		{name: "PREFECT_HOME", fx: fixture{files: map[string]string{"h2/profiles.toml": "active='a'\n[profiles.a]\nPREFECT_API_URL='http://h2/api'\n"}, env: map[string]string{"PREFECT_HOME": "$ROOT/h2"}}, profile: "a", url: "http://h2/api"},
		{name: "PREFECT_PROFILES_PATH beats PREFECT_HOME", fx: fixture{files: map[string]string{"pp.toml": "active='b'\n[profiles.b]\nPREFECT_API_URL='http://pp/api'\n", "h2/profiles.toml": "active='a'\n[profiles.a]\nPREFECT_API_URL='http://h2/api'\n"}, env: map[string]string{"PREFECT_HOME": "$ROOT/h2", "PREFECT_PROFILES_PATH": "$ROOT/pp.toml"}}, profile: "b", url: "http://pp/api"},
		{name: "profiles_path in prefect.toml", fx: fixture{files: map[string]string{"proj/prefect.toml": "profiles_path = 'p.toml'\n", "proj/p.toml": "active='c'\n[profiles.c]\nPREFECT_API_URL='http://c/api'\n"}}, profile: "c", url: "http://c/api"},
		{name: "no file: packaged ephemeral", fx: fixture{}, profile: "ephemeral", url: ""},
		{name: "no user file: packaged local by flag", fx: fixture{prof: "local"}, profile: "local", url: "http://127.0.0.1:4200/api"},
		{name: "packaged name missing from user file falls back to ephemeral settings", fx: fixture{files: files, prof: "test"}, profile: "test", url: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, _, err := tc.fx.load(t)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || diag.KindOf(err) != tc.errKind {
					t.Fatalf("err = %v (kind %v), want %q", err, diag.KindOf(err), tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s.ProfileName() != tc.profile {
				t.Errorf("profile %q, want %q", s.ProfileName(), tc.profile)
			}
			if !strings.HasPrefix(s.APIURL(), tc.url) || (tc.url == "" && s.APIURL() != "") {
				t.Errorf("url %q, want prefix %q", s.APIURL(), tc.url)
			}
			if s.IsCloud() != tc.cloud {
				t.Errorf("IsCloud = %v", s.IsCloud())
			}
			if tc.timeout != "" && s.Value("PREFECT_API_REQUEST_TIMEOUT") != tc.timeout {
				t.Errorf("timeout %q", s.Value("PREFECT_API_REQUEST_TIMEOUT"))
			}
			if tc.uiSuffix != "" && s.UIURL() != tc.uiSuffix {
				t.Errorf("ui %q, want %q", s.UIURL(), tc.uiSuffix)
			}
			var ws []string
			for _, w := range s.Warnings() {
				ws = append(ws, w.Msg)
			}
			if got := strings.Join(ws, "\n"); (tc.warn == "") != (got == "") || !strings.Contains(got, tc.warn) {
				t.Errorf("warnings %q, want %q", got, tc.warn)
			}
		})
	}
}

func TestRequireAPI(t *testing.T) {
	s, _, err := fixture{}.load(t)
	if err != nil {
		t.Fatal(err)
	}
	err = s.RequireAPI()
	var d *diag.Error
	if !errors.As(err, &d) || d.Kind != diag.Usage || !strings.Contains(d.Msg, "ephemeral") || !strings.Contains(d.Hint, "PREFECT_API_URL") {
		t.Fatalf("err = %#v", err)
	}
	s, _, _ = fixture{env: map[string]string{"PREFECT_API_URL": "127.0.0.1:4200/api"}}.load(t)
	if err := s.RequireAPI(); diag.KindOf(err) != diag.Invalid || !strings.Contains(err.Error(), "from env") {
		t.Fatalf("err = %v", err)
	}
	s, _, _ = fixture{env: map[string]string{"PREFECT_API_URL": "http://127.0.0.1:4200/api"}}.load(t)
	if err := s.RequireAPI(); err != nil {
		t.Fatal(err)
	}
}

func TestUIURLAndWarnings(t *testing.T) {
	tests := []struct {
		env   map[string]string
		ui    string
		warns int
		isCld bool
		cldUI string
	}{
		{map[string]string{"PREFECT_API_URL": "http://127.0.0.1:4200/api"}, "http://127.0.0.1:4200", 0, false, "https://app.prefect.cloud"},
		{map[string]string{"PREFECT_API_URL": "https://api.prefect.cloud/api/accounts/a/workspaces/w"}, "https://app.prefect.cloud/account/a/workspace/w", 0, true, "https://app.prefect.cloud"},
		{map[string]string{"PREFECT_API_URL": "https://api.prefect.cloud/api/accounts/a/workspaces/w", "PREFECT_UI_URL": "https://ui.example"}, "https://ui.example", 0, true, "https://app.prefect.cloud"},
		{map[string]string{"PREFECT_API_URL": "http://127.0.0.1:9/api/accounts/a/workspaces/w", "PREFECT_CLOUD_API_URL": "http://127.0.0.1:9/api"}, "http://127.0.0.1:9/account/a/workspace/w", 0, true, "http://127.0.0.1:9"},
		{map[string]string{"PREFECT_API_URL": "https://app.prefect.cloud/account/a/workspace/w"}, "https://app.prefect.cloud/account/a/workspace/w", 1, false, "https://app.prefect.cloud"},
		{map[string]string{"PREFECT_API_URL": "https://app.prefect.cloud/account/a/workspace/w", "PREFECT_SILENCE_API_URL_MISCONFIGURATION": "true"}, "https://app.prefect.cloud/account/a/workspace/w", 0, false, "https://app.prefect.cloud"},
	}
	for _, tc := range tests {
		s, _, err := fixture{env: tc.env}.load(t)
		if err != nil {
			t.Fatal(err)
		}
		if s.UIURL() != tc.ui || len(s.Warnings()) != tc.warns || s.IsCloud() != tc.isCld || s.CloudUIURL() != tc.cldUI {
			t.Errorf("%v: ui %q warns %d cloud %v cloudUI %q", tc.env, s.UIURL(), len(s.Warnings()), s.IsCloud(), s.CloudUIURL())
		}
	}
}

func TestTypedValues(t *testing.T) {
	s, _, err := fixture{
		env:   map[string]string{"PREFECT_CLIENT_RETRY_EXTRA_CODES": "500, 404,500", "PREFECT_API_TLS_INSECURE_SKIP_VERIFY": "yes", "SSL_CERT_FILE": "/ca.pem"},
		files: map[string]string{"proj/prefect.toml": "[api]\nrequest_timeout = 2.5\n[client]\nmax_retries = 0\ncustom_headers = { X-A = \"1\" }\n"},
	}.load(t)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.RetryExtraCodes(); len(got) != 2 || got[0] != 404 || got[1] != 500 {
		t.Errorf("codes %v", got)
	}
	if s.RequestTimeout().Seconds() != 2.5 || s.MaxRetries() != 0 || !s.TLSInsecureSkipVerify() || s.SSLCertFile() != "/ca.pem" {
		t.Errorf("timeout %v retries %d tls %v cert %q", s.RequestTimeout(), s.MaxRetries(), s.TLSInsecureSkipVerify(), s.SSLCertFile())
	}
	if s.CustomHeaders()["X-A"] != "1" || s.RetryJitterFactor() != 0.2 || !s.CSRFSupportEnabled() {
		t.Errorf("headers %v jitter %v", s.CustomHeaders(), s.RetryJitterFactor())
	}
}

func TestInvalidInputs(t *testing.T) {
	tests := []struct {
		name string
		fx   fixture
		want []string
	}{
		{"bad values", fixture{env: map[string]string{"PREFECT_API_REQUEST_TIMEOUT": "soon", "PREFECT_CLIENT_RETRY_EXTRA_CODES": "42", "PREFECT_API_KEY": "pnu_x"}},
			[]string{`PREFECT_API_REQUEST_TIMEOUT="soon" (from env)`, `"42" is not an HTTP status code`}},
		{"bad prefect.toml", fixture{files: map[string]string{"proj/prefect.toml": "[api]\nurl = \n"}}, []string{"prefect.toml:2", "invalid TOML"}},
		{"bad profiles", fixture{files: map[string]string{"home/.prefect/profiles.toml": "active = \n"}}, []string{"profiles.toml:1", "invalid TOML"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := tc.fx.load(t)
			if err == nil || diag.KindOf(err) != diag.Invalid {
				t.Fatalf("err = %v", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%q does not contain %q", err.Error(), w)
				}
			}
			if strings.Contains(err.Error(), "pnu_x") {
				t.Errorf("secret leaked: %v", err)
			}
		})
	}
}

func TestAllListsSourcesAndSecrets(t *testing.T) {
	s, _, err := fixture{files: map[string]string{"home/.prefect/profiles.toml": cloudProfiles}}.load(t)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]Setting{}
	for _, st := range s.All() {
		byName[st.Name] = st
	}
	if k := byName["PREFECT_API_KEY"]; !k.Secret || k.Source.Kind != SourceProfile || k.Source.Detail != "cloud (~/.prefect/profiles.toml)" {
		t.Errorf("key %+v", k)
	}
	if p := byName["PREFECT_PROFILE"]; p.Value != "cloud" {
		t.Errorf("profile %+v", p)
	}
	if u := byName["PREFECT_UI_URL"]; u.Source.Kind != SourceDefault || !strings.HasPrefix(u.Value, "https://app.prefect.cloud/account/") {
		t.Errorf("ui %+v", u)
	}
}

func TestBadDotenvLineIsSkippedWithWarning(t *testing.T) {
	s, root, err := fixture{files: map[string]string{"proj/.env": "PREFECT_API_KEY=k\nPREFECT_API_URL=\"http://x/api\n"}}.load(t)
	if err != nil {
		t.Fatal(err)
	}
	if s.APIKey() != "k" || s.APIURL() != "" {
		t.Errorf("key %q url %q", s.APIKey(), s.APIURL())
	}
	w := s.Warnings()
	if len(w) != 1 || w[0].File != filepath.Join(root, "proj", ".env") || w[0].Line != 2 {
		t.Fatalf("warnings %v", w)
	}
}

// TestTOMLFloatsAsPythonStr checks that a float read from prefect.toml or
// profiles.toml becomes the text Python's str() gives, as Prefect stores
// it: 1e6 is 1000000.0, never Go's 1e+06.
func TestTOMLFloatsAsPythonStr(t *testing.T) {
	s, _, err := fixture{
		files: map[string]string{
			"proj/prefect.toml": "[api]\nrequest_timeout = 1e6\n[client]\nretry_jitter_factor = 0.1\n",
			"home/.prefect/profiles.toml": "active = \"p\"\n[profiles.p]\nPREFECT_API_URL = \"http://127.0.0.1:4200/api\"\n" +
				"PREFECT_CLIENT_MAX_RETRIES = 3\nPREFECT_UNKNOWN_FLOAT = 1.5e16\nPREFECT_API_ENABLE_HTTP2 = true\n",
		},
	}.load(t)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{
		"PREFECT_API_REQUEST_TIMEOUT":        "1000000.0",
		"PREFECT_CLIENT_RETRY_JITTER_FACTOR": "0.1",
		"PREFECT_CLIENT_MAX_RETRIES":         "3",
		"PREFECT_API_ENABLE_HTTP2":           "True",
	} {
		if got := s.Value(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	for v, want := range map[any]string{1e6: "1000000.0", 1.5e16: "1.5e+16", 1e-5: "1e-05", 2.0: "2.0", int64(7): "7", true: "True"} {
		if got := tomlString(v); got != want {
			t.Errorf("tomlString(%v) = %q, want %q", v, got, want)
		}
	}
}
