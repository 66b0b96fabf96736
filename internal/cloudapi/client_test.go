package cloudapi

import (
	"context"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	stdlog "log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prefectctl/prefectctl/internal/diag"
	"github.com/prefectctl/prefectctl/internal/py"
)

// recorder captures sleeps instead of sleeping.
type recorder struct {
	mu     sync.Mutex
	sleeps []time.Duration
}

func (r *recorder) sleep(_ context.Context, d time.Duration) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sleeps = append(r.sleeps, d)
	return nil
}

func newTestClient(t *testing.T, srv *httptest.Server, mod func(*Options)) (*Client, *recorder, *strings.Builder) {
	t.Helper()
	rec := &recorder{}
	var log strings.Builder
	var mu sync.Mutex
	opt := Options{
		BaseURL:    srv.URL + "/api",
		MaxRetries: 3,
		Timeout:    5 * time.Second,
		Sleep:      rec.sleep,
		Debug: func(f string, a ...any) {
			mu.Lock()
			defer mu.Unlock()
			fmt.Fprintf(&log, f+"\n", a...)
		},
	}
	if mod != nil {
		mod(&opt)
	}
	c, err := New(opt)
	if err != nil {
		t.Fatal(err)
	}
	return c, rec, &log
}

func TestEndpointJoining(t *testing.T) {
	tests := []struct{ base, path, want string }{
		{"http://h:1/api", "deployments/", "http://h:1/api/deployments/"},
		{"http://h:1/api/", "/deployments/filter", "http://h:1/api/deployments/filter"},
		{"https://api.prefect.cloud/api/accounts/a/workspaces/w", "flows/name/" + seg("my flow/x"), "https://api.prefect.cloud/api/accounts/a/workspaces/w/flows/name/my%20flow%2Fx"},
		{"http://h/prefix/api", "deployments/name/" + seg("f") + "/" + seg("d [1]"), "http://h/prefix/api/deployments/name/f/d%20%5B1%5D"},
	}
	for _, tc := range tests {
		c, err := New(Options{BaseURL: tc.base})
		if err != nil {
			t.Fatal(err)
		}
		if got := c.endpoint(tc.path, nil).String(); got != tc.want {
			t.Errorf("%s + %s = %s, want %s", tc.base, tc.path, got, tc.want)
		}
	}
	if _, err := New(Options{BaseURL: "127.0.0.1:4200/api"}); diag.KindOf(err) != diag.Invalid {
		t.Errorf("bad URL: %v", err)
	}
}

func TestHeadersAndPathEscaping(t *testing.T) {
	var got http.Header
	var gotPath string
	var gotLen int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, gotPath, gotLen = r.Header.Clone(), r.URL.EscapedPath(), r.ContentLength
		w.WriteHeader(201)
		io.WriteString(w, `{"id":"1","name":"a b","tags":[]}`)
	}))
	defer srv.Close()
	tests := []struct {
		name     string
		key, ba  string
		wantAuth string
	}{
		{"bearer", "pnu_k", "", "Bearer pnu_k"},
		{"basic wins", "pnu_k", "u:p", "Basic " + base64.StdEncoding.EncodeToString([]byte("u:p"))},
		{"none", "", "", ""},
	}
	for _, tc := range tests {
		c, _, _ := newTestClient(t, srv, func(o *Options) {
			o.APIKey, o.AuthString = tc.key, tc.ba
			o.CustomHeaders = map[string]string{"X-Extra": "1", "User-Agent": "evil"}
		})
		f, err := c.CreateFlow(context.Background(), "a b")
		if err != nil || f.Name != "a b" {
			t.Fatalf("%s: %v %+v", tc.name, err, f)
		}
		if got.Get("Authorization") != tc.wantAuth || got.Get("X-PREFECT-API-VERSION") != "0.8.4" ||
			got.Get("X-Extra") != "1" || !strings.HasPrefix(got.Get("User-Agent"), "prefectctl/") || got.Get("Content-Type") != "application/json" {
			t.Errorf("%s: headers %v", tc.name, got)
		}
		if gotLen <= 0 || gotPath != "/api/flows/" {
			t.Errorf("%s: content-length %d path %s", tc.name, gotLen, gotPath)
		}
	}
	c, _, _ := newTestClient(t, srv, nil)
	c.ReadDeploymentByName(context.Background(), "my flow", "d/1")
	if gotPath != "/api/deployments/name/my%20flow/d%2F1" {
		t.Errorf("path %s", gotPath)
	}
}

