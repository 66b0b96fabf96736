package cloudapi

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prefectctl/prefectctl/internal/testenv"
)

// startGuardedServer starts a private Prefect 3.9.1 server with CSRF
// protection and basic auth on, which the shared test server does not
// have, and stops it (by its process group) when the test ends.
func startGuardedServer(t *testing.T, auth string) string {
	t.Helper()
	return testenv.PrivatePrefect(t, "PREFECT_SERVER_CSRF_PROTECTION_ENABLED=true", "PREFECT_SERVER_API_AUTH_STRING="+auth)
}

func TestRealServerCSRFAndBasicAuth(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Prefect server")
	}
	api := startGuardedServer(t, "admin:pa55word")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	var log strings.Builder
	c, err := New(Options{BaseURL: api, AuthString: "admin:pa55word", CSRF: true, MaxRetries: 1,
		Debug: func(f string, a ...any) { fmt.Fprintf(&log, f+"\n", a...) }})
	if err != nil {
		t.Fatal(err)
	}
	f, err := c.CreateFlow(ctx, "guarded")
	if err != nil {
		t.Fatalf("with token and auth: %v\n%s", err, log.String())
	}
	if _, err := c.ReadFlow(ctx, f.ID); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "/csrf-token?client=") || strings.Contains(log.String(), "pa55word") {
		t.Errorf("debug log:\n%s", log.String())
	}

	wrong, _ := New(Options{BaseURL: api, AuthString: "admin:nope", CSRF: true})
	_, err = wrong.ReadFlow(ctx, f.ID)
	if !errors.Is(err, ErrUnauthorized) || strings.Contains(err.Error(), "nope") {
		t.Fatalf("wrong password: %v", err)
	}

	noCSRF, _ := New(Options{BaseURL: api, AuthString: "admin:pa55word", CSRF: false})
	_, err = noCSRF.CreateFlow(ctx, "x")
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != 403 || !strings.Contains(ae.Hint, "CSRF") {
		t.Fatalf("without CSRF: %v", err)
	}
	if err := noCSRF.Health(ctx); err != nil {
		t.Fatalf("health needs neither: %v", err)
	}
}
