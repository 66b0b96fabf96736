package flowmeta

import (
	"bufio"
	"bytes"
	"encoding/json"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode"

	"github.com/prefectctl/prefectctl/internal/diag"
	"github.com/prefectctl/prefectctl/internal/py"
)

const flowsDir = "../../testdata/flows"

// goldenName must match golden_name in scripts/flow-oracle.py.
func goldenName(ep string) string {
	var b strings.Builder
	for _, r := range ep {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String() + ".json"
}

func entrypoints(t testing.TB) []string {
	f, err := os.Open(filepath.Join(flowsDir, "entrypoints.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var eps []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if l != "" && !strings.HasPrefix(l, "#") {
			eps = append(eps, l)
		}
	}
	return eps
}

// expectation documents an entrypoint whose value cannot be read
// statically: the listed fields are not compared, and a warning containing
// Warning must be reported instead. A field is a top-level key or a path
// into it ("parameter_openapi_schema/properties/a/default": only that key
// is left out of the comparison). "error" means Prefect refuses the
// entrypoint where prefectctl reads it (with the warning).
type expectation struct {
	Differs []string `json:"differs"`
	Warning string   `json:"warning"`
	Why     string   `json:"why"`
}

func loadExpectations(t *testing.T) map[string]expectation {
	raw, err := os.ReadFile(filepath.Join(flowsDir, "expectations.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ex map[string]expectation
	if err := json.Unmarshal(raw, &ex); err != nil {
		t.Fatal(err)
	}
	return ex
}

// normJSON decodes JSON keeping numbers exact and telling ints from floats
// (Python writes 5.0 for a float, 5 for an int).
func normJSON(t *testing.T, raw []byte) any {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("bad JSON %s: %v", raw, err)
	}
	return normNumbers(v)
}

type num struct {
	float bool
	v     string
}

func (n num) MarshalJSON() ([]byte, error) { return []byte(n.v), nil }

func normNumbers(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = normNumbers(e)
		}
	case []any:
		for i, e := range x {
			x[i] = normNumbers(e)
		}
	case json.Number:
		s := string(x)
		if strings.ContainsAny(s, ".eE") {
			f, _ := new(big.Float).SetString(s)
			return num{true, f.Text('g', 17)}
		}
		return num{false, s}
	}
	return v
}

func TestGolden(t *testing.T) {
	project, err := filepath.Abs(filepath.Join(flowsDir, "project"))
	if err != nil {
		t.Fatal(err)
	}
	ex := loadExpectations(t)
	used := map[string]bool{}
	eps := entrypoints(t)
	if len(eps) < 120 {
		t.Fatalf("only %d entrypoints; the oracle needs at least 120", len(eps))
	}
	for _, ep := range eps {
		_, hasEx := ex[ep]
		used[ep] = hasEx
		t.Run(ep, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join(flowsDir, "golden", goldenName(ep)))
			if err != nil {
				t.Fatalf("no golden (run scripts/flow-oracle.sh --update): %v", err)
			}
			want := normJSON(t, raw).(map[string]any)
			f, err := Load(ep, Options{ProjectDir: project})
			e, hasEx := ex[ep]
			skip := map[string]bool{}
			for _, d := range e.Differs {
				skip[d] = true
			}
			if _, isErr := want["error"]; isErr && skip["error"] {
				if err != nil {
					t.Fatalf("documented to load (Prefect refuses it with %v): %v", want["error"], err)
				}
				if !hasWarning(f.Warnings, e.Warning) {
					t.Errorf("expected a warning with file, line and %q; got %v", e.Warning, f.Warnings)
				}
				return
			}
			if _, isErr := want["error"]; isErr {
				if err == nil {
					t.Fatalf("Prefect refuses this entrypoint (%v) but Load succeeded: %+v", want["error"], f)
				}
				if _, ok := err.(*diag.Error); !ok {
					t.Fatalf("error is %T, want *diag.Error", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			enc, err := py.EncodeJSON(f.ParameterSchema)
			if err != nil {
				t.Fatal(err)
			}
			var desc any
			if f.HasDescription {
				desc = f.Description
			}
			got := map[string]any{
				"name":                     f.Name,
				"description":              desc,
				"version":                  f.Version,
				"parameter_openapi_schema": normJSON(t, enc),
			}
			for d := range skip {
				if path := strings.Split(d, "/"); len(path) > 1 {
					dropPath(got, path)
					if !dropPath(want, path) {
						t.Errorf("expectations.json: %s is not in Prefect's result", d)
					}
				}
			}
			for _, k := range []string{"name", "description", "version", "parameter_openapi_schema"} {
				if skip[k] {
					continue
				}
				if !reflect.DeepEqual(got[k], want[k]) {
					g, _ := json.MarshalIndent(got[k], "", " ")
					w, _ := json.MarshalIndent(want[k], "", " ")
					t.Errorf("%s differs\n got: %s\nwant: %s", k, g, w)
				}
			}
			if hasEx && e.Warning == "" && len(f.Warnings) > 0 {
				t.Errorf("unexpected warnings: %v", f.Warnings)
			} else if hasEx && e.Warning != "" {
				if !hasWarning(f.Warnings, e.Warning) {
					t.Errorf("expected a warning with file, line and %q; got %v", e.Warning, f.Warnings)
				}
			} else if len(f.Warnings) > 0 {
				t.Errorf("unexpected warnings for an exactly readable flow: %v", f.Warnings)
			}
		})
	}
	for ep := range ex {
		if _, ok := used[ep]; !ok {
			t.Errorf("expectations.json lists %s, which is not an entrypoint", ep)
		}
	}
}

func hasWarning(ws []*diag.Error, text string) bool {
	for _, w := range ws {
		if strings.Contains(w.Error(), text) && w.File != "" && w.Line > 0 {
			return true
		}
	}
	return false
}

// dropPath deletes the value at path (map keys) from v; false when absent.
func dropPath(v any, path []string) bool {
	m, ok := v.(map[string]any)
	if !ok {
		return false
	}
	if len(path) == 1 {
		_, ok := m[path[0]]
		delete(m, path[0])
		return ok
	}
	return dropPath(m[path[0]], path[1:])
}
