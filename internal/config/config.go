// Package config finds the Prefect API URL, key and settings the way Prefect does.
//
// Sources, highest priority first, as in Prefect 3.9.1's
// settings/base.py settings_customise_sources: environment variables, a
// .env file in the working directory, ./prefect.toml, ./pyproject.toml
// [tool.prefect], the active profile of profiles.toml, then defaults.
// Nothing here talks to the network.
package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/prefectctl/prefectctl/internal/diag"
	"github.com/prefectctl/prefectctl/internal/py"
)

// Source kinds, in the order Prefect consults them.
const (
	SourceEnv       = "env"
	SourceDotenv    = ".env"
	SourcePrefect   = "prefect.toml"
	SourcePyproject = "pyproject.toml"
	SourceProfile   = "profile"
	SourceDefault   = "default"
)

// Source says where a setting's value came from.
type Source struct{ Kind, Detail string }

func (s Source) String() string {
	if s.Detail == "" {
		return s.Kind
	}
	return s.Kind + " " + s.Detail
}

// Setting is one resolved value. Secret values must be redacted by whoever
// prints them.
type Setting struct {
	Name   string
	Value  string
	Source Source
	Secret bool
}

// LoadOptions tells Load where to look. Zero values mean the process's
// own working directory, environment and home directory.
type LoadOptions struct {
	Dir     string                      // where .env, prefect.toml and pyproject.toml are read
	Profile string                      // --profile; wins over PREFECT_PROFILE and the file's active
	Env     func(string) (string, bool) // environment lookup
	Home    string                      // the user's home directory (for ~/.prefect)
}

// spec describes one setting prefectctl reads.
type spec struct {
	name   string   // canonical environment variable name
	envs   []string // names looked up in env/.env/profile, Prefect's alias order first
	toml   []string // table path and key inside prefect.toml and [tool.prefect]
	def    func(s *Settings) string
	secret bool
	check  func(v string) error // nil: any string
}

func constant(v string) func(*Settings) string { return func(*Settings) string { return v } }

// specs are resolved in this order, so derived defaults may read earlier ones.
var specs = []spec{
	{name: "PREFECT_API_URL", toml: []string{"api", "url"}},
	{name: "PREFECT_API_KEY", toml: []string{"api", "key"}, secret: true},
	{name: "PREFECT_API_AUTH_STRING", toml: []string{"api", "auth_string"}, secret: true},
	{name: "PREFECT_API_REQUEST_TIMEOUT", toml: []string{"api", "request_timeout"}, def: constant("60.0"), check: checkNonNegFloat},
	{name: "PREFECT_API_TLS_INSECURE_SKIP_VERIFY", toml: []string{"api", "tls_insecure_skip_verify"}, def: constant("False"), check: checkBool},
	{name: "PREFECT_API_SSL_CERT_FILE", toml: []string{"api", "ssl_cert_file"}, def: func(s *Settings) string { v, _ := s.env("SSL_CERT_FILE"); return v }},
	{name: "PREFECT_API_ENABLE_HTTP2", toml: []string{"api", "enable_http2"}, def: constant("False"), check: checkBool},
	{name: "PREFECT_CLOUD_API_URL", toml: []string{"cloud", "api_url"}, def: constant("https://api.prefect.cloud/api")},
	{name: "PREFECT_CLOUD_UI_URL", toml: []string{"cloud", "ui_url"}, def: func(s *Settings) string { return deriveCloudUIURL(s.Value("PREFECT_CLOUD_API_URL")) }},
	{name: "PREFECT_UI_URL", toml: []string{"ui_url"}, def: func(s *Settings) string {
		return deriveUIURL(s.Value("PREFECT_API_URL"), s.Value("PREFECT_CLOUD_API_URL"), s.Value("PREFECT_CLOUD_UI_URL"))
	}},
	{name: "PREFECT_CLIENT_MAX_RETRIES", toml: []string{"client", "max_retries"}, def: constant("5"), check: checkNonNegInt},
	{name: "PREFECT_CLIENT_RETRY_EXTRA_CODES", toml: []string{"client", "retry_extra_codes"}, def: constant(""), check: func(v string) error { _, err := parseCodes(v); return err }},
	{name: "PREFECT_CLIENT_RETRY_JITTER_FACTOR", toml: []string{"client", "retry_jitter_factor"}, def: constant("0.2"), check: checkNonNegFloat},
	{name: "PREFECT_CLIENT_CSRF_SUPPORT_ENABLED", toml: []string{"client", "csrf_support_enabled"}, def: constant("True"), check: checkBool},
	{name: "PREFECT_CLIENT_CUSTOM_HEADERS", toml: []string{"client", "custom_headers"}, secret: true, check: func(v string) error { _, err := parseHeaders(v); return err }},
	{name: "PREFECT_CLIENT_SERVER_VERSION_CHECK_ENABLED", toml: []string{"client", "server_version_check_enabled"}, def: constant("True"), check: checkBool},
	{name: "PREFECT_DEPLOYMENTS_DEFAULT_WORK_POOL_NAME", envs: []string{"PREFECT_DEPLOYMENTS_DEFAULT_WORK_POOL_NAME", "PREFECT_DEFAULT_WORK_POOL_NAME"}, toml: []string{"deployments", "default_work_pool_name"}},
	{name: "PREFECT_DEPLOYMENTS_DEFAULT_DOCKER_BUILD_NAMESPACE", envs: []string{"PREFECT_DEPLOYMENTS_DEFAULT_DOCKER_BUILD_NAMESPACE", "PREFECT_DEFAULT_DOCKER_BUILD_NAMESPACE"}, toml: []string{"deployments", "default_docker_build_namespace"}},
	{name: "PREFECT_CLI_PROMPT", toml: []string{"cli", "prompt"}, check: checkBool},
	{name: "PREFECT_DEBUG_MODE", toml: []string{"debug_mode"}, def: constant("False"), check: checkBool},
	{name: "PREFECT_SILENCE_API_URL_MISCONFIGURATION", toml: []string{"silence_api_url_misconfiguration"}, def: constant("False"), check: checkBool},
	{name: "PREFECT_SERVER_EPHEMERAL_ENABLED", toml: []string{"server", "ephemeral", "enabled"}, def: constant("False"), check: checkBool},
}

