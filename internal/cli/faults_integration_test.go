package cli

// Faults, tested for real: 100 deployments registered through a
// fault-injecting proxy in front of the real Prefect server end in the same
// server state as a fault-free run, with no duplicates; a server that
// disappears mid-apply ends with a clear error and an exact account of what
// was applied.

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prefectctl/prefectctl/internal/testenv"
	"github.com/prefectctl/prefectctl/internal/testenv/faultproxy"
)

func TestFaultsHundredDeploymentsConverge(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the real Prefect server")
	}
	api := testenv.Prefect(t)
	ctx := context.Background()
	g := newGeneratedProject(t, api, "faults", 10, 10)
	c, prefix, names := g.c, g.prefix, g.names

	// The reference: a fault-free run, straight to the server. The shared
	// server's SQLite may shed load (503) while other packages' tests run:
	// a retry budget above the default 5.
	t.Setenv("PREFECT_API_URL", api)
	t.Setenv("PREFECT_CLIENT_MAX_RETRIES", "10")
	if code, out, errOut := run("deploy", "--all", "--concurrency", "4", "-o", "json"); code != 0 {
		t.Fatalf("fault-free deploy: exit %d\n%s\n%s", code, out, errOut)
	}
	want, wantFlows := snapshot(ctx, t, c, prefix)
	if len(want) != len(names) || wantFlows != 10 {
		t.Fatalf("fault-free run: %d deployments, %d flows; want %d and 10", len(want), wantFlows, len(names))
	}
	cleanupPrefix(c, prefix, "")
	if got, n := snapshot(ctx, t, c, prefix); len(got) != 0 || n != 0 {
		t.Fatalf("cleanup left %d deployments, %d flows", len(got), n)
	}

	// The same project through faults. Retried faults (429, 502, 503,
	// drops, truncation) are absorbed by the client; a 500 is not retried
	// (as in Prefect), so a run may fail some deployments, and re-running
	// must converge. MaxFaults bounds the faults so convergence is certain.
	p, err := faultproxy.Start(api, faultproxy.Config{
		Seed: 8,
		Rates: map[faultproxy.Kind]float64{
			faultproxy.Delay: 0.05, faultproxy.RateLimit: 0.04, faultproxy.Status500: 0.01,
			faultproxy.Status502: 0.02, faultproxy.Status503: 0.03, faultproxy.DropBefore: 0.02,
			faultproxy.DropAfter: 0.03, faultproxy.Truncate: 0.03,
		},
		DelayFor:  100 * time.Millisecond,
		MaxFaults: 60,
		Lifetime:  5 * time.Minute,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	t.Setenv("PREFECT_API_URL", p.URL)
	var runs int
	for runs = 1; runs <= 10; runs++ {
		code, out, errOut := run("deploy", "--all", "--concurrency", "8", "-o", "json")
		if code == 0 {
			break
		}
		if strings.Contains(errOut, "panic") {
			t.Fatalf("run %d panicked:\n%s", runs, errOut)
		}
		// A run that failed before any write (a 500 on one of the
		// snapshot's reads) prints no report; a failed run that wrote
		// names every deployment, each applied or not.
		if strings.TrimSpace(out) == "" {
			t.Logf("run %d through faults failed before any write (exit %d), re-running: %s", runs, code, lastLine(errOut))
			continue
		}
		if r := parseApply(t, out); len(r.Deployments) != 0 && (r.OK || len(r.Deployments) != len(names)) {
			t.Fatalf("run %d: exit %d but JSON ok=%v with %d deployments", runs, code, r.OK, len(r.Deployments))
		}
		t.Logf("run %d through faults failed (exit %d), re-running: %s", runs, code, lastLine(errOut))
	}
	if runs > 10 {
		t.Fatalf("no convergence after 10 runs; faults injected %v", p.Counts())
	}
	counts := p.Counts()
	t.Logf("converged after %d run(s); faults injected: %v", runs, counts)
	if counts[faultproxy.DropAfter] == 0 || counts[faultproxy.Truncate] == 0 || counts[faultproxy.RateLimit] == 0 {
		t.Fatalf("the seed injected too few faults to mean anything: %v", counts)
	}
	got, gotFlows := snapshot(ctx, t, c, prefix)
	if gotFlows != wantFlows {
		t.Errorf("%d flows after faults, want %d (duplicates?)", gotFlows, wantFlows)
	}
	if len(got) != len(want) {
		t.Errorf("%d deployments after faults, want %d", len(got), len(want))
	}
	for name, w := range want {
		if g, ok := got[name]; !ok {
			t.Errorf("%s missing after faults", name)
		} else if g != w {
			t.Errorf("%s differs after faults:\n got %s\nwant %s", name, g, w)
		}
	}
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

func TestFaultsServerDisappearsMidApply(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the real Prefect server")
	}
	api := testenv.Prefect(t)
	ctx := context.Background()
	g := newGeneratedProject(t, api, "vanish", 4, 5)
	c, prefix, names := g.c, g.prefix, g.names
	// The server vanishes as the sixth deployment is registered.
	p, err := faultproxy.Start(api, faultproxy.Config{
		DisappearAfter: 5,
		DisappearMatch: func(r *http.Request) bool { return r.Method == http.MethodPost && r.URL.Path == "/api/deployments/" },
		Lifetime:       3 * time.Minute,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	t.Setenv("PREFECT_API_URL", p.URL)
	t.Setenv("PREFECT_CLIENT_MAX_RETRIES", "2")
	code, out, errOut := run("deploy", "--all", "--concurrency", "2", "-o", "json")
	if code == 0 {
		t.Fatalf("deploy succeeded against a vanished server:\n%s", out)
	}
	if strings.Contains(errOut, "panic") || !strings.Contains(errOut, "127.0.0.1") {
		t.Fatalf("error does not name the server:\n%s", errOut)
	}
	r := parseApply(t, out)
	if r.OK || len(r.Deployments) != len(names) {
		t.Fatalf("JSON result: ok=%v, %d deployments, want %d\n%s", r.OK, len(r.Deployments), len(names), out)
	}
	if !strings.Contains(errOut, "check that the Prefect server is running") {
		t.Errorf("no hint in the error:\n%s", errOut)
	}
	got, _ := snapshot(ctx, t, c, prefix)
	count := map[string]int{}
	for _, d := range r.Deployments {
		count[d.Action]++
		_, onServer := got[d.Name]
		switch d.Action {
		case "created":
			if !onServer {
				t.Errorf("%s reported created but is not on the server", d.Name)
			}
		case "not-applied":
			if onServer {
				t.Errorf("%s reported not applied but is on the server", d.Name)
			}
		case "failed":
			// A write in flight when the server vanished may or may not
			// have landed: the client cannot know. The report says failed
			// with the error; re-running converges (see the faults test).
			if d.Error == "" {
				t.Errorf("%s failed without an error", d.Name)
			}
		default:
			t.Errorf("%s: unexpected action %q", d.Name, d.Action)
		}
	}
	// Five deployment writes reached the server (retries of the SQLite
	// server's "database is locked" answers among them, so under load
	// fewer than five deployments); the first to vanish with it fails, new
	// work stops, the rest are not applied.
	if count["created"] < 1 || count["not-applied"] == 0 || count["failed"] == 0 || len(got) < count["created"] || len(got) > 5 {
		t.Fatalf("actions %v, %d on the server\n%s\n%s", count, len(got), out, errOut)
	}
	t.Logf("actions %v, %d on the server", count, len(got))
}
