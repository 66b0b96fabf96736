package deploy

// This file is the action layer of `prefectctl deployment run`: it reads
// the run options the way Prefect 3.9.1's `prefect deployment run` does
// (cli/deployment.py::run and cli/_utilities.py::load_json_key_values),
// creates the flow run, and watches it by polling.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/prefectctl/prefectctl/internal/cloudapi"
	"github.com/prefectctl/prefectctl/internal/diag"
	"github.com/prefectctl/prefectctl/internal/py"
)

// RunOptions is what `deployment run` was asked to do.
type RunOptions struct {
	Name           string    // FLOW/DEPLOYMENT, the flow's registered name
	ID             string    // or the deployment id
	Params         []string  // --param k=v (repeatable)
	ParamsJSON     string    // --params: a JSON object, or "-" for Stdin
	Stdin          io.Reader // read when ParamsJSON is "-"
	JobVariables   []string  // --job-variable k=v (repeatable)
	Tags           []string  // --tag (repeatable)
	StartIn        string    // --start-in "5 minutes"
	StartAt        string    // --start-at "2026-08-01 17:30"
	FlowRunName    string    // --flow-run-name, a Python str.format template
	IdempotencyKey string    // --idempotency-key

	Now      func() time.Time // nil = time.Now
	Location *time.Location   // zone of naive --start-at times; nil = time.Local
}

// RunPlan is a checked flow run request, ready to send.
type RunPlan struct {
	Deployment     *cloudapi.Deployment
	Flow           *cloudapi.Flow
	Parameters     *py.Map // the values the user gave; the server merges them over the deployment's
	JobVariables   *py.Map
	Tags           []string
	Name           string // formatted --flow-run-name; "" lets the server pick one
	IdempotencyKey string
	Scheduled      time.Time // UTC
	When           string    // "now", "in 5 minutes", "3 days ago"
	Notes          []string  // things Prefect prints before creating the run
}

// FullName is "flow/deployment".
func (p *RunPlan) FullName() string { return p.Flow.Name + "/" + p.Deployment.Name }

// ParseRunInputs reads the parts of o that need no API: parameters, job
// variables and the start time. Prefect checks these before connecting.
func ParseRunInputs(o RunOptions) (*RunPlan, error) {
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	p := &RunPlan{Tags: o.Tags, IdempotencyKey: o.IdempotencyKey}
	multi := py.NewMap()
	if o.ParamsJSON != "" {
		raw := o.ParamsJSON
		if raw == "-" {
			if o.Stdin == nil {
				return nil, runUsage("No data passed to stdin", "pipe a JSON object into the command, or pass it to --params directly")
			}
			b, err := io.ReadAll(o.Stdin)
			if err != nil {
				return nil, diag.Wrap(diag.Runtime, err, "", "cannot read --params from stdin")
			}
			if len(b) == 0 {
				return nil, runUsage("No data passed to stdin", "pipe a JSON object into the command, or pass it to --params directly")
			}
			raw = string(b)
		}
		v, err := ParsePythonJSON(raw)
		if err != nil {
			return nil, runUsage("Failed to parse JSON: "+err.Error(), `--params takes a JSON object, e.g. --params '{"name": "Arthur"}'`)
		}
		m, ok := v.(*py.Map)
		if !ok {
			return nil, runUsage(fmt.Sprintf("--params must be a JSON object, got %s", pyTypeName(v)), `--params takes a JSON object, e.g. --params '{"name": "Arthur"}'`)
		}
		multi = m
	}
	cli, err := ParseKeyValues(o.Params, "parameter")
	if err != nil {
		return nil, err
	}
	var conflicts []string
	for _, k := range cli.Keys() {
		if multi.Has(k) {
			conflicts = append(conflicts, k)
		}
	}
	if len(conflicts) > 0 {
		sort.Strings(conflicts)
		p.Notes = append(p.Notes, "The following parameters were specified by `--param` and `--params`, the `--param` value will be used: {"+pyListRepr(conflicts)+"}")
	}
	params := py.Clone(multi).(*py.Map)
	params.Update(cli)
	p.Parameters = params
	if p.JobVariables, err = ParseKeyValues(o.JobVariables, "job variable"); err != nil {
		return nil, err
	}
	loc := o.Location
	if loc == nil {
		loc = time.Local
	}
	p.Scheduled, p.When, err = ParseStartTime(o.StartIn, o.StartAt, now(), loc)
	if err != nil {
		return nil, err
	}
	return p, nil
}

// PrepareRun checks o and resolves the deployment, as Prefect does before
// it creates a run: local input first, then the deployment and its flow,
// then parameter names and the flow run name.
func PrepareRun(ctx context.Context, c *cloudapi.Client, o RunOptions) (*RunPlan, error) {
	p, err := ParseRunInputs(o)
	if err != nil {
		return nil, err
	}
	if err := p.Resolve(ctx, c, o); err != nil {
		return nil, err
	}
	return p, nil
}

// Resolve reads the deployment named by o and its flow, checks the
// parameter names against the deployment's schema, and formats
// o.FlowRunName over the deployment's and the run's parameters.
func (p *RunPlan) Resolve(ctx context.Context, c *cloudapi.Client, o RunOptions) error {
	var err error
	if p.Deployment, err = ResolveDeployment(ctx, c, o.Name, o.ID); err != nil {
		return err
	}
	if p.Flow, err = c.ReadFlow(ctx, p.Deployment.FlowID); err != nil {
		return err
	}
	if err := CheckParameterNames(p.Deployment, p.Parameters); err != nil {
		err.Hint = "see the deployment's parameters with 'prefectctl deployment inspect " + p.FullName() + "'"
		return err
	}
	if o.FlowRunName == "" {
		return nil
	}
	merged := py.NewMap()
	if p.Deployment.Parameters != nil {
		merged.Update(p.Deployment.Parameters)
	}
	merged.Update(p.Parameters)
	name, err := FormatPython(o.FlowRunName, merged)
	var ke *formatKeyError
	switch {
	case errors.As(err, &ke):
		return runUsage(fmt.Sprintf("Missing parameter for flow run name: '%s' is undefined", ke.key), "every {field} of --flow-run-name must be a parameter of the run or the deployment")
	case err != nil:
		return runUsage("Failed to format flow run name: "+err.Error(), "--flow-run-name is a Python format string: {name} inserts a parameter, {{ and }} are literal braces")
	}
	p.Name = name
	return nil
}

