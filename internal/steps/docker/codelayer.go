package docker

// Code-only redeploys: a build step whose image differs from the previous
// one only in the project files appends them as one layer to that image,
// in the registry, without Docker (internal/codelayer does the registry
// work). This file decides between that and a full Docker build, builds
// the code layer, and writes the fingerprint labels on full builds.

import (
	"context"
	"errors"
	"fmt"
	"path"
	"regexp"
	"sort"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/moby/moby/client"

	"github.com/prefectctl/prefectctl/internal/codelayer"
	"github.com/prefectctl/prefectctl/internal/py"
	reg "github.com/prefectctl/prefectctl/internal/registry"
)

// ImageMode is how a build_docker_image step makes its image.
type ImageMode string

const (
	// ModeFullBuild builds with Docker, as prefect-docker does.
	ModeFullBuild ImageMode = "full build"
	// ModeCodeLayer appends the project files as one layer to the previous
	// image, in the registry, without Docker.
	ModeCodeLayer ImageMode = "code layer"
)

// Hints tell a build step what the deployment around it does.
type Hints struct {
	// Pushed is set when a push_docker_image step of the deployment pushes
	// the image: a code layer is assembled in the registry, so a build
	// whose image is not pushed is always a full build.
	Pushed bool
	// FullBuild forces Docker (deploy --full-build).
	FullBuild bool
	// Previous lists the images the deployment runs now (its
	// job_variables.image on the server): candidates for the image to
	// append to, after the step's own tag.
	Previous []string
	// Credentials are the push step's credentials mapping, when it has one.
	Credentials *reg.Credentials
}

// Decision is how a build step makes its image, and why.
type Decision struct {
	Image  string // image_name
	Mode   ImageMode
	Reason string
	// Previous is the image a code layer is appended to.
	Previous string
	// Unchanged is set when the project files are those of Previous: the
	// image is Previous itself, and nothing is uploaded.
	Unchanged bool
	// Warnings are things the user should know (a base image that could
	// not be re-checked).
	Warnings []string
	// Pending is set when the step's inputs need earlier steps' outputs:
	// it is decided only when it runs.
	Pending bool

	proj     *buildTree
	prev     *codelayer.Image
	prevTree *codelayer.TreeLabel
	pl       *codelayer.ProjectLayer
	dest     string
	tree     string
	ropts    reg.Options
}

// String is the decision in one line: "code layer: …" or "full build: …".
func (d *Decision) String() string {
	if d.Reason == "" {
		return string(d.Mode)
	}
	return string(d.Mode) + ": " + d.Reason
}

// Decide says how the build step with inputs in (templated) would make
// its image in dir, reading the registry but changing nothing. A step
// whose tag is not known yet (an earlier step's output) leaves tag out.
func (s *Steps) Decide(ctx context.Context, dir string, in *py.Map, h *Hints) (*Decision, error) {
	if dir == "" {
		dir = s.opts.Dir
	}
	b, err := s.parseBuild(dir, in)
	if err != nil {
		return nil, err
	}
	return s.decide(ctx, dir, b, h)
}

