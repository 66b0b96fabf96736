package cli

// The registry failing mid-push (401 as a layer upload starts, 500 on the
// manifest) ends the deploy with a clear error and registers nothing for
// the deployment whose image did not get pushed.

import (
	"context"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/prefectctl/prefectctl/internal/cloudapi"
	"github.com/prefectctl/prefectctl/internal/testenv"
	"github.com/prefectctl/prefectctl/internal/testenv/faultproxy"
)

func TestRegistryFailsMidPush(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the real Prefect server, dockerd and a registry")
	}
	api := testenv.Prefect(t)
	dockerHost := testenv.Docker(t)
	registry := testenv.Registry(t)
	ctx := context.Background()
	c, err := cloudapi.New(cloudapi.Options{BaseURL: api, MaxRetries: 5})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		kind  faultproxy.Kind
		match func(*http.Request) bool
		want  string
	}{
		{"401 on a layer upload", faultproxy.Status401, func(r *http.Request) bool {
			return r.Method == http.MethodPost && strings.Contains(r.URL.Path, "/blobs/uploads/")
		}, "unauthorized"},
		{"500 on the manifest", faultproxy.Status500, func(r *http.Request) bool {
			return r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/manifests/")
		}, "500 Internal Server Error"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			isolate(t)
			work, _ := os.Getwd()
			prefix, pool := scratchPool(t, c, "regfault", "docker")
			p, err := faultproxy.Start("http://"+registry, faultproxy.Config{
				Rates: map[faultproxy.Kind]float64{tc.kind: 1}, Match: tc.match, Lifetime: 3 * time.Minute,
			})
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			host := strings.TrimPrefix(p.URL, "http://")
			writePushProject(t, work, prefix, host+"/"+prefix+"/img", pool, "")
			t.Setenv("PREFECT_API_URL", api)
			t.Setenv("DOCKER_HOST", dockerHost)
			code, out, errOut := run("deploy", "--all", "-o", "json")
			if code == 0 {
				t.Fatalf("deploy succeeded though the registry failed:\n%s", out)
			}
			if p.Counts()[tc.kind] == 0 {
				t.Fatalf("the push never reached the fault (exit %d):\n%s", code, lastLines(errOut, 20))
			}
			if !strings.Contains(errOut, "pushing "+host+"/"+prefix+"/img") || !strings.Contains(errOut, tc.want) {
				t.Errorf("unclear error:\n%s", lastLines(errOut, 20))
			}
			if strings.Contains(errOut, "panic") {
				t.Fatal(errOut)
			}
			if r := parseApply(t, out); r.OK || len(r.Deployments) != 1 || r.Deployments[0].Action == "created" {
				t.Errorf("JSON result: %s", out)
			}
			if d, err := c.ReadDeploymentByName(ctx, prefix+"-flow", "a"); err == nil {
				t.Errorf("deployment %s registered though its image was not pushed", d.ID)
			}
		})
	}
}