// ResolveDeployment reads a deployment by FLOW/NAME or by id, with
// Prefect's messages for the usual mistakes.
func ResolveDeployment(ctx context.Context, c *cloudapi.Client, name, id string) (*cloudapi.Deployment, error) {
	const hint = "list deployments with 'prefectctl deployment ls'"
	switch {
	case name != "" && id != "":
		return nil, runUsage("Only provide a deployed flow's name or id", "pass FLOW/DEPLOYMENT or --id, not both")
	case name == "" && id == "":
		return nil, runUsage("Must provide a deployed flow's name or id", "pass FLOW/DEPLOYMENT or --id ID")
	case id != "":
		if !runUUIDRe.MatchString(id) {
			return nil, runUsage(fmt.Sprintf("Invalid deployment ID: %s", py.Repr(id)), "a deployment id is a UUID such as 0b5c4f3e-6f1a-4a8e-9d47-2a4f6f1f9a11")
		}
		d, err := c.ReadDeployment(ctx, id)
		if errors.Is(err, cloudapi.ErrNotFound) {
			return nil, diag.Errorf(diag.Runtime, hint, "Deployment %s not found!", py.Repr(id))
		}
		return d, err
	}
	flow, dep, ok := strings.Cut(name, "/")
	if !ok || flow == "" || dep == "" || strings.Contains(dep, "/") {
		return nil, runUsage("Invalid deployment name. Expected '<flow-name>/<deployment-name>'", "use the flow's registered name, e.g. hello/arthur")
	}
	d, err := c.ReadDeploymentByName(ctx, flow, dep)
	if errors.Is(err, cloudapi.ErrNotFound) {
		return nil, diag.Errorf(diag.Runtime, hint, "Deployment %s not found!", py.Repr(name))
	}
	return d, err
}

var runUUIDRe = regexp.MustCompile(`^(?i)(urn:uuid:)?\{?[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}\}?$`)

// CheckParameterNames rejects parameters the deployment's schema does not
// list, client-side, with Prefect's message.
func CheckParameterNames(d *cloudapi.Deployment, params *py.Map) *diag.Error {
	var known []string
	if d.ParameterOpenAPISchema != nil {
		if props, ok := d.ParameterOpenAPISchema.Get("properties"); ok {
			if m, ok := props.(*py.Map); ok {
				known = m.Keys()
			}
		}
	}
	isKnown := map[string]bool{}
	for _, k := range known {
		isKnown[k] = true
	}
	var unknown []string
	for _, k := range params.Keys() {
		if !isKnown[k] {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	sort.Strings(unknown) // Prefect prints a set, in no fixed order
	avail := "This deployment does not accept parameters."
	if len(known) > 0 {
		avail = "The following parameters are available on the deployment: " + pyListRepr(known)
	}
	return runUsage("The following parameters were specified but not found on the deployment: "+pyListRepr(unknown)+"\n"+avail,
		"see the deployment's parameters with 'prefectctl deployment inspect'")
}

// Body is the POST /deployments/{id}/create_flow_run body, field for
// field what Prefect's client sends.
func (p *RunPlan) Body() *py.Map {
	tags := []any{}
	for _, t := range p.Tags {
		tags = append(tags, t)
	}
	var name, key any
	if p.Name != "" {
		name = p.Name
	}
	if p.IdempotencyKey != "" {
		key = p.IdempotencyKey
	}
	jv := p.JobVariables
	if jv == nil {
		jv = py.NewMap()
	}
	params := p.Parameters
	if params == nil {
		params = py.NewMap()
	}
	state := py.MapOf(
		"type", "SCHEDULED", "name", "Scheduled", "message", nil,
		"state_details", py.MapOf("scheduled_time", pyISO(p.Scheduled), "traceparent", nil),
		"data", nil)
	return py.MapOf(
		"state", state, "name", name, "parameters", params, "context", py.NewMap(),
		"tags", tags, "idempotency_key", key, "parent_task_run_id", nil,
		"job_variables", jv, "labels", py.NewMap())
}

// Create posts the flow run. created is false when the idempotency key
// matched an existing run. An HTTP error with a detail is reported as that
// detail, as Prefect does.
func (p *RunPlan) Create(ctx context.Context, c *cloudapi.Client) (run *cloudapi.FlowRun, created bool, err error) {
	run, created, err = c.CreateFlowRunFromDeployment(ctx, p.Deployment.ID, p.Body())
	var ae *cloudapi.APIError
	if err != nil && errors.As(err, &ae) && (ae.Detail != "" || len(ae.Issues) > 0) {
		msg := ae.Detail
		if len(ae.Issues) > 0 {
			msg = strings.TrimSpace(msg + "\n" + strings.Join(ae.Issues, "\n"))
		}
		return nil, false, &diag.Error{Kind: diag.Runtime, Msg: msg, Hint: ae.Hint, Err: errNoRepeat{ae}}
	}
	return run, created, err
}

// errNoRepeat keeps an APIError reachable by errors.As without printing
// its text a second time after the detail.
type errNoRepeat struct{ e *cloudapi.APIError }

func (e errNoRepeat) Error() string { return e.e.Detail }
func (e errNoRepeat) Unwrap() error { return e.e }

// pyISO formats t like Pydantic's JSON for an aware UTC datetime.
func pyISO(t time.Time) string {
	t = t.UTC()
	s := t.Format("2006-01-02T15:04:05")
	if us := t.Nanosecond() / 1000; us != 0 {
		s += fmt.Sprintf(".%06d", us)
	}
	return s + "Z"
}

func runUsage(msg, hint string) *diag.Error {
	return &diag.Error{Kind: diag.Usage, Msg: msg, Hint: hint}
}

func pyListRepr(items []string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = py.Repr(s)
	}
	return strings.Join(q, ", ")
}

// ---- key=value arguments ----

// ParseKeyValues reads "key=value" arguments as Prefect's
// load_json_key_values does: the value is JSON; when that fails with
// "Expecting value" or "Extra data" and the text holds no double quote, it
// is taken as a string. A missing "=" gives an empty-string value, as in
// Prefect. what names the option in messages ("parameter", "job variable").
func ParseKeyValues(args []string, what string) (*py.Map, error) {
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
	v, err := ParsePythonJSON(raw)
	if err == nil {
		return v, nil
	}
	msg := err.Error()
	if (strings.Contains(msg, "Extra data") || strings.Contains(msg, "Expecting value")) && !strings.Contains(raw, `"`) {
		return castJSONValue(`"` + raw + `"`)
	}
	return nil, err
}

// ---- JSON with Python's json.loads grammar and messages ----

// JSONError is a json.JSONDecodeError: Python's message with its position.
type JSONError struct {
	Msg  string
	Pos  int // character offset
	Line int
	Col  int
}

func (e *JSONError) Error() string {
	return fmt.Sprintf("%s: line %d column %d (char %d)", e.Msg, e.Line, e.Col, e.Pos)
}

// ParsePythonJSON parses s as Python's json.loads does, including its
// error messages (which decide the string fallback of --param) and its
// NaN/Infinity extensions. Objects keep their order; integers are int64.
func ParsePythonJSON(s string) (any, error) {
	p := &pyJSON{s: []rune(s)}
	if strings.HasPrefix(s, "\ufeff") {
		return nil, p.fail("Unexpected UTF-8 BOM (decode using utf-8-sig)", 0)
	}
	p.ws()
	v, err := p.value()
	if err != nil {
		return nil, err
	}
	p.ws()
	if p.i != len(p.s) {
		return nil, p.fail("Extra data", p.i)
	}
	return v, nil
}

type pyJSON struct {
	s []rune
	i int
}

func (p *pyJSON) fail(msg string, pos int) *JSONError {
	line, col := 1, pos+1
	for j := 0; j < pos && j < len(p.s); j++ {
		if p.s[j] == '\n' {
			line++
			col = pos - j
		}
	}
	return &JSONError{Msg: msg, Pos: pos, Line: line, Col: col}
}

func (p *pyJSON) ws() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *pyJSON) has(lit string) bool {
	r := []rune(lit)
	if p.i+len(r) > len(p.s) {
		return false
	}
	for j, c := range r {
		if p.s[p.i+j] != c {
			return false
		}
	}
	return true
}

