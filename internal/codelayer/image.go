package codelayer

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path"
	"sort"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// EmptyTarDiffID is the diff ID of an empty tar (1024 zero bytes): the
// layer BuildKit writes for a WORKDIR that already exists.
const EmptyTarDiffID = "sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef"

// ErrNotFound means the registry has no image under the reference.
var ErrNotFound = errors.New("no such image in the registry")

// Image is one image as its registry serves it: the manifest and config
// exactly as stored (edits are made on the raw JSON, so fields
// go-containerregistry's types do not know survive), and both parsed for
// reading.
type Image struct {
	// Ref is the reference read (a tag, or the index child's digest).
	Ref       name.Reference
	Digest    v1.Hash
	MediaType types.MediaType
	// RawManifest and RawConfig are the stored bytes.
	RawManifest, RawConfig []byte
	Manifest               *v1.Manifest
	Config                 *v1.ConfigFile
	// ConfigMediaType is the manifest's config descriptor media type.
	ConfigMediaType types.MediaType

	img v1.Image
}

// Platform is the image's os/arch[/variant].
func (i *Image) Platform() string {
	p := i.Config.OS + "/" + i.Config.Architecture
	if i.Config.Variant != "" {
		p += "/" + i.Config.Variant
	}
	return p
}

// Label is the config's label k.
func (i *Image) Label(k string) string { return i.Config.Config.Labels[k] }

// ReadImage reads ref's manifest and config (two requests, plus one for an
// index). From an index it takes the child for platform ("os/arch"; when
// empty, the only child that is not an attestation). ErrNotFound when the
// registry has no such tag.
func ReadImage(ctx context.Context, ref name.Reference, platform string, opts []remote.Option) (*Image, error) {
	desc, err := remote.Get(ref, opts...)
	if err != nil {
		if notFound(err) {
			return nil, ErrNotFound
		}
		return nil, err
	}
	if desc.MediaType.IsIndex() {
		child, err := pickChild(desc, ref.String(), platform)
		if err != nil {
			return nil, err
		}
		ref = ref.Context().Digest(child.String())
		if desc, err = remote.Get(ref, opts...); err != nil {
			return nil, err
		}
	}
	if !desc.MediaType.IsImage() {
		return nil, fmt.Errorf("%s is a %s, not an image", ref, desc.MediaType)
	}
	img, err := desc.Image()
	if err != nil {
		return nil, err
	}
	rawCfg, err := img.RawConfigFile()
	if err != nil {
		return nil, err
	}
	m, err := v1.ParseManifest(bytes.NewReader(desc.Manifest))
	if err != nil {
		return nil, fmt.Errorf("reading the manifest of %s: %w", ref, err)
	}
	cfg, err := v1.ParseConfigFile(bytes.NewReader(rawCfg))
	if err != nil {
		return nil, fmt.Errorf("reading the config of %s: %w", ref, err)
	}
	return &Image{Ref: ref, Digest: desc.Digest, MediaType: desc.MediaType, RawManifest: desc.Manifest, RawConfig: rawCfg,
		Manifest: m, Config: cfg, ConfigMediaType: m.Config.MediaType, img: img}, nil
}

func notFound(err error) bool {
	var terr *transport.Error
	if !errors.As(err, &terr) {
		return false
	}
	if terr.StatusCode == http.StatusNotFound {
		return true
	}
	for _, d := range terr.Errors {
		if d.Code == transport.ManifestUnknownErrorCode || d.Code == transport.NameUnknownErrorCode {
			return true
		}
	}
	return false
}

// pickChild chooses an index's image for platform.
func pickChild(desc *remote.Descriptor, ref, platform string) (v1.Hash, error) {
	idx, err := desc.ImageIndex()
	if err != nil {
		return v1.Hash{}, err
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return v1.Hash{}, err
	}
	var want *v1.Platform
	if platform != "" {
		if want, err = v1.ParsePlatform(platform); err != nil {
			return v1.Hash{}, err
		}
	}
	var real []v1.Descriptor
	for _, d := range im.Manifests {
		if d.Platform == nil || d.Platform.OS == "unknown" || !d.MediaType.IsImage() {
			continue // attestations
		}
		real = append(real, d)
	}
	if want == nil {
		if len(real) != 1 {
			return v1.Hash{}, fmt.Errorf("%s is an index of %d platforms; the build step names none, so the image to append to is ambiguous", ref, len(real))
		}
		return real[0].Digest, nil
	}
	for _, d := range real {
		if d.Platform.OS == want.OS && d.Platform.Architecture == want.Architecture &&
			(want.Variant == "" || d.Platform.Variant == "" || want.Variant == d.Platform.Variant) {
			return d.Digest, nil
		}
	}
	return v1.Hash{}, fmt.Errorf("%s has no image for %s", ref, platform)
}

