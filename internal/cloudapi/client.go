// Package cloudapi is a typed client for the Prefect REST API (self-hosted and Cloud).
//
// It sends what Prefect's own client sends (X-PREFECT-API-VERSION, Bearer
// or Basic auth, CSRF headers when a self-hosted server asks for them),
// retries the way Prefect does (408/429/502/503/504 and dropped
// connections, honouring Retry-After, bounded), and turns error answers
// into *APIError values with Prefect's detail and a hint.
package cloudapi

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prefectctl/prefectctl/internal/buildinfo"
	"github.com/prefectctl/prefectctl/internal/config"
	"github.com/prefectctl/prefectctl/internal/diag"
	"github.com/prefectctl/prefectctl/internal/py"
)

// APIVersion is the X-PREFECT-API-VERSION Prefect 3.9.1 sends.
const APIVersion = "0.8.4"

// Options configure a Client. BaseURL is required; FromSettings fills the
// rest from Prefect settings.
type Options struct {
	BaseURL    string // e.g. http://127.0.0.1:4200/api
	APIKey     string // sent as Bearer
	AuthString string // "user:pass", sent as Basic; wins over APIKey as in Prefect
	Cloud      bool   // BaseURL is a Prefect Cloud URL: no CSRF, Cloud hints

	Timeout         time.Duration // per attempt, including reading the body; 0 = none
	MaxRetries      int           // retries after the first attempt
	RetryExtraCodes []int         // more statuses to retry
	JitterFactor    float64       // Prefect's PREFECT_CLIENT_RETRY_JITTER_FACTOR
	BackoffBase     time.Duration // delay unit: waits are Base*2^try; default 1s
	BusyBackoffBase time.Duration // first wait after the database turned a request away; default 25ms
	MaxDelay        time.Duration // cap on one wait, Retry-After included; default 60s

	CSRF                  bool              // fetch and send CSRF tokens when the server wants them
	CustomHeaders         map[string]string // PREFECT_CLIENT_CUSTOM_HEADERS
	TLSInsecureSkipVerify bool
	SSLCertFile           string
	HTTP2                 bool // PREFECT_API_ENABLE_HTTP2; off by default, as in Prefect
	UserAgent             string

	// Concurrency pins how many requests are in flight at once; 0 lets
	// the limiter find the server's capacity (see Limiter). Ignored when
	// Limiter is given.
	Concurrency int

	HTTPClient *http.Client                                     // overrides the transport settings above
	Limiter    *Limiter                                         // shared across clients and goroutines; nil = a private one
	Debug      func(format string, args ...any)                 // logs each call, secrets redacted
	Sleep      func(ctx context.Context, d time.Duration) error // tests
}

// Client talks to one Prefect API base URL. It is safe for concurrent use.
type Client struct {
	opt       Options
	base      *url.URL
	hc        *http.Client
	limiter   *Limiter
	connected atomic.Bool // a connection succeeded once; later connect errors are retried

	secretsMu sync.Mutex
	secrets   []string // values seen in block documents' secret fields, kept out of debug logs

	csrfMu      sync.Mutex
	csrfOff     bool
	csrfToken   string
	csrfClient  string
	csrfExpires time.Time
}

// FromSettings builds a client for the configured API URL. It fails
// without one (RequireAPI).
func FromSettings(s *config.Settings, debug func(string, ...any)) (*Client, error) {
	if err := s.RequireAPI(); err != nil {
		return nil, err
	}
	return New(SettingsOptions(s, s.APIURL(), debug))
}

// SettingsOptions maps Prefect settings onto Options for baseURL.
func SettingsOptions(s *config.Settings, baseURL string, debug func(string, ...any)) Options {
	return Options{
		BaseURL:               baseURL,
		APIKey:                s.APIKey(),
		AuthString:            s.AuthString(),
		Cloud:                 strings.HasPrefix(baseURL, s.CloudAPIURL()) && s.CloudAPIURL() != "",
		Timeout:               s.RequestTimeout(),
		MaxRetries:            s.MaxRetries(),
		RetryExtraCodes:       s.RetryExtraCodes(),
		JitterFactor:          s.RetryJitterFactor(),
		CSRF:                  s.CSRFSupportEnabled(),
		CustomHeaders:         s.CustomHeaders(),
		TLSInsecureSkipVerify: s.TLSInsecureSkipVerify(),
		SSLCertFile:           s.SSLCertFile(),
		HTTP2:                 s.Bool("PREFECT_API_ENABLE_HTTP2"),
		Debug:                 debug,
	}
}

