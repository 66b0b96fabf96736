package jobtemplate

import (
	"fmt"
	"strings"

	"github.com/prefectctl/prefectctl/internal/diag"
	"github.com/prefectctl/prefectctl/internal/py"
	"github.com/prefectctl/prefectctl/internal/template"
)

// The env variable prefect-kubernetes sets for the run's SIGTERM handling.
const sigtermEnv = "PREFECT_FLOW_RUN_EXECUTE_SIGTERM_BEHAVIOR"

// kubernetes is KubernetesWorkerJobConfiguration: its validation, then
// prepare_for_flow_run. The document is the Job manifest the worker posts.
func (r *renderer) kubernetes(cfg *py.Map) error {
	manifest, ok := getMap(cfg, "job_manifest")
	if !ok {
		return r.invalid("job_configuration.job_manifest", "the Kubernetes job configuration has no job_manifest mapping")
	}
	namespace := "default"
	if ns, ok := cfg.Get("namespace"); ok {
		if s, isStr := ns.(string); isStr {
			namespace = s
		}
	}
	// _validate_job_manifest: metadata, annotations, labels, namespace.
	meta, ok := getMap(manifest, "metadata")
	if !ok {
		meta = py.NewMap()
		manifest.Set("metadata", meta)
	}
	for _, k := range []string{"annotations", "labels"} {
		if !meta.Has(k) {
			meta.Set(k, py.NewMap())
		}
	}
	if !meta.Has("namespace") {
		meta.Set("namespace", namespace)
	}
	container, err := firstContainer(manifest)
	if err != nil {
		return r.invalid("job_configuration.job_manifest.spec.template.spec.containers", err.Error())
	}
	if rp, _ := getPath(manifest, "spec", "template", "spec", "restartPolicy"); rp != nil && rp != "Never" {
		return r.invalid("job_configuration.job_manifest.spec.template.spec.restartPolicy",
			fmt.Sprintf("Job has incompatible values for the following attributes: /spec/template/spec/restartPolicy must have value 'Never' (it is %s)", py.Repr(rp)))
	}

	// env: a list (Kubernetes form) stays; a mapping gets str() values.
	var envList []any
	var envMap *py.Map
	switch e := mustGet(cfg, "env").(type) {
	case []any:
		envList = e
	case *py.Map:
		envMap = pyStrValues(e)
	case nil:
		envMap = py.NewMap()
	default:
		return r.invalid("job_configuration.env", fmt.Sprintf("env must be a mapping or a list, not %s", py.TypeName(e)))
	}
	var special []any
	if envList != nil {
		envMap = py.NewMap()
		for _, item := range envList {
			im, _ := item.(*py.Map)
			if im == nil {
				continue
			}
			if im.Has("valueFrom") {
				special = append(special, im)
			}
			name, hasName := im.Get("name")
			v, hasValue := im.Get("value")
			if hasName && hasValue {
				envMap.Set(py.Str(name), v)
			}
		}
	}
	cfg.Set("env", envMap)
	r.prepareBase(cfg, r.kubernetesLabels())
	env := mustGet(cfg, "env").(*py.Map)
	var envOut any = env
	if len(special) > 0 {
		l := make([]any, 0, env.Len()+len(special))
		for _, k := range env.Keys() {
			v, _ := env.Get(k)
			l = append(l, py.MapOf("name", k, "value", v))
		}
		envOut = append(l, special...)
	}

	// _configure_eviction_handling
	backoff, _ := getPath(manifest, "spec", "backoffLimit")
	if isZero(backoff) {
		switch e := envOut.(type) {
		case *py.Map:
			if v, _ := e.Get(sigtermEnv); !py.Truthy(v) {
				e.Set(sigtermEnv, "reschedule")
			}
		case []any:
			if !envListHas(e, sigtermEnv) {
				envOut = append(e, py.MapOf("name", sigtermEnv, "value", "reschedule"))
			}
		}
	} else {
		switch e := envOut.(type) {
		case *py.Map:
			e.Set(sigtermEnv, "relinquish")
		case []any:
			kept := []any{}
			for _, item := range e {
				if im, _ := item.(*py.Map); im != nil {
					if n, _ := im.Get("name"); n == sigtermEnv {
						continue
					}
				}
				kept = append(kept, item)
			}
			envOut = append(kept, py.MapOf("name", sigtermEnv, "value", "relinquish"))
		}
	}

	// _populate_env_in_manifest
	var transformed []any
	switch e := envOut.(type) {
	case *py.Map:
		for _, k := range e.Keys() {
			v, _ := e.Get(k)
			transformed = append(transformed, py.MapOf("name", k, "value", v))
		}
	case []any:
		transformed = e
	}
	if transformed == nil {
		transformed = []any{}
	}
	if tl, ok := mustGet(container, "env").([]any); ok {
		names := map[string]bool{}
		for _, item := range transformed {
			if im, _ := item.(*py.Map); im != nil {
				n, _ := im.Get("name")
				names[py.Str(n)] = true
			}
		}
		merged := append([]any{}, transformed...)
		for _, item := range tl {
			if im, _ := item.(*py.Map); im != nil {
				if n, _ := im.Get("name"); names[py.Str(n)] {
					continue
				}
			}
			merged = append(merged, item)
		}
		container.Set("env", merged)
	} else {
		container.Set("env", transformed)
	}

	labels := mustGet(cfg, "labels").(*py.Map)
	// _slugify_labels
	all := py.NewMap()
	if ml, ok := getMap(meta, "labels"); ok {
		all.Update(ml)
	}
	all.Update(labels)
	meta.Set("labels", slugLabels(all))
	// _slugify_annotations
	annotations := py.NewMap()
	if ma, ok := getMap(meta, "annotations"); ok {
		annotations.Update(ma)
	}
	if ca, ok := getMap(cfg, "annotations"); ok {
		annotations.Update(ca)
	}
	slugAnn := py.NewMap()
	for _, k := range annotations.Keys() {
		v, _ := annotations.Get(k)
		slugAnn.Set(SlugifyLabelKey(k), v)
	}
	meta.Set("annotations", slugAnn)
	// _populate_image_if_not_present
	if !container.Has("image") {
		container.Set("image", r.prefectImage("job_manifest.spec.template.spec.containers[0].image"))
	}
	// _populate_command_if_not_present
	switch a := mustGet(container, "args").(type) {
	case nil:
		container.Set("args", anyStrings([]string{"prefect", "flow-run", "execute"}))
	case string:
		words, err := shlexSplit(a)
		if err != nil {
			return r.invalid("job_configuration.job_manifest.spec.template.spec.containers[0].args", err.Error())
		}
		container.Set("args", anyStrings(words))
	case []any:
	default:
		return r.invalid("job_configuration.job_manifest.spec.template.spec.containers[0].args", "Invalid job manifest template: 'command' must be a string or list.")
	}
	// _populate_generate_name_if_not_present
	gn, _ := meta.Get("generateName")
	gns, _ := gn.(string)
	phs, _ := template.FindPlaceholders(gns)
	if gns == "" || len(phs) > 0 || gns == "-" || gns == "None-" {
		stem := ""
		if n, ok := mustGet(cfg, "name").(string); ok && n != "" {
			if n == MarkFlowRunName {
				stem = n
			} else {
				stem = SlugifyName(n)
			}
		}
		if stem == "" {
			stem = "prefect-job"
		}
		meta.Set("generateName", stem+"-")
	}
	r.note("metadata.name", "Kubernetes, from generateName plus 5 random characters", "not set (generateName)")
	// _propagate_labels_to_pod
	tmplSpec, _ := getMap(manifest, "spec")
	podTmpl, _ := getMap(tmplSpec, "template")
	podMeta, ok := getMap(podTmpl, "metadata")
	if !ok {
		podMeta = py.NewMap()
	}
	podLabels := py.NewMap()
	if pl, ok := getMap(podMeta, "labels"); ok {
		podLabels.Update(pl)
	}
	podLabels.Update(labels)
	podMeta.Set("labels", slugLabels(podLabels))
	podTmpl.Set("metadata", podMeta)
	// _propagate_annotations_to_pod
	if slugAnn.Len() > 0 {
		pa := py.NewMap()
		if a, ok := getMap(podMeta, "annotations"); ok {
			pa.Update(a)
		}
		pa.Update(slugAnn)
		podMeta.Set("annotations", pa)
	}
	r.note("(request)", "the worker posts the Job to the namespace of the job configuration ("+namespace+
		"); with PREFECT_INTEGRATIONS_KUBERNETES_WORKER_CREATE_SECRET_FOR_API_KEY or _API_KEY_SECRET_NAME set in the worker, PREFECT_API_KEY becomes a secretKeyRef, and with _STORE_ENV_AS_SECRET the plain env moves to a Secret (envFrom)",
		"as without those settings")
	r.res.Document = manifest
	return nil
}

