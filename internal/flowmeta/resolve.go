package flowmeta

import (
	"os"
	"path/filepath"
	"strings"
)

// loader finds and parses the project modules a flow file refers to, the
// way Python's import system would find them on sys.path.
type loader struct {
	roots []string
	mods  map[string]*module // by file path
	files map[string]string  // module name -> file ("" when not in the project)
	warn  func(file string, line int, format string, args ...any)
}

type symKind uint8

const (
	symNone     symKind = iota
	symModule           // a project module (mod set) or an external one (qual set)
	symExternal         // something from outside the project, by qualified name
	symClass
	symFunc
	symValue
)

type sym struct {
	kind symKind
	qual string // external: "typing.Optional"; module: dotted name
	mod  *module
	cls  *classDef
	fn   *funcDef
	val  expr
}

const maxResolveDepth = 32

// builtinNames are Python's builtins (3.11); a name that is neither bound
// by the module nor here is undefined at run time.
var builtinNames = func() map[string]bool {
	m := map[string]bool{}
	for _, n := range strings.Fields(`ArithmeticError AssertionError AttributeError BaseException
	BaseExceptionGroup BlockingIOError BrokenPipeError BufferError BytesWarning ChildProcessError
	ConnectionAbortedError ConnectionError ConnectionRefusedError ConnectionResetError
	DeprecationWarning EOFError Ellipsis EncodingWarning EnvironmentError Exception ExceptionGroup
	FileExistsError FileNotFoundError FloatingPointError FutureWarning GeneratorExit IOError
	ImportError ImportWarning IndentationError IndexError InterruptedError IsADirectoryError
	KeyError KeyboardInterrupt LookupError MemoryError ModuleNotFoundError NameError None
	NotADirectoryError NotImplemented NotImplementedError OSError OverflowError
	PendingDeprecationWarning PermissionError ProcessLookupError RecursionError ReferenceError
	ResourceWarning RuntimeError RuntimeWarning StopAsyncIteration StopIteration SyntaxError
	SyntaxWarning SystemError SystemExit TabError TimeoutError TypeError UnboundLocalError
	UnicodeDecodeError UnicodeEncodeError UnicodeError UnicodeTranslateError UnicodeWarning
	UserWarning ValueError Warning ZeroDivisionError abs aiter all anext any ascii bin bool
	breakpoint bytearray bytes callable chr classmethod compile complex copyright credits delattr
	dict dir divmod enumerate eval exec exit filter float format frozenset getattr globals hasattr
	hash help hex id input int isinstance issubclass iter len license list locals map max
	memoryview min next object oct open ord pow print property quit range repr reversed round set
	setattr slice sorted staticmethod str sum super tuple type vars zip`) {
		m[n] = true
	}
	return m
}()

// preloaded are top-level modules that are already in sys.modules when a
// flow file runs under `prefect deploy` (Prefect and pydantic import them),
// so a project file of the same name never shadows them.
var preloaded = map[string]bool{
	"__future__": true, "abc": true, "asyncio": true, "collections": true, "dataclasses": true,
	"datetime": true, "decimal": true, "enum": true, "functools": true, "inspect": true, "json": true,
	"logging": true, "os": true, "pathlib": true, "prefect": true, "pydantic": true, "re": true,
	"sys": true, "typing": true, "typing_extensions": true, "uuid": true, "warnings": true,
}

// moduleFile finds a module by dotted name under the roots.
func (l *loader) moduleFile(name string) (string, bool) {
	if p, ok := l.files[name]; ok {
		return p, p != ""
	}
	p, ok := l.findFile(name)
	if l.files == nil {
		l.files = map[string]string{}
	}
	l.files[name] = p
	return p, ok
}

func (l *loader) findFile(name string) (string, bool) {
	head, _, _ := strings.Cut(name, ".")
	if preloaded[head] {
		return "", false
	}
	rel := filepath.Join(strings.Split(name, ".")...)
	for _, root := range l.roots {
		for _, cand := range []string{rel + ".py", filepath.Join(rel, "__init__.py")} {
			p := filepath.Join(root, cand)
			if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
				return p, true
			}
		}
	}
	return "", false
}

// load parses a module file once.
func (l *loader) load(path, name string) (*module, error) {
	// Parsing never loads other modules (names are resolved lazily,
	// with a depth bound), so import cycles cannot recurse here.
	if m, ok := l.mods[path]; ok {
		return m, nil
	}
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	m, err := parseModule(path, name, src)
	if err != nil {
		return nil, err
	}
	l.mods[path] = m
	return m, nil
}

// importModule resolves an absolute module name to a project module or an
// external one.
func (l *loader) importModule(name string) sym {
	if p, ok := l.moduleFile(name); ok {
		m, err := l.load(p, name)
		if err == nil {
			return sym{kind: symModule, mod: m, qual: name}
		}
		l.warn(p, lineOf(err), "cannot read module %s: %v", name, err)
	}
	return sym{kind: symModule, qual: name}
}

func lineOf(err error) int {
	if se, ok := err.(*syntaxError); ok {
		return se.line
	}
	return 0
}