var pyNumber = regexp.MustCompile(`^(-?(?:0|[1-9][0-9]*))(\.[0-9]+)?([eE][-+]?[0-9]+)?`)

func (p *pyJSON) value() (any, error) {
	if p.i >= len(p.s) {
		return nil, p.fail("Expecting value", p.i)
	}
	switch c := p.s[p.i]; {
	case c == '"':
		return p.str()
	case c == '{':
		return p.object()
	case c == '[':
		return p.array()
	case p.has("null"):
		p.i += 4
		return nil, nil
	case p.has("true"):
		p.i += 4
		return true, nil
	case p.has("false"):
		p.i += 5
		return false, nil
	case p.has("NaN"):
		p.i += 3
		return math.NaN(), nil
	case p.has("Infinity"):
		p.i += 8
		return math.Inf(1), nil
	case p.has("-Infinity"):
		p.i += 9
		return math.Inf(-1), nil
	}
	rest := string(p.s[p.i:])
	m := pyNumber.FindStringSubmatch(rest)
	if m == nil {
		return nil, p.fail("Expecting value", p.i)
	}
	p.i += utf8.RuneCountInString(m[0])
	if m[2] == "" && m[3] == "" {
		n, err := strconv.ParseInt(m[1], 10, 64)
		if err != nil {
			return nil, p.fail("Integer out of the range prefectctl supports (64 bits)", p.i-len(m[0]))
		}
		return n, nil
	}
	f, _ := strconv.ParseFloat(m[0], 64) // the regexp only matches valid floats; overflow is ±Inf as in Python
	return f, nil
}

func (p *pyJSON) str() (any, error) {
	start := p.i
	p.i++ // opening quote
	var b strings.Builder
	for {
		if p.i >= len(p.s) {
			return nil, p.fail("Unterminated string starting at", start)
		}
		c := p.s[p.i]
		switch {
		case c == '"':
			p.i++
			return b.String(), nil
		case c < 0x20:
			return nil, p.fail("Invalid control character at", p.i)
		case c != '\\':
			b.WriteRune(c)
			p.i++
			continue
		}
		if p.i+1 >= len(p.s) {
			return nil, p.fail("Unterminated string starting at", start)
		}
		esc := p.s[p.i+1]
		switch esc {
		case '"', '\\', '/':
			b.WriteRune(esc)
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'u':
			r, n, err := p.unicodeEscape(p.i)
			if err != nil {
				return nil, err
			}
			b.WriteRune(r)
			p.i += n
			continue
		default:
			return nil, p.fail(`Invalid \escape`, p.i)
		}
		p.i += 2
	}
}

// unicodeEscape reads \uXXXX at i (and a following low surrogate), giving
// the rune and the number of runes consumed. Lone surrogates, which Python
// keeps but Go strings cannot hold, become U+FFFD.
func (p *pyJSON) unicodeEscape(i int) (rune, int, error) {
	hex4 := func(at int) (rune, bool) {
		if at+6 > len(p.s) {
			return 0, false
		}
		v, err := strconv.ParseUint(string(p.s[at+2:at+6]), 16, 32)
		return rune(v), err == nil
	}
	r, ok := hex4(i)
	if !ok {
		return 0, 0, p.fail(`Invalid \uXXXX escape`, i+1)
	}
	if r >= 0xd800 && r <= 0xdbff && i+12 <= len(p.s) && p.s[i+6] == '\\' && p.s[i+7] == 'u' {
		if lo, ok := hex4(i + 6); ok && lo >= 0xdc00 && lo <= 0xdfff {
			return 0x10000 + (r-0xd800)<<10 + (lo - 0xdc00), 12, nil
		}
	}
	if r >= 0xd800 && r <= 0xdfff {
		return utf8.RuneError, 6, nil
	}
	return r, 6, nil
}