// ProjectLayer places the project copy in an image.
type ProjectLayer struct {
	// Layer indexes rootfs.diff_ids and the manifest's layers; History
	// indexes the config's history.
	Layer, History int
	CreatedBy      string
}

// FindProjectLayer locates the layer of the final `COPY . <dest>`: the
// last history entry that made a layer, skipping the empty layers BuildKit
// writes for a WORKDIR that exists. Every later layer must be empty, and
// the history must account for every layer.
func (i *Image) FindProjectLayer() (*ProjectLayer, error) {
	h := i.Config.History
	diffs := i.Config.RootFS.DiffIDs
	if len(h) == 0 {
		return nil, errors.New("its config has no history, so the project layer cannot be told from the others")
	}
	layerOf := make([]int, len(h))
	n := 0
	for k, e := range h {
		layerOf[k] = -1
		if !e.EmptyLayer {
			layerOf[k] = n
			n++
		}
	}
	if n != len(diffs) || len(diffs) != len(i.Manifest.Layers) {
		return nil, fmt.Errorf("its history lists %d layers but it has %d (manifest %d)", n, len(diffs), len(i.Manifest.Layers))
	}
	for k := len(h) - 1; k >= 0; k-- {
		li := layerOf[k]
		if li < 0 {
			continue
		}
		cb := h[k].CreatedBy
		if diffs[li].String() == EmptyTarDiffID && strings.Contains(cb, "WORKDIR") {
			continue
		}
		if !strings.Contains(cb, "COPY") {
			return nil, fmt.Errorf("its last layer that holds files was made by %q, not by COPY", strings.TrimSpace(cb))
		}
		for _, d := range diffs[li+1:] {
			if d.String() != EmptyTarDiffID {
				return nil, errors.New("a layer with files follows the project copy")
			}
		}
		return &ProjectLayer{Layer: li, History: k, CreatedBy: cb}, nil
	}
	return nil, errors.New("no layer was made by COPY")
}

// ReadDirs reads the directory entries a Docker COPY layer starts with
// (the destination's ancestors and the destination, with the metadata of
// the layers below) by streaming the start of the layer and stopping at
// the first other entry.
func (i *Image) ReadDirs(pl *ProjectLayer, dest string) ([]Dir, error) {
	layers, err := i.img.Layers()
	if err != nil {
		return nil, err
	}
	rc, err := layers[pl.Layer].Uncompressed()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	want := strings.Trim(path.Clean("/"+dest), "/")
	tr := tar.NewReader(rc)
	var out []Dir
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		nm := strings.Trim(path.Clean("/"+hdr.Name), "/")
		if hdr.Typeflag != tar.TypeDir || !(nm == want || strings.HasPrefix(want, nm+"/")) {
			return out, nil
		}
		out = append(out, Dir{Path: nm, Mode: hdr.Mode & 0o7777, UID: hdr.Uid, GID: hdr.Gid})
	}
}

// Appended is a new image: the previous one with its project layer
// replaced, ready to push.
type Appended struct {
	// RawManifest and RawConfig are the bytes to push; Digest is the
	// manifest's, ConfigDigest the config's (the image ID).
	RawManifest, RawConfig     []byte
	MediaType, ConfigMediaType types.MediaType
	Digest, ConfigDigest       v1.Hash
	// Layer is the new layer; nil when the previous image is reused as is.
	Layer *Layer
	// From is the previous image (its layers are mounted when it lives in
	// another repository).
	From     *Image
	Platform string
}

// Reuse is the previous image unchanged: the project files are the same.
func Reuse(prev *Image) *Appended {
	cd, _, _ := v1.SHA256(bytes.NewReader(prev.RawConfig))
	return &Appended{RawManifest: prev.RawManifest, RawConfig: prev.RawConfig, MediaType: prev.MediaType, ConfigMediaType: prev.ConfigMediaType,
		Digest: prev.Digest, ConfigDigest: cd, From: prev, Platform: prev.Platform()}
}

// HistoryComment marks the history entries of code layers.
const HistoryComment = "prefectctl.code-layer.v1"

