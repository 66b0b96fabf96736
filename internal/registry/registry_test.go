package registry

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	ggcr "github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// serve starts an in-process registry; with user set it demands basic auth.
func serve(t *testing.T, user, pass string) string {
	t.Helper()
	h := ggcr.New()
	if user != "" {
		inner := h
		h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			u, p, ok := r.BasicAuth()
			if !ok || u != user || p != pass {
				w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
				http.Error(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`, http.StatusUnauthorized)
				return
			}
			inner.ServeHTTP(w, r)
		})
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	return u.Host
}

func push(t *testing.T, ref string, img v1.Image, opts ...remote.Option) {
	t.Helper()
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(r, img, opts...); err != nil {
		t.Fatal(err)
	}
}

func withPlatform(t *testing.T, os, arch string) v1.Image {
	t.Helper()
	img, err := random.Image(64, 1)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = os, arch
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func TestResolveAndVerify(t *testing.T) {
	host := serve(t, "", "")
	ctx := context.Background()
	amd := withPlatform(t, "linux", "amd64")
	push(t, host+"/team/app:v1", amd)
	dig, _ := amd.Digest()

	img, err := Verify(ctx, host+"/team/app:v1", "linux/amd64", dig.String(), Options{Keychain: authn.NewMultiKeychain()})
	if err != nil {
		t.Fatal(err)
	}
	if img.Digest != dig.String() || img.Pinned() != host+"/team/app@"+dig.String() || len(img.Platforms) != 1 || img.Platforms[0] != "linux/amd64" {
		t.Fatalf("image = %+v", img)
	}
	if _, err := Verify(ctx, host+"/team/app:v1", "linux/arm64", "", Options{Keychain: authn.NewMultiKeychain()}); err == nil || !strings.Contains(err.Error(), "not for platform linux/arm64 (it has linux/amd64)") {
		t.Fatalf("platform mismatch: %v", err)
	}
	if _, err := Verify(ctx, host+"/team/app:v1", "", "sha256:"+strings.Repeat("0", 64), Options{Keychain: authn.NewMultiKeychain()}); err == nil || !strings.Contains(err.Error(), "another push may have moved the tag") {
		t.Fatalf("digest mismatch: %v", err)
	}

	// An index: every platform is listed, attestations are not.
	arm := withPlatform(t, "linux", "arm64")
	idx := mutate.AppendManifests(empty.Index,
		mutate.IndexAddendum{Add: amd, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}},
		mutate.IndexAddendum{Add: arm, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"}}},
		mutate.IndexAddendum{Add: amd, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "unknown", Architecture: "unknown"}}},
	)
	r, _ := name.ParseReference(host + "/team/multi:v1")
	if err := remote.WriteIndex(r, idx); err != nil {
		t.Fatal(err)
	}
	img, err = Verify(ctx, host+"/team/multi:v1", "linux/arm64", "", Options{Keychain: authn.NewMultiKeychain()})
	if err != nil || strings.Join(img.Platforms, ",") != "linux/amd64,linux/arm64/v8" {
		t.Fatalf("index: %+v %v", img, err)
	}

	_, err = Resolve(ctx, host+"/team/app:missing", Options{Keychain: authn.NewMultiKeychain()})
	var re *Error
	if !errors.As(err, &re) || !strings.Contains(re.Msg, "does not serve") || re.Unreachable {
		t.Fatalf("missing tag: %v", err)
	}
	_, err = Resolve(ctx, "127.0.0.1:1/x:y", Options{Keychain: authn.NewMultiKeychain()})
	if !errors.As(err, &re) || !strings.Contains(re.Hint, "reachable") || !re.Unreachable {
		t.Fatalf("unreachable: %v", err)
	}
}

func TestCredentials(t *testing.T) {
	host := serve(t, "alice", "pw-123")
	ctx := context.Background()
	img := withPlatform(t, "linux", "amd64")
	push(t, host+"/p/app:v1", img, remote.WithAuth(&authn.Basic{Username: "alice", Password: "pw-123"}))

	// No credentials: refused, with the login command.
	none := Options{Keychain: authn.NewMultiKeychain()}
	_, err := Resolve(ctx, host+"/p/app:v1", none)
	var re *Error
	if !errors.As(err, &re) || !strings.Contains(re.Hint, "docker login "+host) {
		t.Fatalf("no credentials: %v", err)
	}
	// An explicit mapping, registry_url written with a scheme.
	explicitOpts := Options{Keychain: authn.NewMultiKeychain(), Credentials: &Credentials{Username: "alice", Password: "pw-123", RegistryURL: "http://" + host + "/"}}
	if _, err := Resolve(ctx, host+"/p/app:v1", explicitOpts); err != nil {
		t.Fatal(err)
	}
	ac, err := AuthFor(ctx, host, explicitOpts)
	if err != nil || ac.Username != "alice" || ac.Password != "pw-123" {
		t.Fatalf("AuthFor = %+v, %v", ac, err)
	}
	// Credentials for another registry are not sent here.
	other := Options{Keychain: authn.NewMultiKeychain(), Credentials: &Credentials{Username: "alice", Password: "pw-123", RegistryURL: "elsewhere.example"}}
	if ac, _ := AuthFor(ctx, host, other); ac.Username != "" {
		t.Fatalf("credentials for another registry used: %+v", ac)
	}
	// ~/.docker/config.json through the default keychain.
	cfg := t.TempDir()
	auth := base64.StdEncoding.EncodeToString([]byte("alice:pw-123"))
	if err := os.WriteFile(filepath.Join(cfg, "config.json"), []byte(`{"auths":{"`+host+`":{"auth":"`+auth+`"}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DOCKER_CONFIG", cfg)
	if _, err := Resolve(ctx, host+"/p/app:v1", Options{}); err != nil {
		t.Fatalf("docker config credentials: %v", err)
	}
}

func TestNormalizeRegistry(t *testing.T) {
	cases := map[string]string{
		"":                            "index.docker.io",
		"docker.io":                   "index.docker.io",
		"https://index.docker.io/v1/": "index.docker.io",
		"registry-1.docker.io":        "index.docker.io",
		"ghcr.io":                     "ghcr.io",
		"https://123.dkr.ecr.us-east-1.amazonaws.com": "123.dkr.ecr.us-east-1.amazonaws.com",
		"127.0.0.1:5000/v2/":                          "127.0.0.1:5000",
	}
	for in, want := range cases {
		if got := NormalizeRegistry(in); got != want {
			t.Errorf("NormalizeRegistry(%q) = %q, want %q", in, got, want)
		}
	}
	for ref, want := range map[string]string{"alpine": "index.docker.io", "127.0.0.1:5000/a/b:t": "127.0.0.1:5000", "ghcr.io/o/r": "ghcr.io"} {
		if got, err := RegistryOf(ref); err != nil || got != want {
			t.Errorf("RegistryOf(%q) = %q, %v", ref, got, err)
		}
	}
}
