package guidetest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prefectctl/prefectctl/internal/cloudapi"
	"github.com/prefectctl/prefectctl/internal/jobtemplate"
	"github.com/prefectctl/prefectctl/internal/py"
	"github.com/prefectctl/prefectctl/internal/testenv"
)

// guideEnv is one guide set-up: a Prefect server of the test's own (the
// guide's names hello/arthur and pool "kubernetes" are fixed), the test
// cluster with a worker in a namespace of the test's own, and the guide
// project deployed.
type guideEnv struct {
	api, registry, dockerHost, baseImage string
	kube                                 *testenv.Kube
	ns, workerName, project              string
	env                                  []string // for prefectctl
	image                                string   // as registered for hello/arthur
}

// guideProject is examples/flows, committed in a fresh repository (its
// build step tags the image with the commit), with two changes: the build
// does not pull its base image (the shared test engine has no route or
// mirror to Docker Hub; make demo runs the project unchanged, with a mirror),
// and a third deployment, boom/boom, whose flow raises.
func guideProject(t *testing.T) string {
	t.Helper()
	// Named flows, as in the guide: the generated Dockerfile copies the project to
	// /opt/prefect/<its directory's name>, where the pull step expects it.
	dir := filepath.Join(t.TempDir(), "flows")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(repoRoot(t), "examples", "flows")
	run(t, "", nil, "cp", "-a", src+"/.", dir)
	y, err := os.ReadFile(filepath.Join(dir, "prefect.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(y)
	const platform = "    platform: \"linux/amd64\"\n"
	if !strings.Contains(s, platform) {
		t.Fatalf("examples/flows/prefect.yaml has no build platform line to add pull: false after")
	}
	s = strings.Replace(s, platform, platform+"    pull: false\n", 1)
	s += `
- name: "boom"
  tags: *common_tags
  schedule: null
  entrypoint: "flows/boom.py:boom"
  work_pool: *common_work_pool
`
	if err := os.WriteFile(filepath.Join(dir, "prefect.yaml"), []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	boom := "from prefect import flow\n\n\n@flow\ndef boom():\n    raise RuntimeError(\"boom, as intended\")\n"
	if err := os.WriteFile(filepath.Join(dir, "flows", "boom.py"), []byte(boom), 0o644); err != nil {
		t.Fatal(err)
	}
	git := []string{"-c", "user.name=guidetest", "-c", "user.email=guidetest@localhost", "-C", dir}
	run(t, "", nil, "git", append(git, "init", "-q")...)
	run(t, "", nil, "git", append(git, "add", "-A")...)
	run(t, "", nil, "git", append(git, "commit", "-qm", "guide project")...)
	return dir
}

func setupGuide(t *testing.T) *guideEnv {
	t.Helper()
	g := &guideEnv{
		kube: testenv.Kubernetes(t), registry: testenv.Registry(t), dockerHost: testenv.Docker(t),
		baseImage: testenv.BaseImage(t), api: testenv.PrivatePrefect(t),
	}
	suffix := randomSuffix(t)
	g.ns = "guide-" + suffix
	g.workerName = "prefect-worker-" + suffix
	ctx := context.Background()
	docker := []string{"DOCKER_HOST=" + g.dockerHost}

	// The worker's image: the base image (prefect + prefect-kubernetes), from the loopback registry.
	workerImage := fmt.Sprintf("%s/prefect-worker-%s:3.9.1-python3.11", g.registry, suffix)
	run(t, "", docker, "docker", "tag", g.baseImage, workerImage)
	run(t, "", docker, "docker", "push", "-q", workerImage)

	// The guide's pool, from prefect-kubernetes' default template (the same script as make demo).
	script, err := os.ReadFile(filepath.Join(repoRoot(t), "scripts", "lib", "kube-guide-pool.py"))
	if err != nil {
		t.Fatal(err)
	}
	tmpl := decode(t, run(t, string(script), docker, "docker", "run", "--rm", "-i", "--network", "none", g.baseImage,
		"python", "-", "500m", g.api, g.ns))
	c, err := cloudapi.New(cloudapi.Options{BaseURL: g.api, MaxRetries: 6, Timeout: 60 * time.Second, BackoffBase: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateWorkPool(ctx, py.MapOf("name", "kubernetes", "type", "kubernetes", "base_job_template", tmpl)); err != nil {
		t.Fatal(err)
	}

	// The worker, in the cluster (the same manifest as make demo).
	manifest, err := os.ReadFile(filepath.Join(repoRoot(t), "scripts", "lib", "kube-worker.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{"NAMESPACE": g.ns, "WORKER_IMAGE": workerImage, "POOL": "kubernetes", "WORKER_NAME": g.workerName,
		"KUBE_API_PORT": g.kube.Server[strings.LastIndex(g.kube.Server, ":")+1:], "PREFECT_API_URL": g.api}
	g.kube.Run(t, os.Expand(string(manifest), func(k string) string { return vars[k] }), "apply", "-f", "-")
	t.Cleanup(func() {
		// Jobs, pods and the worker go with the namespace; wait, so nothing of ours still runs after.
		cmd := exec.Command(g.kube.Kubectl, "--kubeconfig", g.kube.Kubeconfig, "delete", "namespace", g.ns, "--wait=true", "--timeout=120s")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Logf("deleting namespace %s: %v\n%s", g.ns, err, out)
		}
	})
	rollout := exec.Command(g.kube.Kubectl, "--kubeconfig", g.kube.Kubeconfig, "-n", g.ns, "rollout", "status", "deployment/prefect-worker", "--timeout=240s")
	if out, err := rollout.CombinedOutput(); err != nil {
		desc, _ := exec.Command(g.kube.Kubectl, "--kubeconfig", g.kube.Kubeconfig, "-n", g.ns, "describe", "pods").CombinedOutput()
		t.Fatalf("the worker Deployment did not roll out: %v\n%s\n%s", err, out, desc)
	}
	g.waitWorkerOnline(t, c)

	g.project = guideProject(t)
	g.env = []string{"PREFECT_API_URL=" + g.api, "DOCKER_HOST=" + g.dockerHost, "PREFECT_IMAGE_NAME=" + g.registry + "/hello-" + suffix,
		"PREFECTCTL_PREFECT_IMAGE_VERSION=3.9.1", "PREFECTCTL_PYTHON_VERSION=3.11",
		"PREFECT_HOME=" + t.TempDir(), "PREFECT_PROFILES_PATH=" + filepath.Join(t.TempDir(), "profiles.toml")}
	must(t, prefectctl(t, g.project, g.env, "deploy", "--all"), "prefectctl deploy --all")
	dep := decode(t, must(t, prefectctl(t, g.project, g.env, "deployment", "inspect", "hello/arthur", "-o", "json"), "inspect").stdout)
	g.image = str(at(dep, "job_variables", "image"))
	if !strings.HasPrefix(g.image, g.registry+"/hello-"+suffix+":") {
		t.Fatalf("hello/arthur's image is %q, not one of the loopback registry", g.image)
	}
	return g
}

// waitWorkerOnline waits until the in-cluster worker has polled the pool.
func (g *guideEnv) waitWorkerOnline(t *testing.T, c *cloudapi.Client) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for {
		ws, err := c.FilterWorkers(context.Background(), "kubernetes", true)
		if err == nil {
			for _, w := range ws {
				if w.Name == g.workerName {
					return
				}
			}
		}
		if time.Now().After(deadline) {
			logs, _ := exec.Command(g.kube.Kubectl, "--kubeconfig", g.kube.Kubeconfig, "-n", g.ns, "logs", "deployment/prefect-worker", "--tail=40").CombinedOutput()
			t.Fatalf("worker %s did not come online within 3 minutes (%v)\n%s", g.workerName, err, logs)
		}
		time.Sleep(time.Second)
	}
}

// runDeployment runs `prefectctl deployment run NAME --watch -o json` and
// returns the flow run id, the exit code and the output.
func (g *guideEnv) runDeployment(t *testing.T, name string, extra ...string) (string, result) {
	t.Helper()
	args := append([]string{"deployment", "run", name, "--watch", "--timeout", "6m", "-o", "json"}, extra...)
	r := prefectctl(t, g.project, g.env, args...)
	if r.stdout == "" {
		t.Fatalf("prefectctl %s printed no JSON (exit %d):\n%s", strings.Join(args, " "), r.code, r.stderr)
	}
	return str(at(decode(t, r.stdout), "flow_run", "id")), r
}

// job returns the Job the worker created for a flow run, as the API has it.
func (g *guideEnv) job(t *testing.T, runID string) *py.Map {
	t.Helper()
	var list struct {
		Items []json.RawMessage `json:"items"`
	}
	if err := g.kube.Do(context.Background(), http.MethodGet, "/apis/batch/v1/namespaces/"+g.ns+"/jobs?labelSelector=prefect.io/flow-run-id%3D"+runID, nil, &list); err != nil {
		t.Fatal(err)
	}
	if len(list.Items) != 1 {
		t.Fatalf("%d Jobs for flow run %s in %s, want 1", len(list.Items), runID, g.ns)
	}
	// Read by name: list items carry no apiVersion and kind.
	var job json.RawMessage
	name := str(at(decode(t, string(list.Items[0])), "metadata", "name"))
	if err := g.kube.Do(context.Background(), http.MethodGet, "/apis/batch/v1/namespaces/"+g.ns+"/jobs/"+name, nil, &job); err != nil {
		t.Fatal(err)
	}
	return decode(t, string(job))
}

// pod returns the Job's pod.
func (g *guideEnv) pod(t *testing.T, jobName string) *py.Map {
	t.Helper()
	var list struct {
		Items []json.RawMessage `json:"items"`
	}
	if err := g.kube.Do(context.Background(), http.MethodGet, "/api/v1/namespaces/"+g.ns+"/pods?labelSelector=job-name%3D"+jobName, nil, &list); err != nil {
		t.Fatal(err)
	}
	if len(list.Items) == 0 {
		t.Fatalf("no pod for Job %s", jobName)
	}
	return decode(t, string(list.Items[0]))
}

// registryDigest is the digest the registry serves for repo:tag, and the
// image's config (for its working directory).
func registryDigest(t *testing.T, ref string) (digest string, config *py.Map) {
	t.Helper()
	host, rest, _ := strings.Cut(ref, "/")
	repo, tag, _ := strings.Cut(rest, ":")
	req, _ := http.NewRequest(http.MethodGet, "http://"+host+"/v2/"+repo+"/manifests/"+tag, nil)
	req.Header.Set("Accept", "application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m struct {
		Config struct {
			Digest string `json:"digest"`
		} `json:"config"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil || resp.StatusCode != 200 {
		t.Fatalf("manifest of %s: %s %v", ref, resp.Status, err)
	}
	digest = resp.Header.Get("Docker-Content-Digest")
	cresp, err := http.Get("http://" + host + "/v2/" + repo + "/blobs/" + m.Config.Digest)
	if err != nil {
		t.Fatal(err)
	}
	defer cresp.Body.Close()
	var cfg json.RawMessage
	if err := json.NewDecoder(cresp.Body).Decode(&cfg); err != nil {
		t.Fatal(err)
	}
	return digest, decode(t, string(cfg))
}

// TestGuideOnKubernetes is the guide's acceptance on a real cluster: the
// image prefectctl built and pushed runs as a Job created by Prefect's
// Kubernetes worker in the cluster; the Job and its pod are read back from
// the Kubernetes API; a failing flow ends the watch with exit 3; and
// deployment inspect --job renders exactly the Job the worker created.
func TestGuideOnKubernetes(t *testing.T) {
	g := setupGuide(t)

	t.Run("hello/arthur runs in a pod from the loopback registry", func(t *testing.T) {
		id, r := g.runDeployment(t, "hello/arthur")
		if r.code != 0 || !strings.Contains(r.stderr, "Hello, Arthur!") {
			t.Fatalf("run of hello/arthur: exit %d, want 0 with the flow's log line 'Hello, Arthur!'\n%s", r.code, r.stderr)
		}
		if got := str(at(decode(t, r.stdout), "final_state", "type")); got != "COMPLETED" {
			t.Fatalf("final state %s, want COMPLETED", got)
		}
		job := g.job(t, id)
		ctr := at(job, "spec", "template", "spec", "containers", 0)
		if got := str(at(ctr, "image")); got != g.image {
			t.Errorf("the Job's image is %q, want what prefectctl pushed and registered, %q", got, g.image)
		}
		if got := str(at(ctr, "resources", "requests", "cpu")); got != "500m" {
			t.Errorf("the Job's CPU request is %q, want the pool's cpu_request default 500m", got)
		}
		if at(job, "spec", "template", "spec", "hostNetwork") != true {
			t.Errorf("the Job's pod is not on the host network")
		}
		// The kubelet's containerd pulled exactly the pushed manifest from the registry.
		pod := g.pod(t, str(at(job, "metadata", "name")))
		digest, cfg := registryDigest(t, g.image)
		repo := g.image[:strings.LastIndex(g.image, ":")]
		if got := str(at(pod, "status", "containerStatuses", 0, "imageID")); got != repo+"@"+digest {
			t.Errorf("the pod ran image %q, want %s@%s (the registry's digest of %s)", got, repo, digest, g.image)
		}
		// The working directory: the image's WORKDIR and the deployment's pull step (which ran
		// in the pod, or the run would have crashed) agree on /opt/prefect/flows.
		if got := str(at(cfg, "config", "WorkingDir")); strings.TrimRight(got, "/") != "/opt/prefect/flows" {
			t.Errorf("the image's working directory is %q, want /opt/prefect/flows", got)
		}
		dep := decode(t, must(t, prefectctl(t, g.project, g.env, "deployment", "inspect", "hello/arthur", "-o", "json"), "inspect").stdout)
		if got := str(at(dep, "pull_steps", 0, "prefect.deployments.steps.set_working_directory", "directory")); got != "/opt/prefect/flows" {
			t.Errorf("the deployment's pull step sets the working directory %q, want /opt/prefect/flows", got)
		}
		// The flow's log line came from the pod itself.
		logs := g.kube.Run(t, "", "-n", g.ns, "logs", "job/"+str(at(job, "metadata", "name")))
		if !strings.Contains(logs, "Hello, Arthur!") {
			t.Errorf("the pod's log lacks 'Hello, Arthur!':\n%s", logs)
		}
	})

	t.Run("cpu_request override reaches the Job and the render equals it", func(t *testing.T) {
		id, r := g.runDeployment(t, "hello/default", "--job-variable", "cpu_request=250m")
		if r.code != 0 {
			t.Fatalf("run of hello/default: exit %d\n%s", r.code, r.stderr)
		}
		real := g.job(t, id)
		if got := str(at(real, "spec", "template", "spec", "containers", 0, "resources", "requests", "cpu")); got != "250m" {
			t.Fatalf("the Job's CPU request is %q, want 250m", got)
		}
		// What the worker passes from its own settings: its environment (kube-worker.yaml), as
		// Prefect in its image computes it.
		settings := workerSettings(t, append(os.Environ(), "DOCKER_HOST="+g.dockerHost), "docker", "run", "--rm", "--network", "none",
			"-e", "PREFECT_API_URL="+g.api, "-e", "PREFECT_INTEGRATIONS_KUBERNETES_OBSERVER_NAMESPACES="+g.ns, g.baseImage, "python")
		args := append([]string{"deployment", "inspect", "hello/default", "--job", "--flow-run", id, "--worker-name", g.workerName, "-o", "json"}, settings...)
		render := decode(t, must(t, prefectctl(t, g.project, g.env, args...), "inspect --job").stdout)
		if rt := at(render, "run_time"); rt != nil {
			t.Logf("run-time values: %s", mustJSON(rt))
		}
		compareJob(t, at(render, "document").(*py.Map), real)
	})

	t.Run("a failing flow ends the watch FAILED with exit 3", func(t *testing.T) {
		_, r := g.runDeployment(t, "boom/boom")
		if r.code != 3 {
			t.Fatalf("run of boom/boom: exit %d, want 3\n%s", r.code, r.stderr)
		}
		if got := str(at(decode(t, r.stdout), "final_state", "type")); got != "FAILED" {
			t.Fatalf("final state %q, want FAILED", got)
		}
		if !strings.Contains(r.stderr, "boom, as intended") {
			t.Errorf("the watch did not show the flow's error:\n%s", r.stderr)
		}
	})
}

func mustJSON(v any) string {
	b, _ := py.EncodeJSON(v)
	return string(b)
}

// Fields of a created Job that the API server, the Job controller or the
// run add, and the render cannot know: they are left out of the comparison.
var jobRunOnly = map[string]bool{
	"metadata.name": true, "metadata.uid": true, "metadata.resourceVersion": true, "metadata.generation": true,
	"metadata.creationTimestamp": true, "metadata.managedFields": true, "status": true,
	"spec.selector": true, "spec.completionMode": true, "spec.suspend": true, "spec.podReplacementPolicy": true,
	"spec.manualSelector": true,
	// Job defaults (1 pod, 1 completion).
	"spec.completions": true, "spec.parallelism": true,
	// The Job controller labels the pod template with the Job's uid and name.
	"spec.template.metadata.labels.controller-uid": true, "spec.template.metadata.labels.job-name": true,
	"spec.template.metadata.labels.batch.kubernetes.io/controller-uid": true, "spec.template.metadata.labels.batch.kubernetes.io/job-name": true,
	"spec.template.metadata.creationTimestamp": true,
	// API server defaults of a pod spec and a container.
	"spec.template.spec.dnsPolicy": true, "spec.template.spec.schedulerName": true, "spec.template.spec.securityContext": true,
	"spec.template.spec.terminationGracePeriodSeconds":        true,
	"spec.template.spec.containers[0].terminationMessagePath": true, "spec.template.spec.containers[0].terminationMessagePolicy": true,
}

// Fields the worker sends that the API server drops: prefect-kubernetes'
// default template puts parallelism and completions in the pod spec, which
// has no such fields (the server answers with "unknown field" warnings).
var jobDropped = map[string]bool{"spec.template.spec.completions": true, "spec.template.spec.parallelism": true}

// compareJob compares the rendered Job with the created one field by field.
// Normalised: empty mappings in the render (the API drops them: omitempty),
// the fields the server adds (jobRunOnly) and those it drops (jobDropped).
func compareJob(t *testing.T, render, real *py.Map) {
	t.Helper()
	want := dropEmpty(py.Clone(render)).(*py.Map)
	got := py.Clone(real).(*py.Map)
	var diffs []string
	for _, d := range jobtemplate.Diff(want, got) {
		path := d[:strings.Index(d, ":")]
		if strings.Contains(d, ": unexpected ") && jobRunOnly[path] || strings.Contains(d, ": missing, ") && jobDropped[path] {
			continue
		}
		diffs = append(diffs, d)
	}
	if len(diffs) > 0 {
		t.Errorf("deployment inspect --job differs from the Job the worker created:\n  %s\nrender: %s\nreal:   %s",
			strings.Join(diffs, "\n  "), mustJSON(want), mustJSON(got))
	}
	// The fields compared must include the ones users ask about.
	for _, p := range [][]any{{"spec", "template", "spec", "containers", 0, "image"}, {"spec", "template", "spec", "containers", 0, "env"},
		{"spec", "template", "spec", "containers", 0, "resources", "requests", "cpu"}, {"metadata", "labels"}} {
		if at(want, p...) == nil {
			t.Errorf("the render has no %v", p)
		}
	}
}

// dropEmpty removes empty mappings (recursively), as the API server's
// omitempty does for the fields of a Job.
func dropEmpty(v any) any {
	switch x := v.(type) {
	case *py.Map:
		out := py.NewMap()
		for _, k := range x.Keys() {
			e, _ := x.Get(k)
			e = dropEmpty(e)
			if m, ok := e.(*py.Map); ok && m.Len() == 0 {
				continue
			}
			out.Set(k, e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = dropEmpty(e)
		}
		return out
	}
	return v
}
