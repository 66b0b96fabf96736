package testenv

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// Environment variables of the kubernetes part.
const (
	EnvKubeconfig = "KUBECONFIG"
	EnvKubectl    = "PREFECTCTL_KUBECTL"
	EnvKubeAPI    = "PREFECTCTL_KUBE_API"
)

// Kube is a running single-node cluster of scripts/testenv.sh (part
// kubernetes): its admin kubeconfig, kubectl, and an API client.
type Kube struct {
	Kubeconfig string // admin kubeconfig
	Kubectl    string // kubectl of the cluster's version
	Server     string // https://127.0.0.1:PORT
	token      string
	client     *http.Client
}

// Kubernetes returns the test environment's cluster, starting it through
// scripts/testenv.sh when it is not running (a first start builds the
// binaries: minutes). It refuses an API server that is not on loopback, so
// a KUBECONFIG left in a developer's shell is never used.
func Kubernetes(t testing.TB) *Kube {
	t.Helper()
	v := lookup(t, "kubernetes", EnvKubeconfig, EnvKubectl, EnvKubeAPI)
	k, err := loadKube(v[0], v[1])
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	if !strings.HasPrefix(k.Server, "https://127.0.0.1:") || k.Server != v[2] {
		t.Fatalf("testenv: %s=%s names API server %s, not the test cluster's %s on loopback; unset it to use the test cluster",
			EnvKubeconfig, v[0], k.Server, v[2])
	}
	return k
}

type kubeconfig struct {
	Clusters []struct {
		Cluster struct {
			Server string `yaml:"server"`
			CA     string `yaml:"certificate-authority-data"`
		} `yaml:"cluster"`
	} `yaml:"clusters"`
	Users []struct {
		User struct {
			Token string `yaml:"token"`
		} `yaml:"user"`
	} `yaml:"users"`
}

func loadKube(path, kubectl string) (*Kube, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var kc kubeconfig
	if err := yaml.Unmarshal(raw, &kc); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	if len(kc.Clusters) == 0 || len(kc.Users) == 0 {
		return nil, fmt.Errorf("%s: no cluster or user", path)
	}
	ca, err := base64.StdEncoding.DecodeString(kc.Clusters[0].Cluster.CA)
	if err != nil {
		return nil, fmt.Errorf("%s: certificate-authority-data: %v", path, err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca) {
		return nil, fmt.Errorf("%s: no CA certificate", path)
	}
	return &Kube{
		Kubeconfig: path, Kubectl: kubectl, Server: kc.Clusters[0].Cluster.Server, token: kc.Users[0].User.Token,
		client: &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}},
	}, nil
}

// Do sends a request to the API server (path from /api or /apis) with the
// admin token; body, when not nil, is sent as JSON; the answer is decoded
// into out when not nil. A status >= 300 is an error with the body.
func (k *Kube) Do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, k.Server+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+k.token)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := k.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		return fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, bytes.TrimSpace(b))
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

// Run runs kubectl against the cluster and returns its stdout; a failure
// fails the test with stderr.
func (k *Kube) Run(t testing.TB, stdin string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, k.Kubectl, append([]string{"--kubeconfig", k.Kubeconfig}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("kubectl %s: %v\n%s%s", strings.Join(args, " "), err, out, stderr.String())
	}
	return string(out)
}
