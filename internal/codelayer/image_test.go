package codelayer

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

func TestMismatch(t *testing.T) {
	base := func() *Fingerprint {
		return &Fingerprint{V: 1, Kind: "auto", Builder: "legacy", Dockerfile: "sha256:d", Platform: "linux/amd64",
			Bases: []Base{{Ref: "prefecthq/prefect:3.9.1-python3.11", Config: "sha256:c"}},
			Pre:   map[string]string{"requirements.txt": "sha256:r"}, Args: "sha256:a", Copy: Copy{Dest: "/opt/prefect/flows/"}}
	}
	for _, tc := range []struct {
		name   string
		change func(f *Fingerprint)
		want   string
	}{
		{"same", func(*Fingerprint) {}, ""},
		{"base digest is not compared here", func(f *Fingerprint) { f.Bases[0].Config = "" }, ""},
		{"requirements", func(f *Fingerprint) { f.Pre["requirements.txt"] = "sha256:other" }, "requirements.txt changed"},
		{"two files", func(f *Fingerprint) { f.Pre["b.txt"] = "x"; delete(f.Pre, "requirements.txt") }, "b.txt, requirements.txt changed"},
		{"dockerfile", func(f *Fingerprint) { f.Dockerfile = "sha256:e" }, "the generated Dockerfile changed"},
		{"platform", func(f *Fingerprint) { f.Platform = "linux/arm64" }, "the platform changed (linux/amd64, now linux/arm64)"},
		{"args", func(f *Fingerprint) { f.Args = "sha256:b" }, "the build options changed"},
		{"builder", func(f *Fingerprint) { f.Builder = "buildkit" }, "the builder changed (legacy, now buildkit)"},
		{"dest", func(f *Fingerprint) { f.Copy.Dest = "/opt/prefect/other/" }, "the project's place in the image changed"},
		{"unknown dest is the recorded one", func(f *Fingerprint) { f.Copy.Dest = "" }, ""},
		{"kind", func(f *Fingerprint) { f.Kind = "dockerfile" }, "the Dockerfile changed (dockerfile: auto, now a Dockerfile of the project)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cur := base()
			tc.change(cur)
			got := Mismatch(base(), cur)
			if tc.want == "" && got != "" || !strings.HasPrefix(got, tc.want) {
				t.Fatalf("Mismatch = %q, want %q", got, tc.want)
			}
		})
	}
	// A base ref change without a Dockerfile change (build args in FROM).
	cur := base()
	cur.Bases[0].Ref = "python:3.12"
	if got := Mismatch(base(), cur); !strings.HasPrefix(got, "the base image changed (prefecthq/prefect:3.9.1-python3.11, now python:3.12)") {
		t.Fatal(got)
	}
}

func TestFingerprintLabelRoundTrip(t *testing.T) {
	f := &Fingerprint{V: 1, Kind: "auto", Builder: "legacy", Dockerfile: "sha256:d", Bases: []Base{{Ref: "x", Config: "sha256:c"}},
		Pre: map[string]string{"requirements.txt": "sha256:r"}, Args: "sha256:a", Copy: Copy{Dest: "/app/", Chown: "1:2", Line: 4}}
	g, err := ParseFingerprint(f.Label())
	if err != nil || Mismatch(f, g) != "" || g.Bases[0].Config != "sha256:c" {
		t.Fatalf("%v %+v", err, g)
	}
	if _, err := ParseFingerprint(`{"v":2}`); err == nil || !strings.Contains(err.Error(), "version 2") {
		t.Fatalf("another version: %v", err)
	}
	if _, err := ParseFingerprint(`{`); err == nil {
		t.Fatal("garbage parsed")
	}
}

// image builds an Image from a config's history and diff IDs.
func image(t *testing.T, cfg string, layers int, mt types.MediaType) *Image {
	t.Helper()
	var ls []string
	for i := 0; i < layers; i++ {
		ls = append(ls, `{"mediaType":"`+string(types.DockerLayer)+`","size":10,"digest":"sha256:`+strings.Repeat(string(rune('a'+i)), 64)+`"}`)
	}
	man := `{"schemaVersion":2,"mediaType":"` + string(mt) + `","config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":1,"digest":"sha256:` + strings.Repeat("0", 64) + `"},"layers":[` + strings.Join(ls, ",") + `]}`
	m, err := v1.ParseManifest(strings.NewReader(man))
	if err != nil {
		t.Fatal(err)
	}
	c, err := v1.ParseConfigFile(strings.NewReader(cfg))
	if err != nil {
		t.Fatal(err)
	}
	ref, _ := name.ParseReference("127.0.0.1:5000/app:v1")
	return &Image{Ref: ref, MediaType: mt, RawManifest: []byte(man), RawConfig: []byte(cfg), Manifest: m, Config: c, ConfigMediaType: m.Config.MediaType}
}

