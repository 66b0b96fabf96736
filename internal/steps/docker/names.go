// Package docker runs prefect-docker's build_docker_image and
// push_docker_image steps through the Docker Engine API, producing the same
// images, tags and step outputs as prefect-docker 0.7.4.
package docker

import (
	"fmt"
	"strings"
	"time"
	"unicode"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/prefectctl/prefectctl/internal/py"
)

// ValidateImageName rejects names with whitespace the way prefect-docker
// does, before anything touches the daemon.
func ValidateImageName(name string) error {
	if strings.IndexFunc(name, unicode.IsSpace) >= 0 {
		return fmt.Errorf("invalid Docker image name %q: image names cannot contain spaces; use lowercase letters, numbers, and separators like '-', '_', '.', and '/'", name)
	}
	return nil
}

// SplitRepositoryPath splits an image name into namespace and repository
// with Prefect's rules: "a/b/c" → ("a/b", "c"); "reg.io/x" or "host:5000/x"
// → (registry, "x"); "org/x" → ("org", "x"); "x" → ("", "x").
func SplitRepositoryPath(name string) (namespace, repo string) {
	parts := strings.SplitN(name, "/", 3)
	switch {
	case len(parts) == 3 || (len(parts) == 2 && strings.ContainsAny(parts[0], ".:")):
		return strings.Join(parts[:len(parts)-1], "/"), parts[len(parts)-1]
	case len(parts) == 2:
		return parts[0], parts[1]
	default:
		return "", parts[0]
	}
}

// QualifyImageName applies the namespace rule: a name without a namespace
// gets defaultNamespace (PREFECT_DEFAULT_DOCKER_BUILD_NAMESPACE) when set.
func QualifyImageName(name, defaultNamespace string) string {
	ns, repo := SplitRepositoryPath(name)
	if ns == "" {
		ns = defaultNamespace
	}
	if ns == "" {
		return repo
	}
	return ns + "/" + repo
}

// DefaultTag is the tag prefect-docker uses when none is given:
// python-slugify applied to datetime.now(UTC).isoformat().
func DefaultTag(now time.Time) string {
	return Slugify(py.ISOFormat(now.UTC()))
}

// Slugify is python-slugify's default behaviour for ASCII input: lower-case,
// every run of characters outside [a-z0-9] becomes one "-", and dashes are
// trimmed from both ends.
func Slugify(s string) string {
	return slugWith(strings.ToLower(s), func(r rune) bool {
		return r >= 'a' && r <= 'z' || r >= '0' && r <= '9'
	}, 0)
}

// slugTag keeps case and [a-zA-Z0-9_.-] (the characters Docker allows in a
// tag) and cuts at max runes, as Prefect does for base-image tags.
func slugTag(s string, max int) string {
	return slugWith(s, func(r rune) bool {
		return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '.' || r == '-'
	}, max)
}

func slugWith(s string, keep func(rune) bool, max int) string {
	var b strings.Builder
	dash := false
	for _, r := range s {
		if keep(r) {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
			continue
		}
		dash = true
	}
	out := strings.Trim(b.String(), "-")
	if max > 0 && len(out) > max {
		out = strings.Trim(out[:max], "-")
	}
	return out
}

// ParsePlatform reads "os/arch[/variant]" as Docker does; a lone
// architecture such as "amd64" means linux.
func ParsePlatform(s string) (ocispec.Platform, error) {
	parts := strings.Split(strings.ToLower(strings.TrimSpace(s)), "/")
	for _, p := range parts {
		if p == "" {
			return ocispec.Platform{}, fmt.Errorf("invalid platform %q: expected os/arch[/variant], e.g. linux/amd64", s)
		}
	}
	switch len(parts) {
	case 1:
		switch parts[0] {
		case "linux", "windows", "darwin", "freebsd":
			return ocispec.Platform{OS: parts[0]}, nil
		}
		return ocispec.Platform{OS: "linux", Architecture: parts[0]}, nil
	case 2:
		return ocispec.Platform{OS: parts[0], Architecture: parts[1]}, nil
	case 3:
		return ocispec.Platform{OS: parts[0], Architecture: parts[1], Variant: parts[2]}, nil
	}
	return ocispec.Platform{}, fmt.Errorf("invalid platform %q: expected os/arch[/variant], e.g. linux/amd64", s)
}