// New makes a client.
func New(opt Options) (*Client, error) {
	u, err := url.Parse(strings.TrimSpace(opt.BaseURL))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, &diag.Error{Kind: diag.Invalid, Msg: fmt.Sprintf("Prefect API URL %q is not an http(s) URL", redactURL(opt.BaseURL)),
			Hint: "use the form http://HOST:PORT/api or https://api.prefect.cloud/api/accounts/ID/workspaces/ID"}
	}
	if opt.BackoffBase == 0 {
		opt.BackoffBase = time.Second
	}
	if opt.BusyBackoffBase == 0 {
		opt.BusyBackoffBase = 25 * time.Millisecond
	}
	if opt.MaxDelay == 0 {
		opt.MaxDelay = 60 * time.Second
	}
	if opt.UserAgent == "" {
		opt.UserAgent = "prefectctl/" + buildinfo.Resolved() + " (API " + APIVersion + ")"
	}
	if opt.Sleep == nil {
		opt.Sleep = sleepCtx
	}
	c := &Client{opt: opt, base: u, limiter: opt.Limiter, hc: opt.HTTPClient}
	if c.limiter == nil {
		c.limiter = NewLimiter(opt.Concurrency)
		if opt.Debug != nil {
			c.limiter.debug = c.debugf
		}
	}
	if c.hc == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.DialContext = retiringDialer(&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second})
		// As many connections as the limiter lets requests be in flight,
		// kept open between them.
		tr.MaxConnsPerHost = maxWindow
		tr.MaxIdleConnsPerHost = maxWindow
		tr.IdleConnTimeout = 25 * time.Second // below Cloud's 30 s load-balancer idle timeout
		tr.Proxy = http.ProxyFromEnvironment
		if !opt.HTTP2 {
			tr.ForceAttemptHTTP2 = false
			tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{} // HTTP/1.1 only
		}
		if opt.TLSInsecureSkipVerify || opt.SSLCertFile != "" {
			tc := &tls.Config{InsecureSkipVerify: opt.TLSInsecureSkipVerify} //nolint:gosec // the user asked for it
			if opt.SSLCertFile != "" && !opt.TLSInsecureSkipVerify {
				pem, err := os.ReadFile(opt.SSLCertFile)
				if err != nil {
					return nil, &diag.Error{Kind: diag.Invalid, File: opt.SSLCertFile, Msg: "cannot read PREFECT_API_SSL_CERT_FILE", Err: err}
				}
				pool := x509.NewCertPool()
				if !pool.AppendCertsFromPEM(pem) {
					return nil, &diag.Error{Kind: diag.Invalid, File: opt.SSLCertFile, Msg: "no PEM certificates found", Hint: "PREFECT_API_SSL_CERT_FILE must be a PEM bundle"}
				}
				tc.RootCAs = pool
			}
			tr.TLSClientConfig = tc
		}
		c.hc = &http.Client{Transport: tr}
	}
	return c, nil
}

// BaseURL is the API base URL this client talks to.
func (c *Client) BaseURL() string { return c.base.String() }

// IsCloud reports whether this client talks to Prefect Cloud.
func (c *Client) IsCloud() bool { return c.opt.Cloud }

// InFlightLimit is how many requests the client lets be in flight now:
// the limiter's current window. Work that sends one request after the
// other per item (registering deployments) starts as many items at once.
func (c *Client) InFlightLimit() int { return c.limiter.Window() }

// PrepareWrites fetches what the first change request will need (a CSRF
// token, on a server that wants one), so that the round trip can travel
// with other reads instead of before the first write.
func (c *Client) PrepareWrites(ctx context.Context) error {
	_, err := c.csrfHeaders(ctx)
	return err
}

