package cli

// Reading `deployment run`'s flags the way Prefect 3.9.1's `prefect
// deployment run` reads them (cli/deployment.py::run and
// cli/_utilities.py::load_json_key_values), before any setting or API is
// needed, as in Prefect.

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/prefectctl/prefectctl/internal/diag"
	"github.com/prefectctl/prefectctl/internal/flowrun"
	"github.com/prefectctl/prefectctl/internal/py"
)

// runFlags are the flags of `deployment run`.
type runFlags struct {
	name, id       string   // FLOW/DEPLOYMENT or --id
	params         []string // --param k=v (repeatable)
	paramsJSON     string   // --params: a JSON object, or "-" for stdin
	jobVariables   []string // --job-variable k=v (repeatable)
	tags           []string
	startIn        string
	startAt        string
	flowRunName    string
	idempotencyKey string
	watch          bool
	interval       time.Duration
	timeout        time.Duration
	output         string
}

// runInputs are the flags read: the run's inputs, when it starts in words
// ("now", "in 5 minutes"), and the notes Prefect prints before creating it.
type runInputs struct {
	flowrun.Inputs
	when  string
	notes []string
}

// readRunInputs reads parameters, job variables and the start time from
// f; naive --start-at times are in loc.
func readRunInputs(f *runFlags, stdin io.Reader, now time.Time, loc *time.Location) (*runInputs, error) {
	in := &runInputs{Inputs: flowrun.Inputs{Tags: f.tags, NameTemplate: f.flowRunName, IdempotencyKey: f.idempotencyKey}}
	multi := py.NewMap()
	if f.paramsJSON != "" {
		raw := f.paramsJSON
		if raw == "-" {
			if stdin == nil {
				return nil, runUsage("No data passed to stdin", "pipe a JSON object into the command, or pass it to --params directly")
			}
			b, err := io.ReadAll(stdin)
			if err != nil {
				return nil, diag.Wrap(diag.Runtime, err, "", "cannot read --params from stdin")
			}
			if len(b) == 0 {
				return nil, runUsage("No data passed to stdin", "pipe a JSON object into the command, or pass it to --params directly")
			}
			raw = string(b)
		}
		v, err := py.DecodeJSON([]byte(raw))
		if err != nil {
			return nil, runUsage("Failed to parse JSON: "+err.Error(), `--params takes a JSON object, e.g. --params '{"name": "Arthur"}'`)
		}
		m, ok := v.(*py.Map)
		if !ok {
			return nil, runUsage(fmt.Sprintf("--params must be a JSON object, got %s", jsonKind(v)), `--params takes a JSON object, e.g. --params '{"name": "Arthur"}'`)
		}
		multi = m
	}
	single, err := parseKeyValues(f.params, "parameter")
	if err != nil {
		return nil, err
	}
	var conflicts []string
	for _, k := range single.Keys() {
		if multi.Has(k) {
			conflicts = append(conflicts, k)
		}
	}
	if len(conflicts) > 0 {
		sort.Strings(conflicts)
		in.notes = append(in.notes, "The following parameters were specified by `--param` and `--params`, the `--param` value will be used: {"+py.JoinRepr(conflicts)+"}")
	}
	params := py.Clone(multi).(*py.Map)
	params.Update(single)
	in.Parameters = params
	if in.JobVariables, err = parseKeyValues(f.jobVariables, "job variable"); err != nil {
		return nil, err
	}
	in.Scheduled, in.when, err = parseStartTime(f.startIn, f.startAt, now, loc)
	if err != nil {
		return nil, err
	}
	return in, nil
}

// parseKeyValues reads "key=value" arguments as Prefect's
// load_json_key_values does: the value is JSON; when that fails with
// "Expecting value" or "Extra data" and the text holds no double quote, it
// is taken as a string. A missing "=" gives an empty-string value, as in
// Prefect. what names the option in messages ("parameter", "job variable").
func parseKeyValues(args []string, what string) (*py.Map, error) {
	out := py.NewMap()
	for _, a := range args {
		k, raw, _ := strings.Cut(a, "=")
		v, err := castJSONValue(raw)
		if err != nil {
			indented := "\t" + strings.ReplaceAll(raw, "\n", "\n\t")
			if raw == "" {
				indented = ""
			}
			return nil, runUsage(fmt.Sprintf("Failed to parse JSON for %s %s with value\n\n%s\n\nJSON Error: %v", what, py.Repr(k), indented, err),
				fmt.Sprintf("quote the value as a JSON string, e.g. %s='\"text\"', or pass valid JSON", k))
		}
		out.Set(k, v)
	}
	return out, nil
}

func castJSONValue(raw string) (any, error) {
	v, err := py.DecodeJSON([]byte(raw))
	if err == nil {
		return v, nil
	}
	msg := err.Error()
	if (strings.Contains(msg, "Extra data") || strings.Contains(msg, "Expecting value")) && !strings.Contains(raw, `"`) {
		return castJSONValue(`"` + raw + `"`)
	}
	return nil, err
}

// jsonKind names a JSON value's type in a sentence: "a list", "null".
func jsonKind(v any) string {
	switch py.JSONType(v) {
	case "null":
		return "null"
	case "array":
		return "a list"
	case "string":
		return "a string"
	case "boolean":
		return "a boolean"
	case "integer", "number":
		return "a number"
	}
	return py.TypeName(v)
}

// parseStartTime turns --start-in / --start-at into a UTC time and the
// human form Prefect prints ("now", "in 5 minutes"). Prefect hands the text
// to the dateparser package; prefectctl reads the subset documented at
// py.ParseRelativeTime and py.ParseDateTime.
func parseStartTime(startIn, startAt string, now time.Time, loc *time.Location) (time.Time, string, error) {
	now = now.UTC()
	switch {
	case startIn != "" && startAt != "":
		return time.Time{}, "", runUsage("Only one of `--start-in` or `--start-at` can be set, not both.", "keep one of them")
	case startIn == "" && startAt == "":
		return now, "now", nil
	}
	var t time.Time
	var ok bool
	raw := "in " + startIn
	if startIn != "" {
		t, ok = py.ParseRelativeTime(startIn, now)
	} else {
		raw = "at " + startAt
		t, ok = py.ParseDateTime(startAt, now, loc)
	}
	if !ok {
		return time.Time{}, "", runUsage(fmt.Sprintf("Unable to parse scheduled start time %s.", py.Repr(raw)),
			`use e.g. --start-in "5 minutes", --start-in "1h30m", --start-at "2026-08-01 17:30", --start-at "tomorrow 9:00" or an ISO 8601 time`)
	}
	return t.UTC(), py.HumanDiff(t, now), nil
}

func runUsage(msg, hint string) *diag.Error {
	return &diag.Error{Kind: diag.Usage, Msg: msg, Hint: hint}
}