// kubernetesLabels are KubernetesWorkerJobConfiguration's base labels.
func (r *renderer) kubernetesLabels() *py.Map {
	l := r.baseLabels()
	version := SlugifyLabelValue(strings.SplitN(r.prefectVersion(), "+", 2)[0])
	out := py.NewMap()
	out.Set("prefect.io/flow-run-id", r.flowRunID())
	out.Set("prefect.io/flow-run-name", r.flowRunName())
	out.Set("prefect.io/version", version)
	out.Set("app.kubernetes.io/managed-by", "prefect")
	out.Set("app.kubernetes.io/part-of", "prefect")
	out.Set("app.kubernetes.io/version", version)
	for _, k := range l.Keys() {
		if out.Has(k) {
			continue
		}
		v, _ := l.Get(k)
		out.Set(k, v)
	}
	if r.in.FlowName != "" {
		out.Set("app.kubernetes.io/name", SlugifyLabelValue(r.in.FlowName))
	}
	if r.in.DeploymentName != "" {
		out.Set("app.kubernetes.io/name", SlugifyLabelValue(r.in.DeploymentName))
	}
	return out
}

// slugLabels slugifies keys and values, leaving run-time markers as they are.
func slugLabels(m *py.Map) *py.Map {
	out := py.NewMap()
	for _, k := range m.Keys() {
		v, _ := m.Get(k)
		s := py.Str(v)
		if !isMarker(s) {
			s = SlugifyLabelValue(s)
		}
		out.Set(SlugifyLabelKey(k), s)
	}
	return out
}

