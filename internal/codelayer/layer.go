package codelayer

import (
	"archive/tar"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// DefaultMTime is the time of every entry of a code layer: 2000-01-01
// UTC. A wall-clock time would make every layer new; zero (1970) breaks
// Python's zipfile (no dates before 1980) and reads as "no time" to some
// tools. SOURCE_DATE_EPOCH overrides it (see MTime).
var DefaultMTime = time.Unix(946684800, 0).UTC()

// MTime is the entry time for a code layer: $SOURCE_DATE_EPOCH (seconds)
// when env sets it to a number, else DefaultMTime.
func MTime(env func(string) (string, bool)) (time.Time, error) {
	if env == nil {
		return DefaultMTime, nil
	}
	s, ok := env("SOURCE_DATE_EPOCH")
	if !ok || strings.TrimSpace(s) == "" {
		return DefaultMTime, nil
	}
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n < 0 {
		return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH=%q is not a number of seconds since 1970", s)
	}
	return time.Unix(n, 0).UTC(), nil
}

// Entry is one file of the build context as COPY puts it in the image.
type Entry struct {
	// Path is slash separated and relative to the context root.
	Path string
	// Type is tar.TypeReg, tar.TypeDir or tar.TypeSymlink.
	Type byte
	// Mode holds the permission bits with setuid, setgid and sticky, as
	// Docker keeps them (no umask, no normalisation).
	Mode int64
	// Link is a symlink's target, verbatim.
	Link string
	// File is where a regular file's content is read; when empty, Data
	// holds it (a file the build step writes, such as the generated
	// Dockerfile).
	File string
	Data []byte
}

// EntryFor describes the context file rel under root as COPY copies it;
// ok is false for what Docker skips (sockets, pipes, devices). Hardlinks
// are regular files, as in the build context prefectctl sends Docker.
func EntryFor(root, rel string) (e Entry, ok bool, err error) {
	full := filepath.Join(root, filepath.FromSlash(rel))
	fi, err := os.Lstat(full)
	if err != nil {
		return Entry{}, false, err
	}
	e = Entry{Path: rel, Mode: modeBits(fi.Mode())}
	switch {
	case fi.IsDir():
		e.Type = tar.TypeDir
	case fi.Mode()&fs.ModeSymlink != 0:
		e.Type, e.Mode = tar.TypeSymlink, 0o777
		if e.Link, err = os.Readlink(full); err != nil {
			return Entry{}, false, err
		}
	case fi.Mode().IsRegular():
		e.Type, e.File = tar.TypeReg, full
	default:
		return Entry{}, false, nil
	}
	return e, true, nil
}

// modeBits is the permission bits plus setuid, setgid and sticky in tar's
// encoding.
func modeBits(m fs.FileMode) int64 {
	b := int64(m.Perm())
	if m&fs.ModeSetuid != 0 {
		b |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		b |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		b |= 0o1000
	}
	return b
}

// Dir is the metadata of a directory the layer writes above the project
// files: the destination and its ancestors.
type Dir struct {
	Path string `json:"p"` // slash separated, no leading slash
	Mode int64  `json:"m"`
	UID  int    `json:"u"`
	GID  int    `json:"g"`
}

// Placement says where and how the project files land in the image.
type Placement struct {
	// Dest is the COPY destination, an absolute directory ("/opt/prefect/flows/").
	Dest string
	// Dirs are the metadata of Dest and its ancestors as the layers below
	// have them (Docker copies them up unchanged); a missing one is 0755
	// root, as Docker creates it.
	Dirs []Dir
	// UID and GID own every project entry (COPY --chown; 0 otherwise).
	UID, GID int
	// MTime is every entry's time.
	MTime time.Time
}

// destRel is Dest without its slashes: "opt/prefect/flows".
func (p Placement) destRel() string { return strings.Trim(path.Clean("/"+p.Dest), "/") }

// ordered returns the entries in Docker's walk order (depth first,
// siblings in byte order: path components compared, not whole strings, so
// "a/x" comes before "a-b"), with a directory entry added for every parent
// the context lacks (a directory excluded by .dockerignore whose child is
// re-included), which the daemon creates 0755.
func ordered(entries []Entry) []Entry {
	byPath := make(map[string]Entry, len(entries))
	for _, e := range entries {
		byPath[e.Path] = e
	}
	for _, e := range entries {
		for d := path.Dir(e.Path); d != "." && d != "/"; d = path.Dir(d) {
			if _, ok := byPath[d]; !ok {
				byPath[d] = Entry{Path: d, Type: tar.TypeDir, Mode: 0o755}
			}
		}
	}
	out := make([]Entry, 0, len(byPath))
	for _, e := range byPath {
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return walkLess(out[i].Path, out[j].Path) })
	return out
}

func walkLess(a, b string) bool {
	for {
		ha, ra, moreA := strings.Cut(a, "/")
		hb, rb, moreB := strings.Cut(b, "/")
		if ha != hb {
			return ha < hb
		}
		if !moreA || !moreB {
			return !moreA && moreB
		}
		a, b = ra, rb
	}
}

