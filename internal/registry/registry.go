// Package registry checks, straight against the OCI registry, what a
// Docker push left there: the digest a tag resolves to and that an image
// for the expected platform is really served, using the same credentials
// as the push (an explicit mapping first, then ~/.docker/config.json and
// its credential helpers).
package registry

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// Credentials are the fields of Prefect's DockerRegistryCredentials block
// that matter for authentication.
type Credentials struct {
	Username    string
	Password    string
	RegistryURL string
}

// Options tune how the registry is reached.
type Options struct {
	// Credentials, when set, authenticate requests to their registry;
	// other registries use Keychain.
	Credentials *Credentials
	// Keychain defaults to authn.DefaultKeychain (docker config.json,
	// credsStore and credHelpers).
	Keychain authn.Keychain
	// Insecure allows plain HTTP for a registry that is not on loopback,
	// as the daemon's insecure-registries setting does.
	Insecure  bool
	Transport http.RoundTripper
}

// Image is what the registry serves for a reference.
type Image struct {
	Ref       string // the reference as asked, e.g. 127.0.0.1:5000/app:v1
	Digest    string // manifest (or index) digest, sha256:…
	MediaType string
	Platforms []string // os/arch[/variant] of every image behind the ref
}

// Pinned is the reference with its digest, repo@sha256:….
func (i *Image) Pinned() string {
	ref, err := name.ParseReference(i.Ref, name.WeakValidation)
	if err != nil {
		return i.Ref
	}
	return ref.Context().Name() + "@" + i.Digest
}

// NormalizeRegistry turns a registry URL as users write it (with scheme,
// path, Docker Hub aliases) into the host go-containerregistry uses.
func NormalizeRegistry(s string) string {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "://") {
		if u, err := url.Parse(s); err == nil {
			s = u.Host
		}
	}
	s, _, _ = strings.Cut(s, "/")
	switch s {
	case "", "docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com":
		return name.DefaultRegistry
	}
	return s
}

// RegistryOf returns the registry host of an image reference.
func RegistryOf(ref string) (string, error) {
	r, err := name.ParseReference(ref, name.WeakValidation)
	if err != nil {
		return "", err
	}
	return r.Context().RegistryStr(), nil
}

// Keychain returns the keychain for o: the explicit credentials for their
// registry, then the default Docker keychain.
func (o Options) keychain() authn.Keychain {
	base := o.Keychain
	if base == nil {
		base = authn.DefaultKeychain
	}
	if o.Credentials == nil {
		return base
	}
	return authn.NewMultiKeychain(explicit{o.Credentials}, base)
}

type explicit struct{ c *Credentials }

func (e explicit) Resolve(r authn.Resource) (authn.Authenticator, error) {
	if NormalizeRegistry(r.RegistryStr()) != NormalizeRegistry(e.c.RegistryURL) {
		return authn.Anonymous, nil
	}
	return authn.FromConfig(authn.AuthConfig{Username: e.c.Username, Password: e.c.Password}), nil
}

// AuthFor returns the credentials for registry host reg, from o's
// keychain; the zero value means anonymous.
func AuthFor(ctx context.Context, reg string, o Options) (authn.AuthConfig, error) {
	r, err := name.NewRegistry(reg, name.WeakValidation)
	if err != nil {
		return authn.AuthConfig{}, err
	}
	a, err := authn.Resolve(ctx, o.keychain(), r)
	if err != nil {
		return authn.AuthConfig{}, fmt.Errorf("looking up credentials for %s: %w", reg, err)
	}
	if a == authn.Anonymous {
		return authn.AuthConfig{}, nil
	}
	cfg, err := authn.Authorization(ctx, a)
	if err != nil {
		return authn.AuthConfig{}, fmt.Errorf("looking up credentials for %s: %w", reg, err)
	}
	return *cfg, nil
}

// ParseReference reads an image reference as the registry calls of o
// do: Docker Hub names completed, plain HTTP allowed for loopback hosts
// (and for every host when o.Insecure is set).
func (o Options) ParseReference(ref string) (name.Reference, error) {
	nopts := []name.Option{name.WeakValidation}
	if o.Insecure {
		nopts = append(nopts, name.Insecure)
	}
	r, err := name.ParseReference(ref, nopts...)
	if err != nil {
		return nil, fmt.Errorf("invalid image reference %q: %w", ref, err)
	}
	return r, nil
}

// Remote returns the go-containerregistry options for o: its keychain,
// its transport (wrapped by wrap, when given) and a short retry policy
// (three tries, 200 ms apart and doubling), so a dead or failing registry
// is reported in about a second rather than retried for minutes.
func (o Options) Remote(ctx context.Context, wrap func(http.RoundTripper) http.RoundTripper) []remote.Option {
	t := o.Transport
	if t == nil {
		t = remote.DefaultTransport
	}
	if wrap != nil {
		t = wrap(t)
	}
	return []remote.Option{
		remote.WithContext(ctx),
		remote.WithAuthFromKeychain(o.keychain()),
		remote.WithRetryBackoff(remote.Backoff{Duration: 200 * time.Millisecond, Factor: 2, Steps: 3}),
		remote.WithTransport(t),
	}
}