// Assemble replaces prev's project layer by layer: in the config,
// rootfs.diff_ids and the history entry of the copy (created_by says
// prefectctl wrote it; its time stays that of the last full build) and the
// labels given; in the manifest, the layer's and the config's
// descriptors. Everything else is kept byte for byte where the JSON allows
// (media types included: a Docker manifest stays Docker, OCI stays OCI).
func Assemble(prev *Image, pl *ProjectLayer, layer *Layer, dest string, labels map[string]string) (*Appended, error) {
	diffID, _ := layer.DiffID()
	digest, _ := layer.Digest()
	size, _ := layer.Size()
	mt, _ := layer.MediaType()

	var top map[string]json.RawMessage
	if err := json.Unmarshal(prev.RawConfig, &top); err != nil {
		return nil, fmt.Errorf("reading the config of %s: %w", prev.Ref, err)
	}
	var err error
	if top["rootfs"], err = editObject(top["rootfs"], func(o map[string]json.RawMessage) error {
		var diffs []string
		if err := json.Unmarshal(o["diff_ids"], &diffs); err != nil || pl.Layer >= len(diffs) {
			return fmt.Errorf("reading rootfs.diff_ids: %v", err)
		}
		diffs[pl.Layer] = diffID.String()
		o["diff_ids"] = mustJSON(diffs)
		return nil
	}); err != nil {
		return nil, err
	}
	var hist []json.RawMessage
	if err := json.Unmarshal(top["history"], &hist); err != nil || pl.History >= len(hist) {
		return nil, fmt.Errorf("reading the history of %s: %v", prev.Ref, err)
	}
	if hist[pl.History], err = editObject(hist[pl.History], func(o map[string]json.RawMessage) error {
		o["created_by"] = mustJSON("COPY . " + dest + " # prefectctl code layer")
		o["comment"] = mustJSON(HistoryComment)
		return nil
	}); err != nil {
		return nil, err
	}
	top["history"] = mustJSON(hist)
	if len(labels) > 0 {
		if top["config"], err = editObject(top["config"], func(o map[string]json.RawMessage) error {
			ls := map[string]string{}
			if raw, ok := o["Labels"]; ok && string(raw) != "null" {
				if err := json.Unmarshal(raw, &ls); err != nil {
					return err
				}
			}
			for k, v := range labels {
				ls[k] = v
			}
			o["Labels"] = mustJSON(ls)
			return nil
		}); err != nil {
			return nil, err
		}
	}
	rawCfg := mustJSON(top)
	cfgDigest, cfgSize, _ := v1.SHA256(bytes.NewReader(rawCfg))

	var man map[string]json.RawMessage
	if err := json.Unmarshal(prev.RawManifest, &man); err != nil {
		return nil, fmt.Errorf("reading the manifest of %s: %w", prev.Ref, err)
	}
	if man["config"], err = editObject(man["config"], func(o map[string]json.RawMessage) error {
		o["digest"] = mustJSON(cfgDigest.String())
		o["size"] = mustJSON(cfgSize)
		return nil
	}); err != nil {
		return nil, err
	}
	var ls []json.RawMessage
	if err := json.Unmarshal(man["layers"], &ls); err != nil || pl.Layer >= len(ls) {
		return nil, fmt.Errorf("reading the layers of %s: %v", prev.Ref, err)
	}
	ls[pl.Layer] = orderedObject([]string{"mediaType", "size", "digest"}, map[string]json.RawMessage{
		"mediaType": mustJSON(string(mt)), "size": mustJSON(size), "digest": mustJSON(digest.String()),
	})
	man["layers"] = mustJSON(ls)
	rawMan := orderedObject([]string{"schemaVersion", "mediaType", "config", "layers"}, man)
	manDigest, _, _ := v1.SHA256(bytes.NewReader(rawMan))
	return &Appended{RawManifest: rawMan, RawConfig: rawCfg, MediaType: prev.MediaType, ConfigMediaType: prev.ConfigMediaType,
		Digest: manDigest, ConfigDigest: cfgDigest, Layer: layer, From: prev, Platform: prev.Platform()}, nil
}

// LayerMediaType is the media type of a new layer for prev: gzip of the
// family of prev's project layer (Docker or OCI; a zstd layer becomes
// gzip, which every runtime reads).
func LayerMediaType(prev *Image, pl *ProjectLayer) types.MediaType {
	old := prev.Manifest.Layers[pl.Layer].MediaType
	if strings.HasPrefix(string(old), "application/vnd.oci.") || prev.MediaType == types.OCIManifestSchema1 {
		return types.OCILayer
	}
	return types.DockerLayer
}

func editObject(raw json.RawMessage, edit func(map[string]json.RawMessage) error) (json.RawMessage, error) {
	o := map[string]json.RawMessage{}
	if len(raw) > 0 && string(raw) != "null" {
		if err := json.Unmarshal(raw, &o); err != nil {
			return nil, err
		}
	}
	if err := edit(o); err != nil {
		return nil, err
	}
	return mustJSON(o), nil
}

// orderedObject writes first's keys in that order, then the rest sorted
// (encoding/json's map order), so manifests keep Docker's familiar layout
// and the same edit always gives the same bytes.
func orderedObject(first []string, m map[string]json.RawMessage) []byte {
	var b bytes.Buffer
	b.WriteByte('{')
	seen := map[string]bool{}
	emit := func(k string) {
		v, ok := m[k]
		if !ok || seen[k] {
			return
		}
		seen[k] = true
		if b.Len() > 1 {
			b.WriteByte(',')
		}
		b.Write(mustJSON(k))
		b.WriteByte(':')
		b.Write(mustJSON(v))
	}
	for _, k := range first {
		emit(k)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		emit(k)
	}
	b.WriteByte('}')
	return b.Bytes()
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
