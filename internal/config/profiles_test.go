package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestWriteProfileMatchesPrefect compares with a file real Prefect 3.9.1
// wrote: testdata/writeprofile/want_prefect_config_set.toml is what
// `prefect config set PREFECT_API_KEY=pnu_abc PREFECT_API_URL=http://127.0.0.1:9/api`
// left behind with PREFECT_HOME holding input.toml (no active profile, so
// the packaged "ephemeral" one was updated).
func TestWriteProfileMatchesPrefect(t *testing.T) {
	in, err := os.ReadFile("testdata/writeprofile/input.toml")
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("testdata/writeprofile/want_prefect_config_set.toml")
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "profiles.toml")
	if err := os.WriteFile(p, in, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteProfile(p, "ephemeral", map[string]string{"PREFECT_API_URL": "http://127.0.0.1:9/api", "PREFECT_API_KEY": "pnu_abc"}, false); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(p)
	if string(got) != string(want) {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
	st, _ := os.Stat(p)
	if st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", st.Mode().Perm())
	}
}

func TestWriteProfileCases(t *testing.T) {
	tests := []struct {
		name     string
		existing string // "" = no file
		profile  string
		values   map[string]string
		activate bool
		want     string
	}{
		{name: "new file, new profile, activated", profile: "cloud", activate: true,
			values: map[string]string{"PREFECT_API_URL": "https://api.prefect.cloud/api/accounts/a/workspaces/w", "PREFECT_API_KEY": "pnu_k"},
			want:   "active = \"cloud\"\n\n[profiles.cloud]\nPREFECT_API_KEY = \"pnu_k\"\nPREFECT_API_URL = \"https://api.prefect.cloud/api/accounts/a/workspaces/w\"\n"},
		{name: "update keeps key order and other profiles", profile: "b",
			existing: "active = \"a\"\n\n[profiles.a]\nX = \"1\"\n\n[profiles.b]\nPREFECT_API_URL = \"old\"\nY = \"2\"\n",
			values:   map[string]string{"PREFECT_API_URL": "new", "PREFECT_API_KEY": `q"\`},
			want:     "active = \"a\"\n\n[profiles.a]\nX = \"1\"\n\n[profiles.b]\nPREFECT_API_URL = \"new\"\nY = \"2\"\nPREFECT_API_KEY = \"q\\\"\\\\\"\n"},
		{name: "empty value removes key; odd names quoted", profile: "my prof",
			existing: "[profiles.\"my prof\"]\nPREFECT_API_KEY = \"k\"\nZ = 1\n",
			values:   map[string]string{"PREFECT_API_KEY": ""},
			want:     "active = \"ephemeral\"\n\n[profiles.\"my prof\"]\nZ = \"1\"\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "sub", "profiles.toml")
			if tc.existing != "" {
				os.MkdirAll(filepath.Dir(p), 0o755)
				if err := os.WriteFile(p, []byte(tc.existing), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if err := WriteProfile(p, tc.profile, tc.values, tc.activate); err != nil {
				t.Fatal(err)
			}
			got, _ := os.ReadFile(p)
			if string(got) != tc.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tc.want)
			}
			// The result must load back with the written values.
			f, err := readProfiles(p)
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tc.values {
				if got, _ := setting(f.get(tc.profile).settings, k); got != v {
					t.Errorf("%s = %q after reload, want %q", k, got, v)
				}
			}
		})
	}
}

func TestWriteProfileRefusesBrokenFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "profiles.toml")
	os.WriteFile(p, []byte("active = \n"), 0o600)
	err := WriteProfile(p, "x", map[string]string{"A": "b"}, true)
	if err == nil || !strings.Contains(err.Error(), "invalid TOML") {
		t.Fatalf("err = %v", err)
	}
	if b, _ := os.ReadFile(p); string(b) != "active = \n" {
		t.Errorf("file was changed: %q", b)
	}
}

func TestParseDotenv(t *testing.T) {
	got, bad, err := parseDotenv([]byte("A=1\n#c\nexport B = 'x y' \nC=\"a\\nb\"\nnoequals\nD=v # c\nE=\nF='open\n"))
	if err != nil || len(bad) != 1 || bad[0] != 8 {
		t.Fatal(err, bad)
	}
	want := []dotenvEntry{{"A", "1", 1}, {"B", "x y", 3}, {"C", "a\nb", 4}, {"D", "v", 6}, {"E", "", 7}}
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("%d: got %+v want %+v", i, got[i], want[i])
		}
	}
}
