// Package faultproxy is a loopback reverse proxy for tests that injects
// faults in front of a real server: delays, 429 with Retry-After, 5xx
// answers, dropped connections (before or after the upstream handled the
// request) and truncated bodies, chosen by a seeded RNG so a failing run
// can be replayed. It is bounded (MaxFaults) and self-stopping (Lifetime).
//
// Its latency mode (Config.RTT) puts a network between client and server:
// every request waits half a round trip on the way in and its answer half
// on the way out, and a new connection waits one round trip before its
// first request is read (the TCP handshake), so a loopback server behaves
// like one RTT away. It also logs every request it forwards (Log), for
// tests and benchmarks that count requests at the HTTP level.
package faultproxy

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Kind names one injected fault.
type Kind string

const (
	None       Kind = ""
	Delay      Kind = "delay"
	RateLimit  Kind = "429"
	Status401  Kind = "401" // e.g. a registry rejecting a push half-way
	Status500  Kind = "500"
	Status502  Kind = "502"
	Status503  Kind = "503"
	DropBefore Kind = "drop-before" // closed before forwarding: the upstream never saw it
	DropAfter  Kind = "drop-after"  // forwarded, answer thrown away: the upstream did the work
	Truncate   Kind = "truncate"    // forwarded, answer cut in the middle of its body
)

// Config sets the rate (0..1) of each fault per request. The rates of the
// exclusive faults (all but Delay) must add up to at most 1.
type Config struct {
	Seed  uint64
	Rates map[Kind]float64
	// DelayFor is how long a Delay fault holds the request; default 200ms.
	DelayFor time.Duration
	// RetryAfter is the Retry-After header of a 429; default "0.1".
	RetryAfter string
	// Match limits faults to some requests (e.g. only writes); nil = all.
	Match func(*http.Request) bool
	// MaxFaults bounds the faults injected; later requests pass through.
	// 0 = 1000.
	MaxFaults int
	// Lifetime closes the proxy by itself after this long; 0 = 10 minutes.
	Lifetime time.Duration
	// DisappearAfter closes the whole proxy (listener and open
	// connections) once that many requests were forwarded: the server
	// vanished mid-run. 0 = never.
	DisappearAfter int
	// DisappearMatch limits the requests DisappearAfter counts (e.g. only
	// deployment writes); nil = all.
	DisappearMatch func(*http.Request) bool
	// RTT is the simulated round-trip time (latency mode); 0 = none.
	RTT time.Duration
	// LogBodies keeps each request's body in the log (to replay it).
	LogBodies bool
}

// Entry is one request the proxy answered.
type Entry struct {
	Method string
	Path   string // below the upstream's path, with the query
	Status int    // 0: the connection was dropped
	Body   []byte // with Config.LogBodies
}

// Proxy is a running fault proxy.
type Proxy struct {
	// URL is the proxy's base URL with upstream's path, e.g.
	// http://127.0.0.1:PORT/api when upstream is http://127.0.0.1:4200/api.
	URL string

	cfg      Config
	upstream *url.URL
	ln       net.Listener
	srv      *http.Server
	hc       *http.Client
	timer    *time.Timer

	mu        sync.Mutex
	rng       *rand.Rand
	faults    int
	forwarded int
	counted   int // forwarded requests matching DisappearMatch
	counts    map[Kind]int
	log       []Entry
	closed    bool
	closeOnce sync.Once
}

var exclusive = []Kind{RateLimit, Status401, Status500, Status502, Status503, DropBefore, DropAfter, Truncate}