func TestRetryAfterAndLimiter(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) <= 2 {
			w.Header().Set("Retry-After", "3")
			w.WriteHeader(429)
			io.WriteString(w, `{"detail":"slow down"}`)
			return
		}
		io.WriteString(w, `true`)
	}))
	defer srv.Close()
	lim := NewLimiter(2)
	c, rec, _ := newTestClient(t, srv, func(o *Options) { o.JitterFactor = 0.2; o.Limiter = lim })
	if err := c.Health(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n.Load() != 3 {
		t.Fatalf("%d attempts", n.Load())
	}
	var waits []time.Duration
	for _, d := range rec.sleeps {
		if d > time.Second { // the limiter's own short re-waits are below RA
			waits = append(waits, d)
		}
	}
	if len(waits) < 2 {
		t.Fatalf("sleeps %v", rec.sleeps)
	}
	for _, d := range waits[:2] {
		if d < 3*time.Second || d > 3600*time.Millisecond {
			t.Errorf("wait %v not in [3s, 3.6s]", d)
		}
	}
	if lim.PausedUntil().IsZero() {
		t.Error("the shared limiter was not paused by the 429")
	}
}

func TestBackoffThenAPIError(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.WriteHeader(503)
		// A proxy's 503 (Retry-After-less, not the server's own busy
		// answer): Prefect's retry policy, 2**try seconds.
		io.WriteString(w, `{"detail": "Service Unavailable"}`)
	}))
	defer srv.Close()
	c, rec, _ := newTestClient(t, srv, func(o *Options) { o.JitterFactor = 0 })
	_, err := c.ReadFlow(context.Background(), "x")
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != 503 || ae.Retries != 3 || ae.Detail != "Service Unavailable" {
		t.Fatalf("err %v", err)
	}
	want := []time.Duration{2 * time.Second, 4 * time.Second, 8 * time.Second}
	if fmt.Sprint(rec.sleeps) != fmt.Sprint(want) || n.Load() != 4 {
		t.Errorf("sleeps %v attempts %d", rec.sleeps, n.Load())
	}
	if !strings.Contains(err.Error(), "GET "+srv.URL+"/api/flows/x: 503 Service Unavailable: Service Unavailable (after 3 retries)") {
		t.Errorf("message %q", err)
	}
	var d *diag.Error
	if !errors.As(err, &d) || d.Hint == "" {
		t.Errorf("no diag hint: %#v", err)
	}
}

// The server's own 503 (its exception handler's answer to a database error
// a client may retry: SQLite's "database is locked") is retried at once and
// quickly, without using the retry budget; the normal retries follow only
// when the database keeps turning the request away.
func TestServerBusyIsRetriedQuickly(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) <= 5 {
			w.WriteHeader(503)
			io.WriteString(w, `{"exception_message":"Service Unavailable"}`)
			return
		}
		io.WriteString(w, `{"id":"1","name":"x","tags":[]}`)
	}))
	defer srv.Close()
	c, rec, log := newTestClient(t, srv, nil)
	if _, err := c.ReadFlow(context.Background(), "x"); err != nil {
		t.Fatal(err)
	}
	if n.Load() != 6 || len(rec.sleeps) != 5 {
		t.Fatalf("%d attempts, sleeps %v; want 6 attempts after 5 quick waits", n.Load(), rec.sleeps)
	}
	for i, d := range rec.sleeps {
		if hi := 25 * time.Millisecond << i; d <= 0 || d > hi {
			t.Errorf("wait %d: %v, want in (0, %v]", i+1, d, hi)
		}
	}
	if !strings.Contains(log.String(), "server busy (database locked)") {
		t.Errorf("no debug line for the busy retries:\n%s", log)
	}

	// A database that never recovers: the quick retries, then Prefect's.
	n.Store(-1000)
	rec.sleeps = nil
	_, err := c.ReadFlow(context.Background(), "x")
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != 503 || ae.Retries != 3 {
		t.Fatalf("err %v", err)
	}
	if got := len(rec.sleeps); got != maxBusyRetries+3 {
		t.Fatalf("%d waits, want %d quick and 3 backed off", got, maxBusyRetries)
	}
	if rec.sleeps[len(rec.sleeps)-1] < 4*time.Second {
		t.Errorf("the last waits are not Prefect's backoff: %v", rec.sleeps)
	}
}