// Resolve returns the digest and platforms the registry serves for ref.
func Resolve(ctx context.Context, ref string, o Options) (*Image, error) {
	r, err := o.ParseReference(ref)
	if err != nil {
		return nil, err
	}
	desc, err := remote.Get(r, o.Remote(ctx, nil)...)
	if err != nil {
		return nil, explain(ref, err)
	}
	img := &Image{Ref: ref, Digest: desc.Digest.String(), MediaType: string(desc.MediaType)}
	if desc.MediaType.IsIndex() {
		idx, err := desc.ImageIndex()
		if err != nil {
			return nil, explain(ref, err)
		}
		m, err := idx.IndexManifest()
		if err != nil {
			return nil, explain(ref, err)
		}
		for _, d := range m.Manifests {
			// Attestation manifests are listed as unknown/unknown.
			if d.Platform != nil && d.Platform.OS != "unknown" {
				img.Platforms = append(img.Platforms, platformString(*d.Platform))
			}
		}
		return img, nil
	}
	im, err := desc.Image()
	if err != nil {
		return nil, explain(ref, err)
	}
	cf, err := im.ConfigFile()
	if err != nil {
		return nil, explain(ref, err)
	}
	img.Platforms = []string{platformString(v1.Platform{OS: cf.OS, Architecture: cf.Architecture, Variant: cf.Variant})}
	return img, nil
}

// Verify resolves ref and checks that it serves an image for platform
// ("os/arch[/variant]"; empty skips the check) and, when digest is set,
// that the tag points at that digest.
func Verify(ctx context.Context, ref, platform, digest string, o Options) (*Image, error) {
	img, err := Resolve(ctx, ref, o)
	if err != nil {
		return nil, err
	}
	if digest != "" && img.Digest != digest {
		return img, fmt.Errorf("registry serves %s for %s, but the push reported %s: another push may have moved the tag", img.Digest, ref, digest)
	}
	if platform == "" {
		return img, nil
	}
	for _, p := range img.Platforms {
		if samePlatform(p, platform) {
			return img, nil
		}
	}
	return img, fmt.Errorf("registry serves %s for %s, but not for platform %s (it has %s)", img.Digest, ref, platform, strings.Join(img.Platforms, ", "))
}

func platformString(p v1.Platform) string {
	s := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}

// samePlatform compares os/arch[/variant]; a missing variant on either
// side matches any (amd64 has none, arm64 is usually v8).
func samePlatform(a, b string) bool {
	pa, pb := strings.Split(a, "/"), strings.Split(b, "/")
	if len(pa) < 2 || len(pb) < 2 || pa[0] != pb[0] || pa[1] != pb[1] {
		return false
	}
	return len(pa) < 3 || len(pb) < 3 || pa[2] == pb[2]
}

// Error is a registry failure with a hint for the user.
type Error struct {
	Ref  string
	Msg  string
	Hint string
	Err  error
	// Unreachable is set when the registry gave no HTTP answer at all
	// (connection refused, TLS, DNS), as opposed to refusing or lacking
	// the image.
	Unreachable bool
}

func (e *Error) Error() string { return e.Msg }
func (e *Error) Unwrap() error { return e.Err }

// Explain turns a failed registry call about ref into an *Error with a
// hint; what is read names what was being done ("read", "push").
func Explain(ref, what string, err error) *Error {
	reg, _ := RegistryOf(ref)
	var terr *transport.Error
	if errors.As(err, &terr) {
		switch terr.StatusCode {
		case http.StatusUnauthorized, http.StatusForbidden:
			return &Error{Ref: ref, Err: err, Msg: fmt.Sprintf("registry %s refused to %s %s: %v", reg, what, ref, err),
				Hint: fmt.Sprintf("log in with `docker login %s`, or give the push step a credentials mapping", reg)}
		}
		return &Error{Ref: ref, Err: err, Msg: fmt.Sprintf("cannot %s %s in registry %s: %v", what, ref, reg, err),
			Hint: fmt.Sprintf("the registry %s answered with an error; check its logs and storage, then run again", reg)}
	}
	return &Error{Ref: ref, Err: err, Msg: fmt.Sprintf("cannot %s %s in registry %s: %v", what, ref, reg, err),
		Hint: fmt.Sprintf("check that %s is reachable from this machine", reg), Unreachable: true}
}

func explain(ref string, err error) error {
	reg, _ := RegistryOf(ref)
	var terr *transport.Error
	if errors.As(err, &terr) {
		switch terr.StatusCode {
		case http.StatusUnauthorized, http.StatusForbidden:
			return &Error{Ref: ref, Err: err, Msg: fmt.Sprintf("registry %s refused access to %s: %v", reg, ref, err),
				Hint: fmt.Sprintf("log in with `docker login %s`, or give the step a credentials mapping", reg)}
		case http.StatusNotFound:
			return &Error{Ref: ref, Err: err, Msg: fmt.Sprintf("registry %s does not serve %s after the push: %v", reg, ref, err),
				Hint: "the push did not land; check the registry's storage and that the tag is not removed by a retention policy"}
		}
	}
	return &Error{Ref: ref, Err: err, Msg: fmt.Sprintf("cannot read %s from registry %s: %v", ref, reg, err),
		Hint: fmt.Sprintf("check that %s is reachable from this machine", reg), Unreachable: terr == nil}
}