// Start serves upstream (an http URL, path kept) on a free loopback port.
func Start(upstream string, cfg Config) (*Proxy, error) {
	up, err := url.Parse(upstream)
	if err != nil || up.Scheme != "http" || up.Host == "" {
		return nil, fmt.Errorf("faultproxy: upstream %q is not an http URL", upstream)
	}
	sum := 0.0
	for _, k := range exclusive {
		if r := cfg.Rates[k]; r < 0 || r > 1 {
			return nil, fmt.Errorf("faultproxy: rate of %s is %v, want 0..1", k, r)
		} else {
			sum += r
		}
	}
	if sum > 1 {
		return nil, fmt.Errorf("faultproxy: exclusive fault rates add up to %v > 1", sum)
	}
	if cfg.DelayFor == 0 {
		cfg.DelayFor = 200 * time.Millisecond
	}
	if cfg.RetryAfter == "" {
		cfg.RetryAfter = "0.1"
	}
	if cfg.MaxFaults == 0 {
		cfg.MaxFaults = 1000
	}
	if cfg.Lifetime == 0 {
		cfg.Lifetime = 10 * time.Minute
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	if cfg.RTT > 0 {
		ln = &handshakeListener{Listener: ln, rtt: cfg.RTT}
	}
	p := &Proxy{
		URL:      "http://" + ln.Addr().String() + up.EscapedPath(),
		cfg:      cfg,
		upstream: up,
		ln:       ln,
		rng:      rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15)),
		counts:   map[Kind]int{},
		// No redirects or retries of its own: the client under test must
		// see exactly what the proxy decided.
		hc: &http.Client{Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 64},
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
	}
	p.srv = &http.Server{Handler: http.HandlerFunc(p.serve), ReadHeaderTimeout: 10 * time.Second}
	p.mu.Lock() // the timer may fire (and Close read p.timer) at once
	p.timer = time.AfterFunc(cfg.Lifetime, func() { _ = p.Close() })
	p.mu.Unlock()
	go p.srv.Serve(ln) //nolint:errcheck // ends with Close
	return p, nil
}

// pick draws the faults for one request.
func (p *Proxy) pick(r *http.Request) (delay bool, k Kind) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.faults >= p.cfg.MaxFaults || (p.cfg.Match != nil && !p.cfg.Match(r)) {
		return false, None
	}
	delay = p.rng.Float64() < p.cfg.Rates[Delay]
	x := p.rng.Float64()
	for _, kk := range exclusive {
		if x < p.cfg.Rates[kk] {
			k = kk
			break
		}
		x -= p.cfg.Rates[kk]
	}
	if delay {
		p.faults++
		p.counts[Delay]++
	}
	if k != None && p.faults < p.cfg.MaxFaults {
		p.faults++
		p.counts[k]++
	} else {
		k = None
	}
	return delay, k
}

func (p *Proxy) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	lw := &loggingWriter{ResponseWriter: w}
	defer p.record(r, lw, body)
	w = lw
	if !p.wait(r, p.cfg.RTT/2) { // the request's way in
		return
	}
	delay, k := p.pick(r)
	if delay {
		select {
		case <-time.After(p.cfg.DelayFor):
		case <-r.Context().Done():
			return
		}
	}
	switch k {
	case RateLimit:
		w.Header().Set("Retry-After", p.cfg.RetryAfter)
		writeStatus(w, http.StatusTooManyRequests)
		return
	case Status401, Status500, Status502, Status503:
		code, _ := strconv.Atoi(string(k))
		writeStatus(w, code)
		return
	case DropBefore:
		hangUp(w)
		return
	}
	resp, err := p.forward(r, body)
	if err != nil {
		writeStatus(w, http.StatusBadGateway)
		return
	}
	switch k {
	case DropAfter:
		hangUp(w)
		return
	case Truncate:
		if len(resp.body) >= 2 {
			writeRaw(w, resp, resp.body[:len(resp.body)/2])
			return
		}
		hangUp(w) // nothing to cut: a dropped answer is the nearest fault
		return
	}
	if !p.wait(r, p.cfg.RTT-p.cfg.RTT/2) { // the answer's way out
		return
	}
	for key, vs := range resp.header {
		w.Header()[key] = vs
	}
	w.WriteHeader(resp.status)
	w.Write(resp.body) //nolint:errcheck // the client may have gone
}

// wait holds the request for d (latency mode); false when the client went
// away meanwhile.
func (p *Proxy) wait(r *http.Request, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	}
}

func (p *Proxy) record(r *http.Request, w *loggingWriter, body []byte) {
	path := r.URL.Path
	if up := p.upstream.Path; up != "" && up != "/" {
		path = "/" + strings.TrimPrefix(strings.TrimPrefix(path, strings.TrimRight(up, "/")), "/")
	}
	if r.URL.RawQuery != "" {
		path += "?" + r.URL.RawQuery
	}
	e := Entry{Method: r.Method, Path: path, Status: w.status}
	if p.cfg.LogBodies && len(body) > 0 {
		e.Body = body
	}
	p.mu.Lock()
	p.log = append(p.log, e)
	p.mu.Unlock()
}