// Settings is the resolved configuration.
type Settings struct {
	values        map[string]Setting
	order         []string
	profile       string // active profile name
	profileSource Source // what chose the active profile
	pathSource    Source // what chose the profiles file
	profilesPath  string // file the profile came from ("" = Prefect's packaged defaults)
	warnings      []*diag.Warning
	writablePath  string // profiles.toml Prefect writes to
	lookupEnv     func(string) (string, bool)
	home          string
}

// Load resolves every setting prefectctl uses. Malformed files and values
// are reported as one diag.List of Invalid problems naming file and line.
func Load(opt LoadOptions) (*Settings, error) {
	if opt.Env == nil {
		opt.Env = os.LookupEnv
	}
	if opt.Dir == "" {
		wd, err := os.Getwd()
		if err != nil {
			return nil, diag.Wrap(diag.Runtime, err, "", "cannot find the working directory")
		}
		opt.Dir = wd
	}
	if opt.Home == "" {
		if h, err := os.UserHomeDir(); err == nil {
			opt.Home = h
		}
	}
	s := &Settings{values: map[string]Setting{}, lookupEnv: opt.Env, home: opt.Home}
	var problems diag.List

	dotenv, dotenvPath, dotenvWarns, err := readDotenv(opt.Dir)
	if err != nil {
		problems = append(problems, err.(*diag.Error))
	}
	s.warnings = append(s.warnings, dotenvWarns...)
	prefectTOML, prefectPath, err := readTOML(filepath.Join(opt.Dir, "prefect.toml"))
	if err != nil {
		problems = append(problems, err.(*diag.Error))
	}
	pyTOML, pyPath, err := readTOML(filepath.Join(opt.Dir, "pyproject.toml"))
	if err != nil {
		problems = append(problems, err.(*diag.Error))
	}
	pyPrefect, _ := lookupTable(pyTOML, []string{"tool", "prefect"})

	prof, err := s.selectProfile(opt, dotenv, prefectTOML, pyPrefect)
	if err != nil {
		var d *diag.Error
		if errors.As(err, &d) && d.Kind == diag.Usage {
			return nil, d
		}
		problems = append(problems, err.(*diag.Error))
	}

	for _, sp := range specs {
		set := Setting{Name: sp.name, Secret: sp.secret}
		envs := sp.envs
		if envs == nil {
			envs = []string{sp.name}
		}
		found := false
		for _, n := range envs {
			if v, ok := opt.Env(n); ok {
				set.Value, set.Source, found = v, Source{SourceEnv, aliasDetail(n, sp.name)}, true
				break
			}
		}
		if !found {
			for _, n := range envs {
				if e, ok := dotenv[strings.ToLower(n)]; ok {
					set.Value, set.Source, found = e.Value, Source{SourceDotenv, fmt.Sprintf("%s:%d", s.short(dotenvPath), e.Line)}, true
					break
				}
			}
		}
		if !found {
			if v, ok := lookupScalar(prefectTOML, sp.toml); ok {
				set.Value, set.Source, found = v, Source{SourcePrefect, s.short(prefectPath)}, true
			}
		}
		if !found {
			if v, ok := lookupScalar(pyPrefect, sp.toml); ok {
				set.Value, set.Source, found = v, Source{SourcePyproject, s.short(pyPath) + " [tool.prefect." + strings.Join(sp.toml[:len(sp.toml)-1], ".") + "]"}, true
				set.Source.Detail = strings.Replace(set.Source.Detail, "[tool.prefect.]", "[tool.prefect]", 1)
			}
		}
		if !found {
			for _, n := range envs {
				if v, ok := setting(prof.settings, n); ok {
					detail := prof.name
					if s.profilesPath != "" {
						detail += " (" + s.short(s.profilesPath) + ")"
					} else {
						detail += " (Prefect's default profiles)"
					}
					set.Value, set.Source, found = v, Source{SourceProfile, detail}, true
					break
				}
			}
		}
		if !found {
			set.Source = Source{SourceDefault, ""}
			if sp.def != nil {
				set.Value = sp.def(s)
			}
		}
		if sp.check != nil && found {
			if err := sp.check(set.Value); err != nil {
				problems = append(problems, &diag.Error{
					Kind: diag.Invalid, Msg: fmt.Sprintf("%s=%q (from %s): %v", sp.name, redactIf(sp.secret, set.Value), set.Source, err),
					Hint: "fix or unset the value where it is set",
				})
			}
		}
		s.values[sp.name] = set
		s.order = append(s.order, sp.name)
	}
	if len(problems) > 0 {
		return nil, problems
	}
	if !s.Bool("PREFECT_SILENCE_API_URL_MISCONFIGURATION") {
		s.warnings = append(s.warnings, urlWarnings(s.APIURL())...)
	}
	return s, nil
}

