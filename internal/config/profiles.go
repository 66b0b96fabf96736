package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/prefectctl/prefectctl/internal/diag"
	"github.com/prefectctl/prefectctl/internal/py"
)

// profile is one [profiles.NAME] table: its settings, strings in file
// order.
type profile struct {
	name     string
	settings *py.Map
	packaged bool // comes from Prefect's packaged defaults, not the user's file
}

func newProfile(name string) *profile { return &profile{name: name, settings: py.NewMap()} }

// setting is one of a profile's settings.
func setting(settings *py.Map, k string) (string, bool) {
	v, ok := settings.Get(k)
	s, _ := v.(string)
	return s, ok
}

// profilesFile is a whole profiles.toml.
type profilesFile struct {
	active   string
	profiles []*profile
}

func (f *profilesFile) get(name string) *profile {
	for _, p := range f.profiles {
		if p.name == name {
			return p
		}
	}
	return nil
}

// packagedProfiles mirrors prefect/settings/profiles.toml of Prefect 3.9.1,
// which Prefect uses when the user has no profiles file.
func packagedProfiles() *profilesFile {
	mk := func(name string, kv ...string) *profile {
		p := newProfile(name)
		p.packaged = true
		for i := 0; i+1 < len(kv); i += 2 {
			p.settings.Set(kv[i], kv[i+1])
		}
		return p
	}
	return &profilesFile{active: "ephemeral", profiles: []*profile{
		mk("ephemeral", "PREFECT_SERVER_EPHEMERAL_ENABLED", "true"),
		mk("local", "PREFECT_API_URL", "http://127.0.0.1:4200/api"),
		mk("test", "PREFECT_SERVER_EPHEMERAL_ENABLED", "true", "PREFECT_SERVER_DATABASE_CONNECTION_URL", "sqlite+aiosqlite:///:memory:"),
		mk("cloud"),
	}}
}

// readProfiles parses a profiles.toml, keeping profile and key order.
func readProfiles(path string) (*profilesFile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	raw := map[string]any{}
	md, err := toml.Decode(string(data), &raw)
	if err != nil {
		return nil, tomlError(path, err)
	}
	f := &profilesFile{}
	if a, ok := raw["active"].(string); ok {
		f.active = a
	}
	tables, _ := raw["profiles"].(map[string]any)
	for _, k := range md.Keys() {
		if len(k) < 2 || k[0] != "profiles" {
			continue
		}
		name := k[1]
		p := f.get(name)
		if p == nil {
			p = newProfile(name)
			f.profiles = append(f.profiles, p)
		}
		if len(k) == 3 {
			if t, ok := tables[name].(map[string]any); ok {
				if v, ok := t[k[2]]; ok {
					p.settings.Set(k[2], profileValue(v))
				}
			}
		}
	}
	return f, nil
}

// profileValue renders a profile value as Prefect does when it rewrites the
// file (Python str() of the parsed value).
func profileValue(v any) string {
	switch x := v.(type) {
	case map[string]any:
		return py.Str(py.FromGo(x))
	case []any:
		return py.Str(py.FromGo(x))
	}
	return tomlString(v)
}

// activeProfile is the chosen profile and the settings Prefect would read
// from it.
type activeProfile struct {
	name     string
	settings *py.Map
}

