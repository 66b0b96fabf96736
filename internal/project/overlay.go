package project

// Environments: an overlay file (prefect.prod.yaml beside prefect.yaml, or
// any file given with --env-file) laid over prefect.yaml before it is
// validated. The overlay may set any top-level key and, per deployment,
// any deployment field: mappings merge key by key, anything else (lists
// included) replaces, and null removes. Every value keeps the position of
// the file that set it, so problems name the overlay when it is to blame.

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/prefectctl/prefectctl/internal/diag"
	"github.com/prefectctl/prefectctl/internal/py"
)

// LoadOptions say which environment prefect.yaml is loaded for; the zero
// value loads the file as it is.
type LoadOptions struct {
	// Env names the environment: its overlay is OverlayPath(file, Env)
	// unless EnvFile is given.
	Env string
	// EnvFile is the overlay's path as the user named it.
	EnvFile string
}

// Overlaid reports whether an overlay is merged.
func (o LoadOptions) Overlaid() bool { return o.Env != "" || o.EnvFile != "" }

var envNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]*$`)

// CheckEnvName rejects environment names that cannot be part of a file
// name such as prefect.NAME.yaml.
func CheckEnvName(name string) error {
	if name == "" || envNameRE.MatchString(name) {
		return nil
	}
	return &diag.Error{Kind: diag.Usage, Msg: fmt.Sprintf("invalid environment name %q", name),
		Hint: "use letters, digits, - and _ (it names the file prefect.NAME.yaml); pass --env-file PATH for any other file"}
}

// OverlayPath is the overlay of environment env for the prefect.yaml at
// path: the same name with .env inserted before the extension, beside it
// (prefect.yaml → prefect.prod.yaml, deploy/ci.yml → deploy/ci.prod.yml).
func OverlayPath(path, env string) string {
	if path == "" {
		path = DefaultFile
	}
	ext := filepath.Ext(path)
	return strings.TrimSuffix(path, ext) + "." + env + ext
}

// Environments lists the environments whose overlay sits beside the
// prefect.yaml at path, for hints and shell completion.
func Environments(path string) []string {
	if path == "" {
		path = DefaultFile
	}
	ext := filepath.Ext(path)
	stem := strings.TrimSuffix(filepath.Base(path), ext)
	entries, err := os.ReadDir(filepath.Dir(path))
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range entries {
		n := e.Name()
		if e.IsDir() || len(n) <= len(stem)+1+len(ext) || !strings.HasPrefix(n, stem+".") || !strings.HasSuffix(n, ext) {
			continue
		}
		env := strings.TrimSuffix(strings.TrimPrefix(n, stem+"."), ext)
		if env != "" && envNameRE.MatchString(env) {
			out = append(out, env)
		}
	}
	sort.Strings(out)
	return out
}

// readOverlay reads and parses the overlay opt names for the prefect.yaml
// at path.
func readOverlay(path string, opt LoadOptions) (*File, error) {
	if err := CheckEnvName(opt.Env); err != nil {
		return nil, err
	}
	name := opt.EnvFile
	if name == "" {
		name = OverlayPath(path, opt.Env)
	}
	f, err := readYAMLFile(name)
	if err == nil {
		return f, nil
	}
	var d *diag.Error
	if errors.As(err, &d) && d.Msg == "no such file" && opt.EnvFile == "" {
		hint := fmt.Sprintf("create %s with what differs in %s (an empty file if nothing does), or pass --env-file PATH", name, opt.Env)
		if envs := Environments(path); len(envs) > 0 {
			hint += "; environments beside " + path + ": " + strings.Join(envs, ", ")
		}
		return nil, &diag.Error{Kind: diag.Usage, File: name, Msg: fmt.Sprintf("environment %q has no overlay file", opt.Env), Hint: hint}
	}
	return nil, err
}

// overlay lays the document of an overlay file over f's, moving the
// positions of what it sets into f, marked with the overlay's name. The
// positions are moved once, after the merge (movePositions): a file may
// hold a million values, so nothing walks them per merged key.
type overlay struct {
	f, o *File
	errs diag.List
	drop map[string]bool   // paths of f whose positions go
	take map[string]string // overlay path → the path of f it now sets
}

func (m *overlay) errorf(path, hint, format string, args ...any) {
	m.errs = append(m.errs, m.o.Errorf(path, hint, format, args...))
}

// entryErrorf reports a problem with an entry: at its name, the key of the
// mapping form or the entry of the list form.
func (m *overlay) entryErrorf(e overlayEntry, hint, format string, args ...any) {
	err := m.o.Errorf(e.path, hint, format, args...)
	if e.keyed {
		pos := m.o.KeyPos(e.path)
		err.Line, err.Col = pos.Line, pos.Col
	}
	m.errs = append(m.errs, err)
}

// mergeOverlay merges o over f. An empty overlay changes nothing.
func mergeOverlay(f, o *File) error {
	m := &overlay{f: f, o: o, drop: map[string]bool{}, take: map[string]string{}}
	if o.Raw == nil {
		return nil
	}
	top, ok := o.Raw.(*py.Map)
	if !ok {
		return diag.List{o.Errorf("", "an overlay is a mapping of the prefect.yaml keys it changes, e.g. deployments: [{name: daily, work_pool: {name: prod}}]",
			"the overlay's top level is a %s, expected a mapping", py.TypeName(o.Raw))}
	}
	base, ok := f.Raw.(*py.Map)
	if f.Raw == nil {
		base = py.NewMap()
		f.Raw = base
	} else if !ok {
		return nil // validate reports the base file's own problem
	}
	var removed map[int]bool
	for _, k := range top.Keys() {
		v, _ := top.Get(k)
		if k == "deployments" {
			removed = m.deployments(base, v)
			continue
		}
		m.set(base, k, v, "", "")
	}
	m.movePositions()
	if len(removed) > 0 {
		m.removeDeployments(base, removed)
	}
	m.errs.Sort()
	return m.errs.Err()
}

// set merges the overlay's value v for key k into dst: null removes the
// key, a mapping over a mapping merges, anything else replaces.
func (m *overlay) set(dst *py.Map, k string, v any, dstPath, srcPath string) {
	dp, sp := joinPath(dstPath, k), joinPath(srcPath, k)
	if v == nil {
		if dst.Has(k) {
			dst.Delete(k)
			m.drop[dp] = true
		}
		return
	}
	if over, ok := v.(*py.Map); ok {
		if cur, _ := dst.Get(k); cur != nil {
			if base, ok := cur.(*py.Map); ok {
				for _, ck := range over.Keys() {
					cv, _ := over.Get(ck)
					m.set(base, ck, cv, dp, sp)
				}
				return
			}
		}
		// A mapping that lands where there was none is taken whole, nulls
		// and all: there is nothing under it to remove.
	}
	dst.Set(k, py.Clone(v))
	m.drop[dp] = true
	m.take[sp] = dp
}

// under reports whether path p is at or below path root.
func under(p, root string) bool {
	return p == root || strings.HasPrefix(p, root+".") || strings.HasPrefix(p, root+"[")
}

// within returns the path of set that p is at or below, if any: p itself
// or one of its parents.
func within[V any](p string, set map[string]V) (string, bool) {
	for {
		if _, ok := set[p]; ok {
			return p, true
		}
		i := strings.LastIndexAny(p, ".[")
		if i < 0 {
			return "", false
		}
		p = p[:i]
	}
}

// movePositions drops the positions of what the overlay replaced or
// removed and gives what it set the overlay's positions.
func (m *overlay) movePositions() {
	from := [2]map[string]Pos{m.o.pos, m.o.keyPos}
	to := [2]map[string]Pos{m.f.pos, m.f.keyPos}
	for i := range to {
		for p := range to[i] {
			if _, gone := within(p, m.drop); gone {
				delete(to[i], p)
			}
		}
		for p, pos := range from[i] {
			if src, ok := within(p, m.take); ok {
				pos.File = m.o.Path
				to[i][m.take[src]+p[len(src):]] = pos
			}
		}
	}
}

// overlayEntry is one deployment the overlay changes.
type overlayEntry struct {
	selector string   // name or flow/name, as written
	path     string   // the entry's path in the overlay
	fields   *py.Map  // the fields to merge; nil removes the deployment
	skip     []string // keys of fields that only select (the list form's name)
	keyed    bool     // written in the mapping form
}

// deployments merges the overlay's deployments: a list of entries like
// prefect.yaml's, each naming the deployment it changes with name (or
// flow/name), or a mapping from name (or flow/name) to the fields to
// change, which may rename the deployment and where null removes it.
func (m *overlay) deployments(base *py.Map, v any) (removed map[int]bool) {
	var entries []overlayEntry
	switch t := v.(type) {
	case []any:
		for i, item := range t {
			path := fmt.Sprintf("deployments[%d]", i)
			im, ok := item.(*py.Map)
			if !ok {
				m.errorf(path, "each entry is a mapping that starts with the name of the deployment it changes: - name: daily", "expected a deployment mapping, got %s", py.TypeName(item))
				continue
			}
			n, _ := im.Get("name")
			name, ok := n.(string)
			if !ok || name == "" {
				m.errorf(path, "start the entry with the name of the deployment it changes (name: daily, or name: flow/daily); to rename a deployment, write deployments as a mapping: {daily: {name: new-name}}",
					"an overlay deployment needs the name of the deployment it changes")
				continue
			}
			entries = append(entries, overlayEntry{selector: name, path: path, fields: im, skip: []string{"name"}})
		}
	case *py.Map:
		for _, k := range t.Keys() {
			x, _ := t.Get(k)
			path := joinPath("deployments", k)
			switch fields := x.(type) {
			case nil:
				entries = append(entries, overlayEntry{selector: k, path: path, keyed: true})
			case *py.Map:
				entries = append(entries, overlayEntry{selector: k, path: path, fields: fields, keyed: true})
			default:
				m.errorf(path, "map the deployment's name to the fields to change ({daily: {work_pool: {name: prod}}}), or to null to leave it out of this environment",
					"expected a mapping of deployment fields, got %s", py.TypeName(x))
			}
		}
	default:
		m.errorf("deployments", "write a list like prefect.yaml's (- name: daily ...) or a mapping of names to fields (daily: {...})",
			"expected a list or a mapping of deployments, got %s", py.TypeName(v))
		return nil
	}
	if len(entries) == 0 {
		return nil
	}
	x, _ := base.Get("deployments")
	list, _ := x.([]any)
	names := deploymentNames(list)
	claimed := map[int]string{}
	removed = map[int]bool{}
	for _, e := range entries {
		var hits []int
		for i, item := range list {
			if im, ok := item.(*py.Map); ok && matchesRaw(im, e.selector) {
				hits = append(hits, i)
			}
		}
		switch {
		case len(hits) == 0:
			hint := "an overlay changes the deployments of " + m.f.Path + "; add new ones there"
			if len(names) > 0 {
				hint = "deployments in " + m.f.Path + ": " + strings.Join(names, ", ") + "; " + hint
			}
			m.entryErrorf(e, hint, "%q names no deployment in %s", e.selector, m.f.Path)
			continue
		case len(hits) > 1:
			var which []string
			for _, i := range hits {
				which = append(which, names[i])
			}
			m.entryErrorf(e, "name one of them as flow/name: "+strings.Join(which, ", "), "%q names %d deployments in %s", e.selector, len(hits), m.f.Path)
			continue
		}
		i := hits[0]
		if first, dup := claimed[i]; dup {
			pos := m.o.KeyPos(first)
			m.entryErrorf(e, fmt.Sprintf("merge the two entries into one (the other is at line %d)", pos.Line), "%s is changed twice in this overlay", names[i])
			continue
		}
		claimed[i] = e.path
		if e.fields == nil {
			removed[i] = true
			continue
		}
		dst := list[i].(*py.Map)
		for _, k := range e.fields.Keys() {
			if contains(e.skip, k) {
				continue
			}
			fv, _ := e.fields.Get(k)
			m.set(dst, k, fv, fmt.Sprintf("deployments[%d]", i), e.path)
		}
	}
	return removed
}

// removeDeployments drops the removed deployments, with their positions,
// and renumbers the positions of those after them.
func (m *overlay) removeDeployments(base *py.Map, removed map[int]bool) {
	x, _ := base.Get("deployments")
	list, _ := x.([]any)
	kept := make([]any, 0, len(list))
	renumber := map[int]int{}
	for i, item := range list {
		if !removed[i] {
			renumber[i] = len(kept)
			kept = append(kept, item)
		}
	}
	base.Set("deployments", kept)
	for _, pos := range []map[string]Pos{m.f.pos, m.f.keyPos} {
		moved := map[string]Pos{}
		for p, at := range pos {
			rest, ok := strings.CutPrefix(p, "deployments[")
			if !ok {
				continue
			}
			n, rest, ok := strings.Cut(rest, "]")
			i, err := strconv.Atoi(n)
			if !ok || err != nil {
				continue
			}
			if j, kept := renumber[i]; !kept || j != i {
				delete(pos, p)
				if kept {
					moved["deployments["+strconv.Itoa(j)+"]"+rest] = at
				}
			}
		}
		for p, at := range moved {
			pos[p] = at
		}
	}
}

// deploymentNames names each entry of a deployments list for messages:
// flow/name when the entrypoint says the flow function, else the name.
func deploymentNames(list []any) []string {
	out := make([]string, len(list))
	for i, item := range list {
		im, _ := item.(*py.Map)
		name, ep := rawString(im, "name"), rawString(im, "entrypoint")
		switch {
		case name != "" && ep != "":
			out[i] = strings.ReplaceAll(funcName(ep), "_", "-") + "/" + name
		case name != "":
			out[i] = name
		default:
			out[i] = fmt.Sprintf("deployments[%d]", i)
		}
	}
	return out
}

func rawString(m *py.Map, k string) string {
	if m == nil {
		return ""
	}
	v, _ := m.Get(k)
	s, _ := v.(string)
	return s
}

// matchesRaw applies -n's rule to a deployment as written: flow/name
// compares name, and flow (with - read as _) with the entrypoint's
// function; a bare name compares the name.
func matchesRaw(m *py.Map, selector string) bool {
	name := rawString(m, "name")
	if flow, dep, ok := strings.Cut(selector, "/"); ok {
		return name == dep && funcName(rawString(m, "entrypoint")) == strings.ReplaceAll(flow, "-", "_")
	}
	return name == selector
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