const empty = EmptyTarDiffID

func TestFindProjectLayer(t *testing.T) {
	d := func(c byte) string { return `"sha256:` + strings.Repeat(string(c), 64) + `"` }
	for _, tc := range []struct {
		name, history, diffs string
		layers               int
		want                 int
		bad                  string
	}{
		{name: "legacy builder", layers: 4, want: 3,
			history: `{"created_by":"base"},{"created_by":"/bin/sh -c #(nop) COPY file:1 in /opt/prefect/flows/requirements.txt "},{"created_by":"/bin/sh -c uv pip install"},{"created_by":"/bin/sh -c #(nop) COPY dir:2 in /opt/prefect/flows/ "},{"created_by":"/bin/sh -c #(nop) WORKDIR /opt/prefect/flows/","empty_layer":true},{"created_by":"LABEL x","empty_layer":true}`,
			diffs:   d('a') + "," + d('b') + "," + d('c') + "," + d('d')},
		{name: "BuildKit's empty WORKDIR layer", layers: 3, want: 1,
			history: `{"created_by":"base"},{"created_by":"COPY . /opt/prefect/flows/ # buildkit","comment":"buildkit.dockerfile.v0"},{"created_by":"WORKDIR /opt/prefect/flows/","comment":"buildkit.dockerfile.v0"}`,
			diffs:   d('a') + "," + d('b') + ",\"" + empty + "\""},
		{name: "our own", layers: 2, want: 1,
			history: `{"created_by":"base"},{"created_by":"COPY . /app/ # prefectctl code layer","comment":"prefectctl.code-layer.v1"},{"created_by":"CMD","empty_layer":true}`,
			diffs:   d('a') + "," + d('b')},
		{name: "RUN after", layers: 3, bad: "its last layer that holds files was made by",
			history: `{"created_by":"base"},{"created_by":"COPY dir:1 in /app "},{"created_by":"/bin/sh -c pip install /app"}`,
			diffs:   d('a') + "," + d('b') + "," + d('c')},
		{name: "history does not add up", layers: 2, bad: "its history lists 1 layers but it has 2",
			history: `{"created_by":"COPY dir:1 in /app "}`, diffs: d('a') + "," + d('b')},
		{name: "no history", layers: 1, bad: "its config has no history", history: ``, diffs: d('a')},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := `{"architecture":"amd64","os":"linux","config":{},"rootfs":{"type":"layers","diff_ids":[` + tc.diffs + `]},"history":[` + tc.history + `]}`
			pl, err := image(t, cfg, tc.layers, types.DockerManifestSchema2).FindProjectLayer()
			if tc.bad != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tc.bad) {
					t.Fatalf("err = %v, want %q", err, tc.bad)
				}
				return
			}
			if err != nil || pl.Layer != tc.want {
				t.Fatalf("pl = %+v, %v; want layer %d", pl, err, tc.want)
			}
		})
	}
}