// selectProfile finds the profiles file and the active profile exactly as
// Prefect's ProfileSettingsTomlLoader and root_settings_context do.
func (s *Settings) selectProfile(opt LoadOptions, dotenv map[string]dotenvEntry, prefectTOML, pyPrefect map[string]any) (activeProfile, error) {
	expand := func(p string) string {
		if p == "~" || strings.HasPrefix(p, "~/") {
			p = filepath.Join(opt.Home, p[1:])
		}
		if !filepath.IsAbs(p) {
			p = filepath.Join(opt.Dir, p)
		}
		return p
	}
	// The file Prefect reads. Note that Prefect's loader looks only at the
	// real environment for PREFECT_HOME, and reads PREFECT_PROFILES_PATH from
	// env, .env (exact key), prefect.toml and [tool.prefect] in that order.
	var readPath string
	if v, ok := opt.Env("PREFECT_PROFILES_PATH"); ok && v != "" {
		readPath, s.pathSource = expand(v), Source{SourceEnv, ""}
	} else if e, ok := dotenv["prefect_profiles_path"]; ok && e.Key == "PREFECT_PROFILES_PATH" && e.Value != "" {
		readPath, s.pathSource = expand(e.Value), Source{SourceDotenv, fmt.Sprintf(".env:%d", e.Line)}
	} else if v, ok := lookupScalar(prefectTOML, []string{"profiles_path"}); ok && v != "" {
		readPath, s.pathSource = expand(v), Source{SourcePrefect, ""}
	} else if v, ok := lookupScalar(pyPrefect, []string{"profiles_path"}); ok && v != "" {
		readPath, s.pathSource = expand(v), Source{SourcePyproject, ""}
	} else if v, ok := opt.Env("PREFECT_HOME"); ok && v != "" {
		readPath, s.pathSource = filepath.Join(expand(v), "profiles.toml"), Source{SourceEnv, "PREFECT_HOME"}
	} else if p := filepath.Join(opt.Home, ".prefect", "profiles.toml"); opt.Home != "" && fileExists(p) {
		readPath, s.pathSource = p, Source{SourceDefault, ""}
	} else {
		s.pathSource = Source{SourceDefault, "not created yet: Prefect's packaged profiles apply"}
	}
	// The file Prefect writes, and whose profiles name the active one in
	// its settings context: Settings.profiles_path, which (unlike the
	// loader above) sees every source of PREFECT_HOME and PREFECT_PROFILES_PATH.
	home := filepath.Join(opt.Home, ".prefect")
	if v, ok := firstSetting(opt, dotenv, prefectTOML, pyPrefect, "PREFECT_HOME", []string{"home"}); ok && v != "" {
		home = expand(v)
	}
	s.writablePath = filepath.Join(home, "profiles.toml")
	if v, ok := firstSetting(opt, dotenv, prefectTOML, pyPrefect, "PREFECT_PROFILES_PATH", []string{"profiles_path"}); ok && v != "" {
		s.writablePath = expand(strings.ReplaceAll(v, "$PREFECT_HOME", home))
	}

	packaged := packagedProfiles()
	readFile, err := loadProfilesFile(readPath, packaged)
	if err != nil {
		return activeProfile{}, err
	}
	if readPath != "" {
		if readFile == nil {
			s.pathSource.Detail = strings.TrimSpace(s.pathSource.Detail + " (file missing: Prefect's default profile applies)")
		} else {
			s.profilesPath = readPath
		}
	}
	writeFile := readFile
	if s.writablePath != readPath {
		if writeFile, err = loadProfilesFile(s.writablePath, packaged); err != nil {
			return activeProfile{}, err
		}
	}

	// The profile Prefect reports and updates (root_settings_context):
	// --profile, else PREFECT_PROFILE, else the written file's active.
	name, reason := "", ""
	switch {
	case opt.Profile != "":
		name, reason, s.profileSource = opt.Profile, "--profile", Source{"flag", "--profile"}
	default:
		if v, ok := opt.Env("PREFECT_PROFILE"); ok && v != "" {
			name, reason, s.profileSource = v, "PREFECT_PROFILE", Source{SourceEnv, ""}
		} else if writeFile != nil && writeFile != packaged && writeFile.active != "" {
			name, reason, s.profileSource = writeFile.active, "active in "+s.short(s.writablePath), Source{"profiles.toml", "active = in " + s.short(s.writablePath)}
		} else {
			name, reason, s.profileSource = packaged.active, "Prefect's default", Source{SourceDefault, "Prefect's packaged profiles"}
		}
	}
	s.profile = name
	if packaged.get(name) == nil && (writeFile == nil || writeFile.get(name) == nil) {
		if opt.Profile != "" {
			return activeProfile{}, &diag.Error{Kind: diag.Usage, Msg: fmt.Sprintf("unknown profile %q", name),
				Hint: fmt.Sprintf("profiles in %s: %s", s.short(s.writablePath), strings.Join(profileNames(writeFile, packaged), ", "))}
		}
		s.warnings = append(s.warnings, &diag.Warning{Kind: diag.Invalid,
			Msg:  fmt.Sprintf("active profile %q (set by %s) not found; the default profile is used instead", name, reason),
			Hint: "check PREFECT_PROFILE or the 'active' key of " + s.short(s.writablePath)})
		s.profile = packaged.active
		s.profileSource = Source{SourceDefault, fmt.Sprintf("%s names unknown profile %q", reason, name)}
	}

	// The settings (ProfileSettingsTomlLoader): the profile named by
	// --profile, PREFECT_PROFILE or the read file's active, taken only from
	// the file it read; any other name gets the packaged default profile's
	// settings, even when the user's file redefines that profile.
	loaderName := opt.Profile
	if loaderName == "" {
		if v, ok := opt.Env("PREFECT_PROFILE"); ok && v != "" {
			loaderName = v
		} else if readFile != nil {
			loaderName = readFile.active
		}
	}
	if readFile != nil {
		if p := readFile.get(loaderName); p != nil {
			return activeProfile{name: loaderName, settings: p.settings}, nil
		}
	}
	s.profilesPath = ""
	def := packaged.get(packaged.active)
	return activeProfile{name: def.name, settings: def.settings}, nil
}

// loadProfilesFile reads path; "" means Prefect's packaged profiles and a
// missing file gives nil.
func loadProfilesFile(path string, packaged *profilesFile) (*profilesFile, error) {
	if path == "" {
		return packaged, nil
	}
	f, err := readProfiles(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil, nil
	case err != nil:
		var d *diag.Error
		if errors.As(err, &d) {
			return nil, d
		}
		return nil, &diag.Error{Kind: diag.Invalid, File: path, Msg: "cannot read profiles", Err: err}
	}
	return f, nil
}

