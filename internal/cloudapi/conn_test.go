package cloudapi

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// A server that, like Prefect's, resets the connection right after an
// exception answer: with many requests in flight, none of them may fail
// because it was sent on such a connection (it went back to the pool the
// moment the 503's body was read, before the client judged it).
func TestConnectionResetAfterExceptionIsNeverReused(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1)%3 != 0 {
			fmt.Fprint(w, `{"id":"1","name":"x","tags":[]}`)
			return
		}
		conn, buf, err := w.(http.Hijacker).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		body := `{"exception_message":"Service Unavailable"}`
		fmt.Fprintf(buf, "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
		buf.Flush()
		// The reset follows the answer a moment later, as Starlette's does.
		time.Sleep(5 * time.Millisecond)
		if tc, ok := conn.(*net.TCPConn); ok {
			tc.SetLinger(0)
		}
		conn.Close()
	}))
	defer srv.Close()
	c, _, _ := newTestClient(t, srv, func(o *Options) {
		o.Sleep = func(ctx context.Context, d time.Duration) error { return nil }
		o.Debug = nil
		o.Concurrency = 8
	})
	var wg sync.WaitGroup
	errs := make(chan error, 200)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 25; i++ {
				if _, err := c.ReadFlow(context.Background(), "x"); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// A connection that answered a 5xx is not used again.
func TestConnectionRetiredAfterServerError(t *testing.T) {
	var mu sync.Mutex
	addrs := []string{}
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		addrs = append(addrs, r.RemoteAddr)
		mu.Unlock()
		if n.Add(1) == 2 {
			w.WriteHeader(502)
			fmt.Fprint(w, "bad gateway")
			return
		}
		fmt.Fprint(w, `{"id":"1","name":"x","tags":[]}`)
	}))
	defer srv.Close()
	c, _, _ := newTestClient(t, srv, func(o *Options) {
		o.Sleep = func(ctx context.Context, d time.Duration) error { return nil }
	})
	for i := 0; i < 3; i++ {
		if _, err := c.ReadFlow(context.Background(), "x"); err != nil {
			t.Fatal(err)
		}
	}
	// 1: ok, 2: 502 on the same connection, 3: the retry, 4: the next call.
	if len(addrs) != 4 || addrs[0] != addrs[1] || addrs[2] == addrs[1] || addrs[3] != addrs[2] {
		t.Fatalf("connections per request: %v; want the first two on one, the rest on a new one", addrs)
	}
}