// loggingWriter keeps the status an answer was sent with (0 when the
// connection was dropped instead).
type loggingWriter struct {
	http.ResponseWriter
	status int
}

func (w *loggingWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *loggingWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController hijack the connection underneath.
func (w *loggingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// handshakeListener makes each new connection wait one round trip before
// its first request is read, as a TCP handshake over that distance would.
type handshakeListener struct {
	net.Listener
	rtt time.Duration
}

func (l *handshakeListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &handshakeConn{Conn: c, ready: time.Now().Add(l.rtt)}, nil
}

type handshakeConn struct {
	net.Conn
	ready time.Time
	once  sync.Once
}

func (c *handshakeConn) Read(b []byte) (int, error) {
	c.once.Do(func() { time.Sleep(time.Until(c.ready)) })
	return c.Conn.Read(b)
}

type answer struct {
	status int
	header http.Header
	body   []byte
}

func (p *Proxy) forward(r *http.Request, body []byte) (*answer, error) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, errors.New("closed")
	}
	p.forwarded++
	if p.cfg.DisappearMatch == nil || p.cfg.DisappearMatch(r) {
		p.counted++
	}
	n := p.counted
	p.mu.Unlock()
	if p.cfg.DisappearAfter > 0 && n > p.cfg.DisappearAfter {
		go p.Close() //nolint:errcheck
		return nil, errors.New("disappeared")
	}
	u := *p.upstream
	u.Path, u.RawPath = r.URL.Path, r.URL.RawPath
	u.RawQuery = r.URL.RawQuery
	out, err := http.NewRequestWithContext(r.Context(), r.Method, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	for k, vs := range r.Header {
		out.Header[k] = vs
	}
	out.Header.Del("Connection")
	resp, err := p.hc.Do(out)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	h := resp.Header.Clone()
	if r.Method != http.MethodHead {
		// The body is re-sent whole; a HEAD answer keeps the upstream's
		// length, which clients (e.g. a registry's blob check) read.
		h.Del("Content-Length")
	}
	h.Del("Connection")
	h.Del("Transfer-Encoding")
	return &answer{status: resp.StatusCode, header: h, body: b}, nil
}

func writeStatus(w http.ResponseWriter, code int) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	fmt.Fprintf(w, `{"detail":"faultproxy: injected %d"}`, code)
}

// hangUp closes the client's connection without an answer.
func hangUp(w http.ResponseWriter) {
	if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
		conn.Close()
	}
}

// writeRaw sends the full answer's headers, including its full
// Content-Length, then only part of the body, then closes: the client sees
// an unexpected EOF in the body.
func writeRaw(w http.ResponseWriter, a *answer, part []byte) {
	conn, buf, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return
	}
	defer conn.Close()
	bw := buf.Writer
	fmt.Fprintf(bw, "HTTP/1.1 %d %s\r\n", a.status, http.StatusText(a.status))
	a.header.Write(bw) //nolint:errcheck
	fmt.Fprintf(bw, "Content-Length: %d\r\nConnection: close\r\n\r\n", len(a.body))
	bw.Write(part) //nolint:errcheck
	bw.Flush()     //nolint:errcheck
}

// Counts is how many faults of each kind were injected so far.
func (p *Proxy) Counts() map[Kind]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[Kind]int, len(p.counts))
	for k, v := range p.counts {
		out[k] = v
	}
	return out
}

// Log is every request the proxy answered so far, in the order the answers
// were sent, and forgets them.
func (p *Proxy) Log() []Entry {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := p.log
	p.log = nil
	return out
}

// Forwarded is how many requests reached the upstream.
func (p *Proxy) Forwarded() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.forwarded
}

// Close stops the proxy at once, dropping open connections.
func (p *Proxy) Close() error {
	var err error
	p.closeOnce.Do(func() {
		p.mu.Lock()
		p.closed = true
		p.timer.Stop()
		p.mu.Unlock()
		err = p.srv.Close()
		p.hc.CloseIdleConnections()
	})
	return err
}
