package cloudproxy

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prefectctl/prefectctl/internal/testenv"
)

// get retries a 503, which the shared SQLite-backed server answers when busy.
func get(t *testing.T, url, key string) (int, string) {
	t.Helper()
	for try := 0; ; try++ {
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		if key != "" {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable || try == 5 {
			return resp.StatusCode, string(b)
		}
		time.Sleep(time.Second << try)
	}
}

func TestProxyShapes(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the real Prefect server")
	}
	p, err := Start(testenv.Prefect(t), "pnu_test", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()

	tests := []struct {
		name, url, key string
		status         int
		body           string
	}{
		{"workspaces", p.CloudAPIURL + "/me/workspaces", "pnu_test", 200, `"workspace_handle":"prod"`},
		{"no key", p.CloudAPIURL + "/me/workspaces", "", 401, "Invalid authentication"},
		{"wrong key", p.WorkspaceURL(0) + "/health", "pnu_wrong", 401, ""},
		{"health through workspace", p.WorkspaceURL(0) + "/health", "pnu_test", 200, "true"},
		{"second workspace", p.WorkspaceURL(1) + "/admin/version", "pnu_test", 200, `"3.9.1"`},
		{"unknown workspace", p.CloudAPIURL + "/accounts/x/workspaces/y/health", "pnu_test", 404, "Not Found"},
		{"upstream 404 passes through", p.WorkspaceURL(0) + "/flows/name/no%20such%20flow", "pnu_test", 404, "Flow not found"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, body := get(t, tc.url, tc.key)
			if status != tc.status || !strings.Contains(body, tc.body) {
				t.Fatalf("%d %s", status, body)
			}
		})
	}
	var ws []map[string]any
	_, body := get(t, p.CloudAPIURL+"/me/workspaces", "pnu_test")
	if err := json.Unmarshal([]byte(body), &ws); err != nil || len(ws) != 2 || ws[0]["account_id"] != Default[0].AccountID {
		t.Fatalf("workspaces %s", body)
	}
	if r := p.Requests(); len(r) < len(tests)+1 || !strings.HasPrefix(r[0], "GET /api/me/workspaces") {
		t.Errorf("requests %v", r)
	}
}
