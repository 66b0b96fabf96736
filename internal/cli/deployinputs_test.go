package cli

import (
	"strings"
	"testing"

	"github.com/prefectctl/prefectctl/internal/py"
)

func TestDeployInputs(t *testing.T) {
	jv, err := parseDeployJobVariables([]string{"env=prod", `{"resources":{"limits":{"cpu": 1}}}`})
	if err != nil || py.Repr(jv) != "{'env': 'prod', 'resources': {'limits': {'cpu': 1}}}" {
		t.Errorf("job variables: %v %s", err, py.Repr(jv))
	}
	for _, bad := range [][]string{{"my-variable"}, {"['my-variable']"}, {"{broken"}} {
		if _, err := parseDeployJobVariables(bad); err == nil || !strings.Contains(err.Error(), "could not parse variable") {
			t.Errorf("%v: %v", bad, err)
		}
	}
	if _, err := parseDeployParams([]string{"a=1"}, `{"b": 2}`); err == nil {
		t.Error("--param with --params must fail")
	}
	m, err := parseDeployParams([]string{"a=1", "b=hello", "c=[1,2]", `d="q"`}, "")
	if err != nil || py.Repr(m) != "{'a': 1, 'b': 'hello', 'c': [1, 2], 'd': 'q'}" {
		t.Errorf("params: %v %s", err, py.Repr(m))
	}
}