func TestNoRetryOn500Or400(t *testing.T) {
	for _, code := range []int{400, 500} {
		var n atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			n.Add(1)
			w.WriteHeader(code)
		}))
		c, _, _ := newTestClient(t, srv, nil)
		if err := c.Health(context.Background()); err == nil || n.Load() != 1 {
			t.Errorf("%d: err %v attempts %d", code, err, n.Load())
		}
		srv.Close()
	}
}

func TestExtraRetryCodes(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			w.WriteHeader(500)
			return
		}
		io.WriteString(w, "true")
	}))
	defer srv.Close()
	c, _, _ := newTestClient(t, srv, func(o *Options) { o.RetryExtraCodes = []int{500} })
	if err := c.Health(context.Background()); err != nil || n.Load() != 2 {
		t.Errorf("err %v attempts %d", err, n.Load())
	}
}

// hijackClose drops the connection without an answer.
func hijackClose(w http.ResponseWriter) {
	conn, _, _ := w.(http.Hijacker).Hijack()
	conn.Close()
}

func TestDroppedConnectionAndTruncatedBody(t *testing.T) {
	tests := []struct {
		name  string
		fault func(w http.ResponseWriter)
	}{
		{"dropped", hijackClose},
		{"truncated", func(w http.ResponseWriter) {
			conn, buf, _ := w.(http.Hijacker).Hijack()
			buf.WriteString("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"id\":")
			buf.Flush()
			conn.Close()
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var n atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if n.Add(1) <= 2 {
					tc.fault(w)
					return
				}
				io.WriteString(w, `{"id":"f1","name":"n","tags":[]}`)
			}))
			defer srv.Close()
			c, rec, _ := newTestClient(t, srv, func(o *Options) { o.JitterFactor = 0 })
			f, err := c.CreateFlow(context.Background(), "n")
			if err != nil || f.ID != "f1" || n.Load() != 3 || len(rec.sleeps) != 2 {
				t.Fatalf("err %v flow %+v attempts %d sleeps %v", err, f, n.Load(), rec.sleeps)
			}
		})
	}
	// Always dropped: the error says so after the retries.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hijackClose(w) }))
	defer srv.Close()
	c, _, _ := newTestClient(t, srv, func(o *Options) { o.MaxRetries = 1 })
	err := c.Health(context.Background())
	if err == nil || !strings.Contains(err.Error(), "after 1 retries") || diag.KindOf(err) != diag.Runtime {
		t.Fatalf("err %v", err)
	}
}

func TestConnectionRefusedFailsFast(t *testing.T) {
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := l.Addr().String()
	l.Close()
	rec := &recorder{}
	c, _ := New(Options{BaseURL: "http://" + addr + "/api", MaxRetries: 5, Sleep: rec.sleep})
	err := c.Health(context.Background())
	var d *diag.Error
	if !errors.As(err, &d) || !strings.Contains(d.Hint, "server is running") || len(rec.sleeps) != 0 {
		t.Fatalf("err %v sleeps %v", err, rec.sleeps)
	}
}

func TestTimeoutIsRetriedThenReported(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(2 * time.Second):
		}
	}))
	defer srv.Close()
	c, rec, _ := newTestClient(t, srv, func(o *Options) { o.Timeout = 50 * time.Millisecond; o.MaxRetries = 1 })
	err := c.Health(context.Background())
	var d *diag.Error
	if !errors.As(err, &d) || !strings.Contains(d.Hint, "PREFECT_API_REQUEST_TIMEOUT") || len(rec.sleeps) != 1 {
		t.Fatalf("err %v sleeps %v", err, rec.sleeps)
	}
}

