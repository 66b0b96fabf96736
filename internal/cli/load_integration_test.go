package cli

// Load: 500 deployments against the real servers, SQLite and PostgreSQL,
// with the concurrency prefectctl finds by itself, all present, correct and
// unduplicated; a redeploy of them all unchanged costs a handful of reads;
// and the client backs off (Retry-After, exponential waits) when the
// server slows down and sheds load.

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prefectctl/prefectctl/internal/py"
	"github.com/prefectctl/prefectctl/internal/testenv"
	"github.com/prefectctl/prefectctl/internal/testenv/faultproxy"
)

func TestLoadFiveHundredDeployments(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the real Prefect servers")
	}
	for _, kind := range []string{"sqlite", "postgres"} {
		t.Run(kind, func(t *testing.T) {
			// SQLite: a server of its own; the shared one serves other
			// packages' tests at the same time, and its single writer then
			// sheds this load beyond any retry budget.
			api := testenv.PrefectPostgres(t)
			if kind == "sqlite" {
				api = privatePrefect(t)
			}
			loadFiveHundred(t, api)
		})
	}
}

func loadFiveHundred(t *testing.T, api string) {
	ctx := context.Background()
	g := newGeneratedProject(t, api, "load", 20, 25)
	c, prefix, names := g.c, g.prefix, g.names
	p := countingProxy(t, api)
	start := time.Now()
	code, out, errOut := run("deploy", "--all", "-o", "json")
	took := time.Since(start)
	if code != 0 {
		t.Fatalf("deploy: exit %d\n%s", code, lastLines(errOut, 20))
	}
	r := parseApply(t, out)
	if !r.OK || len(r.Deployments) != 500 {
		t.Fatalf("ok=%v, %d deployments", r.OK, len(r.Deployments))
	}
	for _, d := range r.Deployments {
		if d.Action != "created" {
			t.Errorf("%s: %s %s", d.Name, d.Action, d.Error)
		}
	}
	log := p.Log()
	shapes := successShapes(log)
	if shapes["POST /flows/"] != 20 || shapes["POST /deployments/"] != 500 {
		t.Errorf("want 20 flows and 500 deployments created once each: %v", shapes)
	}
	got, nflows := snapshot(ctx, t, c, prefix) // fails on a duplicate
	if len(got) != 500 || nflows != 20 {
		t.Fatalf("server holds %d deployments and %d flows, want 500 and 20", len(got), nflows)
	}
	// Spot-check the content of every deployment: its own parameters,
	// both schedules, its job variables.
	for i, name := range names {
		j := i % 25
		g := got[name]
		for _, want := range []string{`"parameters":{"n":` + itoa(j) + `,"label":"l` + itoa(j) + `"}`, `"cron":"` + itoa(j%60) + ` `,
			`"interval":` + itoa(3600+j) + `.0`, `"job_variables":{"env":{"K":"v` + itoa(j) + `"}}`} {
			if !strings.Contains(g, want) {
				t.Errorf("%s lacks %s:\n%s", name, want, g)
				break
			}
		}
	}
	t.Logf("500 deployments created in %.1fs: %d requests %v", took.Seconds(), len(log), requestShapes(log))

	// Unchanged: the snapshot's reads (the deployments in four requests of
	// at most 150 pairs) and nothing else.
	code, out, errOut = run("deploy", "--all", "-o", "json")
	if code != 0 {
		t.Fatalf("redeploy: exit %d\n%s", code, lastLines(errOut, 20))
	}
	for _, d := range parseApply(t, out).Deployments {
		if d.Action != "unchanged" {
			t.Errorf("redeploy: %s %s", d.Name, d.Action)
		}
	}
	if log := p.Log(); len(taken(log)) > 8 || len(writes(log)) > 0 {
		t.Errorf("unchanged redeploy of 500: %d requests taken %v\n%s", len(taken(log)), requestShapes(log), answered(log))
	}
}

func itoa(i int) string { return py.Str(int64(i)) }

func lastLines(s string, n int) string {
	l := strings.Split(strings.TrimSpace(s), "\n")
	if len(l) > n {
		l = l[len(l)-n:]
	}
	return strings.Join(l, "\n")
}

var retryLine = regexp.MustCompile(`retrying (GET|POST|PATCH|PUT|DELETE) \S+ in ([0-9.]+)(ms|s) \(attempt`)

func TestLoadClientBacksOff(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the real Prefect server")
	}
	api := testenv.Prefect(t)
	ctx := context.Background()
	g := newGeneratedProject(t, api, "backoff", 4, 10)
	c, prefix := g.c, g.prefix
	// A slow, overloaded server: latency on a third of the calls, 429s
	// asking for 0.1 s, 503s with no hint (exponential backoff applies).
	p, err := faultproxy.Start(api, faultproxy.Config{
		Seed:      16,
		Rates:     map[faultproxy.Kind]float64{faultproxy.Delay: 0.3, faultproxy.RateLimit: 0.1, faultproxy.Status503: 0.1},
		DelayFor:  300 * time.Millisecond,
		MaxFaults: 40,
		Lifetime:  3 * time.Minute,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	t.Setenv("PREFECT_API_URL", p.URL)
	code, out, errOut := run("--debug", "deploy", "--all", "--concurrency", "16", "-o", "json")
	if code != 0 {
		t.Fatalf("deploy: exit %d\n%s", code, lastLines(errOut, 30))
	}
	if r := parseApply(t, out); !r.OK || len(r.Deployments) != 40 {
		t.Fatalf("ok=%v, %d deployments", r.OK, len(r.Deployments))
	}
	counts := p.Counts()
	shed := counts[faultproxy.RateLimit] + counts[faultproxy.Status503]
	var retries, honoured, backedOff int
	for _, m := range retryLine.FindAllStringSubmatch(errOut, -1) {
		retries++
		wait := m[2] + m[3]
		d, _ := time.ParseDuration(wait)
		switch {
		case d >= 100*time.Millisecond && d <= 121*time.Millisecond:
			honoured++ // Retry-After: 0.1, plus up to 20% jitter
		case d >= time.Second:
			backedOff++ // Base*2^try with jitter, no sooner than 1 s
		}
	}
	t.Logf("faults %v; %d retries: %d after Retry-After, %d backed off ≥1s", counts, retries, honoured, backedOff)
	if counts[faultproxy.RateLimit] == 0 || counts[faultproxy.Status503] == 0 {
		t.Fatalf("the seed injected no 429 or no 503: %v", counts)
	}
	if retries < shed {
		t.Fatalf("%d 429/503 answers but only %d retries logged", shed, retries)
	}
	if honoured < counts[faultproxy.RateLimit] || backedOff < counts[faultproxy.Status503] {
		t.Fatalf("retry waits do not follow the server: %d Retry-After waits for %d 429s, %d backoffs for %d 503s",
			honoured, counts[faultproxy.RateLimit], backedOff, counts[faultproxy.Status503])
	}
	if got, _ := snapshot(ctx, t, c, prefix); len(got) != 40 {
		t.Fatalf("%d deployments on the server, want 40", len(got))
	}
}
