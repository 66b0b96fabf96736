// Package apimock is the one fake of the Prefect API for unit tests: a
// registry of stubbed requests in the manner of the GitHub CLI's httpmock.
// A test registers the requests it expects, each with its response; any
// other request fails the test with a 404 the client sees; when the test
// ends, a stub that was never called fails it too. The registry serves
// over HTTP, so prefectctl's real client (and, for side-by-side
// comparisons, the real `prefect` CLI) talks to it unchanged.
//
// Unit tests of error paths use it; everything else runs against a real
// Prefect server (internal/testenv).
package apimock

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/prefectctl/prefectctl/internal/cloudapi"
	"github.com/prefectctl/prefectctl/internal/py"
)

// Request is one request the registry received.
type Request struct {
	Method string
	// Path is relative to the API root, without a leading slash and
	// without a Cloud workspace's accounts/…/workspaces/… prefix:
	// "deployments/name/hello/arthur".
	Path  string
	Query url.Values
	Body  []byte
}

// JSON decodes the request body with Python's json.loads.
func (r *Request) JSON() *py.Map {
	v, err := py.DecodeJSON(r.Body)
	if err != nil {
		return nil
	}
	m, _ := v.(*py.Map)
	return m
}

// Matcher says whether a stub answers a request.
type Matcher func(r *Request) bool

// Responder answers a request with a status and a JSON body.
type Responder func(r *Request) (status int, body string)

type stub struct {
	match   Matcher
	respond Responder
	repeat  bool
	calls   int
	where   string
}

// Registry is a fake Prefect API. Create it with New.
type Registry struct {
	t        testing.TB
	srv      *httptest.Server
	mu       sync.Mutex
	stubs    []*stub
	requests []Request
}

// New starts a registry for the test; it stops and verifies it when the
// test ends.
func New(t testing.TB) *Registry {
	t.Helper()
	r := &Registry{t: t}
	r.srv = httptest.NewServer(r)
	t.Cleanup(func() {
		r.srv.Close()
		r.Verify()
	})
	return r
}

// Register adds a stub that answers the first matching request only.
// Stubs are tried in the order they were registered.
func (r *Registry) Register(m Matcher, resp Responder) {
	r.add(m, resp, false)
}

// Always adds a stub that answers every matching request (a poll, the
// CSRF token); it need not be called at all.
func (r *Registry) Always(m Matcher, resp Responder) {
	r.add(m, resp, true)
}

func (r *Registry) add(m Matcher, resp Responder, repeat bool) {
	_, file, line := caller()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stubs = append(r.stubs, &stub{match: m, respond: resp, repeat: repeat, where: fmt.Sprintf("%s:%d", file, line)})
}

// URL is the API base URL to give a client or PREFECT_API_URL.
func (r *Registry) URL() string { return r.srv.URL + "/api" }

// Client is a prefectctl client for the registry that does not retry.
func (r *Registry) Client() *cloudapi.Client {
	c, err := cloudapi.New(cloudapi.Options{BaseURL: r.URL()})
	if err != nil {
		r.t.Fatal(err)
	}
	return c
}

// Requests lists the requests received so far, in order.
func (r *Registry) Requests() []Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Request(nil), r.requests...)
}

// Calls counts the requests received with method and path.
func (r *Registry) Calls(method, path string) int {
	n := 0
	for _, q := range r.Requests() {
		if q.Method == method && q.Path == path {
			n++
		}
	}
	return n
}

// Last is the last request received with method and path, or nil.
func (r *Registry) Last(method, path string) *Request {
	reqs := r.Requests()
	for i := len(reqs) - 1; i >= 0; i-- {
		if reqs[i].Method == method && reqs[i].Path == path {
			return &reqs[i]
		}
	}
	return nil
}

// Verify fails the test for each one-shot stub no request matched.
func (r *Registry) Verify() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range r.stubs {
		if !s.repeat && s.calls == 0 {
			r.t.Errorf("apimock: the stub registered at %s was never called", s.where)
		}
	}
}

var workspacePrefix = regexp.MustCompile(`^accounts/[^/]+/workspaces/[^/]+/`)

// ServeHTTP answers from the first stub that matches and fails the test
// on a request none matches.
func (r *Registry) ServeHTTP(w http.ResponseWriter, hr *http.Request) {
	body, _ := io.ReadAll(hr.Body)
	p := strings.TrimPrefix(hr.URL.Path, "/")
	p = strings.TrimPrefix(p, "api/")
	p = workspacePrefix.ReplaceAllString(p, "")
	req := Request{Method: hr.Method, Path: p, Query: hr.URL.Query(), Body: body}
	r.mu.Lock()
	r.requests = append(r.requests, req)
	var found *stub
	for _, s := range r.stubs {
		if (s.repeat || s.calls == 0) && s.match(&req) {
			found = s
			s.calls++
			break
		}
	}
	r.mu.Unlock()
	status, out := http.StatusNotFound, `{"detail": "Not Found"}`
	if found != nil {
		status, out = found.respond(&req)
	} else {
		r.t.Errorf("apimock: unexpected request %s %s", hr.Method, hr.URL.RequestURI())
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	io.WriteString(w, out)
}

// REST matches a method and an API path ("deployments/name/hello/arthur").
func REST(method, path string) Matcher {
	return func(r *Request) bool { return r.Method == method && r.Path == path }
}

// PathPrefix matches a method and any path that starts with prefix.
func PathPrefix(method, prefix string) Matcher {
	return func(r *Request) bool { return r.Method == method && strings.HasPrefix(r.Path, prefix) }
}

// Reply answers with status and body.
func Reply(status int, body string) Responder {
	return func(*Request) (int, string) { return status, body }
}

// JSON answers 200 with v encoded as json.dumps would (a *py.Map keeps
// its order).
func JSON(v any) Responder {
	b, err := py.EncodeJSON(v)
	if err != nil {
		panic(err)
	}
	return Reply(http.StatusOK, string(b))
}

// Sequence answers with each responder in turn, the last one again and
// again once all have answered.
func Sequence(rs ...Responder) Responder {
	var mu sync.Mutex
	i := 0
	return func(r *Request) (int, string) {
		mu.Lock()
		next := rs[min(i, len(rs)-1)]
		i++
		mu.Unlock()
		return next(r)
	}
}

// CSRFOff answers Prefect's CSRF token request, whenever it comes, as a
// server with CSRF protection off does.
func (r *Registry) CSRFOff() {
	r.Always(REST(http.MethodGet, "csrf-token"), Reply(http.StatusUnprocessableEntity, `{"detail": "CSRF protection is disabled."}`))
}
