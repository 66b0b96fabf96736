package docker

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/moby/moby/api/types/registry"
	"github.com/moby/moby/client"

	"github.com/prefectctl/prefectctl/internal/py"
	reg "github.com/prefectctl/prefectctl/internal/registry"
)

// PushImage is prefect_docker.deployments.steps.push_docker_image.
func (s *Steps) PushImage(ctx context.Context, dir string, in *py.Map) (*py.Map, error) {
	return s.memoized("push_docker_image", dir, in, func() (*py.Map, error) { return s.push(ctx, in) })
}

// pushSignature is push_docker_image's.
var pushSignature = py.Signature{Name: "push_docker_image", Required: []string{"image_name"},
	Optional: []string{"tag", "additional_tags", "ignore_cache", "credentials", "build_backend"}}

func (s *Steps) push(ctx context.Context, in *py.Map) (*py.Map, error) {
	if err := pushSignature.Bind(in); err != nil {
		return nil, err
	}
	a := newArgs("push_docker_image", in)
	imageName := a.str("image_name", "", true)
	tag := a.optStr("tag")
	additional := a.strList("additional_tags")
	backend := a.str("build_backend", "docker-py", false)
	var creds *reg.Credentials
	if v, ok := a.raw("credentials"); ok && v != nil {
		m, isMap := v.(*py.Map)
		if !isMap {
			return nil, fmt.Errorf("push_docker_image: credentials must be a mapping with username, password and registry_url, got %s", py.TypeName(v))
		}
		ca := newArgs("credentials", m)
		creds = &reg.Credentials{Username: ca.str("username", "", false), Password: ca.str("password", "", false), RegistryURL: ca.str("registry_url", "", false)}
		// reauth only decides whether docker-py reuses a cached login;
		// every prefectctl push sends the credentials, so it is accepted
		// and has nothing to change.
		ca.boolean("reauth", true)
		if ca.err != nil {
			return nil, ca.err
		}
	}
	if a.err != nil {
		return nil, a.err
	}
	if err := checkBackend("push_docker_image", "push", backend); err != nil {
		return nil, err
	}
	if err := ValidateImageName(imageName); err != nil {
		return nil, err
	}
	imageName = QualifyImageName(imageName, s.namespace())
	extra := make([]any, len(additional))
	for i, t := range additional {
		extra[i] = t
	}
	var tagOut any
	imageOut := imageName + ":None" // Python formats a missing tag as None
	if tag != nil {
		tagOut = *tag
		imageOut = imageName + ":" + *tag
	}
	outputs := py.MapOf("image_name", imageName, "tag", tagOut, "image", imageOut, "additional_tags", extra)
	if pi := s.pendingFor(imageName, tag); pi != nil {
		// A code layer: the registry gets it straight from here.
		if err := s.pushAppended(ctx, pi, imageName, tag, additional, creds); err != nil {
			return nil, err
		}
		return outputs, nil
	}
	api, err := s.client(ctx)
	if err != nil {
		return nil, err
	}
	registryHost, err := reg.RegistryOf(imageName)
	if err != nil {
		return nil, fmt.Errorf("invalid image name %q: %w", imageName, err)
	}
	ropts := s.opts.Registry
	if creds != nil {
		ropts.Credentials = creds
		server := creds.RegistryURL
		if _, err := api.RegistryLogin(ctx, client.RegistryLoginOptions{Username: creds.Username, Password: creds.Password, ServerAddress: server}); err != nil {
			return nil, hintErr(fmt.Sprintf("logging in to %s as %s failed", displayRegistry(server), creds.Username),
				"check the username, password and registry_url of the credentials", err)
		}
	}
	auth, err := reg.AuthFor(ctx, registryHost, ropts)
	if err != nil {
		return nil, err
	}
	encoded, err := encodeAuth(auth.Username, auth.Password, auth.IdentityToken, auth.RegistryToken, registryHost)
	if err != nil {
		return nil, err
	}
	var tags []*string
	tags = append(tags, tag)
	for _, t := range additional {
		tags = append(tags, &t)
	}
	platform := ""
	for _, t := range tags {
		ref := imageName
		if t != nil {
			ref += ":" + *t
		}
		if err := s.pushOne(ctx, api, ref, t == nil, encoded, registryHost); err != nil {
			return nil, err
		}
		if s.opts.SkipVerify || t == nil {
			continue
		}
		if platform == "" {
			if ii, err := api.ImageInspect(ctx, ref); err == nil {
				platform = ii.Os + "/" + ii.Architecture
				if ii.Variant != "" {
					platform += "/" + ii.Variant
				}
			}
		}
		img, err := s.verify(ctx, ref, platform, ropts)
		if err != nil {
			var re *reg.Error
			if errors.As(err, &re) && re.Unreachable {
				// The daemon reached the registry but this machine cannot
				// (a remote builder, a registry only its network sees):
				// the push stands, unverified.
				fmt.Fprintf(s.opts.Stderr, "Warning: pushed %s but could not verify it from this machine: %v\n", ref, err)
				s.mu.Lock()
				s.pushed = append(s.pushed, Pushed{Image: ref, Platform: platform})
				s.mu.Unlock()
				continue
			}
			if re != nil {
				return nil, hintErr("verifying the push: "+re.Msg, re.Hint, err)
			}
			return nil, fmt.Errorf("verifying the push: %w", err)
		}
		s.mu.Lock()
		s.pushed = append(s.pushed, Pushed{Image: ref, Digest: img.Digest, Platform: platform})
		s.mu.Unlock()
		fmt.Fprintf(s.opts.Stderr, "Pushed %s (%s)\n", ref, img.Digest)
	}
	return outputs, nil
}