func TestErrorFormats(t *testing.T) {
	tests := []struct {
		name     string
		status   int
		body     string
		sentinel error
		want     string
		hint     string
	}{
		{"422 pydantic", 422, `{"exception_message":"Invalid request received.","exception_detail":[{"type":"missing","loc":["body","name"],"msg":"Field required","input":{}},{"type":"extra_forbidden","loc":["body","schedules",0,"bogus"],"msg":"Extra inputs are not permitted","input":1}],"request_body":{}}`,
			ErrInvalid, "422 Unprocessable Entity: Invalid request received.: name: Field required (missing); schedules[0].bogus: Extra inputs are not permitted (extra_forbidden)", "older Prefect server"},
		{"404 detail", 404, `{"detail":"Deployment not found"}`, ErrNotFound, "404 Not Found: Deployment not found", "check the name"},
		{"404 wrong base", 404, `{"detail":"Not Found"}`, ErrNotFound, "Not Found", "/api"},
		{"409 list detail", 409, `{"detail":["Error creating deployment: x"]}`, ErrConflict, "409 Conflict: Error creating deployment: x", "conflicts"},
		{"401", 401, `{"exception_message":"Unauthorized"}`, ErrUnauthorized, "401 Unauthorized: Unauthorized", "PREFECT_API_AUTH_STRING"},
		{"403 reserved", 403, `{"detail":"Work pools starting with 'Prefect' are reserved for internal use."}`, ErrForbidden, "reserved", "start with 'prefect'"},
		{"html body", 418, "<html>teapot</html>", nil, "418 I'm a teapot: <html>teapot</html>", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tc.status)
				io.WriteString(w, tc.body)
			}))
			defer srv.Close()
			c, _, _ := newTestClient(t, srv, nil)
			_, err := c.ReadDeployment(context.Background(), "d")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v\nwant %q", err, tc.want)
			}
			if tc.sentinel != nil && !errors.Is(err, tc.sentinel) {
				t.Errorf("errors.Is(%v) false", tc.sentinel)
			}
			if errors.Is(err, ErrNotFound) != (tc.status == 404) {
				t.Errorf("ErrNotFound mismatch")
			}
			var d *diag.Error
			if !errors.As(err, &d) || !strings.Contains(d.Hint, tc.hint) {
				t.Errorf("hint %q, want %q", d.Hint, tc.hint)
			}
		})
	}
}

func TestCSRF(t *testing.T) {
	var tokens atomic.Int32
	var mu sync.Mutex
	valid := ""
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/csrf-token" {
			mu.Lock()
			valid = fmt.Sprintf("tok%d", tokens.Add(1))
			mu.Unlock()
			fmt.Fprintf(w, `{"token":%q,"client":%q,"expiration":%q}`, valid, r.URL.Query().Get("client"), time.Now().Add(time.Hour).Format(time.RFC3339))
			return
		}
		mu.Lock()
		ok := r.Header.Get("Prefect-Csrf-Token") == valid && r.Header.Get("Prefect-Csrf-Client") != ""
		mu.Unlock()
		if r.Method != "GET" && !ok {
			w.WriteHeader(403)
			io.WriteString(w, `{"detail":"Invalid CSRF token or client identifier."}`)
			return
		}
		io.WriteString(w, `{"id":"1","name":"x","tags":[]}`)
	}))
	defer srv.Close()
	c, _, _ := newTestClient(t, srv, func(o *Options) { o.CSRF = true })
	if _, err := c.CreateFlow(context.Background(), "x"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateFlow(context.Background(), "x"); err != nil || tokens.Load() != 1 {
		t.Fatalf("err %v tokens %d (token must be reused)", err, tokens.Load())
	}
	mu.Lock()
	valid = "rotated" // server forgot our token: one refetch and retry
	mu.Unlock()
	if _, err := c.CreateFlow(context.Background(), "x"); err != nil || tokens.Load() != 2 {
		t.Fatalf("err %v tokens %d", err, tokens.Load())
	}

	// CSRF disabled on the server: 422 once, then no more token calls.
	var calls atomic.Int32
	srv2 := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/csrf-token" {
			calls.Add(1)
			w.WriteHeader(422)
			io.WriteString(w, `{"detail":"CSRF protection is disabled."}`)
			return
		}
		io.WriteString(w, `{"id":"1","name":"x","tags":[]}`)
	}))
	defer srv2.Close()
	c2, _, _ := newTestClient(t, srv2, func(o *Options) { o.CSRF = true })
	c2.CreateFlow(context.Background(), "x")
	c2.CreateFlow(context.Background(), "x")
	if calls.Load() != 1 {
		t.Errorf("csrf-token called %d times", calls.Load())
	}
}

