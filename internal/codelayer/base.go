package codelayer

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/prefectctl/prefectctl/internal/registry"
)

// EnvMirrors names the variable listing Docker Hub mirrors for reading
// base images without a daemon: comma-separated URLs, as the daemon's
// registry-mirrors ("https://mirror.gcr.io", "http://127.0.0.1:5000");
// a path is a repository prefix (a Harbor or Artifactory proxy project:
// "https://harbor.example.com/dockerhub").
const EnvMirrors = "PREFECTCTL_REGISTRY_MIRRORS"

// Mirror is one Docker Hub mirror.
type Mirror struct {
	Host     string // host[:port]
	Prefix   string // repository prefix, no slashes around it
	Insecure bool   // http://
}

// ParseMirrors reads EnvMirrors' value.
func ParseMirrors(s string) ([]Mirror, error) {
	var out []Mirror
	for _, raw := range strings.Split(s, ",") {
		raw = strings.TrimSpace(raw)
		if raw == "" {
			continue
		}
		if !strings.Contains(raw, "://") {
			raw = "https://" + raw
		}
		u, err := url.Parse(raw)
		if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
			return nil, fmt.Errorf("%s: %q is not a registry URL such as https://mirror.example.com", EnvMirrors, raw)
		}
		out = append(out, Mirror{Host: u.Host, Prefix: strings.Trim(u.Path, "/"), Insecure: u.Scheme == "http"})
	}
	return out, nil
}

// BaseConfig is where a base image's current config digest was read.
type BaseConfig struct {
	Digest string // sha256:… of the config: the image ID a pull would give
	From   string // the reference read (a mirror's, or the image's own)
}

// ResolveBaseConfig finds the config digest a pull of ref would give today
// for platform (os/arch; "" means the image's only platform), reading only
// manifests: Docker Hub images through the mirrors first, as the daemon
// does, then from Docker Hub itself.
func ResolveBaseConfig(ctx context.Context, ref, platform string, mirrors []Mirror, o registry.Options) (*BaseConfig, error) {
	r, err := o.ParseReference(ref)
	if err != nil {
		return nil, err
	}
	var tries []name.Reference
	if r.Context().RegistryStr() == name.DefaultRegistry {
		for _, m := range mirrors {
			repo := r.Context().RepositoryStr()
			if m.Prefix != "" {
				repo = m.Prefix + "/" + repo
			}
			nopts := []name.Option{name.WeakValidation}
			if m.Insecure {
				nopts = append(nopts, name.Insecure)
			}
			mr, err := name.ParseReference(m.Host+"/"+repo+refSuffix(r), nopts...)
			if err != nil {
				continue
			}
			tries = append(tries, mr)
		}
	}
	tries = append(tries, r)
	var errs []error
	opts := o.Remote(ctx, nil)
	for _, t := range tries {
		d, err := configDigest(t, platform, opts)
		if err == nil {
			return &BaseConfig{Digest: d, From: t.String()}, nil
		}
		errs = append(errs, fmt.Errorf("%s: %w", t, err))
	}
	return nil, errors.Join(errs...)
}

func refSuffix(r name.Reference) string {
	if d, ok := r.(name.Digest); ok {
		return "@" + d.DigestStr()
	}
	return ":" + r.Identifier()
}

func configDigest(ref name.Reference, platform string, opts []remote.Option) (string, error) {
	desc, err := remote.Get(ref, opts...)
	if err != nil {
		return "", err
	}
	if desc.MediaType.IsIndex() {
		child, err := pickChild(desc, ref.String(), platform)
		if err != nil {
			return "", err
		}
		if desc, err = remote.Get(ref.Context().Digest(child.String()), opts...); err != nil {
			return "", err
		}
	}
	m, err := v1.ParseManifest(strings.NewReader(string(desc.Manifest)))
	if err != nil {
		return "", err
	}
	return m.Config.Digest.String(), nil
}