// verify checks the push in the registry. A registry the daemon pushed to
// over plain HTTP (its insecure-registries) is retried without TLS.
func (s *Steps) verify(ctx context.Context, ref, platform string, o reg.Options) (*reg.Image, error) {
	img, err := reg.Verify(ctx, ref, platform, "", o)
	var re *reg.Error
	if err != nil && !o.Insecure && errors.As(err, &re) && re.Unreachable {
		o.Insecure = true
		if img2, err2 := reg.Verify(ctx, ref, platform, "", o); err2 == nil {
			return img2, nil
		}
	}
	return img, err
}

func displayRegistry(s string) string {
	if s == "" {
		return "Docker Hub"
	}
	return s
}

// encodeAuth builds the X-Registry-Auth header; with no credentials it is
// the base64 of "{}", which the daemon accepts for anonymous pushes.
func encodeAuth(user, pass, identity, token, server string) (string, error) {
	ac := registry.AuthConfig{}
	if user != "" || pass != "" || identity != "" || token != "" {
		ac = registry.AuthConfig{Username: user, Password: pass, IdentityToken: identity, RegistryToken: token, ServerAddress: server}
	}
	b, err := json.Marshal(ac)
	if err != nil {
		return "", err
	}
	return base64.URLEncoding.EncodeToString(b), nil
}

func (s *Steps) pushOne(ctx context.Context, api API, ref string, all bool, auth, registryHost string) error {
	resp, err := api.ImagePush(ctx, ref, client.ImagePushOptions{RegistryAuth: auth, All: all})
	if err != nil {
		return s.pushError(ref, registryHost, err.Error(), err)
	}
	defer resp.Close()
	prog := newProgress(s.opts.Stderr)
	err = readMessages(resp, func(m *message) error {
		if e := m.err(); e != "" {
			return s.pushError(ref, registryHost, e, nil)
		}
		prog.update(m)
		return nil
	})
	if err != nil && ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

func (s *Steps) pushError(ref, registryHost, msg string, cause error) error {
	e := hintErr(fmt.Sprintf("pushing %s failed: %s", ref, strings.TrimSpace(msg)), "", cause)
	low := strings.ToLower(msg)
	switch {
	case strings.Contains(low, "denied") || strings.Contains(low, "unauthorized") || strings.Contains(low, "authentication required") || strings.Contains(low, "no basic auth credentials"):
		e.Hint = fmt.Sprintf("log in with `docker login %s`, or give push_docker_image a credentials mapping (username, password, registry_url)", registryHost)
	case strings.Contains(low, "connection refused") || strings.Contains(low, "no such host") || strings.Contains(low, "i/o timeout") || strings.Contains(low, "dial tcp"):
		e.Hint = fmt.Sprintf("the registry %s is not reachable from the Docker daemon; check the address and that it is running", registryHost)
	case strings.Contains(low, "does not exist") || strings.Contains(low, "no such image"):
		e.Hint = "build the image first (build_docker_image) or check image_name and tag"
	}
	return e
}