func TestAssembleEditsOnlyTheProjectLayer(t *testing.T) {
	d := func(c byte) string { return "sha256:" + strings.Repeat(string(c), 64) }
	// Fields go-containerregistry's ConfigFile would drop: container_config,
	// an unknown top-level key, a healthcheck's StartInterval.
	cfg := `{"architecture":"amd64","os":"linux","container_config":{"Cmd":["x"]},"moby.buildkit.buildinfo.v1":"abc",` +
		`"config":{"Env":["PATH=/usr/bin","A=1"],"WorkingDir":"/opt/prefect/flows/","Entrypoint":["/opt/prefect/entrypoint.sh"],"Healthcheck":{"Test":["NONE"],"StartInterval":5},"Labels":{"keep":"me"}},` +
		`"rootfs":{"type":"layers","diff_ids":["` + d('a') + `","` + d('b') + `"]},` +
		`"history":[{"created":"2026-01-01T00:00:00Z","created_by":"base"},{"created":"2026-01-02T00:00:00Z","created_by":"/bin/sh -c #(nop) COPY dir:2 in /opt/prefect/flows/ "},{"created_by":"WORKDIR","empty_layer":true}]}`
	prev := image(t, cfg, 2, types.DockerManifestSchema2)
	pl, err := prev.FindProjectLayer()
	if err != nil {
		t.Fatal(err)
	}
	es := []Entry{{Path: "flow.py", Type: tar.TypeReg, Mode: 0o644, Data: []byte("x")}}
	layer, err := BuildLayer(es, Placement{Dest: "/opt/prefect/flows/", MTime: DefaultMTime}, LayerMediaType(prev, pl), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer layer.Remove()
	a, err := Assemble(prev, pl, layer, "/opt/prefect/flows/", map[string]string{LabelTree: "t"})
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(a.RawConfig, &c); err != nil {
		t.Fatal(err)
	}
	diff, _ := layer.DiffID()
	cc := c["config"].(map[string]any)
	h := c["history"].([]any)[1].(map[string]any)
	checks := map[string]bool{
		"container_config kept":     c["container_config"] != nil,
		"unknown key kept":          c["moby.buildkit.buildinfo.v1"] == "abc",
		"StartInterval kept":        cc["Healthcheck"].(map[string]any)["StartInterval"] == float64(5),
		"env kept":                  len(cc["Env"].([]any)) == 2,
		"labels merged":             cc["Labels"].(map[string]any)["keep"] == "me" && cc["Labels"].(map[string]any)[LabelTree] == "t",
		"lower diff id kept":        c["rootfs"].(map[string]any)["diff_ids"].([]any)[0] == d('a'),
		"project diff id replaced":  c["rootfs"].(map[string]any)["diff_ids"].([]any)[1] == diff.String(),
		"history says prefectctl":   h["created_by"] == "COPY . /opt/prefect/flows/ # prefectctl code layer" && h["comment"] == HistoryComment,
		"history time kept":         h["created"] == "2026-01-02T00:00:00Z",
		"config digest is image id": a.ConfigDigest.String() == sha256Of(a.RawConfig),
		"manifest digest":           a.Digest.String() == sha256Of(a.RawManifest),
	}
	for what, ok := range checks {
		if !ok {
			t.Errorf("%s:\n%s", what, a.RawConfig)
		}
	}
	m, err := v1.ParseManifest(bytes.NewReader(a.RawManifest))
	if err != nil {
		t.Fatal(err)
	}
	ld, _ := layer.Digest()
	if m.MediaType != types.DockerManifestSchema2 || m.Layers[1].Digest != ld || m.Layers[1].MediaType != types.DockerLayer ||
		m.Layers[0].Digest.String() != d('a') || m.Config.Digest != a.ConfigDigest || !strings.HasPrefix(string(a.RawManifest), `{"schemaVersion":2,"mediaType":`) {
		t.Fatalf("manifest: %s", a.RawManifest)
	}
	// The same edit of the same image gives the same bytes.
	b, err := Assemble(prev, pl, layer, "/opt/prefect/flows/", map[string]string{LabelTree: "t"})
	if err != nil || b.Digest != a.Digest {
		t.Fatalf("not deterministic: %v %s %s", err, a.Digest, b.Digest)
	}
	// OCI stays OCI.
	oci := image(t, cfg, 2, types.OCIManifestSchema1)
	oci.Manifest.Layers[1].MediaType = types.OCILayerZStd
	if mt := LayerMediaType(oci, pl); mt != types.OCILayer {
		t.Fatalf("OCI zstd project layer: new layer media type %s", mt)
	}
}

func sha256Of(b []byte) string {
	h, _, _ := v1.SHA256(bytes.NewReader(b))
	return h.String()
}

func TestParseMirrors(t *testing.T) {
	ms, err := ParseMirrors(" https://mirror.gcr.io , http://127.0.0.1:5000/dockerhub/ ,harbor.example.com")
	if err != nil {
		t.Fatal(err)
	}
	want := []Mirror{{Host: "mirror.gcr.io"}, {Host: "127.0.0.1:5000", Prefix: "dockerhub", Insecure: true}, {Host: "harbor.example.com"}}
	if len(ms) != 3 || ms[0] != want[0] || ms[1] != want[1] || ms[2] != want[2] {
		t.Fatalf("%+v", ms)
	}
	if _, err := ParseMirrors("ftp://x"); err == nil || !strings.Contains(err.Error(), EnvMirrors) {
		t.Fatalf("ftp: %v", err)
	}
}