func (p *pyJSON) object() (any, error) {
	m := py.NewMap()
	p.i++
	p.ws()
	if p.i < len(p.s) && p.s[p.i] == '}' {
		p.i++
		return m, nil
	}
	for {
		if p.i >= len(p.s) || p.s[p.i] != '"' {
			return nil, p.fail("Expecting property name enclosed in double quotes", p.i)
		}
		k, err := p.str()
		if err != nil {
			return nil, err
		}
		p.ws()
		if p.i >= len(p.s) || p.s[p.i] != ':' {
			return nil, p.fail("Expecting ':' delimiter", p.i)
		}
		p.i++
		p.ws()
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		m.Set(k.(string), v)
		p.ws()
		if p.i < len(p.s) && p.s[p.i] == '}' {
			p.i++
			return m, nil
		}
		if p.i >= len(p.s) || p.s[p.i] != ',' {
			return nil, p.fail("Expecting ',' delimiter", p.i)
		}
		p.i++
		p.ws()
	}
}

func (p *pyJSON) array() (any, error) {
	l := []any{}
	p.i++
	p.ws()
	if p.i < len(p.s) && p.s[p.i] == ']' {
		p.i++
		return l, nil
	}
	for {
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		l = append(l, v)
		p.ws()
		if p.i < len(p.s) && p.s[p.i] == ']' {
			p.i++
			return l, nil
		}
		if p.i >= len(p.s) || p.s[p.i] != ',' {
			return nil, p.fail("Expecting ',' delimiter", p.i)
		}
		p.i++
		p.ws()
	}
}

func pyTypeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case []any:
		return "a list"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case int64, float64:
		return "a number"
	}
	return py.TypeName(v)
}

// ---- start time ----

// ParseStartTime turns --start-in / --start-at into a UTC time and the
// human form Prefect prints ("now", "in 5 minutes"). Prefect hands the text
// to the dateparser package; prefectctl accepts this documented subset:
//
//	--start-in: "5 minutes", "in 2 hours", "1 hour and 30 minutes", "1.5 hours",
//	            "an hour", "90s", "1h30m"; units s/sec/second, m/min/minute,
//	            h/hr/hour, d/day, w/week, month, year (plurals too).
//	--start-at: ISO 8601 with a zone ("2026-08-01T17:30:00Z", "...+02:00"),
//	            "2026-08-01 17:30[:00]", "2026-08-01" (midnight), "17:30", "5pm",
//	            "5:30pm", "now", "today"/"tomorrow" optionally followed by
//	            [at] a time.
//
// Times without a zone are in loc (the local zone, as dateparser assumes).
// A bare time of day already past today means tomorrow, like dateparser's
// PREFER_DATES_FROM=future. "tomorrow" alone is this time tomorrow.
func ParseStartTime(startIn, startAt string, now time.Time, loc *time.Location) (time.Time, string, error) {
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
		t, ok = parseStartIn(startIn, now)
	} else {
		raw = "at " + startAt
		t, ok = parseStartAt(startAt, now, loc)
	}
	if !ok {
		return time.Time{}, "", runUsage(fmt.Sprintf("Unable to parse scheduled start time %s.", py.Repr(raw)),
			`use e.g. --start-in "5 minutes", --start-in "1h30m", --start-at "2026-08-01 17:30", --start-at "tomorrow 9:00" or an ISO 8601 time`)
	}
	return t.UTC(), HumanDiff(t, now), nil
}

var durTerm = regexp.MustCompile(`^(\d+(?:\.\d+)?|\.\d+|an?)\s*([a-z]+)`)

var durUnits = map[string]time.Duration{
	"s": time.Second, "sec": time.Second, "secs": time.Second, "second": time.Second, "seconds": time.Second,
	"m": time.Minute, "min": time.Minute, "mins": time.Minute, "minute": time.Minute, "minutes": time.Minute,
	"h": time.Hour, "hr": time.Hour, "hrs": time.Hour, "hour": time.Hour, "hours": time.Hour,
	"d": 24 * time.Hour, "day": 24 * time.Hour, "days": 24 * time.Hour,
	"w": 7 * 24 * time.Hour, "week": 7 * 24 * time.Hour, "weeks": 7 * 24 * time.Hour,
}

func parseStartIn(s string, now time.Time) (time.Time, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	s = strings.TrimSpace(strings.TrimPrefix(s, "in "))
	t := now
	terms := 0
	for s != "" {
		m := durTerm.FindStringSubmatch(s)
		if m == nil {
			return time.Time{}, false
		}
		n := 1.0
		if m[1] != "a" && m[1] != "an" {
			n, _ = strconv.ParseFloat(m[1], 64)
		}
		switch m[2] {
		case "month", "months", "year", "years":
			if n != math.Trunc(n) {
				return time.Time{}, false
			}
			if m[2][0] == 'm' {
				t = t.AddDate(0, int(n), 0)
			} else {
				t = t.AddDate(int(n), 0, 0)
			}
		default:
			u, ok := durUnits[m[2]]
			if !ok {
				return time.Time{}, false
			}
			t = t.Add(time.Duration(n * float64(u)))
		}
		terms++
		s = strings.TrimLeft(s[len(m[0]):], " ,")
		s = strings.TrimSpace(strings.TrimPrefix(s, "and "))
	}
	return t, terms > 0
}

var (
	startClockRe = regexp.MustCompile(`^(\d{1,2})(?::(\d{2}))?(?::(\d{2}))?\s*(am|pm)?$`)
	startDayRe   = regexp.MustCompile(`^(today|tomorrow)(?:\s+(?:at\s+)?(.+))?$`)
)

