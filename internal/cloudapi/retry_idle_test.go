package cloudapi

import (
	"errors"
	"net/url"
	"testing"
)

// A pooled connection closed by the server as it is reused surfaces as
// net/http's unexported "server closed idle connection" error for methods the
// transport does not replay (PATCH, DELETE); it must be retried like a reset.
func TestRetryableErrServerClosedIdle(t *testing.T) {
	c := &Client{}
	err := &url.Error{Op: "Delete", URL: "http://127.0.0.1/api/x", Err: errors.New("http: server closed idle connection")}
	if !c.retryableErr(err) {
		t.Fatalf("retryableErr(%v) = false, want true", err)
	}
	if c.retryableErr(errors.New("http: request body too large")) {
		t.Fatal("an unrelated error is retried")
	}
}
