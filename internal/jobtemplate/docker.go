package jobtemplate

import (
	"net/url"
	"regexp"
	"strings"

	"github.com/prefectctl/prefectctl/internal/py"
)

// dockerFields are DockerWorkerJobConfiguration's fields: keys of
// container_create_kwargs with these names are dropped, as the worker does.
var dockerFields = map[string]bool{
	"command": true, "env": true, "labels": true, "name": true, "image": true, "registry_credentials": true,
	"image_pull_policy": true, "networks": true, "network_mode": true, "auto_remove": true, "volumes": true,
	"stream_output": true, "mem_limit": true, "memswap_limit": true, "privileged": true, "container_create_kwargs": true,
}

var localAPI = regexp.MustCompile(`.*(localhost)|(127.0.0.1)|(host.docker.internal).*`)

// docker is DockerWorkerJobConfiguration.prepare_for_flow_run then
// DockerWorker._build_container_settings: the document is the keyword
// arguments of docker-py's containers.create, in the worker's order.
func (r *renderer) docker(cfg *py.Map) error {
	envMap := py.NewMap()
	if e, ok := getMap(cfg, "env"); ok {
		envMap = pyStrValues(e)
	}
	cfg.Set("env", envMap)
	networks, _ := mustGet(cfg, "networks").([]any)
	networkMode, _ := mustGet(cfg, "network_mode").(string)

	// _base_environment: a loopback API URL in the worker's settings points
	// at host.docker.internal unless the container shares the host network.
	settings := py.NewMap()
	if r.in.Worker.Settings != nil {
		settings = py.Clone(r.in.Worker.Settings).(*py.Map)
	}
	modeBefore := dockerNetworkMode(networkMode, networks, envMap, settings)
	if api, ok := settings.Get("PREFECT_API_URL"); ok && api != nil && modeBefore != "host" {
		s := strings.ReplaceAll(strings.ReplaceAll(py.Str(api), "localhost", "host.docker.internal"), "127.0.0.1", "host.docker.internal")
		settings.Set("PREFECT_API_URL", s)
	}
	in := r.in
	in.Worker.Settings = settings
	r.in = in
	r.prepareBase(cfg, nil)

	image, _ := mustGet(cfg, "image").(string)
	if image == "" {
		image = r.prefectImage("image")
	}
	labels := mustGet(cfg, "labels").(*py.Map)
	labels.Set("io.prefect.version", r.prefectVersion())
	dl := py.NewMap()
	for _, k := range labels.Keys() {
		v, _ := labels.Get(k)
		if ns, key, ok := strings.Cut(k, "/"); ok {
			parts := strings.Split(ns, ".")
			for i, j := 0, len(parts)-1; i < j; i, j = i+1, j-1 {
				parts[i], parts[j] = parts[j], parts[i]
			}
			k = strings.Join(parts, ".") + "." + key
		}
		dl.Set(k, v)
	}
	var name any
	if n, ok := mustGet(cfg, "name").(string); ok {
		if n == MarkFlowRunName {
			name = n
		} else if s := slugifyContainerName(n); s != "" {
			name = s
		}
	}
	env := mustGet(cfg, "env").(*py.Map)

	var extraHosts any
	api, hasAPI := env.Get("PREFECT_API_URL")
	if !hasAPI || localAPI.MatchString(py.Str(api)) {
		extraHosts = py.MapOf("host.docker.internal", "host-gateway")
	}
	kwargs := py.NewMap()
	if ck, ok := getMap(cfg, "container_create_kwargs"); ok {
		for _, k := range ck.Keys() {
			if !dockerFields[k] {
				v, _ := ck.Get(k)
				kwargs.Set(k, v)
			}
		}
	}
	if uh, ok := kwargs.Get("extra_hosts"); ok {
		kwargs.Delete("extra_hosts")
		if eh, isMap := extraHosts.(*py.Map); isMap {
			switch u := uh.(type) {
			case []any:
				for _, e := range u {
					if h, ip, ok := strings.Cut(py.Str(e), ":"); ok {
						eh.Set(h, ip)
					}
				}
			case *py.Map:
				eh.Update(u)
			}
		} else {
			extraHosts = uh
		}
	}
	var network any
	if len(networks) > 0 {
		network = networks[0]
	}
	var mode any
	if m := dockerNetworkMode(networkMode, networks, env, nil); m != "" {
		mode = m
	}
	volumes := []any{}
	if v, ok := mustGet(cfg, "volumes").([]any); ok {
		volumes = v
		for _, vol := range v {
			if src, _, ok := strings.Cut(py.Str(vol), ":"); ok && (src == "." || src == ".." || strings.HasPrefix(src, "./") || strings.HasPrefix(src, "../")) {
				r.note("volumes", "relative bind-mount sources are resolved against the worker's working directory", "as written")
				break
			}
		}
	}
	autoRemove, _ := mustGet(cfg, "auto_remove").(bool)
	privileged, _ := mustGet(cfg, "privileged").(bool)
	doc := py.MapOf(
		"image", image,
		"network", network,
		"network_mode", mode,
		"command", mustGet(cfg, "command"),
		"environment", env,
		"auto_remove", autoRemove,
		"labels", dl,
		"extra_hosts", extraHosts,
		"name", name,
		"volumes", volumes,
		"mem_limit", mustGet(cfg, "mem_limit"),
		"memswap_limit", mustGet(cfg, "memswap_limit"),
		"privileged", privileged,
	)
	doc.Update(kwargs)
	if extraHosts != nil {
		r.note("extra_hosts", "added on Linux with Docker 20.10 or later when the API URL is local or unset", "as on such a worker")
	}
	r.note("name", "on a name conflict the worker retries with -1, -2, … appended", "the first try")
	r.res.Document = doc
	return nil
}

// dockerNetworkMode is DockerWorkerJobConfiguration.get_network_mode on a
// Linux worker: the configured mode, none with networks, else "host" for a
// loopback API URL (from env, or else from the worker's settings).
func dockerNetworkMode(mode string, networks []any, env, settings *py.Map) string {
	if mode != "" {
		return mode
	}
	if len(networks) > 0 {
		return ""
	}
	api, ok := env.Get("PREFECT_API_URL")
	if !ok && settings != nil {
		api, ok = settings.Get("PREFECT_API_URL")
	}
	if !ok || api == nil {
		return ""
	}
	u, err := url.Parse(py.Str(api))
	if err != nil {
		return ""
	}
	host := strings.Split(u.Host, ":")[0]
	if host == "127.0.0.1" || host == "localhost" {
		return "host"
	}
	return ""
}