func aliasDetail(used, canonical string) string {
	if used == canonical {
		return ""
	}
	return "as " + used
}

func redactIf(secret bool, v string) string {
	if secret && v != "" {
		return "********"
	}
	return v
}

func (s *Settings) env(name string) (string, bool) { return s.lookupEnv(name) }

// short abbreviates the user's home directory as ~ for messages.
func (s *Settings) short(p string) string {
	if s.home != "" && (p == s.home || strings.HasPrefix(p, s.home+string(filepath.Separator))) {
		return "~" + p[len(s.home):]
	}
	return p
}

func readDotenv(dir string) (map[string]dotenvEntry, string, []*diag.Warning, error) {
	p := filepath.Join(dir, ".env")
	st, err := os.Stat(p)
	if err != nil || !st.Mode().IsRegular() {
		return nil, p, nil, nil
	}
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, p, nil, &diag.Error{Kind: diag.Invalid, File: p, Msg: "cannot read settings file", Err: err}
	}
	entries, bad, err := parseDotenv(data)
	if err != nil {
		return nil, p, nil, &diag.Error{Kind: diag.Invalid, File: p, Msg: "cannot read settings file", Err: err}
	}
	var warns []*diag.Warning
	for _, line := range bad {
		warns = append(warns, &diag.Warning{Kind: diag.Invalid, File: p, Line: line,
			Msg: "line skipped: unterminated quote", Hint: "close the quote; python-dotenv skips this line too"})
	}
	m := map[string]dotenvEntry{}
	for _, e := range entries {
		// pydantic-settings matches .env keys case-insensitively; the last
		// occurrence of a key wins, as in python-dotenv.
		m[strings.ToLower(e.Key)] = e
	}
	return m, p, warns, nil
}

func readTOML(p string) (map[string]any, string, error) {
	data, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil, p, nil
	}
	if err != nil {
		return nil, p, &diag.Error{Kind: diag.Invalid, File: p, Msg: "cannot read settings file", Err: err}
	}
	m := map[string]any{}
	if _, err := toml.Decode(string(data), &m); err != nil {
		return nil, p, tomlError(p, err)
	}
	return m, p, nil
}

func tomlError(p string, err error) *diag.Error {
	d := &diag.Error{Kind: diag.Invalid, File: p, Msg: "invalid TOML", Err: err, Hint: "Prefect cannot read this file either; fix the syntax"}
	var pe toml.ParseError
	if errors.As(err, &pe) {
		d.Line, d.Col = pe.Position.Line, pe.Position.Col
		d.Err = errors.New(pe.Message)
	}
	return d
}

