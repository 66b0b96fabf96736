package codelayer

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/prefectctl/prefectctl/internal/registry"
)

// PushStats counts what a push sent.
type PushStats struct {
	Requests int
	// Blobs is how many blobs' contents were uploaded (a blob the
	// registry already has, or one mounted from another repository, is
	// not), and Bytes how many bytes of request bodies were sent in all.
	Blobs int
	Bytes int64
	// Tagged is how many tags were written (a tag already at the digest
	// is left alone).
	Tagged int
}

// Push uploads what the registry lacks of a to repo and points each tag
// at it: the previous image's layers by cross-repository mount when that
// image lives in another repository (distribution refuses a manifest
// whose blobs are not linked in its repository), the new layer and the
// config after a HEAD finds them missing, and the manifest last. A tag
// moves only with its manifest PUT, so a failure before leaves every tag
// where it was.
func Push(ctx context.Context, a *Appended, repo name.Repository, tags []string, o registry.Options) (PushStats, error) {
	c := &counter{}
	opts := o.Remote(ctx, func(rt http.RoundTripper) http.RoundTripper { c.rt = rt; return c })
	p, err := remote.NewPusher(opts...)
	if err != nil {
		return c.stats(), err
	}
	var newDigest v1.Hash
	if a.Layer != nil {
		newDigest, _ = a.Layer.Digest()
	}
	if from := a.From; from != nil && from.Ref.Context().String() != repo.String() {
		layers, err := from.img.Layers()
		if err != nil {
			return c.stats(), err
		}
		var wg sync.WaitGroup
		errs := make([]error, len(layers))
		sem := make(chan struct{}, 4)
		for k, l := range layers {
			if d, _ := l.Digest(); d == newDigest {
				continue
			}
			wg.Add(1)
			sem <- struct{}{}
			go func(k int, l v1.Layer) {
				defer wg.Done()
				defer func() { <-sem }()
				errs[k] = p.Upload(ctx, repo, l)
			}(k, l)
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				return c.stats(), fmt.Errorf("mounting the layers of %s: %w", from.Ref, err)
			}
		}
	}
	// The code layer and the config go side by side: each is a HEAD and,
	// when missing, an upload of a few round trips, and a distant registry
	// makes those the push's time.
	var layerErr, configErr error
	var wg sync.WaitGroup
	if a.Layer != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			layerErr = p.Upload(ctx, repo, a.Layer)
		}()
	}
	configErr = p.Upload(ctx, repo, static.NewLayer(a.RawConfig, a.ConfigMediaType))
	wg.Wait()
	if layerErr != nil {
		return c.stats(), fmt.Errorf("uploading the code layer: %w", layerErr)
	}
	if configErr != nil {
		return c.stats(), fmt.Errorf("uploading the image config: %w", configErr)
	}
	for _, t := range tags {
		before := c.puts.Load()
		if err := p.Push(ctx, repo.Tag(t), rawManifest{a.RawManifest, a.MediaType}); err != nil {
			return c.stats(), fmt.Errorf("writing the manifest of %s:%s: %w", repo, t, err)
		}
		if c.puts.Load() > before {
			c.tagged.Add(1)
		}
	}
	return c.stats(), nil
}

// rawManifest is a manifest pushed byte for byte.
type rawManifest struct {
	b  []byte
	mt types.MediaType
}

func (r rawManifest) RawManifest() ([]byte, error)        { return r.b, nil }
func (r rawManifest) MediaType() (types.MediaType, error) { return r.mt, nil }

// counter counts the requests of a push and what they send.
type counter struct {
	rt                    http.RoundTripper
	requests, blobs, puts atomic.Int64
	bytes, tagged         atomic.Int64
}

func (c *counter) RoundTrip(r *http.Request) (*http.Response, error) {
	c.requests.Add(1)
	isUpload := strings.Contains(r.URL.Path, "/blobs/uploads/")
	if r.Body != nil && r.Body != http.NoBody {
		body := &countingBody{ReadCloser: r.Body, n: &c.bytes}
		r2 := r.Clone(r.Context())
		r2.Body = body
		r = r2
		if isUpload && (r.Method == http.MethodPatch || r.Method == http.MethodPut) && r.ContentLength != 0 {
			c.blobs.Add(1)
		}
	}
	if r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/manifests/") {
		c.puts.Add(1)
	}
	return c.rt.RoundTrip(r)
}

func (c *counter) stats() PushStats {
	return PushStats{Requests: int(c.requests.Load()), Blobs: int(c.blobs.Load()), Bytes: c.bytes.Load(), Tagged: int(c.tagged.Load())}
}

type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	return n, err
}