func isMarker(s string) bool { return strings.HasPrefix(s, "<") && strings.HasSuffix(s, ">") }

func (r *renderer) prefectImage(path string) string {
	if r.in.Worker.PrefectImage != "" {
		return r.in.Worker.PrefectImage
	}
	r.note(path, "no image set: the worker uses get_prefect_image_name(), the official image of its own Prefect and Python versions", MarkPrefectImage)
	return MarkPrefectImage
}

func (r *renderer) invalid(path, msg string) error {
	return &diag.Error{Kind: diag.Invalid, Path: path, Msg: fmt.Sprintf("work pool %q: %s", r.in.PoolName, msg),
		Hint: "fix the pool's base job template (prefect work-pool update --base-job-template FILE); the worker would fail the run the same way"}
}

func firstContainer(manifest *py.Map) (*py.Map, error) {
	c, _ := getPath(manifest, "spec", "template", "spec", "containers")
	list, ok := c.([]any)
	if !ok || len(list) == 0 {
		return nil, fmt.Errorf("Job is missing required attributes at the following paths: /spec/template/spec/containers")
	}
	m, ok := list[0].(*py.Map)
	if !ok {
		return nil, fmt.Errorf("the first container is not a mapping")
	}
	return m, nil
}

func getPath(m *py.Map, keys ...string) (any, bool) {
	var cur any = m
	for _, k := range keys {
		mm, ok := cur.(*py.Map)
		if !ok || mm == nil {
			return nil, false
		}
		if cur, ok = mm.Get(k); !ok {
			return nil, false
		}
	}
	return cur, true
}

func mustGet(m *py.Map, k string) any {
	v, _ := m.Get(k)
	return v
}

// isZero is Python's `x == 0` for a JSON value (False and 0.0 included).
func isZero(v any) bool {
	switch t := v.(type) {
	case int64:
		return t == 0
	case int:
		return t == 0
	case float64:
		return t == 0
	case bool:
		return !t
	}
	return false
}

func envListHas(l []any, name string) bool {
	for _, item := range l {
		if im, _ := item.(*py.Map); im != nil {
			if n, _ := im.Get("name"); n == name {
				return true
			}
		}
	}
	return false
}

// shlexSplit is Python's shlex.split (POSIX mode, no comments).
func shlexSplit(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case c == '\\':
			inWord = true
			if i+1 >= len(s) {
				return nil, fmt.Errorf("No escaped character")
			}
			i++
			cur.WriteByte(s[i])
		case c == '\'':
			inWord = true
			end := strings.IndexByte(s[i+1:], '\'')
			if end < 0 {
				return nil, fmt.Errorf("No closing quotation")
			}
			cur.WriteString(s[i+1 : i+1+end])
			i += end + 1
		case c == '"':
			inWord = true
			i++
			for ; ; i++ {
				if i >= len(s) {
					return nil, fmt.Errorf("No closing quotation")
				}
				if s[i] == '"' {
					break
				}
				if s[i] == '\\' && i+1 < len(s) && strings.IndexByte("\\\"$`\n", s[i+1]) >= 0 {
					i++
				}
				cur.WriteByte(s[i])
			}
		default:
			inWord = true
			cur.WriteByte(c)
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}