// endpoint joins the base URL and an API path the way httpx does: base
// path + "/" + path, never dropping the base's /api/... prefix.
func (c *Client) endpoint(p string, query url.Values) *url.URL {
	u := *c.base
	u.RawQuery = ""
	base := strings.TrimRight(c.base.EscapedPath(), "/")
	u.RawPath = base + "/" + strings.TrimLeft(p, "/")
	var err error
	if u.Path, err = url.PathUnescape(u.RawPath); err != nil {
		u.Path = u.RawPath
	}
	if len(query) > 0 {
		u.RawQuery = query.Encode()
	}
	return &u
}

// seg escapes one path segment (names may hold spaces, slashes or brackets).
func seg(s string) string { return url.PathEscape(s) }

// request is one API call.
type request struct {
	method  string
	path    string // relative to the base, may contain escaped segments
	query   url.Values
	body    any   // encoded with py.EncodeJSON; nil = no body
	secrets bool  // response body holds secrets: never log it
	ok      []int // non-2xx statuses answered as a response, not an error
}

// response is a successful answer.
type response struct {
	status int
	body   []byte
}

// Do sends one call and decodes a 2xx JSON answer into out (if non-nil).
// It is exported for endpoints this package does not wrap yet; body is
// encoded with py.EncodeJSON so ordered maps and Python float
// formatting survive. It returns the status code.
func (c *Client) Do(ctx context.Context, method, path string, query url.Values, body, out any) (int, error) {
	resp, err := c.call(ctx, request{method: method, path: path, query: query, body: body})
	if err != nil {
		return 0, err
	}
	return resp.status, decodeInto(resp, out)
}

func decodeInto(resp *response, out any) error {
	if out == nil || len(bytes.TrimSpace(resp.body)) == 0 {
		return nil
	}
	if err := json.Unmarshal(resp.body, out); err != nil {
		return &diag.Error{Kind: diag.Runtime, Msg: "unexpected answer from the Prefect API", Err: err,
			Hint: "the server may be a different Prefect version; prefectctl targets Prefect 3.9"}
	}
	return nil
}

// retryable statuses, as Prefect's client plus 504.
func (c *Client) retryStatus(code int) bool {
	switch code {
	case 408, 429, 502, 503, 504:
		return true
	}
	for _, x := range c.opt.RetryExtraCodes {
		if x == code {
			return true
		}
	}
	return false
}