func parseStartAt(s string, now time.Time, loc *time.Location) (time.Time, bool) {
	s = strings.TrimSpace(s)
	lower := strings.ToLower(s)
	if lower == "now" {
		return now, true
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04Z07:00", "2006-01-02 15:04:05Z07:00", "2006-01-02 15:04Z07:00"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	for _, layout := range []string{"2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999", "2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, true
		}
	}
	localNow := now.In(loc)
	if m := startDayRe.FindStringSubmatch(lower); m != nil {
		add := 0
		if m[1] == "tomorrow" {
			add = 1
		}
		if m[2] == "" {
			return now.AddDate(0, 0, add), true
		}
		h, mi, sec, ok := parseClock(m[2])
		if !ok {
			return time.Time{}, false
		}
		y, mo, d := localNow.Date()
		return time.Date(y, mo, d+add, h, mi, sec, 0, loc), true
	}
	if h, mi, sec, ok := parseClock(lower); ok {
		y, mo, d := localNow.Date()
		t := time.Date(y, mo, d, h, mi, sec, 0, loc)
		if t.Before(now) {
			t = time.Date(y, mo, d+1, h, mi, sec, 0, loc)
		}
		return t, true
	}
	return time.Time{}, false
}

// parseClock reads "17:30", "17:30:05", "5pm", "5:30 pm".
func parseClock(s string) (h, m, sec int, ok bool) {
	c := startClockRe.FindStringSubmatch(strings.TrimSpace(s))
	if c == nil || (c[2] == "" && c[4] == "") { // a bare number is not a time
		return 0, 0, 0, false
	}
	h, _ = strconv.Atoi(c[1])
	if c[2] != "" {
		m, _ = strconv.Atoi(c[2])
	}
	if c[3] != "" {
		sec, _ = strconv.Atoi(c[3])
	}
	switch c[4] {
	case "am", "pm":
		if h < 1 || h > 12 {
			return 0, 0, 0, false
		}
		h %= 12
		if c[4] == "pm" {
			h += 12
		}
	}
	return h, m, sec, h < 24 && m < 60 && sec < 60
}

// HumanDiff says how far t is from now the way Prefect prints it
// (pendulum's diff_for_humans, English): "in a few seconds", "in 5
// minutes", "in 1 day", "3 days ago".
func HumanDiff(t, now time.Time) string {
	future := t.After(now)
	a, b := now.UTC(), t.UTC()
	if !future {
		a, b = b, a
	}
	// Calendar difference a → b, as pendulum's precise_diff computes it.
	years := b.Year() - a.Year()
	months := int(b.Month()) - int(a.Month())
	if months < 0 {
		months += 12
		years--
	}
	anchor := a.AddDate(years, months, 0)
	if anchor.After(b) {
		months--
		if months < 0 {
			months += 12
			years--
		}
		anchor = a.AddDate(years, months, 0)
	}
	rest := b.Sub(anchor)
	days := int(rest / (24 * time.Hour))
	rest -= time.Duration(days) * 24 * time.Hour
	hours := int(rest / time.Hour)
	rest -= time.Duration(hours) * time.Hour
	minutes := int(rest / time.Minute)
	seconds := int((rest - time.Duration(minutes)*time.Minute) / time.Second)
	weeks, remDays := days/7, days%7

	var unit string
	var count int
	switch {
	case years > 0:
		unit, count = "year", years
		if months > 6 {
			count++
		}
	case months == 11 && weeks*7+remDays > 15:
		unit, count = "year", 1
	case months > 0:
		unit, count = "month", months
		if weeks*7+remDays >= 27 {
			count++
		}
	case weeks > 0:
		unit, count = "week", weeks
		if remDays > 3 {
			count++
		}
	case remDays > 0:
		unit, count = "day", remDays
		if hours >= 22 {
			count++
		}
	case hours > 0:
		unit, count = "hour", hours
	case minutes > 0:
		unit, count = "minute", minutes
	case seconds > 10 && seconds < 60:
		unit, count = "second", seconds
	default:
		if future {
			return "in a few seconds"
		}
		return "a few seconds ago"
	}
	if count == 0 {
		count = 1
	}
	text := fmt.Sprintf("%d %s", count, unit)
	if count != 1 {
		text += "s"
	}
	if future {
		return "in " + text
	}
	return text + " ago"
}

// ---- Python str.format ----

// formatKeyError is Python's KeyError from str.format: a field names no
// argument (or a [key] is missing).
type formatKeyError struct{ key string }

func (e *formatKeyError) Error() string { return py.Repr(e.key) }

// FormatPython formats tmpl like Python's tmpl.format(**kwargs): literal
// {{ and }}, fields {name}, {name[key]}, {name[0]}, {name.attr}, the
// conversions !s !r !a, and format specs (nested fields included) with
// fill, align, sign, zero padding, width, grouping, precision and the
// types s d n b o x X c e E f F g G %. Positional fields fail as they do in
// Python, since only keyword arguments are given.
func FormatPython(tmpl string, kwargs *py.Map) (string, error) {
	return formatPython(tmpl, kwargs, 2)
}

func formatPython(tmpl string, kwargs *py.Map, depth int) (string, error) {
	var b strings.Builder
	s := []rune(tmpl)
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '}':
			if i+1 < len(s) && s[i+1] == '}' {
				b.WriteRune('}')
				i += 2
				continue
			}
			return "", errors.New("Single '}' encountered in format string")
		case c != '{':
			b.WriteRune(c)
			i++
			continue
		}
		if i+1 < len(s) && s[i+1] == '{' {
			b.WriteRune('{')
			i += 2
			continue
		}
		if i+1 >= len(s) {
			return "", errors.New("Single '{' encountered in format string")
		}
		// Find the matching '}', honouring nested braces in the spec and
		// brackets in the field name.
		j, nest, bracket := i+1, 1, false
		for ; j < len(s); j++ {
			switch {
			case s[j] == '[' && !bracket:
				bracket = true
			case s[j] == ']' && bracket:
				bracket = false
			case s[j] == '{' && !bracket:
				nest++
			case s[j] == '}' && !bracket:
				nest--
			}
			if nest == 0 {
				break
			}
		}
		if j >= len(s) {
			return "", errors.New("expected '}' before end of string")
		}
		out, err := pyFormatField(string(s[i+1:j]), kwargs, depth)
		if err != nil {
			return "", err
		}
		b.WriteString(out)
		i = j + 1
	}
	return b.String(), nil
}