// open returns a regular entry's content and its size.
func (e Entry) open() (io.ReadCloser, int64, error) {
	if e.File == "" {
		return io.NopCloser(strings.NewReader(string(e.Data))), int64(len(e.Data)), nil
	}
	f, err := os.Open(e.File)
	if err != nil {
		return nil, 0, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, st.Size(), nil
}

// Tree is the identity of what a code layer holds, independent of tar and
// gzip: sha256 over the destination, the owner and each entry's path,
// type, mode, link target and content hash, in walk order. The same
// project files give the same tree on any machine and Go version.
func Tree(entries []Entry, p Placement) (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "prefectctl code tree v1\ndest %s\nowner %d:%d\n", p.destRel(), p.UID, p.GID)
	for _, e := range ordered(entries) {
		switch e.Type {
		case tar.TypeReg:
			sum, err := contentHash(e)
			if err != nil {
				return "", err
			}
			fmt.Fprintf(h, "f %o %q %s\n", e.Mode, e.Path, sum)
		case tar.TypeSymlink:
			fmt.Fprintf(h, "l %q %q\n", e.Path, e.Link)
		default:
			fmt.Fprintf(h, "d %o %q\n", e.Mode, e.Path)
		}
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

func contentHash(e Entry) (string, error) {
	r, _, err := e.open()
	if err != nil {
		return "", fmt.Errorf("reading %s: %w", e.Path, err)
	}
	defer r.Close()
	h := sha256.New()
	if _, err := io.Copy(h, r); err != nil {
		return "", fmt.Errorf("reading %s: %w", e.Path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// writeTar writes the layer: the destination's ancestors and the
// destination (with the metadata of the layer below), then the project
// entries in walk order. Every entry has the same time, no user or group
// names, and the format Go picks (USTAR, PAX only for long or non-ASCII
// names), as Docker's own COPY layer has.
func writeTar(w io.Writer, entries []Entry, p Placement) error {
	tw := tar.NewWriter(w)
	dirs := map[string]Dir{}
	for _, d := range p.Dirs {
		dirs[strings.Trim(d.Path, "/")] = d
	}
	dest := p.destRel()
	if dest != "" {
		parts := strings.Split(dest, "/")
		for i := range parts {
			name := strings.Join(parts[:i+1], "/")
			d, ok := dirs[name]
			if !ok {
				d = Dir{Path: name, Mode: 0o755}
			}
			if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: name + "/", Mode: d.Mode, Uid: d.UID, Gid: d.GID, ModTime: p.MTime}); err != nil {
				return err
			}
		}
	}
	prefix := ""
	if dest != "" {
		prefix = dest + "/"
	}
	buf := make([]byte, 128*1024)
	for _, e := range ordered(entries) {
		hdr := &tar.Header{Name: prefix + e.Path, Mode: e.Mode, Uid: p.UID, Gid: p.GID, ModTime: p.MTime, Typeflag: e.Type}
		switch e.Type {
		case tar.TypeDir:
			hdr.Name += "/"
		case tar.TypeSymlink:
			hdr.Linkname = e.Link
		case tar.TypeReg:
			r, size, err := e.open()
			if err != nil {
				return fmt.Errorf("reading %s: %w", e.Path, err)
			}
			hdr.Size = size
			if err := tw.WriteHeader(hdr); err != nil {
				r.Close()
				return err
			}
			n, err := io.CopyBuffer(tw, io.LimitReader(r, size), buf)
			r.Close()
			if err != nil {
				return fmt.Errorf("reading %s: %w", e.Path, err)
			}
			if n != size {
				return fmt.Errorf("reading %s: the file changed size while the layer was written", e.Path)
			}
			continue
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
	}
	return tw.Close()
}

// Layer is a code layer written to a temporary file, gzip-compressed. It
// is a go-containerregistry v1.Layer.
type Layer struct {
	path      string
	diffID    v1.Hash
	digest    v1.Hash
	size      int64
	mediaType types.MediaType
}

var _ v1.Layer = (*Layer)(nil)

// BuildLayer writes the layer for entries at p into a temporary file in
// dir (os.TempDir() when empty), compressed with the standard library's
// gzip at the default level and a zero header, as Docker compresses its
// layers; the diff ID and digest are computed in the same pass. The
// caller removes it with Remove.
func BuildLayer(entries []Entry, p Placement, mediaType types.MediaType, dir string) (*Layer, error) {
	f, err := os.CreateTemp(dir, "prefectctl-layer-*.tar.gz")
	if err != nil {
		return nil, fmt.Errorf("writing the code layer: %w", err)
	}
	l := &Layer{path: f.Name(), mediaType: mediaType}
	fail := func(err error) (*Layer, error) {
		f.Close()
		os.Remove(l.path)
		return nil, fmt.Errorf("writing the code layer: %w", err)
	}
	digest, diff := sha256.New(), sha256.New()
	counted := &countWriter{w: io.MultiWriter(f, digest)}
	zw, err := gzip.NewWriterLevel(counted, gzip.DefaultCompression)
	if err != nil {
		return fail(err)
	}
	if err := writeTar(io.MultiWriter(zw, diff), entries, p); err != nil {
		return fail(err)
	}
	if err := zw.Close(); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		return fail(err)
	}
	l.size = counted.n
	l.digest = hashOf(digest)
	l.diffID = hashOf(diff)
	return l, nil
}

func hashOf(h hash.Hash) v1.Hash {
	return v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(h.Sum(nil))}
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// Remove deletes the layer's file.
func (l *Layer) Remove() error { return os.Remove(l.path) }

func (l *Layer) Digest() (v1.Hash, error)             { return l.digest, nil }
func (l *Layer) DiffID() (v1.Hash, error)             { return l.diffID, nil }
func (l *Layer) Size() (int64, error)                 { return l.size, nil }
func (l *Layer) MediaType() (types.MediaType, error)  { return l.mediaType, nil }
func (l *Layer) Compressed() (io.ReadCloser, error)   { return os.Open(l.path) }
func (l *Layer) Uncompressed() (io.ReadCloser, error) { return gunzipFile(l.path) }

func gunzipFile(p string) (io.ReadCloser, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	zr, err := gzip.NewReader(f)
	if err != nil {
		f.Close()
		return nil, err
	}
	return struct {
		io.Reader
		io.Closer
	}{zr, f}, nil
}