func (c *Client) call(ctx context.Context, r request) (*response, error) {
	var payload []byte
	if r.body != nil {
		var err error
		if payload, err = py.EncodeJSON(r.body); err != nil {
			return nil, &diag.Error{Kind: diag.Runtime, Msg: "cannot encode the request body", Err: err}
		}
	}
	u := c.endpoint(r.path, r.query)
	class, write := requestClass(r.method, r.path), isWrite(r.method, r.path)
	csrfRetried := false
	maintenance := 0
	busy, idle := 0, 0
	var since time.Time // when the first attempt was admitted
	for attempt := 0; ; attempt++ {
		var csrf http.Header
		if isMutation(r.method) {
			// Fetched before taking a limiter slot: the token request is a
			// call of its own, retried like any other, as in Prefect's client.
			var err error
			if csrf, err = c.csrfHeaders(ctx); err != nil {
				return nil, err
			}
		}
		s, err := c.limiter.acquire(ctx, c.opt.Sleep, class, write)
		if err != nil {
			return nil, err
		}
		if since.IsZero() {
			since = s.start
		}
		status, hdr, body, err := c.once(ctx, r, u, payload, csrf)
		busyAnswer := err == nil && status == http.StatusServiceUnavailable && isServerBusy(hdr, body)
		o := c.outcome(status, err)
		if busyAnswer {
			o = outcomeBusy
		}
		c.limiter.release(s, o, since)
		if err == nil && (status >= 200 && status < 300 || slices.Contains(r.ok, status)) {
			return &response{status: status, body: body}, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if err == nil && status == http.StatusForbidden && !csrfRetried && bytes.Contains(body, []byte("Invalid CSRF token")) {
			// Prefect's client refetches the token and retries once.
			csrfRetried = true
			c.csrfMu.Lock()
			c.csrfToken = ""
			c.csrfMu.Unlock()
			attempt--
			continue
		}
		if busyAnswer && busy < maxBusyRetries {
			// The server's database turned the request away (SQLite's
			// "database is locked" when writes collide): it did nothing,
			// and a retry succeeds once the lock is free. The lock holder
			// is most often another of these requests, so the retry goes
			// when the next one finishes, or after a short jittered wait
			// (the server's own services hold the lock too). These retries
			// are not counted against the retry budget.
			busy++
			attempt--
			wait := c.busyBackoff(busy)
			c.debugf("server busy (database locked): retrying %s %s after the next answer, at most %s", r.method, redactURL(u.String()), wait.Round(time.Millisecond))
			wake, cancel := c.limiter.handoff()
			err := c.sleepUntil(ctx, wait, wake)
			cancel()
			if err != nil {
				return nil, err
			}
			continue
		}
		if err != nil && strings.Contains(err.Error(), "server closed idle connection") && idle < maxBusyRetries {
			// A kept-alive connection the server had closed: the request
			// never reached it, so it goes again at once, uncounted.
			idle++
			attempt--
			continue
		}
		retry := false
		var wait time.Duration
		if err != nil {
			retry = c.retryableErr(err)
		} else if c.retryStatus(status) {
			retry = true
			if ra, ok := retryAfter(hdr.Get("Retry-After")); ok {
				wait = ra + time.Duration(mrand.Float64()*c.opt.JitterFactor*float64(ra))
				if status == http.StatusTooManyRequests {
					c.limiter.pause(min(wait, c.opt.MaxDelay))
				}
			}
		}
		if !retry || attempt >= c.opt.MaxRetries {
			if err != nil {
				return nil, c.transportError(r.method, u, err, attempt)
			}
			e := newAPIError(r.method, redactURL(u.String()), status, body, c.opt.Cloud)
			e.Retries = attempt
			c.redactError(e)
			return nil, e.asDiag()
		}
		if err == nil && strings.EqualFold(hdr.Get("Prefect-Maintenance"), "true") && maintenance < maxMaintenanceWaits {
			// Prefect does not count retries during announced maintenance;
			// prefectctl also waits without counting, but not forever.
			maintenance++
			attempt--
		}
		if wait == 0 {
			wait = c.backoff(max(attempt, 0) + 1)
		}
		wait = min(wait, c.opt.MaxDelay)
		c.debugf("retrying %s %s in %s (attempt %d of %d)", r.method, redactURL(u.String()), wait.Round(time.Millisecond), attempt+2, c.opt.MaxRetries+1)
		if err := c.opt.Sleep(ctx, wait); err != nil {
			return nil, err
		}
	}
}

// outcome classifies an attempt for the limiter.
func (c *Client) outcome(status int, err error) outcome {
	switch {
	case err != nil:
		var ne net.Error
		if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) ||
			errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.ErrUnexpectedEOF) {
			return outcomeCongested
		}
		return outcomeNeutral
	case status == http.StatusServiceUnavailable, status == http.StatusTooManyRequests, status == http.StatusBadGateway,
		status == http.StatusGatewayTimeout, status == http.StatusRequestTimeout:
		return outcomeCongested
	case status >= 200 && status < 500:
		return outcomeOK
	}
	return outcomeNeutral
}

// once performs a single attempt, reading the whole body.
func (c *Client) once(ctx context.Context, r request, u *url.URL, payload []byte, extra http.Header) (int, http.Header, []byte, error) {
	actx, cancel := ctx, context.CancelFunc(func() {})
	if c.opt.Timeout > 0 {
		actx, cancel = context.WithTimeout(ctx, c.opt.Timeout)
	}
	defer cancel()
	var rd io.Reader
	if payload != nil {
		rd = bytes.NewReader(payload) // sets Content-Length, which Cloud requires
	}
	req, err := http.NewRequestWithContext(actx, r.method, u.String(), rd)
	if err != nil {
		return 0, nil, nil, err
	}
	c.setHeaders(req, payload != nil)
	for k, v := range extra {
		req.Header[k] = v
	}
	var conn net.Conn
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
		GotConn: func(info httptrace.GotConnInfo) { conn = info.Conn },
	}))
	start := time.Now()
	resp, err := c.hc.Do(req)
	if err != nil {
		c.debugf("%s %s -> error: %v", r.method, redactURL(u.String()), c.redact(err.Error()))
		return 0, nil, nil, err
	}
	c.connected.Store(true)
	defer resp.Body.Close()
	// The Prefect server answers an exception (a 500, or the 503 of a
	// locked database) and then resets the connection (Starlette re-raises
	// after the answer) without saying so. The transport puts a connection
	// back in its pool the moment its body is read to the end, so another
	// request could take it before the body says what it was: any 5xx
	// retires it first (see retiringConn), and it is closed.
	var rc *retiringConn
	if resp.StatusCode >= 500 {
		if rc = asRetiring(conn); rc != nil {
			rc.retired.Store(true)
		}
	}
	body, err := io.ReadAll(resp.Body)
	if err == nil && resp.ContentLength >= 0 && int64(len(body)) != resp.ContentLength {
		err = io.ErrUnexpectedEOF
	}
	if rc != nil {
		// Retired before the body was read; closed once it is.
		rc.Conn.Close()
	}
	if c.opt.Debug != nil {
		c.logCall(r, u, payload, resp.StatusCode, body, err, time.Since(start))
	}
	if err != nil {
		return 0, nil, nil, fmt.Errorf("reading the answer: %w", err)
	}
	return resp.StatusCode, resp.Header, body, nil
}

