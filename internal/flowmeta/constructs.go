package flowmeta

import (
	"fmt"

	"github.com/prefectctl/prefectctl/internal/diag"
)

// undefinedDecorator refuses a flow whose decorator names something that
// is not defined when the module runs: typically `from prefect import
// flow` under `if TYPE_CHECKING:`. Python raises NameError at the def, so
// Prefect cannot load the flow (nor read it from source); neither would a
// worker.
func undefinedDecorator(l *loader, m *module, fn *funcDef) error {
	for _, d := range fn.decorators {
		root := d
		for {
			switch x := root.(type) {
			case *eCall:
				root = x.fn
				continue
			case *eAttr:
				root = x.x
				continue
			}
			break
		}
		n, ok := root.(*eName)
		if !ok || l.lookup(m, n.id, 0).kind != symNone || externalStar(l, m, 0) {
			continue
		}
		return &diag.Error{Kind: diag.Invalid, File: m.path, Line: n.line,
			Msg:  fmt.Sprintf("name %s in decorator @%s is not defined when the module runs (imported only under if TYPE_CHECKING?): Python stops with NameError, so Prefect cannot load the flow %s", n.id, exprText(d), fn.name),
			Hint: "import " + n.id + " at module level"}
	}
	return nil
}

// externalStar: the module star-imports (directly or through project
// modules) a module outside the project, which may define names the reader
// cannot see.
func externalStar(l *loader, m *module, depth int) bool {
	if depth > maxResolveDepth {
		return true
	}
	for _, s := range m.stars {
		abs, ok := absModule(m, s)
		if !ok {
			continue
		}
		target := l.importModule(abs).mod
		if target == nil || target != m && externalStar(l, target, depth+1) {
			return true
		}
	}
	return false
}