func (s *Steps) decide(ctx context.Context, dir string, b *buildSpec, h *Hints) (*Decision, error) {
	d := &Decision{Image: b.imageName, Mode: ModeFullBuild}
	switch {
	case h == nil:
		return d, nil
	case h.FullBuild:
		d.Reason = "--full-build"
		return d, nil
	case !h.Pushed:
		d.Reason = "no push_docker_image step pushes it (a code layer is assembled in the registry)"
		return d, nil
	}
	p, why, err := s.readProject(ctx, dir, b, false)
	if err != nil {
		return nil, err
	}
	if why != "" {
		d.Reason = why
		return d, nil
	}
	d.proj = p
	d.ropts = s.opts.Registry
	if h.Credentials != nil {
		d.ropts.Credentials = h.Credentials
	}
	prev, fp, note, err := s.findPrevious(ctx, b, h.Previous, d.ropts)
	if err != nil {
		d.Reason = err.Error()
		return d, nil
	}
	if prev == nil {
		d.Reason = note
		return d, nil
	}
	since := " since " + prev.Ref.String()
	if why := codelayer.Mismatch(fp, p.fp); why != "" {
		d.Reason = why + since
		return d, nil
	}
	platform := normPlatform(b.platform)
	if platform == "" {
		platform = prev.Platform()
	}
	if b.opts.PullParent {
		for i, base := range p.fp.Bases {
			recorded := fp.Bases[i].Config
			bc, err := s.baseConfig(ctx, base.Ref, platform, d.ropts)
			if err != nil {
				d.Warnings = append(d.Warnings, fmt.Sprintf("base image %s not re-checked (pull: true), the code layer keeps %s: %s", base.Ref, short(recorded), firstLine(err.Error())))
				continue
			}
			if recorded != "" && bc.Digest != recorded {
				d.Reason = fmt.Sprintf("the base image %s changed%s (%s, now %s)", base.Ref, since, short(recorded), short(bc.Digest))
				return d, nil
			}
		}
	}
	pl, err := prev.FindProjectLayer()
	if err != nil {
		d.Reason = fmt.Sprintf("cannot tell the project layer of %s: %v", prev.Ref, err)
		return d, nil
	}
	d.dest = p.fp.Copy.Dest
	if d.dest == "" {
		d.dest = fp.Copy.Dest
	}
	if d.dest == "" {
		d.Reason = fmt.Sprintf("%s does not record where the project files are", prev.Ref)
		return d, nil
	}
	pm, err := p.placement(d.dest, nil, s.opts.Environ)
	if err != nil {
		return nil, err
	}
	if d.tree, err = codelayer.Tree(p.entries, pm); err != nil {
		return nil, err
	}
	d.prev, d.pl = prev, pl
	d.Mode, d.Previous = ModeCodeLayer, prev.Ref.String()
	if t, err := codelayer.ParseTreeLabel(prev.Label(codelayer.LabelTree)); err == nil {
		d.prevTree = t
		if t.Tree == d.tree {
			d.Unchanged = true
			d.Reason = "no project file changed" + since + "; nothing to upload"
			return d, nil
		}
	}
	d.Reason = "only project files changed" + since
	return d, nil
}