// absModule turns a possibly relative import into an absolute name.
func absModule(m *module, name string) (string, bool) {
	dots := len(name) - len(strings.TrimLeft(name, "."))
	if dots == 0 {
		return name, true
	}
	if m.name == "" {
		return "", false // relative import from a script: Python refuses it too
	}
	pkg := strings.Split(m.name, ".")
	if filepath.Base(m.path) != "__init__.py" {
		pkg = pkg[:len(pkg)-1]
	}
	if dots-1 > len(pkg) {
		return "", false
	}
	pkg = pkg[:len(pkg)-(dots-1)]
	rest := name[dots:]
	if rest != "" {
		pkg = append(pkg, rest)
	}
	return strings.Join(pkg, "."), len(pkg) > 0
}

// lookup resolves a bare name in a module's top-level scope.
func (l *loader) lookup(m *module, name string, depth int) sym {
	if depth > maxResolveDepth {
		return sym{}
	}
	b, ok := m.top.names[name]
	if !ok {
		if s := l.fromStar(m, name, depth); s.kind != symNone {
			return s
		}
		if builtinNames[name] {
			return sym{kind: symExternal, qual: "builtins." + name}
		}
		return sym{}
	}
	return l.fromBinding(m, b, depth)
}

// starExported says whether a library exports name through `import *`,
// for the names the reader knows (types, typing forms, flow and task).
func starExported(module, name string) bool {
	q := canonical(module + "." + name)
	if _, ok := simpleTypes[q]; ok {
		return !strings.HasPrefix(q, "builtins.")
	}
	switch q {
	case "prefect.flow", "prefect.task", "typing.Optional", "typing.Union", "typing.Literal",
		"typing.Annotated", "typing.ClassVar", "typing.TYPE_CHECKING", "pydantic.BaseModel",
		"pydantic.Field", "enum.Enum", "enum.IntEnum", "enum.StrEnum", "enum.auto",
		"dataclasses.dataclass", "dataclasses.field":
		return true
	}
	return false
}

// fromStar resolves a name through `from X import *`, the last star import
// first (a later one would shadow an earlier one).
func (l *loader) fromStar(m *module, name string, depth int) sym {
	if strings.HasPrefix(name, "_") {
		return sym{}
	}
	for i := len(m.stars) - 1; i >= 0; i-- {
		abs, ok := absModule(m, m.stars[i])
		if !ok {
			continue
		}
		target := l.importModule(abs)
		if target.mod != nil {
			if s := l.lookup(target.mod, name, depth+1); s.kind != symNone {
				return s
			}
			continue
		}
		if starExported(abs, name) {
			return sym{kind: symExternal, qual: abs + "." + name}
		}
	}
	return sym{}
}

func (l *loader) fromBinding(m *module, b *binding, depth int) sym {
	switch {
	case b.fn != nil:
		return sym{kind: symFunc, mod: m, fn: b.fn}
	case b.cls != nil:
		return sym{kind: symClass, mod: b.cls.mod, cls: b.cls}
	case b.imp != nil:
		abs, ok := absModule(m, b.imp.module)
		if !ok {
			return sym{}
		}
		if b.imp.attr == "" {
			return l.importModule(abs)
		}
		return l.attr(l.importModule(abs), b.imp.attr, depth+1)
	default:
		return sym{kind: symValue, mod: m, val: b.val}
	}
}

// attr resolves s.name.
func (l *loader) attr(s sym, name string, depth int) sym {
	if depth > maxResolveDepth {
		return sym{}
	}
	switch s.kind {
	case symModule:
		if s.mod != nil {
			if r := l.lookup(s.mod, name, depth+1); r.kind != symNone && !(r.kind == symExternal && strings.HasPrefix(r.qual, "builtins.") && s.mod.top.names[name] == nil) {
				return r
			}
			if sub := l.importModule(s.qual + "." + name); sub.mod != nil {
				return sub
			}
			return sym{}
		}
		return sym{kind: symExternal, qual: s.qual + "." + name}
	case symExternal:
		return sym{kind: symExternal, qual: s.qual + "." + name}
	case symClass:
		if b, ok := s.cls.body.names[name]; ok {
			r := l.fromBinding(s.cls.mod, b, depth+1)
			return r
		}
	}
	return sym{}
}

// resolve follows a name or attribute chain.
func (l *loader) resolve(m *module, e expr, depth int) sym {
	switch x := e.(type) {
	case *eName:
		return l.lookup(m, x.id, depth)
	case *eAttr:
		return l.attr(l.resolve(m, x.x, depth+1), x.name, depth+1)
	}
	return sym{}
}

// canonical maps the re-exporting modules users import from to one name.
func canonical(q string) string {
	for _, p := range [][2]string{
		{"typing_extensions.", "typing."},
		{"collections.abc.", "typing."},
		{"pydantic.types.", "pydantic."},
		{"pydantic.main.", "pydantic."},
		{"pydantic.v1.", "pydantic.v1."},
		{"prefect.flows.", "prefect."},
		{"prefect.main.", "prefect."},
	} {
		if strings.HasPrefix(q, p[0]) {
			return p[1] + strings.TrimPrefix(q, p[0])
		}
	}
	return q
}