// The token request is retried like any other call (Prefect sends it
// through its retrying client): a busy server's 503 must not fail a deploy.
func TestCSRFTokenFetchIsRetried(t *testing.T) {
	var tokenCalls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/csrf-token" {
			if tokenCalls.Add(1) <= 2 {
				w.WriteHeader(502)
				io.WriteString(w, `{"detail":"Bad Gateway"}`)
				return
			}
			fmt.Fprintf(w, `{"token":"s3cr3t-tok","client":"c","expiration":%q}`, time.Now().Add(time.Hour).Format(time.RFC3339))
			return
		}
		if r.Header.Get("Prefect-Csrf-Token") != "s3cr3t-tok" {
			w.WriteHeader(403)
			io.WriteString(w, `{"detail":"Invalid CSRF token or client identifier."}`)
			return
		}
		io.WriteString(w, `{"id":"1","name":"x","tags":[]}`)
	}))
	defer srv.Close()
	c, rec, log := newTestClient(t, srv, func(o *Options) { o.CSRF = true })
	if _, err := c.CreateFlow(context.Background(), "x"); err != nil {
		t.Fatal(err)
	}
	if tokenCalls.Load() != 3 || len(rec.sleeps) != 2 || rec.sleeps[0] != 2*time.Second || rec.sleeps[1] != 4*time.Second {
		t.Fatalf("token calls %d, sleeps %v (want 3 calls, back-off 2s 4s as 2**try)", tokenCalls.Load(), rec.sleeps)
	}
	if strings.Contains(log.String(), "s3cr3t-tok") {
		t.Errorf("the CSRF token reached the debug log:\n%s", log)
	}

	// Retries run out: the error names the token request and its status.
	tokenCalls.Store(-100)
	c2, _, _ := newTestClient(t, srv, func(o *Options) { o.CSRF = true; o.MaxRetries = 1 })
	_, err := c2.CreateFlow(context.Background(), "x")
	if err == nil || !strings.Contains(err.Error(), "csrf-token") || !strings.Contains(err.Error(), "502") {
		t.Fatalf("err %v", err)
	}
}

func TestDebugRedaction(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "block_documents") {
			io.WriteString(w, `{"id":"b","data":{"value":"hunter2"},"block_type":{"slug":"secret"}}`)
			return
		}
		w.WriteHeader(401)
		io.WriteString(w, `{"exception_message":"Unauthorized pnu_topsecret"}`)
	}))
	defer srv.Close()
	c, _, log := newTestClient(t, srv, func(o *Options) {
		o.APIKey = "pnu_topsecret"
		o.BaseURL = strings.Replace(srv.URL, "http://", "http://user:pw@", 1) + "/api"
	})
	b, err := c.ReadBlockDocumentByName(context.Background(), "secret", "db")
	if err != nil || py.Str(must(b.Data.Get("value"))) != "hunter2" {
		t.Fatalf("err %v", err)
	}
	_, err = c.ReadFlow(context.Background(), "x")
	out := log.String() + err.Error()
	for _, leak := range []string{"hunter2", "pnu_topsecret", "user:pw"} {
		if strings.Contains(out, leak) {
			t.Errorf("%q leaked in:\n%s", leak, out)
		}
	}
	if !strings.Contains(log.String(), "include_secrets=true") || !strings.Contains(log.String(), "[redacted: contains secrets]") {
		t.Errorf("log:\n%s", log.String())
	}
	if got := redactURL("https://h/api?api_key=abc&x=1"); strings.Contains(got, "abc") || !strings.Contains(got, "x=1") {
		t.Errorf("redactURL %s", got)
	}
}

func must(v any, _ bool) any { return v }

func TestRequestBodyKeepsOrderAndFloats(t *testing.T) {
	var body string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		body = string(b)
		w.WriteHeader(201)
		io.WriteString(w, `{"id":"d","name":"n","flow_id":"f","parameters":{"z":1,"a":2.0}}`)
	}))
	defer srv.Close()
	c, _, _ := newTestClient(t, srv, nil)
	d, created, err := c.CreateDeployment(context.Background(), py.MapOf("name", "n", "parameters", py.MapOf("z", int64(1), "a", 2.0)))
	if err != nil || !created {
		t.Fatal(err)
	}
	if body != `{"name":"n","parameters":{"z":1,"a":2.0}}` {
		t.Errorf("body %s", body)
	}
	if fmt.Sprint(d.Parameters.Keys()) != "[z a]" {
		t.Errorf("keys %v", d.Parameters.Keys())
	}
	if v, _ := d.Parameters.Get("a"); v != 2.0 {
		t.Errorf("a = %#v", v)
	}
	if v, _ := d.Parameters.Get("z"); v != int64(1) {
		t.Errorf("z = %#v", v)
	}
}

