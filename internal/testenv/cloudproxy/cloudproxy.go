// Package cloudproxy serves a real self-hosted Prefect server under Prefect
// Cloud's URL shapes on loopback, for tests of Cloud code paths: workspace
// calls under /api/accounts/{account}/workspaces/{workspace}/..., the
// account-level GET /api/me/workspaces, and Bearer-key checks on both.
package cloudproxy

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
)

// Workspace is one workspace the proxy answers for; all of them forward
// to the same upstream server.
type Workspace struct {
	AccountID, AccountHandle     string
	WorkspaceID, WorkspaceHandle string
}

// Proxy is a running Cloud-shaped proxy.
type Proxy struct {
	// CloudAPIURL is what PREFECT_CLOUD_API_URL should be set to, e.g.
	// http://127.0.0.1:PORT/api.
	CloudAPIURL string
	Key         string
	Workspaces  []Workspace

	srv      *http.Server
	ln       net.Listener
	mu       sync.Mutex
	requests []string
}

// Default workspaces: fixed ids so tests can assert on URLs.
var Default = []Workspace{
	{AccountID: "11111111-1111-4111-8111-111111111111", AccountHandle: "acme", WorkspaceID: "22222222-2222-4222-8222-222222222222", WorkspaceHandle: "prod"},
	{AccountID: "11111111-1111-4111-8111-111111111111", AccountHandle: "acme", WorkspaceID: "33333333-3333-4333-8333-333333333333", WorkspaceHandle: "staging"},
}

// Start serves upstreamAPI (a self-hosted base such as
// http://127.0.0.1:4200/api) on a free loopback port. Requests must carry
// "Authorization: Bearer key". workspaces nil means Default.
func Start(upstreamAPI, key string, workspaces []Workspace) (*Proxy, error) {
	up, err := url.Parse(upstreamAPI)
	if err != nil || up.Host == "" {
		return nil, fmt.Errorf("cloudproxy: bad upstream %q", upstreamAPI)
	}
	if workspaces == nil {
		workspaces = Default
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &Proxy{CloudAPIURL: "http://" + ln.Addr().String() + "/api", Key: key, Workspaces: workspaces, ln: ln}
	rp := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			rest := r.In.URL.EscapedPath()[len(p.prefix(r.In.URL.EscapedPath())):]
			r.Out.URL.Scheme, r.Out.URL.Host = up.Scheme, up.Host
			r.Out.URL.RawPath = strings.TrimRight(up.EscapedPath(), "/") + rest
			r.Out.URL.Path, _ = url.PathUnescape(r.Out.URL.RawPath)
			r.Out.Host = up.Host
			r.Out.Header.Del("Authorization") // the self-hosted server has no auth
		},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		p.requests = append(p.requests, r.Method+" "+r.URL.EscapedPath())
		p.mu.Unlock()
		if r.Header.Get("Authorization") != "Bearer "+p.Key {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"detail": "Invalid authentication credentials"})
			return
		}
		switch {
		case r.URL.Path == "/api/me/workspaces" && r.Method == http.MethodGet:
			out := make([]map[string]any, len(p.Workspaces))
			for i, ws := range p.Workspaces {
				out[i] = map[string]any{
					"account_id": ws.AccountID, "account_name": ws.AccountHandle, "account_handle": ws.AccountHandle,
					"workspace_id": ws.WorkspaceID, "workspace_name": ws.WorkspaceHandle, "workspace_description": "",
					"workspace_handle": ws.WorkspaceHandle,
				}
			}
			writeJSON(w, http.StatusOK, out)
		case p.prefix(r.URL.EscapedPath()) != "":
			rp.ServeHTTP(w, r)
		default:
			writeJSON(w, http.StatusNotFound, map[string]string{"detail": "Not Found"})
		}
	})
	p.srv = &http.Server{Handler: mux}
	go p.srv.Serve(ln) //nolint:errcheck // ends with Close
	return p, nil
}

// prefix returns "/api/accounts/A/workspaces/W" when path is under a
// known workspace, else "".
func (p *Proxy) prefix(path string) string {
	for _, ws := range p.Workspaces {
		pre := "/api/accounts/" + ws.AccountID + "/workspaces/" + ws.WorkspaceID
		if path == pre || strings.HasPrefix(path, pre+"/") {
			return pre
		}
	}
	return ""
}

// WorkspaceURL is the PREFECT_API_URL of workspace i.
func (p *Proxy) WorkspaceURL(i int) string {
	ws := p.Workspaces[i]
	return p.CloudAPIURL + "/accounts/" + ws.AccountID + "/workspaces/" + ws.WorkspaceID
}

// Requests lists "METHOD /path" of every request received, in order.
func (p *Proxy) Requests() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.requests...)
}

// Close stops the proxy.
func (p *Proxy) Close() error { return p.srv.Close() }

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b) //nolint:errcheck
}
