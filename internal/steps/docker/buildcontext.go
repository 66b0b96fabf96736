package docker

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// contextFiles lists the context-relative paths (slash separated, sorted)
// that go into the build context: everything under root not excluded by
// ig, plus the files in keep, which Docker always sends because the daemon
// needs them (the Dockerfile and .dockerignore) and itself drops them from
// COPY when .dockerignore excludes them.
func contextFiles(root string, ig *Ignore, keep ...string) ([]string, error) {
	var out []string
	keepSet := map[string]bool{}
	for _, k := range keep {
		if k != "" {
			keepSet[path.Clean(k)] = true
		}
	}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == root {
			return nil
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if ig.Excluded(rel) && !keepSet[rel] {
			if d.IsDir() && !ig.mayReinclude(rel) && !keptBelow(keepSet, rel) {
				return fs.SkipDir
			}
			return nil
		}
		if d.Type()&(fs.ModeSocket|fs.ModeNamedPipe|fs.ModeDevice) != 0 {
			return nil
		}
		out = append(out, rel)
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Strings(out)
	return out, nil
}

func keptBelow(keep map[string]bool, dir string) bool {
	for k := range keep {
		if strings.HasPrefix(k, dir+"/") {
			return true
		}
	}
	return false
}

// extraFile is a file added to the context that is not on disk under the
// context root (a Dockerfile given by an absolute path outside it).
type extraFile struct {
	name string
	data []byte
}

// writeContextTar writes root's files as an uncompressed tar, the format
// the Engine API's /build takes. Owner ids are zeroed like the Docker CLI
// does, so the image does not depend on who ran the build.
func writeContextTar(ctx context.Context, w io.Writer, root string, files []string, extra []extraFile) error {
	tw := tar.NewWriter(w)
	buf := make([]byte, 256*1024)
	for _, rel := range files {
		if err := ctx.Err(); err != nil {
			return err
		}
		full := filepath.Join(root, filepath.FromSlash(rel))
		fi, err := os.Lstat(full)
		if err != nil {
			return fmt.Errorf("reading build context: %w", err)
		}
		link := ""
		if fi.Mode()&fs.ModeSymlink != 0 {
			if link, err = os.Readlink(full); err != nil {
				return fmt.Errorf("reading build context: %w", err)
			}
		}
		hdr, err := tar.FileInfoHeader(fi, link)
		if err != nil {
			return fmt.Errorf("reading build context %s: %w", rel, err)
		}
		hdr.Name = rel
		if fi.IsDir() {
			hdr.Name += "/"
		}
		hdr.Uid, hdr.Gid, hdr.Uname, hdr.Gname = 0, 0, "", ""
		// As the docker CLI does: whole-second times and no atime/ctime,
		// so PAX records appear only for long names. BuildKit sniffs the
		// upload's first header block and takes a leading PAX record for
		// a Dockerfile.
		hdr.ModTime = hdr.ModTime.Truncate(time.Second)
		hdr.AccessTime, hdr.ChangeTime = time.Time{}, time.Time{}
		hdr.Format = tar.FormatPAX
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if fi.Mode().IsRegular() {
			f, err := os.Open(full)
			if err != nil {
				return fmt.Errorf("reading build context: %w", err)
			}
			n, err := io.CopyBuffer(tw, io.LimitReader(f, hdr.Size), buf)
			f.Close()
			if err != nil {
				return fmt.Errorf("reading build context %s: %w", rel, err)
			}
			if n != hdr.Size {
				return fmt.Errorf("reading build context %s: file changed size during the build", rel)
			}
		}
	}
	for _, e := range extra {
		hdr := &tar.Header{Name: e.name, Mode: 0o644, Size: int64(len(e.data)), Typeflag: tar.TypeReg, Format: tar.FormatPAX}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if _, err := tw.Write(e.data); err != nil {
			return err
		}
	}
	return tw.Close()
}

// contextReader streams the tar through a pipe so a large context is
// never held in memory; closing the reader stops the writer.
func contextReader(ctx context.Context, root string, files []string, extra []extraFile) io.ReadCloser {
	pr, pw := io.Pipe()
	go func() {
		err := writeContextTar(ctx, pw, root, files, extra)
		if err != nil && !errors.Is(err, io.ErrClosedPipe) {
			pw.CloseWithError(err)
			return
		}
		pw.Close()
	}()
	return pr
}
