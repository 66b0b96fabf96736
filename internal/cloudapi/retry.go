// Retries: which failures are retried, how long to wait, and how a failure is reported.

package cloudapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/prefectctl/prefectctl/internal/diag"
)

// sleepUntil waits for d, or less when wake is closed first.
func (c *Client) sleepUntil(ctx context.Context, d time.Duration, wake <-chan struct{}) error {
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		select {
		case <-wake:
			cancel()
		case <-stop:
		}
	}()
	if err := c.opt.Sleep(wctx, d); err != nil && ctx.Err() != nil {
		return err
	}
	return nil
}

// maxBusyRetries bounds the quick, uncounted retries of a request the
// server's database turned away; beyond them the normal retries (and
// their backoff) apply.
const maxBusyRetries = 20

// isServerBusy reports whether a 503 is the Prefect server's own answer to
// a database error its clients may retry (SQLite's "database is locked",
// a dropped PostgreSQL connection): the body Prefect's exception handler
// writes, with no Retry-After. A 503 from a proxy or a load balancer, or
// one asking for a wait, is left to the normal retries.
func isServerBusy(hdr http.Header, body []byte) bool {
	if hdr.Get("Retry-After") != "" {
		return false
	}
	var m struct {
		Msg string `json:"exception_message"`
	}
	return json.Unmarshal(body, &m) == nil && m.Msg == "Service Unavailable"
}

// busyBackoff is the longest wait before the nth quick retry of a busy
// answer: 25 ms doubling to at most 1 s, with full jitter so that
// colliding writers do not collide again.
func (c *Client) busyBackoff(n int) time.Duration {
	d := min(c.opt.BusyBackoffBase*time.Duration(1<<min(n-1, 10)), time.Second)
	return time.Duration(mrand.Int64N(int64(d)) + 1)
}

// maxMaintenanceWaits bounds the uncounted retries while a server answers
// with Prefect-Maintenance: true.
const maxMaintenanceWaits = 30

// backoff is Base*2^try with Prefect's symmetric jitter around it.
func (c *Client) backoff(try int) time.Duration {
	d := float64(c.opt.BackoffBase) * math.Pow(2, float64(try))
	if j := c.opt.JitterFactor; j > 0 {
		d *= 1 + j*(2*mrand.Float64()-1)
	}
	return time.Duration(d)
}

// retryableErr: dropped connections, resets, timeouts and truncated
// bodies are retried; a refused connection only after one success, so a
// wrong URL fails fast (as in Prefect).
func (c *Client) retryableErr(err error) bool {
	var ne net.Error
	switch {
	case errors.Is(err, context.Canceled):
		return false
	case errors.Is(err, syscall.ECONNREFUSED), isDNSError(err):
		return c.connected.Load()
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF),
		errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.Is(err, context.DeadlineExceeded):
		return true
	case errors.As(err, &ne) && ne.Timeout():
		return true
	case strings.Contains(err.Error(), "server closed idle connection"):
		// net/http's unexported errServerClosedIdle: the server (uvicorn's
		// 5 s keep-alive) closed a pooled connection as it was reused. The
		// transport retries it by itself only for GET/HEAD, not for PATCH or
		// DELETE; nothing reached the server, so a retry is safe.
		return true
	}
	return false
}

func isDNSError(err error) bool {
	var de *net.DNSError
	return errors.As(err, &de)
}

func (c *Client) transportError(method string, u *url.URL, err error, retries int) error {
	msg := fmt.Sprintf("%s %s failed", method, redactURL(u.String()))
	if retries > 0 {
		msg += fmt.Sprintf(" after %d retries", retries)
	}
	hint := "check that the Prefect server is running and PREFECT_API_URL is right"
	if errors.Is(err, context.DeadlineExceeded) {
		hint = "the server did not answer in time; raise PREFECT_API_REQUEST_TIMEOUT or check the server"
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // the URL is already in msg, redacted
	}
	return &diag.Error{Kind: diag.Runtime, Msg: msg, Hint: hint, Err: errors.New(c.redact(err.Error()))}
}

func retryAfter(v string) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if f, err := strconv.ParseFloat(v, 64); err == nil && f >= 0 {
		return time.Duration(f * float64(time.Second)), true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t), 0), true
	}
	return 0, false
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