func profileNames(file, packaged *profilesFile) []string {
	seen := map[string]bool{}
	var out []string
	for _, f := range []*profilesFile{file, packaged} {
		if f == nil {
			continue
		}
		for _, p := range f.profiles {
			if !seen[p.name] {
				seen[p.name] = true
				out = append(out, p.name)
			}
		}
	}
	sort.Strings(out)
	return out
}

// firstSetting resolves a setting from env, .env, prefect.toml and
// [tool.prefect] only (used for PREFECT_HOME, which profiles cannot set).
func firstSetting(opt LoadOptions, dotenv map[string]dotenvEntry, prefectTOML, pyPrefect map[string]any, env string, path []string) (string, bool) {
	if v, ok := opt.Env(env); ok {
		return v, true
	}
	if e, ok := dotenv[strings.ToLower(env)]; ok {
		return e.Value, true
	}
	if v, ok := lookupScalar(prefectTOML, path); ok {
		return v, true
	}
	return lookupScalar(pyPrefect, path)
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

// WriteProfile sets values in profile name of the profiles.toml at path,
// the way Prefect's update_current_profile does: other profiles and keys
// are kept, a profile that exists only in Prefect's packaged defaults is
// seeded from them, an empty value removes the key, new keys are added in
// sorted order, and every value is written as a TOML string. Unlike
// Prefect, keys that are not Prefect settings are kept. With activate
// the file's `active` becomes name. The file is written atomically with
// mode 0600 because it holds API keys.
func WriteProfile(path, name string, values map[string]string, activate bool) error {
	if name == "" {
		return &diag.Error{Kind: diag.Usage, Msg: "no profile name given"}
	}
	packaged := packagedProfiles()
	coll := &profilesFile{active: packaged.active}
	for _, p := range packaged.profiles {
		coll.profiles = append(coll.profiles, p)
	}
	user, err := readProfiles(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		var d *diag.Error
		if errors.As(err, &d) {
			d.Hint = "fix the file first; prefectctl will not overwrite a profiles file it cannot read"
			return d
		}
		return &diag.Error{Kind: diag.Runtime, File: path, Msg: "cannot read profiles", Err: err}
	default:
		for _, up := range user.profiles {
			if i := indexOf(coll.profiles, up.name); i >= 0 {
				coll.profiles[i] = up
			} else {
				coll.profiles = append(coll.profiles, up)
			}
		}
		if user.active != "" {
			coll.active = user.active
		}
	}
	target := coll.get(name)
	if target == nil {
		target = newProfile(name)
		coll.profiles = append(coll.profiles, target)
	} else if target.packaged {
		cp := newProfile(name)
		cp.settings = py.Clone(target.settings).(*py.Map)
		coll.profiles[indexOf(coll.profiles, name)] = cp
		target = cp
	}
	keys := make([]string, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if values[k] == "" {
			target.settings.Delete(k)
		} else {
			target.settings.Set(k, values[k])
		}
	}
	if activate {
		coll.active = name
	}

	var b strings.Builder
	if coll.active != "" {
		fmt.Fprintf(&b, "active = %s\n", tomlQuote(coll.active))
	}
	for _, p := range coll.profiles {
		if p.packaged {
			continue
		}
		fmt.Fprintf(&b, "\n[profiles.%s]\n", tomlKey(p.name))
		for _, k := range p.settings.Keys() {
			v, _ := setting(p.settings, k)
			fmt.Fprintf(&b, "%s = %s\n", tomlKey(k), tomlQuote(v))
		}
	}
	return writeFileAtomic(path, []byte(b.String()))
}

func indexOf(ps []*profile, name string) int {
	for i, p := range ps {
		if p.name == name {
			return i
		}
	}
	return -1
}

var bareKey = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

func tomlKey(k string) string {
	if bareKey.MatchString(k) {
		return k
	}
	return tomlQuote(k)
}

func tomlQuote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\t':
			b.WriteString(`\t`)
		case '\r':
			b.WriteString(`\r`)
		default:
			if r < 0x20 || r == 0x7f {
				fmt.Fprintf(&b, `\u%04x`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return &diag.Error{Kind: diag.Runtime, File: path, Msg: "cannot create the profiles directory", Err: err}
	}
	tmp, err := os.CreateTemp(dir, ".profiles-*.toml")
	if err != nil {
		return &diag.Error{Kind: diag.Runtime, File: path, Msg: "cannot write profiles", Err: err}
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	err = tmp.Chmod(0o600)
	if err == nil {
		_, err = tmp.Write(data)
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return &diag.Error{Kind: diag.Runtime, File: path, Msg: "cannot write profiles", Err: err}
	}
	return nil
}