func pyFormatField(field string, kwargs *py.Map, depth int) (string, error) {
	// Split "name!conv:spec"; the name may hold brackets with any text.
	name, conv, spec := field, "", ""
	hasConv := false
	bracket := false
	for k, r := range field {
		if r == '[' {
			bracket = true
		} else if r == ']' {
			bracket = false
		} else if !bracket && (r == '!' || r == ':') {
			name = field[:k]
			rest := field[k:]
			if r == '!' {
				hasConv = true
				if len(rest) < 2 {
					return "", errors.New("end of string while looking for conversion specifier")
				}
				conv = rest[1:2]
				rest = rest[2:]
				if rest != "" && rest[0] != ':' {
					return "", errors.New("expected ':' after conversion specifier")
				}
			}
			spec = strings.TrimPrefix(rest, ":")
			break
		}
	}
	obj, err := pyLookupField(name, kwargs)
	if err != nil {
		return "", err
	}
	if hasConv {
		switch conv {
		case "s":
			obj = py.Str(obj)
		case "r":
			obj = py.Repr(obj)
		case "a":
			obj = asciiRepr(py.Repr(obj))
		default:
			return "", fmt.Errorf("Unknown conversion specifier %s", conv)
		}
	}
	if strings.ContainsAny(spec, "{}") {
		if depth == 0 {
			return "", errors.New("Max string recursion exceeded")
		}
		if spec, err = formatPython(spec, kwargs, depth-1); err != nil {
			return "", err
		}
	}
	return pyFormatSpec(obj, spec)
}

func asciiRepr(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r < 0x80:
			b.WriteRune(r)
		case r <= 0xff:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r <= 0xffff:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			fmt.Fprintf(&b, `\U%08x`, r)
		}
	}
	return b.String()
}

func pyLookupField(name string, kwargs *py.Map) (any, error) {
	end := strings.IndexAny(name, ".[")
	if end < 0 {
		end = len(name)
	}
	first := name[:end]
	if first == "" || pyDigits(first) {
		idx := 0
		if first != "" {
			idx, _ = strconv.Atoi(first)
		}
		return nil, fmt.Errorf("Replacement index %d out of range for positional args tuple", idx)
	}
	obj, ok := kwargs.Get(first)
	if !ok {
		return nil, &formatKeyError{key: first}
	}
	rest := name[end:]
	for rest != "" {
		switch rest[0] {
		case '.':
			rest = rest[1:]
			k := strings.IndexAny(rest, ".[")
			if k < 0 {
				k = len(rest)
			}
			attr := rest[:k]
			if attr == "" {
				return nil, errors.New("Empty attribute in format string")
			}
			return nil, fmt.Errorf("'%s' object has no attribute %s", py.TypeName(obj), py.Repr(attr))
		case '[':
			k := strings.IndexByte(rest, ']')
			if k < 0 {
				return nil, errors.New("Missing ']' in format string")
			}
			key := rest[1:k]
			if key == "" {
				return nil, errors.New("Empty attribute in format string")
			}
			rest = rest[k+1:]
			if rest != "" && rest[0] != '.' && rest[0] != '[' {
				return nil, errors.New("Only '.' or '[' may follow ']' in format field specifier")
			}
			var err error
			if obj, err = pyIndex(obj, key); err != nil {
				return nil, err
			}
		default:
			return nil, errors.New("Only '.' or '[' may follow ']' in format field specifier")
		}
	}
	return obj, nil
}

func pyIndex(obj any, key string) (any, error) {
	n, numErr := strconv.Atoi(key)
	numeric := pyDigits(key) && numErr == nil
	switch t := obj.(type) {
	case *py.Map:
		if numeric { // Python looks up the int, which a JSON object never has
			return nil, &formatKeyError{key: key}
		}
		v, ok := t.Get(key)
		if !ok {
			return nil, &formatKeyError{key: key}
		}
		return v, nil
	case []any:
		if !numeric {
			return nil, errors.New("list indices must be integers or slices, not str")
		}
		if n >= len(t) {
			return nil, errors.New("list index out of range")
		}
		return t[n], nil
	case string:
		if !numeric {
			return nil, errors.New("string indices must be integers, not 'str'")
		}
		r := []rune(t)
		if n >= len(r) {
			return nil, errors.New("string index out of range")
		}
		return string(r[n]), nil
	}
	return nil, fmt.Errorf("'%s' object is not subscriptable", py.TypeName(obj))
}

func pyDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

var pySpecRe = regexp.MustCompile(`^(?:(.)?([<>=^]))?([-+ ])?(#)?(0)?(\d+)?([,_])?(?:\.(\d+))?([bcdeEfFgGnosxX%])?$`)

