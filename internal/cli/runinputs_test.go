package cli

import (
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/prefectctl/prefectctl/internal/diag"
	"github.com/prefectctl/prefectctl/internal/py"
	"github.com/prefectctl/prefectctl/internal/py/pyoracle"
	"github.com/prefectctl/prefectctl/internal/testenv"
)

func TestParseKeyValues(t *testing.T) {
	cases := []struct {
		arg     string
		want    any    // decoded value
		wantErr string // substring of the error
	}{
		{arg: "x=hello", want: "hello"},
		{arg: "x=1", want: int64(1)},
		{arg: "x=1.5", want: 1.5},
		{arg: "x=-0", want: int64(0)},
		{arg: "x=1e3", want: 1000.0},
		{arg: "x=true", want: true},
		{arg: "x=null", want: nil},
		{arg: "x=[1, 2]", want: []any{int64(1), int64(2)}},
		{arg: `x={"a": {"b": [true]}}`, want: py.MapOf("a", py.MapOf("b", []any{true}))},
		{arg: `x="quoted"`, want: "quoted"},
		{arg: "x=", want: ""},
		{arg: "x", want: ""},
		{arg: "x=hello world", want: "hello world"},
		{arg: "x=[1, hello]", want: "[1, hello]"},
		{arg: "x=1 2", want: "1 2"},
		{arg: "x=01", want: "01"},
		{arg: "x=tru", want: "tru"},
		{arg: "x=a=b", want: "a=b"},
		{arg: `x=C:\\dir`, want: `C:\dir`},
		{arg: "x=[1,2", wantErr: "JSON Error: Expecting ',' delimiter: line 1 column 5 (char 4)"},
		{arg: "x={a: 1}", wantErr: "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"},
		{arg: `x="open`, wantErr: "Unterminated string starting at: line 1 column 1 (char 0)"},
		{arg: `x=C:\dir`, wantErr: `Invalid \escape: line 1 column 4 (char 3)`},
		{arg: `x=say "hi"`, wantErr: "Expecting value: line 1 column 1 (char 0)"},
	}
	for _, c := range cases {
		t.Run(c.arg, func(t *testing.T) {
			got, err := parseKeyValues([]string{c.arg}, "parameter")
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) || diag.KindOf(err) != diag.Usage {
					t.Fatalf("want usage error containing %q, got %v", c.wantErr, err)
				}
				if !strings.HasPrefix(err.Error(), "Failed to parse JSON for parameter 'x' with value") {
					t.Fatalf("message does not start like Prefect's: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			v, _ := got.Get("x")
			if !py.Equal(v, c.want) {
				t.Fatalf("got %s, want %s", py.Repr(v), py.Repr(c.want))
			}
		})
	}
}

// TestParseKeyValuesAgainstPrefect runs Prefect's own load_json_key_values
// on the same arguments and compares values and JSON error messages.
func TestParseKeyValuesAgainstPrefect(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the Prefect venv")
	}
	args := []string{"x=hello", "x=1", "x=-1.25e-3", "x=[1, 2]", `x={"a": [1, {"b": null}]}`, "x=", "x", "x=hello world",
		"x=[1, hello]", "x=1 2", "x=01", "x=tru", "x=a=b", `x=C:\\dir`, `x=C:\dir`, "x=[1,2", "x={a: 1}", `x="open`,
		`x=say "hi"`, `x=\u00e9t\u00e9`, `x="\u00e9t\u00e9"`, "x=[1,]", `x={"a":1,}`, "x= 5 ", "x=\t", "x={}", "x=[]",
		`x={"a" 1}`, "x=[1 2]", "x=-", "x=.5", "x=1.", "x=é", "=v", "x=\"\\ud83d\\ude00\"", `x={"k": "v", "k": "w"}`, "x=\ufeff1", "x=-0", "x=nullx", "x=12345678901234567890.5"}
	script := `
import io, json, sys, contextlib
from prefect.cli._utilities import load_json_key_values
out = []
for spec in json.load(sys.stdin):
    buf = io.StringIO()
    try:
        with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(buf):
            out.append({"ok": load_json_key_values([spec], "parameter")})
    except SystemExit:
        out.append({"err": buf.getvalue()})
print(json.dumps(out))
`
	var results []struct {
		OK  json.RawMessage `json:"ok"`
		Err string          `json:"err"`
	}
	pyoracle.Run(t, args, &results, "-c", script)
	for i, a := range args {
		got, err := parseKeyValues([]string{a}, "parameter")
		want := results[i]
		if want.Err != "" {
			wantLine := runJSONErrorPart(want.Err)
			if err == nil || runJSONErrorPart(err.Error()) != wantLine {
				t.Errorf("%q: Prefect fails with %q, prefectctl: %v", a, wantLine, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: Prefect accepts (%s), prefectctl: %v", a, want.OK, err)
			continue
		}
		wantV, _ := py.DecodeJSON(want.OK)
		if !py.Equal(got, wantV) {
			t.Errorf("%q: Prefect gives %s, prefectctl %s", a, py.Repr(wantV), py.Repr(got))
		}
	}
}

// runJSONErrorPart is the "JSON Error: ..." part of a message, with the
// line wrapping of Prefect's console undone.
func runJSONErrorPart(s string) string {
	_, after, _ := strings.Cut(s, "JSON Error:")
	return strings.Join(strings.Fields(after), " ")
}

func TestParseRunInputs(t *testing.T) {
	now := time.Date(2026, 8, 1, 12, 0, 0, 0, time.UTC)
	p, err := readRunInputs(&runFlags{
		params: []string{"a=1", "b=two"}, paramsJSON: `{"b": "from-params", "c": [1]}`,
		jobVariables: []string{`env={"K": "V"}`},
	}, nil, now, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	if got := py.Repr(p.Parameters); got != "{'b': 'two', 'c': [1], 'a': 1}" {
		t.Errorf("parameters %s", got)
	}
	if got := py.Repr(p.JobVariables); got != "{'env': {'K': 'V'}}" {
		t.Errorf("job variables %s", got)
	}
	if len(p.notes) != 1 || !strings.Contains(p.notes[0], "the `--param` value will be used: {'b'}") {
		t.Errorf("notes %q", p.notes)
	}
	if !p.Scheduled.Equal(now) || p.when != "now" {
		t.Errorf("scheduled %v %q", p.Scheduled, p.when)
	}

	p, err = readRunInputs(&runFlags{paramsJSON: "-"}, strings.NewReader(`{"name": "Ford"}`), now, time.UTC)
	if err != nil || py.Repr(p.Parameters) != "{'name': 'Ford'}" {
		t.Fatalf("stdin params: %v %v", p, err)
	}

	for _, c := range []struct {
		f    runFlags
		want string
	}{
		{runFlags{paramsJSON: "-"}, "No data passed to stdin"},
		{runFlags{paramsJSON: "{"}, "Failed to parse JSON: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"},
		{runFlags{paramsJSON: "[1]"}, "--params must be a JSON object, got a list"},
		{runFlags{startIn: "5 minutes", startAt: "17:00"}, "Only one of `--start-in` or `--start-at` can be set, not both."},
		{runFlags{startIn: "soon"}, "Unable to parse scheduled start time 'in soon'."},
		{runFlags{startAt: "foobar"}, "Unable to parse scheduled start time 'at foobar'."},
		{runFlags{jobVariables: []string{"x=[1"}}, "Failed to parse JSON for job variable 'x'"},
	} {
		_, err := readRunInputs(&c.f, strings.NewReader(""), now, time.UTC)
		if err == nil || !strings.Contains(err.Error(), c.want) || diag.KindOf(err) != diag.Usage {
			t.Errorf("%+v: want usage error %q, got %v", c.f, c.want, err)
		}
	}
	in, err := readRunInputs(&runFlags{startIn: "10 minutes"}, nil, now, time.UTC)
	if err != nil || !in.Scheduled.Equal(now.Add(10*time.Minute)) || in.when != "in 10 minutes" {
		t.Errorf("--start-in: %v %q %v", in.Scheduled, in.when, err)
	}
}

// TestRunBodyMatchesPrefectCLI sends the same run through the real
// `prefect deployment run` and through prefectctl, against the same fake
// API, and compares the create_flow_run bodies: flag reading, name
// formatting and the body all take part.
func TestRunBodyMatchesPrefectCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the Prefect venv")
	}
	prefectCLI := testenv.PrefectCLI(t)
	reg := depAPI(t, "", nil)
	base := depServe(t, reg)
	args := []string{"deployment", "run", "hello/arthur", "--param", "name=Zaphod", "--params", `{"name": "Ford"}`,
		"--tag", "adhoc", "--tag", "b", "--flow-run-name", "{name:*^10}-{name!r}", "--job-variable", `env={"A": "1"}`,
		"--job-variable", "image=x:1", "--start-at", "2030-01-02T03:04:05Z"}
	cmd := exec.Command(prefectCLI, args...)
	cmd.Env = append(os.Environ(), "PREFECT_API_URL="+base+"/api", "PREFECT_HOME="+t.TempDir())
	if out, err := cmd.CombinedOutput(); err != nil || reg.Calls("POST", tCreatePath) != 1 {
		t.Fatalf("prefect: %v\n%s", err, out)
	}
	want := string(reg.Last("POST", tCreatePath).Body)
	if code, _, errOut := run(args...); code != 0 || reg.Calls("POST", tCreatePath) != 2 {
		t.Fatalf("prefectctl: exit %d\n%s", code, errOut)
	}
	normal := func(s string) string {
		v, err := py.DecodeJSON([]byte(s))
		if err != nil {
			t.Fatalf("%v: %s", err, s)
		}
		b, _ := py.EncodeJSON(v)
		return string(b)
	}
	if got, want := normal(string(reg.Last("POST", tCreatePath).Body)), normal(want); got != want {
		t.Errorf("create_flow_run body\nprefectctl %s\nprefect    %s", got, want)
	}
}