func lookupTable(m map[string]any, path []string) (map[string]any, bool) {
	cur := m
	for _, k := range path {
		next, ok := cur[k].(map[string]any)
		if !ok {
			return nil, false
		}
		cur = next
	}
	return cur, cur != nil
}

// lookupScalar finds path in a TOML document. Tables are skipped (they
// are nested settings groups in Prefect) except where a setting is itself
// a dict, which is returned as JSON.
func lookupScalar(m map[string]any, path []string) (string, bool) {
	t, ok := lookupTable(m, path[:len(path)-1])
	if !ok {
		return "", false
	}
	v, ok := t[path[len(path)-1]]
	if !ok {
		return "", false
	}
	if tab, isTab := v.(map[string]any); isTab {
		if path[len(path)-1] != "custom_headers" {
			return "", false
		}
		b, _ := json.Marshal(tab)
		return string(b), true
	}
	return tomlString(v), true
}

// tomlString renders a TOML value the way Python's str() would, which is
// also how Prefect writes profile values back.
func tomlString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case bool, int64, float64:
		return py.Str(x)
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = tomlString(e)
		}
		return strings.Join(parts, ",")
	case time.Time:
		return x.Format(time.RFC3339)
	default:
		return fmt.Sprint(x)
	}
}

// Value returns a setting's value ("" when unset).
func (s *Settings) Value(name string) string { return s.values[name].Value }

// Get returns a setting with its source.
func (s *Settings) Get(name string) (Setting, bool) {
	v, ok := s.values[name]
	return v, ok
}

// All returns every setting prefectctl reads, in a stable order, for
// `config view`. Callers must redact values whose Secret flag is set.
func (s *Settings) All() []Setting {
	out := make([]Setting, 0, len(s.order)+2)
	out = append(out,
		Setting{Name: "PREFECT_PROFILE", Value: s.profile, Source: s.profileSource},
		Setting{Name: "PREFECT_PROFILES_PATH", Value: s.short(s.writablePath), Source: s.pathSource},
	)
	names := append([]string(nil), s.order...)
	sort.SliceStable(names, func(i, j int) bool { return names[i] < names[j] })
	for _, n := range names {
		out = append(out, s.values[n])
	}
	return out
}

// Bool reads a boolean setting with pydantic's spellings.
func (s *Settings) Bool(name string) bool {
	b, _ := parseBool(s.Value(name))
	return b
}

// Warnings are misconfigurations Prefect itself warns about.
func (s *Settings) Warnings() []*diag.Warning { return s.warnings }

// ProfileName is the active profile's name.
func (s *Settings) ProfileName() string { return s.profile }

// ProfilesPath is the profiles.toml Prefect reads and writes for this
// directory and environment.
func (s *Settings) ProfilesPath() string { return s.writablePath }

// APIURL is PREFECT_API_URL exactly as configured ("" when unset).
func (s *Settings) APIURL() string { return s.Value("PREFECT_API_URL") }

// APIKey is PREFECT_API_KEY.
func (s *Settings) APIKey() string { return s.Value("PREFECT_API_KEY") }

// AuthString is PREFECT_API_AUTH_STRING ("user:pass" for basic auth).
func (s *Settings) AuthString() string { return s.Value("PREFECT_API_AUTH_STRING") }

// UIURL is PREFECT_UI_URL, or the UI address derived from the API URL.
func (s *Settings) UIURL() string { return s.Value("PREFECT_UI_URL") }

// CloudAPIURL is PREFECT_CLOUD_API_URL (account-level Cloud API).
func (s *Settings) CloudAPIURL() string { return s.Value("PREFECT_CLOUD_API_URL") }

// CloudUIURL is PREFECT_CLOUD_UI_URL or its derived default.
func (s *Settings) CloudUIURL() string { return s.Value("PREFECT_CLOUD_UI_URL") }

// IsCloud reports whether the API URL is under the Cloud API URL; Prefect
// decides this by prefix alone.
func (s *Settings) IsCloud() bool {
	u, c := s.APIURL(), s.CloudAPIURL()
	return u != "" && c != "" && strings.HasPrefix(u, c)
}