func short(digest string) string {
	if digest == "" {
		return "the recorded base"
	}
	if _, hex, ok := strings.Cut(digest, ":"); ok && len(hex) > 12 {
		return digest[:len(digest)-len(hex)+12]
	}
	return digest
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// defaultTagPattern matches DefaultTag's timestamps (2026-01-02t03-04-05-123456-00-00).
var defaultTagPattern = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}t\d{2}-\d{2}-\d{2}-\d{6}-00-00$`)

// findPrevious picks the image a code layer goes on, the first of these
// that exists and carries a fingerprint: the step's own tag (a fixed tag,
// or the same commit deployed again), the images the deployment runs now
// (previous; same registry only, since blobs cannot be mounted across
// registries), and the newest three of prefectctl's default timestamp
// tags in the repository. note says why none fits when prev is nil.
func (s *Steps) findPrevious(ctx context.Context, b *buildSpec, previous []string, o reg.Options) (prev *codelayer.Image, fp *codelayer.Fingerprint, note string, err error) {
	target, err := o.ParseReference(b.imageName)
	if err != nil {
		return nil, nil, "", err
	}
	repo := target.Context()
	var cands []string
	if b.tag != "" {
		cands = append(cands, b.imageName+":"+b.tag)
	}
	for _, p := range previous {
		r, err := o.ParseReference(p)
		if err != nil || r.Context().RegistryStr() != repo.RegistryStr() {
			continue
		}
		cands = append(cands, p)
	}
	platform := normPlatform(b.platform)
	seen := map[string]bool{}
	try := func(ref string) (bool, error) {
		if seen[ref] {
			return false, nil
		}
		seen[ref] = true
		img, err := s.readImage(ctx, ref, platform, o)
		if errors.Is(err, codelayer.ErrNotFound) {
			return false, nil
		}
		if err != nil {
			return false, fmt.Errorf("cannot read the previous image %s: %s", ref, firstLine(reg.Explain(ref, "read", err).Msg))
		}
		label := img.Label(codelayer.LabelFingerprint)
		if label == "" {
			if note == "" {
				note = fmt.Sprintf("%s has no prefectctl fingerprint (it was not built by prefectctl)", ref)
			}
			return false, nil
		}
		f, perr := codelayer.ParseFingerprint(label)
		if perr != nil {
			if note == "" {
				note = fmt.Sprintf("%s: %v", ref, perr)
			}
			return false, nil
		}
		prev, fp = img, f
		return true, nil
	}
	for _, c := range cands {
		if ok, err := try(c); ok || err != nil {
			return prev, fp, "", err
		}
	}
	for _, t := range s.timestampTags(ctx, repo, o) {
		if ok, err := try(b.imageName + ":" + t); ok || err != nil {
			return prev, fp, "", err
		}
	}
	if note == "" {
		note = fmt.Sprintf("no earlier image of %s built by prefectctl to append to", b.imageName)
	}
	return nil, nil, note, nil
}

// timestampTags lists the repository's newest three default tags; none
// when it cannot be listed.
func (s *Steps) timestampTags(ctx context.Context, repo name.Repository, o reg.Options) []string {
	tags, err := remote.List(repo, o.Remote(ctx, nil)...)
	if err != nil {
		return nil
	}
	var out []string
	for _, t := range tags {
		if defaultTagPattern.MatchString(t) {
			out = append(out, t)
		}
	}
	sort.Sort(sort.Reverse(sort.StringSlice(out)))
	if len(out) > 3 {
		out = out[:3]
	}
	return out
}

// readImage reads an image's manifest and config once per invocation.
func (s *Steps) readImage(ctx context.Context, ref, platform string, o reg.Options) (*codelayer.Image, error) {
	key := ref + "\x00" + platform
	if o.Credentials != nil {
		key += "\x00" + o.Credentials.Username + "@" + o.Credentials.RegistryURL
	}
	img, err := s.images.Get(key, func() (*codelayer.Image, error) {
		r, err := o.ParseReference(ref)
		if err != nil {
			return nil, err
		}
		img, err := codelayer.ReadImage(ctx, r, platform, o.Remote(ctx, nil))
		if errors.Is(err, codelayer.ErrNotFound) {
			return nil, nil // a kept answer: the tag does not exist
		}
		return img, err
	})
	if err == nil && img == nil {
		return nil, codelayer.ErrNotFound
	}
	return img, err
}

// baseConfig resolves a base image's current config digest once per
// invocation, through $PREFECTCTL_REGISTRY_MIRRORS for Docker Hub.
func (s *Steps) baseConfig(ctx context.Context, ref, platform string, o reg.Options) (*codelayer.BaseConfig, error) {
	return s.bases.Get(ref+"\x00"+platform, func() (*codelayer.BaseConfig, error) {
		mirrors, err := codelayer.ParseMirrors(s.env(codelayer.EnvMirrors))
		if err != nil {
			return nil, err
		}
		return codelayer.ResolveBaseConfig(ctx, ref, platform, mirrors, o)
	})
}

// versions resolves the auto base image's versions once per directory.
func (s *Steps) versions(ctx context.Context, dir string) Versions {
	v, _ := s.versionMemo.Get(dir, func() (Versions, error) { return ResolveVersions(ctx, &s.opts, dir), nil })
	return v
}

// pendingImage is a code-layer image built and not yet pushed.
type pendingImage struct {
	image *codelayer.Appended
	name  string
	tags  []string
	ropts reg.Options
	note  string
}

// appendLayer is build_docker_image in code-layer mode: the new layer and
// the edited config and manifest, kept until push_docker_image sends them.
func (s *Steps) appendLayer(ctx context.Context, dir string, b *buildSpec, d *Decision) (*py.Map, error) {
	p := d.proj
	if p.auto && b.persist {
		if err := s.persistDockerfile(dir, b, p.text); err != nil {
			return nil, err
		}
	}
	var a *codelayer.Appended
	note := ""
	if d.Unchanged {
		a = codelayer.Reuse(d.prev)
		note = "no project file changed; the image is " + d.Previous
	} else {
		var dirs []codelayer.Dir
		if d.prevTree != nil && len(d.prevTree.Dirs) > 0 {
			dirs = d.prevTree.Dirs
		} else {
			var err error
			if dirs, err = d.prev.ReadDirs(d.pl, d.dest); err != nil {
				fmt.Fprintf(s.opts.Stderr, "Warning: could not read the directories above the project files from %s (%v); writing them 0755 root\n", d.Previous, err)
				dirs = nil
			}
		}
		pm, err := p.placement(d.dest, dirs, s.opts.Environ)
		if err != nil {
			return nil, err
		}
		layer, err := codelayer.BuildLayer(p.entries, pm, codelayer.LayerMediaType(d.prev, d.pl), "")
		if err != nil {
			return nil, err
		}
		s.keepLayer(layer)
		labels := map[string]string{codelayer.LabelTree: (&codelayer.TreeLabel{V: codelayer.FingerprintVersion, Tree: d.tree, Dirs: dirs}).Label()}
		if a, err = codelayer.Assemble(d.prev, d.pl, layer, d.dest, labels); err != nil {
			return nil, err
		}
		size, _ := layer.Size()
		note = fmt.Sprintf("%d project entries in one layer (%s) on %s", len(p.entries), humanBytes(size), d.Previous)
	}
	tags := append([]string{b.tag}, b.additional...)
	s.mu.Lock()
	if s.appended == nil {
		s.appended = map[string]*pendingImage{}
	}
	pi := &pendingImage{image: a, name: b.imageName, tags: tags, ropts: d.ropts, note: note}
	for _, t := range tags {
		s.appended[b.imageName+":"+t] = pi
	}
	s.mu.Unlock()
	fmt.Fprintf(s.opts.Stderr, "Code layer for %s:%s: %s; image %s\n", b.imageName, b.tag, note, a.ConfigDigest)
	for _, w := range d.Warnings {
		fmt.Fprintf(s.opts.Stderr, "Warning: %s\n", w)
	}
	return b.output(a.ConfigDigest.String()), nil
}

func (s *Steps) keepLayer(l *codelayer.Layer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.layers = append(s.layers, l)
}

// pendingFor is the code-layer image a push of name:tag sends, if any.
func (s *Steps) pendingFor(imageName string, tag *string) *pendingImage {
	s.mu.Lock()
	defer s.mu.Unlock()
	if tag != nil {
		return s.appended[imageName+":"+*tag]
	}
	for _, p := range s.appended {
		if p.name == imageName {
			return p
		}
	}
	return nil
}

// pushAppended is push_docker_image for a code-layer image: the registry
// gets what it lacks (one layer and the config, or nothing) and the
// manifest under each tag.
func (s *Steps) pushAppended(ctx context.Context, pi *pendingImage, imageName string, tag *string, additional []string, creds *reg.Credentials) error {
	o := pi.ropts
	if creds != nil {
		o.Credentials = creds
	}
	tags := pi.tags
	if tag != nil {
		tags = append([]string{*tag}, additional...)
	}
	target, err := o.ParseReference(imageName)
	if err != nil {
		return fmt.Errorf("invalid image name %q: %w", imageName, err)
	}
	repo := target.Context()
	stats, err := codelayer.Push(ctx, pi.image, repo, tags, o)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		re := reg.Explain(imageName+":"+tags[0], "push", err)
		return hintErr(fmt.Sprintf("pushing %s:%s failed: %v", imageName, tags[0], err), re.Hint, err)
	}
	for _, t := range tags {
		ref := imageName + ":" + t
		digest := pi.image.Digest.String()
		if !s.opts.SkipVerify {
			got, err := remote.Head(repo.Tag(t), o.Remote(ctx, nil)...)
			if err != nil {
				return hintErr(fmt.Sprintf("verifying the push of %s: %v", ref, err), "check that the registry keeps what it was sent", err)
			}
			if got.Digest != pi.image.Digest {
				return hintErr(fmt.Sprintf("registry serves %s for %s, but prefectctl pushed %s: another push may have moved the tag", got.Digest, ref, pi.image.Digest), "deploy again", nil)
			}
		}
		s.mu.Lock()
		s.pushed = append(s.pushed, Pushed{Image: ref, Digest: digest, Platform: pi.image.Platform})
		s.mu.Unlock()
		fmt.Fprintf(s.opts.Stderr, "Pushed %s (%s) without Docker: %s\n", ref, digest, pushSummary(stats))
	}
	return nil
}

func pushSummary(st codelayer.PushStats) string {
	if st.Blobs == 0 {
		return fmt.Sprintf("no blob uploaded, %d requests", st.Requests)
	}
	return fmt.Sprintf("%d blob(s) uploaded, %s sent in %d requests", st.Blobs, humanBytes(st.Bytes), st.Requests)
}

// codeLabels are the fingerprint labels of a full build, so that a later
// deploy can append to its image: the project as the build reads it, and
// each base image's ID, pulled first when the step pulls (then the build
// itself need not). Nil when the image cannot take a code layer.
func (s *Steps) codeLabels(ctx context.Context, api API, dir string, b *buildSpec) (map[string]string, error) {
	p, why, err := s.readProject(ctx, dir, b, true)
	if err != nil || why != "" {
		return nil, nil // the build reports what is wrong, if anything is
	}
	for i, base := range p.fp.Bases {
		if b.opts.PullParent {
			if err := s.pullImage(ctx, api, base.Ref, b); err != nil {
				return nil, err
			}
		}
		ii, err := api.ImageInspect(ctx, base.Ref)
		if err != nil {
			return nil, nil // a base the daemon lacks: the build fails on it
		}
		p.fp.Bases[i].Config = ii.ID
		if base.Ref == p.an.FinalBase && p.fp.Copy.Dest == "" && ii.Config != nil {
			wd := ii.Config.WorkingDir
			if wd == "" {
				wd = "/"
			}
			p.fp.Copy.Dest = dirOf(wd, p.an.RelDest)
		}
	}
	if len(p.fp.Bases) > 0 && b.opts.PullParent {
		// Pulled above: the build uses exactly the images fingerprinted.
		b.opts.PullParent = false
	}
	if p.fp.Copy.Dest == "" {
		if p.an.FinalBase != "" {
			return nil, nil
		}
		p.fp.Copy.Dest = dirOf("/", p.an.RelDest)
	}
	pm, err := p.placement(p.fp.Copy.Dest, nil, s.opts.Environ)
	if err != nil {
		return nil, err
	}
	tree, err := codelayer.Tree(p.entries, pm)
	if err != nil {
		return nil, err
	}
	return map[string]string{
		codelayer.LabelFingerprint: p.fp.Label(),
		codelayer.LabelTree:        (&codelayer.TreeLabel{V: codelayer.FingerprintVersion, Tree: tree}).Label(),
	}, nil
}

// dirOf is the directory rel names relative to base, with a trailing slash.
func dirOf(base, rel string) string {
	p := path.Join("/", base, rel)
	if p != "/" {
		p += "/"
	}
	return p
}

// pullImage pulls ref through the daemon (its mirrors and credentials
// apply) for the step's platform, printing progress as the build would.
func (s *Steps) pullImage(ctx context.Context, api API, ref string, b *buildSpec) error {
	o := client.ImagePullOptions{Platforms: b.opts.Platforms}
	if host, err := reg.RegistryOf(ref); err == nil {
		if auth, err := reg.AuthFor(ctx, host, s.opts.Registry); err == nil {
			if enc, err := encodeAuth(auth.Username, auth.Password, auth.IdentityToken, auth.RegistryToken, host); err == nil {
				o.RegistryAuth = enc
			}
		}
	}
	resp, err := api.ImagePull(ctx, ref, o)
	if err != nil {
		return s.buildError("pulling "+ref+": "+err.Error(), "", err)
	}
	defer resp.Close()
	return readMessages(resp, func(m *message) error {
		if e := m.err(); e != "" {
			return s.buildError("pulling "+ref+": "+e, "", nil)
		}
		if m.Status != "" && m.Progress == "" {
			line := m.Status
			if m.ID != "" {
				line = m.ID + ": " + line
			}
			fmt.Fprintln(s.opts.Stderr, line)
		}
		return nil
	})
}
