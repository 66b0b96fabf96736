package cli

// Reading `deploy`'s --job-variable, --param and --params the way
// Prefect 3.9.1's `prefect deploy` reads them (cli/deploy/_core.py), which
// is not the way `deployment run` reads its flags of the same names
// (runinputs.go).

import (
	"fmt"
	"strings"

	"github.com/prefectctl/prefectctl/internal/diag"
	"github.com/prefectctl/prefectctl/internal/py"
)

// parseDeployJobVariables reads deploy's --job-variable values as prefect deploy does:
// key=value (the value stays a string) or a JSON object merged in.
func parseDeployJobVariables(args []string) (*py.Map, error) {
	if len(args) == 0 {
		return nil, nil
	}
	out := py.NewMap()
	for _, a := range args {
		if v, err := py.DecodeJSON([]byte(a)); err == nil {
			if m, ok := v.(*py.Map); ok {
				out.Update(m)
				continue
			}
		} else if k, val, ok := strings.Cut(a, "="); ok && !strings.HasPrefix(strings.TrimSpace(a), "{") {
			out.Set(k, val)
			continue
		}
		return nil, &diag.Error{Kind: diag.Usage,
			Msg:  fmt.Sprintf("could not parse variable: %q", a),
			Hint: "pass --job-variable key=value or a JSON object such as --job-variable '{\"env\": {\"A\": \"1\"}}'"}
	}
	return out, nil
}

// parseDeployParams reads deploy's --param k=v (the value is JSON if it parses, else the
// raw string) and --params JSON, as prefect deploy does. Giving both is an
// error, as in Prefect.
func parseDeployParams(param []string, params string) (*py.Map, error) {
	if len(param) > 0 && params != "" {
		return nil, &diag.Error{Kind: diag.Usage, Msg: "can only pass one of --param or --params", Hint: "put every value in --params, or use --param for each"}
	}
	if params != "" {
		v, err := py.DecodeJSON([]byte(params))
		m, ok := v.(*py.Map)
		if err != nil || !ok {
			return nil, &diag.Error{Kind: diag.Usage, Msg: fmt.Sprintf("--params is not a JSON object: %s", params), Hint: `pass a JSON object, e.g. --params '{"name": "Arthur"}'`}
		}
		return m, nil
	}
	if len(param) == 0 {
		return nil, nil
	}
	out := py.NewMap()
	for _, p := range param {
		k, raw, ok := strings.Cut(p, "=")
		if !ok || k == "" {
			return nil, &diag.Error{Kind: diag.Usage, Msg: fmt.Sprintf("--param %q is not key=value", p), Hint: "pass --param name=value"}
		}
		if v, err := py.DecodeJSON([]byte(raw)); err == nil {
			out.Set(k, v)
		} else {
			out.Set(k, raw)
		}
	}
	return out, nil
}