// formatSpec is Python's format(obj, spec) for JSON values.
func pyFormatSpec(obj any, spec string) (string, error) {
	if spec == "" {
		return py.Str(obj), nil
	}
	m := pySpecRe.FindStringSubmatch(spec)
	if m == nil || (m[1] != "" && m[2] == "") {
		return "", fmt.Errorf("Invalid format specifier '%s' for object of type '%s'", spec, py.TypeName(obj))
	}
	fill, align, sign, alt, zero, width, group, prec, typ := m[1], m[2], m[3], m[4] != "", m[5] != "", m[6], m[7], m[8], m[9]
	if fill == "" {
		fill = " "
	}
	if zero && align == "" {
		fill, align = "0", "="
	}
	w, _ := strconv.Atoi(width)
	var body, prefix string
	numeric := false
	switch t := obj.(type) {
	case bool, int64:
		n := int64(0)
		switch x := t.(type) {
		case bool:
			if x {
				n = 1
			}
		case int64:
			n = x
		}
		if strings.ContainsAny(typ, "eEfFgG%") {
			return pyFormatFloat(float64(n), fill, align, sign, group, prec, typ, w)
		}
		if prec != "" {
			return "", errors.New("Precision not allowed in integer format specifier")
		}
		numeric = true
		neg := n < 0
		u := uint64(n)
		if neg {
			u = uint64(-n)
		}
		switch typ {
		case "", "d", "n":
			body = strconv.FormatUint(u, 10)
			body = pyGroupDigits(body, group, 3)
		case "b", "o", "x", "X":
			base := map[string]int{"b": 2, "o": 8, "x": 16, "X": 16}[typ]
			body = strconv.FormatUint(u, base)
			if typ == "X" {
				body = strings.ToUpper(body)
			}
			body = pyGroupDigits(body, group, 4)
			if alt {
				prefix = "0" + strings.ToLower(typ)
				if typ == "X" {
					prefix = "0X"
				}
			}
		case "c":
			if sign != "" {
				return "", errors.New("Sign not allowed with integer format specifier 'c'")
			}
			body, numeric = string(rune(n)), false
		default:
			return "", fmt.Errorf("Unknown format code '%s' for object of type '%s'", typ, py.TypeName(obj))
		}
		if numeric {
			prefix = pySign(neg, sign) + prefix
		}
	case float64:
		return pyFormatFloat(t, fill, align, sign, group, prec, typ, w)
	case string:
		if typ != "" && typ != "s" {
			return "", fmt.Errorf("Unknown format code '%s' for object of type 'str'", typ)
		}
		if sign != "" {
			return "", errors.New("Sign not allowed in string format specifier")
		}
		if align == "=" {
			return "", errors.New("'=' alignment not allowed in string format specifier")
		}
		body = t
		if prec != "" {
			p, _ := strconv.Atoi(prec)
			if r := []rune(body); len(r) > p {
				body = string(r[:p])
			}
		}
	default:
		return "", fmt.Errorf("unsupported format string passed to %s.__format__", py.TypeName(obj))
	}
	return pyPad(prefix, body, fill, align, w, numeric), nil
}

func pyFormatFloat(f float64, fill, align, sign, group, prec, typ string, w int) (string, error) {
	p := -1
	if prec != "" {
		p, _ = strconv.Atoi(prec)
	}
	neg := math.Signbit(f) && !math.IsNaN(f)
	a := math.Abs(f)
	var body string
	switch {
	case math.IsInf(a, 0):
		body = "inf"
	case math.IsNaN(a):
		body = "nan"
	}
	if body == "" {
		switch typ {
		case "f", "F":
			if p < 0 {
				p = 6
			}
			body = strconv.FormatFloat(a, 'f', p, 64)
		case "e", "E":
			if p < 0 {
				p = 6
			}
			body = strconv.FormatFloat(a, 'e', p, 64)
		case "%":
			if p < 0 {
				p = 6
			}
			body = strconv.FormatFloat(a*100, 'f', p, 64) + "%"
		case "g", "G", "n":
			if p < 0 {
				p = 6
			}
			if p == 0 {
				p = 1
			}
			body = strconv.FormatFloat(a, 'g', p, 64)
		case "":
			if p < 0 {
				body = py.FloatRepr(a)
			} else {
				if p == 0 {
					p = 1
				}
				body = strconv.FormatFloat(a, 'g', p, 64)
				if !strings.ContainsAny(body, ".e") {
					body += ".0"
				}
			}
		default:
			return "", fmt.Errorf("Unknown format code '%s' for object of type 'float'", typ)
		}
	}
	if typ == "E" || typ == "F" || typ == "G" {
		body = strings.ToUpper(body)
	}
	if group != "" {
		intPart, frac, _ := strings.Cut(body, ".")
		if frac != "" || strings.Contains(body, ".") {
			frac = "." + frac
		}
		if pyDigits(intPart) {
			body = pyGroupDigits(intPart, group, 3) + frac
		}
	}
	return pyPad(pySign(neg, sign), body, fill, align, w, true), nil
}

func pySign(neg bool, sign string) string {
	switch {
	case neg:
		return "-"
	case sign == "+":
		return "+"
	case sign == " ":
		return " "
	}
	return ""
}

func pyGroupDigits(s, sep string, every int) string {
	if sep == "" || len(s) <= every {
		return s
	}
	var b strings.Builder
	lead := len(s) % every
	if lead > 0 {
		b.WriteString(s[:lead])
	}
	for i := lead; i < len(s); i += every {
		if b.Len() > 0 {
			b.WriteString(sep)
		}
		b.WriteString(s[i : i+every])
	}
	return b.String()
}

func pyPad(prefix, body, fill, align string, w int, numeric bool) string {
	n := utf8.RuneCountInString(prefix) + utf8.RuneCountInString(body)
	if n >= w {
		return prefix + body
	}
	gap := w - n
	if align == "" {
		align = "<"
		if numeric {
			align = ">"
		}
	}
	rep := func(k int) string { return strings.Repeat(fill, k) }
	switch align {
	case ">":
		return rep(gap) + prefix + body
	case "^":
		return rep(gap/2) + prefix + body + rep(gap-gap/2)
	case "=":
		return prefix + rep(gap) + body
	}
	return prefix + body + rep(gap)
}

// ---- watching ----

// WatchOptions control Watch.
type WatchOptions struct {
	Interval time.Duration // between polls; default 2s
	Timeout  time.Duration // 0 = wait for ever
	// LogGrace is how long logs are still collected after the run reached
	// a final state: the flow's process ships its last log lines in a batch
	// after it reports the state. Default 5s.
	LogGrace time.Duration
	// OnState and OnLog receive each state the run entered and each log
	// line once; what one poll finds is delivered in timestamp order.
	OnState func(run *cloudapi.FlowRun, st cloudapi.State)
	OnLog   func(l cloudapi.Log)
}

// logLookback is how far before the newest log seen each poll looks again:
// a run's logs come from several processes in batches, so a line can
// arrive after a later one. Lines already shown are skipped by id.
const logLookback = 30 * time.Second