// DefaultWorkPool is PREFECT_DEPLOYMENTS_DEFAULT_WORK_POOL_NAME or its
// alias PREFECT_DEFAULT_WORK_POOL_NAME.
func (s *Settings) DefaultWorkPool() string {
	return s.Value("PREFECT_DEPLOYMENTS_DEFAULT_WORK_POOL_NAME")
}

// DefaultDockerBuildNamespace is PREFECT_DEFAULT_DOCKER_BUILD_NAMESPACE.
func (s *Settings) DefaultDockerBuildNamespace() string {
	return s.Value("PREFECT_DEPLOYMENTS_DEFAULT_DOCKER_BUILD_NAMESPACE")
}

// RequestTimeout is PREFECT_API_REQUEST_TIMEOUT; zero means no timeout.
func (s *Settings) RequestTimeout() time.Duration {
	f, _ := strconv.ParseFloat(strings.TrimSpace(s.Value("PREFECT_API_REQUEST_TIMEOUT")), 64)
	return time.Duration(f * float64(time.Second))
}

// MaxRetries is PREFECT_CLIENT_MAX_RETRIES (retries after the first try).
func (s *Settings) MaxRetries() int {
	n, _ := strconv.Atoi(strings.TrimSpace(s.Value("PREFECT_CLIENT_MAX_RETRIES")))
	return n
}

// RetryJitterFactor is PREFECT_CLIENT_RETRY_JITTER_FACTOR.
func (s *Settings) RetryJitterFactor() float64 {
	f, _ := strconv.ParseFloat(strings.TrimSpace(s.Value("PREFECT_CLIENT_RETRY_JITTER_FACTOR")), 64)
	return f
}

// RetryExtraCodes is PREFECT_CLIENT_RETRY_EXTRA_CODES, sorted.
func (s *Settings) RetryExtraCodes() []int {
	c, _ := parseCodes(s.Value("PREFECT_CLIENT_RETRY_EXTRA_CODES"))
	return c
}

// TLSInsecureSkipVerify is PREFECT_API_TLS_INSECURE_SKIP_VERIFY.
func (s *Settings) TLSInsecureSkipVerify() bool {
	return s.Bool("PREFECT_API_TLS_INSECURE_SKIP_VERIFY")
}

// SSLCertFile is PREFECT_API_SSL_CERT_FILE, defaulting to SSL_CERT_FILE.
func (s *Settings) SSLCertFile() string { return s.Value("PREFECT_API_SSL_CERT_FILE") }

// CSRFSupportEnabled is PREFECT_CLIENT_CSRF_SUPPORT_ENABLED.
func (s *Settings) CSRFSupportEnabled() bool { return s.Bool("PREFECT_CLIENT_CSRF_SUPPORT_ENABLED") }

// ServerVersionCheckEnabled is PREFECT_CLIENT_SERVER_VERSION_CHECK_ENABLED.
func (s *Settings) ServerVersionCheckEnabled() bool {
	return s.Bool("PREFECT_CLIENT_SERVER_VERSION_CHECK_ENABLED")
}

// CustomHeaders is PREFECT_CLIENT_CUSTOM_HEADERS.
func (s *Settings) CustomHeaders() map[string]string {
	h, _ := parseHeaders(s.Value("PREFECT_CLIENT_CUSTOM_HEADERS"))
	return h
}

// CLIPrompt is PREFECT_CLI_PROMPT; ok is false when it is not set.
func (s *Settings) CLIPrompt() (prompt, ok bool) {
	v := s.Value("PREFECT_CLI_PROMPT")
	if v == "" {
		return false, false
	}
	b, _ := parseBool(v)
	return b, true
}

// DebugMode is PREFECT_DEBUG_MODE.
func (s *Settings) DebugMode() bool { return s.Bool("PREFECT_DEBUG_MODE") }

// RequireAPI fails with a clear problem when no usable API URL is set.
// prefectctl never starts a temporary server the way Prefect's ephemeral
// mode does.
func (s *Settings) RequireAPI() error {
	raw := s.APIURL()
	set := s.values["PREFECT_API_URL"]
	if strings.TrimSpace(raw) == "" {
		hint := "set PREFECT_API_URL (e.g. export PREFECT_API_URL=http://127.0.0.1:4200/api), run 'prefectctl cloud login --key KEY', or choose a profile that has one with --profile"
		msg := "no Prefect API URL is configured"
		if s.Bool("PREFECT_SERVER_EPHEMERAL_ENABLED") {
			msg += fmt.Sprintf(" (profile %q uses Prefect's ephemeral server, which prefectctl does not start)", s.profile)
		} else if set.Source.Kind != SourceDefault {
			msg += fmt.Sprintf(" (PREFECT_API_URL is empty in %s)", set.Source)
		}
		return &diag.Error{Kind: diag.Usage, Msg: msg, Hint: hint}
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return &diag.Error{
			Kind: diag.Invalid,
			Msg:  fmt.Sprintf("PREFECT_API_URL %q (from %s) is not an http(s) URL", raw, set.Source),
			Hint: "use the form http://HOST:PORT/api or https://api.prefect.cloud/api/accounts/ID/workspaces/ID",
		}
	}
	return nil
}

