package jobtemplate

import (
	"fmt"
	"sort"
	"strconv"

	"github.com/prefectctl/prefectctl/internal/py"
)

// Diff compares two JSON-like documents field by field and returns one line
// per difference ("path: want X, got Y"), in path order; nil when equal.
// Mapping order does not matter; list order does; 1 and 1.0 are equal.
func Diff(want, got any) []string {
	var out []string
	diff("", want, got, &out)
	sort.Strings(out)
	return out
}

func diff(path string, want, got any, out *[]string) {
	wm, wIsMap := want.(*py.Map)
	gm, gIsMap := got.(*py.Map)
	if wIsMap && gIsMap {
		seen := map[string]bool{}
		for _, k := range wm.Keys() {
			seen[k] = true
			wv, _ := wm.Get(k)
			gv, ok := gm.Get(k)
			if !ok {
				*out = append(*out, fmt.Sprintf("%s: missing, want %s", join(path, k), short(wv)))
				continue
			}
			diff(join(path, k), wv, gv, out)
		}
		for _, k := range gm.Keys() {
			if !seen[k] {
				gv, _ := gm.Get(k)
				*out = append(*out, fmt.Sprintf("%s: unexpected %s", join(path, k), short(gv)))
			}
		}
		return
	}
	wl, wIsList := want.([]any)
	gl, gIsList := got.([]any)
	if wIsList && gIsList {
		for i := 0; i < max(len(wl), len(gl)); i++ {
			p := path + "[" + strconv.Itoa(i) + "]"
			switch {
			case i >= len(gl):
				*out = append(*out, fmt.Sprintf("%s: missing, want %s", p, short(wl[i])))
			case i >= len(wl):
				*out = append(*out, fmt.Sprintf("%s: unexpected %s", p, short(gl[i])))
			default:
				diff(p, wl[i], gl[i], out)
			}
		}
		return
	}
	if !py.Equal(want, got) {
		*out = append(*out, fmt.Sprintf("%s: want %s, got %s", path, short(want), short(got)))
	}
}

func join(path, k string) string {
	if path == "" {
		return k
	}
	return path + "." + k
}

func short(v any) string {
	b, err := py.EncodeJSON(v)
	if err != nil {
		return py.Repr(v)
	}
	if len(b) > 200 {
		return string(b[:200]) + "…"
	}
	return string(b)
}