func isMutation(m string) bool {
	return m == http.MethodPost || m == http.MethodPut || m == http.MethodPatch || m == http.MethodDelete
}

func (c *Client) setHeaders(req *http.Request, hasBody bool) {
	h := req.Header
	switch {
	case c.opt.AuthString != "":
		h.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(c.opt.AuthString)))
	case c.opt.APIKey != "":
		h.Set("Authorization", "Bearer "+c.opt.APIKey)
	}
	h.Set("X-PREFECT-API-VERSION", APIVersion)
	h.Set("Accept", "application/json")
	if hasBody {
		h.Set("Content-Type", "application/json")
	}
	// Custom headers come last, as in Prefect, but may not replace the
	// headers Prefect protects.
	for k, v := range c.opt.CustomHeaders {
		switch strings.ToLower(k) {
		case "user-agent", "prefect-csrf-token", "prefect-csrf-client":
			c.debugf("ignoring custom header %s: Prefect manages it", k)
			continue
		}
		h.Set(k, v)
	}
	h.Set("User-Agent", c.opt.UserAgent)
}

// csrfHeaders returns Prefect-Csrf-Token/-Client for a change request on
// self-hosted servers that enforce CSRF (nil otherwise). The token is
// fetched once, through the retrying call, and refreshed when it expires.
func (c *Client) csrfHeaders(ctx context.Context) (http.Header, error) {
	if c.opt.Cloud || !c.opt.CSRF {
		return nil, nil
	}
	c.csrfMu.Lock()
	defer c.csrfMu.Unlock()
	if c.csrfOff {
		return nil, nil
	}
	if c.csrfToken == "" || (!c.csrfExpires.IsZero() && time.Now().After(c.csrfExpires.Add(-10*time.Second))) {
		if c.csrfClient == "" {
			c.csrfClient = newUUID()
		}
		resp, err := c.call(ctx, request{method: http.MethodGet, path: "csrf-token", query: url.Values{"client": {c.csrfClient}},
			secrets: true, ok: []int{http.StatusNotFound, http.StatusUnprocessableEntity}})
		if err != nil {
			return nil, err
		}
		switch {
		case resp.status == http.StatusNotFound:
			c.csrfOff = true // a server older than CSRF support
			return nil, nil
		case resp.status == http.StatusUnprocessableEntity:
			if bytes.Contains(resp.body, []byte("CSRF protection is disabled")) {
				c.csrfOff = true
				return nil, nil
			}
			u := c.endpoint("csrf-token", nil)
			return nil, newAPIError(http.MethodGet, redactURL(u.String()), resp.status, resp.body, false).asDiag()
		}
		var tok struct {
			Token      string    `json:"token"`
			Expiration time.Time `json:"expiration"`
		}
		if err := json.Unmarshal(resp.body, &tok); err != nil || tok.Token == "" {
			return nil, &diag.Error{Kind: diag.Runtime, Msg: "unexpected CSRF token answer", Err: err}
		}
		c.csrfToken, c.csrfExpires = tok.Token, tok.Expiration
	}
	return http.Header{"Prefect-Csrf-Token": {c.csrfToken}, "Prefect-Csrf-Client": {c.csrfClient}}, nil
}

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// --- debug logging with redaction ---