// deriveCloudUIURL follows Prefect's default_cloud_ui_url.
func deriveCloudUIURL(api string) string {
	ui := api
	if cloudAPIHost.MatchString(api) {
		ui = strings.Replace(ui, "https://api", "https://app", 1)
	}
	return strings.TrimSuffix(ui, "/api")
}

var cloudAPIHost = regexp.MustCompile(`^https://api[.\w]*.prefect.[^.]+/`)

// deriveUIURL follows Prefect's default_ui_url.
func deriveUIURL(api, cloudAPI, cloudUI string) string {
	if api == "" {
		return ""
	}
	ui := api
	if cloudAPI != "" && strings.HasPrefix(api, cloudAPI) && cloudUI != "" {
		ui = strings.ReplaceAll(ui, cloudAPI, cloudUI)
	}
	ui = strings.TrimSuffix(ui, "/api")
	ui = strings.ReplaceAll(ui, "/api/", "/")
	ui = strings.ReplaceAll(ui, "/accounts/", "/account/")
	ui = strings.ReplaceAll(ui, "/workspaces/", "/workspace/")
	return ui
}

// urlWarnings are Prefect's _warn_on_misconfigured_api_url checks.
func urlWarnings(api string) []*diag.Warning {
	if api == "" {
		return nil
	}
	var msgs []string
	if strings.Contains(api, "app.prefect.cloud") {
		msgs = append(msgs, "PREFECT_API_URL points to app.prefect.cloud; did you mean api.prefect.cloud?")
	}
	if strings.Contains(api, "account/") {
		msgs = append(msgs, "PREFECT_API_URL uses /account/ but should use /accounts/")
	}
	if strings.Contains(api, "workspace/") {
		msgs = append(msgs, "PREFECT_API_URL uses /workspace/ but should use /workspaces/")
	}
	if u, err := url.Parse(api); err == nil && u.Path != "" && strings.Contains(api, "api.prefect.cloud") && !strings.HasPrefix(u.Path, "/api") {
		msgs = append(msgs, "PREFECT_API_URL should have /api after the base URL")
	}
	if len(msgs) == 0 {
		return nil
	}
	// One warning, as Prefect gives them together.
	return []*diag.Warning{{Kind: diag.Invalid, Msg: strings.Join(msgs, "; "),
		Hint: `use e.g. PREFECT_API_URL="https://api.prefect.cloud/api/accounts/[ACCOUNT-ID]/workspaces/[WORKSPACE-ID]"; PREFECT_SILENCE_API_URL_MISCONFIGURATION=true silences this`}}
}

// parseBool accepts pydantic's boolean spellings (py.LaxBool).
func parseBool(v string) (bool, error) {
	if b, ok := py.LaxBool(v); ok {
		return b, nil
	}
	return false, fmt.Errorf("not a boolean (use true or false)")
}

func checkBool(v string) error { _, err := parseBool(v); return err }

func checkNonNegFloat(v string) error {
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil || f < 0 || math.IsNaN(f) {
		return fmt.Errorf("not a non-negative number")
	}
	return nil
}

func checkNonNegInt(v string) error {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < 0 {
		return fmt.Errorf("not a non-negative integer")
	}
	return nil
}

// parseCodes reads "429,502" (Prefect's delimited-set form).
func parseCodes(v string) ([]int, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil, nil
	}
	seen := map[int]bool{}
	var out []int
	for _, p := range strings.Split(v, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || n < 100 || n > 599 {
			return nil, fmt.Errorf("%q is not an HTTP status code", strings.TrimSpace(p))
		}
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	sort.Ints(out)
	return out, nil
}

// parseHeaders reads a JSON object of header names to string values.
func parseHeaders(v string) (map[string]string, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return map[string]string{}, nil
	}
	h := map[string]string{}
	if err := json.Unmarshal([]byte(v), &h); err != nil {
		return nil, fmt.Errorf("not a JSON object of strings")
	}
	return h, nil
}