func TestBlockSecretsAreRedactedLater(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "block_documents") {
			io.WriteString(w, `{"id":"b","data":{"user":"alice","password":"pw-123456","nested":{"a":{"token":"tok-abcdef"}},"plain":"visible-text"},
				"block_schema":{"fields":{"secret_fields":["password","nested.*"]}}}`)
			return
		}
		b, _ := io.ReadAll(r.Body)
		w.WriteHeader(422)
		w.Write(b) // echo, as Prefect's request_body does
	}))
	defer srv.Close()
	c, _, log := newTestClient(t, srv, nil)
	if _, err := c.ReadBlockDocument(context.Background(), "b"); err != nil {
		t.Fatal(err)
	}
	_, _, err := c.CreateDeployment(context.Background(), py.MapOf("job_variables", py.MapOf("env", py.MapOf("PW", "pw-123456", "T", "tok-abcdef", "U", "alice", "P", "visible-text"))))
	out := log.String() + err.Error()
	for _, leak := range []string{"pw-123456", "tok-abcdef"} {
		if strings.Contains(out, leak) {
			t.Errorf("%q leaked:\n%s", leak, out)
		}
	}
	if !strings.Contains(out, "visible-text") || !strings.Contains(out, "alice") {
		t.Errorf("non-secret fields were redacted too:\n%s", out)
	}
}

func TestMaintenanceRetriesDoNotCount(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) <= 4 {
			w.Header().Set("Prefect-Maintenance", "true")
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(503)
			return
		}
		io.WriteString(w, "true")
	}))
	defer srv.Close()
	c, rec, _ := newTestClient(t, srv, func(o *Options) { o.MaxRetries = 1; o.JitterFactor = 0 })
	if err := c.Health(context.Background()); err != nil || n.Load() != 5 {
		t.Fatalf("err %v attempts %d sleeps %v", err, n.Load(), rec.sleeps)
	}
}

func TestTLSSettings(t *testing.T) {
	var proto atomic.Value
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		proto.Store(r.Proto)
		io.WriteString(w, "true")
	}))
	srv.EnableHTTP2 = true
	srv.Config.ErrorLog = stdlog.New(io.Discard, "", 0) // the untrusted case's handshake error is expected
	srv.StartTLS()
	defer srv.Close()
	pemPath := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(pemPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		opt       Options
		ok        bool
		wantProto string
	}{
		{"untrusted", Options{}, false, ""},
		{"cert file", Options{SSLCertFile: pemPath}, true, "HTTP/1.1"},
		{"cert file, http2", Options{SSLCertFile: pemPath, HTTP2: true}, true, "HTTP/2.0"},
		{"insecure", Options{TLSInsecureSkipVerify: true}, true, "HTTP/1.1"},
	}
	for _, tc := range tests {
		tc.opt.BaseURL = srv.URL + "/api"
		c, err := New(tc.opt)
		if err != nil {
			t.Fatal(err)
		}
		err = c.Health(context.Background())
		if (err == nil) != tc.ok {
			t.Errorf("%s: err %v", tc.name, err)
			continue
		}
		if tc.ok && proto.Load() != tc.wantProto {
			t.Errorf("%s: proto %v, want %s", tc.name, proto.Load(), tc.wantProto)
		}
	}
	if _, err := New(Options{BaseURL: srv.URL, SSLCertFile: filepath.Join(t.TempDir(), "missing.pem")}); diag.KindOf(err) != diag.Invalid {
		t.Errorf("missing cert file: %v", err)
	}
}

func TestConcurrentUseSharesTokenAndLimiter(t *testing.T) {
	var tokens, inFlight, peak atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/csrf-token" {
			tokens.Add(1)
			fmt.Fprintf(w, `{"token":"t","client":"c","expiration":%q}`, time.Now().Add(time.Hour).Format(time.RFC3339))
			return
		}
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		time.Sleep(2 * time.Millisecond)
		io.WriteString(w, `{"id":"1","name":"x","tags":[]}`)
	}))
	defer srv.Close()
	c, _, _ := newTestClient(t, srv, func(o *Options) { o.CSRF = true; o.Limiter = NewLimiter(3) })
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := c.CreateFlow(context.Background(), "x"); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if tokens.Load() != 1 || peak.Load() > 3 {
		t.Errorf("tokens fetched %d (want 1), peak in flight %d (limit 3)", tokens.Load(), peak.Load())
	}
}
