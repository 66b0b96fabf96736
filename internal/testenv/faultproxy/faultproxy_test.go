package faultproxy

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func upstream(t *testing.T) (*httptest.Server, *atomic.Int64) {
	var hits atomic.Int64
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"path":"`+r.URL.Path+`","body":"`+string(b)+`"}`)
	}))
	t.Cleanup(s.Close)
	return s, &hits
}

func get(t *testing.T, url string) (int, string, http.Header, error) {
	t.Helper()
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}
	resp, err := c.Post(url, "application/json", strings.NewReader("x"))
	if err != nil {
		return 0, "", nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header, err
}

func TestEachFault(t *testing.T) {
	for _, tc := range []struct {
		kind      Kind
		status    int
		wantErr   error // nil: no transport error
		anyErr    bool
		upstreamN int64
	}{
		{None, 200, nil, false, 1},
		{Delay, 200, nil, false, 1},
		{RateLimit, 429, nil, false, 0},
		{Status401, 401, nil, false, 0},
		{Status500, 500, nil, false, 0},
		{Status502, 502, nil, false, 0},
		{Status503, 503, nil, false, 0},
		{DropBefore, 0, nil, true, 0},
		{DropAfter, 0, nil, true, 1},
		{Truncate, 200, io.ErrUnexpectedEOF, false, 1},
	} {
		t.Run(string(tc.kind)+"_", func(t *testing.T) {
			up, hits := upstream(t)
			cfg := Config{Seed: 1, DelayFor: 50 * time.Millisecond}
			if tc.kind != None {
				cfg.Rates = map[Kind]float64{tc.kind: 1}
			}
			p, err := Start(up.URL+"/api", cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			if !strings.HasSuffix(p.URL, "/api") {
				t.Fatalf("URL %s lost the upstream path", p.URL)
			}
			start := time.Now()
			code, body, hdr, err := get(t, p.URL+"/flows/")
			switch {
			case tc.anyErr:
				if err == nil {
					t.Fatalf("want a dropped connection, got %d %s", code, body)
				}
			case tc.wantErr != nil:
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
			case err != nil:
				t.Fatal(err)
			}
			if !tc.anyErr && code != tc.status {
				t.Fatalf("status %d, want %d (%s)", code, tc.status, body)
			}
			if tc.kind == None && body != `{"path":"/api/flows/","body":"x"}` {
				t.Fatalf("body %q", body)
			}
			if tc.kind == RateLimit && hdr.Get("Retry-After") != "0.1" {
				t.Fatalf("Retry-After %q", hdr.Get("Retry-After"))
			}
			if tc.kind == Delay && time.Since(start) < 50*time.Millisecond {
				t.Fatal("no delay")
			}
			if got := hits.Load(); got != tc.upstreamN {
				t.Fatalf("upstream saw %d requests, want %d", got, tc.upstreamN)
			}
			if tc.kind != None && p.Counts()[tc.kind] != 1 {
				t.Fatalf("counts %v", p.Counts())
			}
		})
	}
}

func TestBoundedSeededAndMatch(t *testing.T) {
	up, _ := upstream(t)
	run := func() []int {
		p, err := Start(up.URL, Config{Seed: 42, Rates: map[Kind]float64{Status503: 0.5}, MaxFaults: 5,
			Match: func(r *http.Request) bool { return r.Method == http.MethodPost }})
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		var codes []int
		for range 40 {
			code, _, _, err := get(t, p.URL+"/x")
			if err != nil {
				t.Fatal(err)
			}
			codes = append(codes, code)
		}
		if n := p.Counts()[Status503]; n != 5 {
			t.Fatalf("injected %d faults, want the bound 5", n)
		}
		// GETs do not match: they always pass.
		resp, err := http.Get(p.URL + "/x")
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("GET: %v %v", resp, err)
		}
		resp.Body.Close()
		return codes
	}
	a, b := run(), run()
	if len(a) != len(b) {
		t.Fatal("length")
	}
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("same seed, different faults: %v vs %v", a, b)
		}
	}
}

func TestDisappearAndLifetime(t *testing.T) {
	up, hits := upstream(t)
	p, err := Start(up.URL, Config{DisappearAfter: 2})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if code, _, _, err := get(t, p.URL+"/x"); err != nil || code != 200 {
			t.Fatalf("%d %v", code, err)
		}
	}
	get(t, p.URL+"/x") //nolint:errcheck // the third one makes it vanish
	time.Sleep(50 * time.Millisecond)
	if _, _, _, err := get(t, p.URL+"/x"); err == nil {
		t.Fatal("proxy still answers after disappearing")
	}
	if hits.Load() != 2 {
		t.Fatalf("upstream saw %d", hits.Load())
	}

	q, err := Start(up.URL, Config{Lifetime: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	if _, _, _, err := get(t, q.URL+"/x"); err == nil {
		t.Fatal("proxy outlived its Lifetime")
	}
}

func TestBadConfig(t *testing.T) {
	for _, cfg := range []Config{
		{Rates: map[Kind]float64{Status500: 0.6, DropAfter: 0.6}},
		{Rates: map[Kind]float64{Truncate: -0.1}},
	} {
		if p, err := Start("http://127.0.0.1:1", cfg); err == nil {
			p.Close()
			t.Fatalf("%+v accepted", cfg)
		}
	}
	if _, err := Start("unix:///x", Config{}); err == nil {
		t.Fatal("non-http upstream accepted")
	}
}

// In latency mode a request costs one round trip, and a new connection one
// more (its handshake); every request is logged with its status.
func TestLatencyModeAndLog(t *testing.T) {
	up, _ := upstream(t)
	const rtt = 60 * time.Millisecond
	p, err := Start(up.URL+"/api", Config{RTT: rtt})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	c := &http.Client{Timeout: 5 * time.Second}
	send := func() time.Duration {
		start := time.Now()
		resp, err := c.Post(p.URL+"/deployments/filter?x=1", "application/json", strings.NewReader("{}"))
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return time.Since(start)
	}
	first, second := send(), send()
	if first < 2*rtt || first > 2*rtt+time.Second {
		t.Errorf("first request (new connection) took %v, want about %v", first, 2*rtt)
	}
	if second < rtt || second >= 2*rtt {
		t.Errorf("second request (kept-alive connection) took %v, want about %v", second, rtt)
	}
	log := p.Log()
	if len(log) != 2 || log[0].Method != "POST" || log[0].Path != "/deployments/filter?x=1" || log[0].Status != 200 || log[0].Body != nil {
		t.Errorf("log %+v", log)
	}
	if len(p.Log()) != 0 {
		t.Error("Log did not forget what it returned")
	}
}