// ErrWatchTimeout is the cause of the context when Watch's timeout ran out.
var ErrWatchTimeout = errors.New("watch timeout")

// Watch polls the run, its state history and its logs until it is in a
// final state. It returns the final run, and an error of kind RunFailed
// unless it ended COMPLETED, or of kind Timeout when o.Timeout ran out
// first. Prefect itself streams websockets here; polling gives the same
// lines and works behind proxies that drop websockets.
func Watch(ctx context.Context, c *cloudapi.Client, runID string, o WatchOptions) (*cloudapi.FlowRun, error) {
	if o.Interval <= 0 {
		o.Interval = 2 * time.Second
	}
	if o.LogGrace <= 0 {
		o.LogGrace = 5 * time.Second
	}
	parent := ctx
	if o.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, o.Timeout, ErrWatchTimeout)
		defer cancel()
	}
	w := &runWatcher{c: c, runID: runID, o: o, seenLog: map[string]bool{}, seenState: map[string]bool{}}
	timedOut := func(err error) error {
		if parent.Err() == nil && errors.Is(context.Cause(ctx), ErrWatchTimeout) {
			return &diag.Error{Kind: diag.Timeout,
				Msg:  fmt.Sprintf("Flow run with ID %s exceeded watch timeout of %s", runID, o.Timeout),
				Hint: "the run goes on without the watch; follow it in the UI, or watch again with a longer --timeout"}
		}
		return err
	}
	for {
		run, err := c.ReadFlowRun(ctx, runID)
		if err != nil {
			return nil, timedOut(err)
		}
		if _, err := w.poll(ctx, run); err != nil {
			return nil, timedOut(err)
		}
		if run.State.Terminal() {
			w.drain(parent, run)
			return run, finalStateError(run)
		}
		select {
		case <-ctx.Done():
			return nil, timedOut(ctx.Err())
		case <-time.After(o.Interval):
		}
	}
}

// runWatcher remembers what was already reported.
type runWatcher struct {
	c         *cloudapi.Client
	runID     string
	o         WatchOptions
	seenLog   map[string]bool
	seenState map[string]bool
	newest    time.Time // newest log timestamp seen
}

type runWatchItem struct {
	at    time.Time
	state *cloudapi.State
	log   *cloudapi.Log
}

// poll reports the states and logs not seen yet, oldest first, and says
// how many there were.
func (w *runWatcher) poll(ctx context.Context, run *cloudapi.FlowRun) (int, error) {
	var items []runWatchItem
	states, err := w.c.ReadFlowRunStates(ctx, w.runID)
	if err != nil {
		return 0, err
	}
	if run.State != nil && len(states) == 0 {
		states = []cloudapi.State{*run.State}
	}
	for i := range states {
		st := &states[i]
		key := st.ID
		if key == "" {
			key = st.Type + "/" + st.Name + "/" + st.Timestamp.String()
		}
		if w.seenState[key] {
			continue
		}
		w.seenState[key] = true
		items = append(items, runWatchItem{at: st.Timestamp, state: st})
	}
	logs, err := w.logs(ctx)
	if err != nil {
		return 0, err
	}
	for i := range logs {
		items = append(items, runWatchItem{at: logs[i].Timestamp, log: &logs[i]})
	}
	sort.SliceStable(items, func(i, j int) bool { return items[i].at.Before(items[j].at) })
	for _, it := range items {
		switch {
		case it.state != nil && w.o.OnState != nil:
			w.o.OnState(run, *it.state)
		case it.log != nil && w.o.OnLog != nil:
			w.o.OnLog(*it.log)
		}
	}
	return len(items), nil
}

// logs fetches the run's log lines not seen yet, from a little before the
// newest one seen, page by page.
func (w *runWatcher) logs(ctx context.Context) ([]cloudapi.Log, error) {
	const page = 200 // the server's default and maximum limit
	after := ""
	if !w.newest.IsZero() {
		after = pyISO(w.newest.Add(-logLookback))
	}
	var fresh []cloudapi.Log
	for offset := 0; ; offset += page {
		filter := py.MapOf("flow_run_id", py.MapOf("any_", []any{w.runID}))
		if after != "" {
			filter.Set("timestamp", py.MapOf("after_", after))
		}
		body := py.MapOf("logs", filter, "sort", "TIMESTAMP_ASC", "limit", int64(page), "offset", int64(offset))
		got, err := w.c.FilterLogs(ctx, body)
		if err != nil {
			return nil, err
		}
		for _, l := range got {
			if w.seenLog[l.ID] {
				continue
			}
			w.seenLog[l.ID] = true
			if l.Timestamp.After(w.newest) {
				w.newest = l.Timestamp
			}
			fresh = append(fresh, l)
		}
		if len(got) < page {
			return fresh, nil
		}
	}
}

// drain keeps reading logs after the run ended, for up to LogGrace, and
// stops early once a poll finds nothing new after two seconds (the flow
// process flushes its last batch as it exits, just after the final state).
func (w *runWatcher) drain(ctx context.Context, run *cloudapi.FlowRun) {
	step := min(w.o.Interval, time.Second)
	start := time.Now()
	for time.Since(start) < w.o.LogGrace {
		select {
		case <-ctx.Done():
			return
		case <-time.After(step):
		}
		n, err := w.poll(ctx, run)
		if err != nil {
			return // the run's outcome is known; missing tail lines are not worth failing for
		}
		if n == 0 && time.Since(start) >= 2*time.Second {
			return
		}
	}
}

// finalStateError is nil for COMPLETED and a RunFailed problem otherwise.
func finalStateError(run *cloudapi.FlowRun) error {
	if run.State.Type == "COMPLETED" {
		return nil
	}
	hint := "see the run's logs above or in the UI"
	if run.State.Message != nil && *run.State.Message != "" {
		hint = "the state message says: " + *run.State.Message
	}
	return &diag.Error{Kind: diag.RunFailed, Msg: fmt.Sprintf("Flow run finished in state %s.", py.Repr(run.State.Name)), Hint: hint}
}
