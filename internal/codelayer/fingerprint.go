// Package codelayer builds container images without a Docker daemon for
// code-only redeploys: it reads the previous image's manifest and config
// from its registry, finds the layer holding the project files (the last
// `COPY . <dest>`), replaces it with a reproducible layer made from the
// build context, and pushes only the new blobs and the manifest. A
// fingerprint label, written on every full build, says whether an image
// can take a code layer: everything but the project files must be as it
// was.
package codelayer

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// Labels prefectctl sets on the images it builds.
const (
	// LabelFingerprint holds the Fingerprint, as compact JSON.
	LabelFingerprint = "io.prefectctl.code-layer"
	// LabelTree holds the TreeLabel of the project layer.
	LabelTree = "io.prefectctl.code-tree"
)

// FingerprintVersion is the schema of the fingerprint label; a label of
// another version never matches.
const FingerprintVersion = 1

// Fingerprint is everything an image's layers below the project copy
// depend on, recorded at each full build. Equal fingerprints mean a full
// build would rebuild the same lower layers, so appending the project
// files as one layer gives the image the build would give.
type Fingerprint struct {
	V int `json:"v"`
	// Kind is "auto" (the generated Dockerfile) or "dockerfile".
	Kind string `json:"kind"`
	// Builder is "legacy" or "buildkit": they lay out layers differently.
	Builder string `json:"builder"`
	// Dockerfile is the sha256 of the Dockerfile's text; the generated
	// one names the base image and the checkout directory.
	Dockerfile string `json:"dockerfile"`
	// Bases are the images the Dockerfile builds FROM (and COPY --from),
	// with the config digest (image ID) each had.
	Bases []Base `json:"bases"`
	// Platform is the step's platform, normalised; "" when none was given.
	Platform string `json:"platform"`
	// Pre maps each context file the build reads before the project copy
	// (requirements.txt for the generated Dockerfile) to the sha256 of
	// its mode and content.
	Pre map[string]string `json:"pre"`
	// Args is the sha256 of the build options that change the lower
	// layers or the config: build args, labels, target, network mode,
	// extra hosts.
	Args string `json:"args"`
	// Copy is the project copy itself.
	Copy Copy `json:"copy"`
}

// Base is one image a build starts from.
type Base struct {
	Ref    string `json:"ref"`
	Config string `json:"config,omitempty"` // sha256:… of its config (the image ID)
}

// Copy is the `COPY . <dest>` that puts the project in the image.
type Copy struct {
	// Dest is the absolute destination directory, with a trailing slash.
	Dest string `json:"dest"`
	// Chown is "uid:gid" from --chown, numeric; "" for root.
	Chown string `json:"chown,omitempty"`
	// Line is the Dockerfile line of the instruction (for messages).
	Line int `json:"line,omitempty"`
}

// Label is the fingerprint as the label value: compact JSON.
func (f *Fingerprint) Label() string {
	b, err := json.Marshal(f)
	if err != nil {
		// Only strings, ints and maps of strings: cannot fail.
		panic(err)
	}
	return string(b)
}

// ParseFingerprint reads a fingerprint label.
func ParseFingerprint(s string) (*Fingerprint, error) {
	var f Fingerprint
	if err := json.Unmarshal([]byte(s), &f); err != nil {
		return nil, fmt.Errorf("reading the %s label: %w", LabelFingerprint, err)
	}
	if f.V != FingerprintVersion {
		return nil, fmt.Errorf("the %s label has version %d; this prefectctl reads version %d", LabelFingerprint, f.V, FingerprintVersion)
	}
	return &f, nil
}

// Mismatch compares a recorded fingerprint with the current one and says,
// in a few words, the first difference that rules out a code layer ("" when
// they agree). Base image digests are not compared here: whether the base
// moved depends on the step's pull setting (see the caller).
func Mismatch(recorded, current *Fingerprint) string {
	switch {
	case recorded.Builder != current.Builder:
		return fmt.Sprintf("the builder changed (%s, now %s)", recorded.Builder, current.Builder)
	case recorded.Kind != current.Kind:
		return fmt.Sprintf("the Dockerfile changed (%s, now %s)", kindText(recorded.Kind), kindText(current.Kind))
	case recorded.Copy.Dest != current.Copy.Dest && current.Copy.Dest != "":
		return fmt.Sprintf("the project's place in the image changed (%s, now %s)", recorded.Copy.Dest, current.Copy.Dest)
	case recorded.Dockerfile != current.Dockerfile:
		if current.Kind == "auto" {
			return "the generated Dockerfile changed (base image, checkout directory name or requirements.txt added or removed)"
		}
		return "the Dockerfile changed"
	case !sameBaseRefs(recorded.Bases, current.Bases):
		return fmt.Sprintf("the base image changed (%s, now %s)", baseRefs(recorded.Bases), baseRefs(current.Bases))
	case recorded.Platform != current.Platform:
		return fmt.Sprintf("the platform changed (%s, now %s)", orNone(recorded.Platform), orNone(current.Platform))
	case recorded.Args != current.Args:
		return "the build options changed (build args, labels, target, network mode or extra hosts)"
	case recorded.Copy.Chown != current.Copy.Chown:
		return fmt.Sprintf("the COPY owner changed (%s, now %s)", orNone(recorded.Copy.Chown), orNone(current.Copy.Chown))
	}
	if changed := changedPre(recorded.Pre, current.Pre); len(changed) > 0 {
		return strings.Join(changed, ", ") + " changed"
	}
	return ""
}

func kindText(k string) string {
	if k == "auto" {
		return "dockerfile: auto"
	}
	return "a Dockerfile of the project"
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func sameBaseRefs(a, b []Base) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Ref != b[i].Ref {
			return false
		}
	}
	return true
}

func baseRefs(bs []Base) string {
	refs := make([]string, len(bs))
	for i, b := range bs {
		refs[i] = b.Ref
	}
	if len(refs) == 0 {
		return "none"
	}
	return strings.Join(refs, ", ")
}

// changedPre lists the files read before the project copy that were
// added, removed or changed, sorted.
func changedPre(a, b map[string]string) []string {
	var out []string
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			out = append(out, k)
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// TreeLabel is the value of LabelTree: the Tree of the project layer and,
// once a code layer was appended, the directory metadata it wrote above
// the project files (so the next append needs no layer download).
type TreeLabel struct {
	V    int    `json:"v"`
	Tree string `json:"tree"`
	Dirs []Dir  `json:"dirs,omitempty"`
}

// Label is the tree label's value.
func (t *TreeLabel) Label() string {
	b, err := json.Marshal(t)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// ParseTreeLabel reads a tree label.
func ParseTreeLabel(s string) (*TreeLabel, error) {
	var t TreeLabel
	if err := json.Unmarshal([]byte(s), &t); err != nil {
		return nil, fmt.Errorf("reading the %s label: %w", LabelTree, err)
	}
	if t.V != FingerprintVersion {
		return nil, fmt.Errorf("the %s label has version %d; this prefectctl reads version %d", LabelTree, t.V, FingerprintVersion)
	}
	return &t, nil
}
