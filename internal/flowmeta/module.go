package flowmeta

import (
	"strings"
)

// What a module binds at import time, as far as the reader needs it. The
// last statement that binds a name wins, as when Python runs the module.
type (
	module struct {
		path   string // file path as resolved
		name   string // dotted module name ("" for a script)
		src    []byte
		future bool // from __future__ import annotations
		top    *scope
		stars  []string // modules star-imported at top level, in order
	}
	scope struct {
		names map[string]*binding
		binds map[string]int  // how many unconditional statements bind each name
		alts  map[string]bool // assigned another value in an else/elif/except branch
	}
	binding struct {
		imp  *importRef
		fn   *funcDef
		cls  *classDef
		val  expr // assignment right-hand side
		line int
	}
	importRef struct {
		module string // absolute or relative (leading dots) module name
		attr   string // "" for `import module`
	}
	funcDef struct {
		name       string
		line       int
		async      bool
		decorators []expr
		params     []param
		doc        *string
	}
	param struct {
		name   string
		kind   paramKind
		ann    expr
		def    expr
		line   int
		hasDef bool
	}
	classDef struct {
		name       string
		line       int
		bases      []expr
		body       *scope
		fields     []field // annotated assignments, in order
		assigns    []field // plain NAME = value, in order (enum members)
		doc        *string
		mod        *module
		decorators []expr
	}
	field struct {
		owner  *classDef // the class declaring it (inherited fields resolve there)
		name   string
		ann    expr
		val    expr
		hasVal bool
		line   int
	}
)

type paramKind uint8

const (
	pPositional paramKind = iota
	pVarArgs
	pKeywordOnly
	pVarKw
)

func newScope() *scope {
	return &scope{names: map[string]*binding{}, binds: map[string]int{}, alts: map[string]bool{}}
}

// bind records a binding; with weak set it does not replace an existing one
// (used for else/except branches, which normally do not run).
func (s *scope) bind(name string, b *binding, weak bool) {
	if weak {
		if old, ok := s.names[name]; ok {
			if old.val != nil && b.val != nil {
				s.alts[name] = true
			}
			return
		}
	} else {
		s.binds[name]++
	}
	s.names[name] = b
}

// reader walks the statements of one file.
type reader struct {
	parser
	mod *module
	// chain is what an if statement's condition said about the branches
	// after it (see versionCondition): chainNone, or a branch was
	// certainly taken, or every branch so far was certainly not taken.
	chain ifChain
}

type ifChain uint8

const (
	chainNone ifChain = iota
	chainTaken
	chainNotTaken
)

// parseModule reads a whole file.
func parseModule(path, name string, src []byte) (*module, error) {
	text, err := decodeSource(src)
	if err != nil {
		return nil, err
	}
	text = normaliseSource(text)
	buf := tokenPool.Get().(*[]token)
	toks, err := lexInto(text, *buf)
	defer func() {
		clear(toks) // drop references to this file's text before pooling
		*buf = toks[:0]
		tokenPool.Put(buf)
	}()
	if err != nil {
		return nil, err
	}
	m := &module{path: path, name: name, src: src, top: newScope()}
	r := &reader{parser: parser{toks: toks}, mod: m}
	if err := r.block(m.top, nil, false, true); err != nil {
		return nil, err
	}
	return m, nil
}

// block reads statements until the end of the current indented block.
func (r *reader) block(sc *scope, cls *classDef, weak, top bool) error {
	first := true
	for {
		t := r.peek()
		switch t.kind {
		case tEOF:
			return nil
		case tDedent:
			if top {
				return r.fail("unexpected dedent")
			}
			r.next()
			return nil
		case tNewline:
			r.next()
			continue
		case tIndent:
			// The body of a statement the reader skips by header only,
			// such as match/case: read it for bindings that may not run.
			r.next()
			if err := r.block(sc, cls, true, false); err != nil {
				return err
			}
			continue
		}
		if first && cls != nil && t.kind == tString {
			if doc, ok := r.docstring(); ok {
				cls.doc = doc
			}
		}
		first = false
		if err := r.statement(sc, cls, weak); err != nil {
			return err
		}
	}
}

// docstring peeks at a string-only expression statement.
func (r *reader) docstring() (*string, bool) {
	j := r.i
	var parts []string
	for r.toks[j].kind == tString {
		s, isBytes, isF, err := decodeStringLiteral(r.toks[j].val)
		if err != nil || isBytes || isF {
			return nil, false
		}
		parts = append(parts, s)
		j++
	}
	if end := r.toks[j]; end.kind != tNewline && !end.is(";") && end.kind != tEOF {
		return nil, false
	}
	doc := strings.Join(parts, "")
	return &doc, true
}

func (r *reader) statement(sc *scope, cls *classDef, weak bool) error {
	t := r.peek()
	if t.kind != tName || t.val != "elif" && t.val != "else" {
		r.chain = chainNone
	}
	if t.is("@") {
		var decos []expr
		for r.accept("@") {
			d, err := r.namedExpr()
			if err != nil {
				return err
			}
			decos = append(decos, d)
			if r.peek().kind != tNewline {
				return r.fail("expected end of line after decorator")
			}
			r.next()
		}
		return r.definition(sc, decos, weak)
	}
	if t.kind == tName {
		switch t.val {
		case "def", "class":
			return r.definition(sc, nil, weak)
		case "async":
			if r.toks[r.i+1].is("def") {
				return r.definition(sc, nil, weak)
			}
		case "if", "elif", "else", "try", "except", "finally", "for", "while", "with":
			if !r.toks[r.i+1].is("=") {
				return r.compound(sc, cls, weak)
			}
		}
	}
	return r.simpleStatements(sc, cls, weak)
}

// compound reads a header up to its colon and then its body. Bodies of
// `if __name__ == "__main__"` and `if TYPE_CHECKING` never run on import;
// else/elif/except bodies only fill names nothing else bound.
func (r *reader) compound(sc *scope, cls *classDef, weak bool) error {
	kw := r.next().val
	prev := r.chain
	r.chain = chainNone
	skip := false
	cond := 0 // 1: the condition is true on every Python Prefect 3.9.1 runs on, -1: false
	if kw == "if" || kw == "elif" {
		var hdr []string
		for j := r.i; r.toks[j].kind != tNewline && r.toks[j].kind != tEOF; j++ {
			hdr = append(hdr, r.toks[j].val)
		}
		h := strings.Join(hdr, " ")
		skip = strings.Contains(h, "__name__") && (strings.Contains(h, `"__main__"`) || strings.Contains(h, `'__main__'`)) ||
			strings.HasPrefix(h, "TYPE_CHECKING :") || strings.HasPrefix(h, "typing . TYPE_CHECKING :")
		cond = versionCondition(h)
	}
	branchWeak := weak || kw == "elif" || kw == "else" || kw == "except"
	if kw == "elif" || kw == "else" {
		switch prev {
		case chainTaken:
			skip, cond = true, 1 // an earlier branch certainly ran
		case chainNotTaken:
			branchWeak = weak // every earlier branch certainly did not run
		}
	}
	if cond < 0 {
		skip = true
	}
	err := r.body(sc, cls, branchWeak, skip)
	switch {
	case kw != "if" && kw != "elif":
	case cond > 0:
		r.chain = chainTaken
	case cond < 0 && (kw == "if" || prev == chainNotTaken):
		r.chain = chainNotTaken
	}
	return err
}

// body skips a header to the colon ending it and reads what follows.
func (r *reader) body(sc *scope, cls *classDef, weak, skip bool) error {
	if err := r.skipHeader(); err != nil {
		return err
	}
	if r.peek().kind != tNewline {
		if skip {
			return r.skipLine()
		}
		return r.simpleStatements(sc, cls, weak)
	}
	if err := r.enterBlock(); err != nil {
		return err
	}
	if skip {
		return r.skipBlock()
	}
	return r.block(sc, cls, weak, false)
}

// enterBlock reads the newline and the indent that open a statement's
// indented block.
func (r *reader) enterBlock() error {
	r.next()
	if r.peek().kind != tIndent {
		return r.fail("expected an indented block")
	}
	r.next()
	return nil
}

func (r *reader) definition(sc *scope, decos []expr, weak bool) error {
	t := r.next()
	async := false
	if t.val == "async" {
		async = true
		t = r.next()
	}
	name := r.next()
	if name.kind != tName {
		return &syntaxError{line: name.line, col: name.col, msg: "expected a name after " + quoteTok(t.val)}
	}
	switch t.val {
	case "def":
		fn := &funcDef{name: name.val, line: name.line, async: async, decorators: decos}
		if r.at("[") { // PEP 695 type parameters
			if _, err := r.subscriptSkip(); err != nil {
				return err
			}
		}
		if err := r.expect("("); err != nil {
			return err
		}
		if err := r.params(fn); err != nil {
			return err
		}
		if r.accept("->") {
			if _, err := r.test(); err != nil {
				return err
			}
		}
		if err := r.expect(":"); err != nil {
			return err
		}
		if r.peek().kind != tNewline {
			if doc, ok := r.docstring(); ok {
				fn.doc = doc
			}
			if err := r.skipLine(); err != nil {
				return err
			}
		} else {
			if err := r.enterBlock(); err != nil {
				return err
			}
			for r.peek().kind == tNewline {
				r.next()
			}
			if doc, ok := r.docstring(); ok {
				fn.doc = doc
			}
			if err := r.skipBlock(); err != nil {
				return err
			}
		}
		sc.bind(fn.name, &binding{fn: fn, line: fn.line}, weak)
	case "class":
		cls := &classDef{name: name.val, line: name.line, body: newScope(), mod: r.mod, decorators: decos}
		if r.at("[") {
			if _, err := r.subscriptSkip(); err != nil {
				return err
			}
		}
		if r.accept("(") {
			c := &eCall{}
			if err := r.callArgs(c); err != nil {
				return err
			}
			cls.bases = c.args
		}
		if err := r.expect(":"); err != nil {
			return err
		}
		if r.peek().kind != tNewline {
			if err := r.simpleStatements(cls.body, cls, false); err != nil {
				return err
			}
		} else {
			if err := r.enterBlock(); err != nil {
				return err
			}
			if err := r.block(cls.body, cls, false, false); err != nil {
				return err
			}
		}
		sc.bind(cls.name, &binding{cls: cls, line: cls.line}, weak)
	default:
		return &syntaxError{line: t.line, col: t.col, msg: "expected 'def' or 'class' after decorators"}
	}
	return nil
}

// params reads a parameter list after "(" up to and including ")".
func (r *reader) params(fn *funcDef) error {
	kind := pPositional
	for !r.accept(")") {
		t := r.peek()
		switch {
		case t.is("/"):
			r.next()
		case t.is("*") && (r.toks[r.i+1].is(",") || r.toks[r.i+1].is(")")):
			r.next()
			kind = pKeywordOnly
		default:
			k := kind
			if r.accept("**") {
				k = pVarKw
			} else if r.accept("*") {
				k = pVarArgs
				kind = pKeywordOnly
			}
			n := r.next()
			if n.kind != tName || keywords[n.val] {
				return &syntaxError{line: n.line, col: n.col, msg: "expected a parameter name, found " + describe(n)}
			}
			p := param{name: n.val, kind: k, line: n.line}
			if r.accept(":") {
				var err error
				if k == pVarArgs && r.at("*") { // *args: *Ts
					r.next()
				}
				if p.ann, err = r.test(); err != nil {
					return err
				}
			}
			if r.accept("=") {
				var err error
				if p.def, err = r.test(); err != nil {
					return err
				}
				p.hasDef = true
			}
			fn.params = append(fn.params, p)
		}
		if !r.accept(",") {
			return r.expect(")")
		}
	}
	return nil
}

// simpleStatements reads `stmt; stmt` up to the end of the line, keeping
// imports, assignments and annotated assignments and skipping the rest.
func (r *reader) simpleStatements(sc *scope, cls *classDef, weak bool) error {
	for {
		start := r.i
		if err := r.simple(sc, cls, weak); err != nil {
			// A statement the reader does not model: skip it, but only if
			// the line is still well formed as tokens.
			r.i = start
			for !r.at(";") && r.peek().kind != tNewline && r.peek().kind != tEOF {
				r.next()
			}
		}
		if r.accept(";") {
			if r.peek().kind == tNewline {
				break
			}
			continue
		}
		break
	}
	if r.peek().kind == tEOF {
		return nil
	}
	if r.peek().kind != tNewline {
		return r.fail("expected end of line, found " + describe(r.peek()))
	}
	r.next()
	return nil
}

func (r *reader) simple(sc *scope, cls *classDef, weak bool) error {
	t := r.peek()
	if t.kind == tName {
		switch t.val {
		case "import":
			r.next()
			return r.importNames(sc, weak)
		case "from":
			r.next()
			return r.fromImport(sc, weak)
		}
	}
	target, err := r.exprList()
	if err != nil {
		return err
	}
	switch {
	case r.at(":"):
		r.next()
		ann, err := r.test()
		if err != nil {
			return err
		}
		f := field{ann: ann, line: t.line}
		if r.accept("=") {
			if f.val, err = r.exprList(); err != nil {
				return err
			}
			f.hasVal = true
		}
		if n, ok := target.(*eName); ok {
			f.name = n.id
			if cls != nil {
				cls.fields = append(cls.fields, f)
			}
			if f.hasVal {
				sc.bind(n.id, &binding{val: f.val, line: t.line}, weak)
			}
		}
	case r.at("="):
		targets := []expr{target}
		var val expr
		for r.accept("=") {
			if val, err = r.exprList(); err != nil {
				return err
			}
			targets = append(targets, val)
		}
		for _, tg := range targets[:len(targets)-1] {
			switch x := tg.(type) {
			case *eName:
				sc.bind(x.id, &binding{val: val, line: t.line}, weak)
				if cls != nil {
					cls.assigns = append(cls.assigns, field{name: x.id, val: val, hasVal: true, line: t.line})
				}
			case *eList: // unpacking: the names are bound to values we do not track
				for _, e := range x.elts {
					if n, ok := e.(*eName); ok {
						sc.bind(n.id, &binding{val: &eOpaque{what: "unpacking assignment", line: t.line}, line: t.line}, weak)
					}
				}
			}
		}
	default:
		// expression statements and augmented assignments bind nothing we use
		for !r.at(";") && r.peek().kind != tNewline && r.peek().kind != tEOF {
			r.next()
		}
	}
	return nil
}

func (r *reader) dottedName() (string, error) {
	var parts []string
	for {
		n := r.next()
		if n.kind != tName {
			return "", &syntaxError{line: n.line, col: n.col, msg: "expected a module name"}
		}
		parts = append(parts, n.val)
		if !r.accept(".") {
			return strings.Join(parts, "."), nil
		}
	}
}

func (r *reader) importNames(sc *scope, weak bool) error {
	for {
		line := r.peek().line
		name, err := r.dottedName()
		if err != nil {
			return err
		}
		if r.accept("as") {
			alias := r.next()
			sc.bind(alias.val, &binding{imp: &importRef{module: name}, line: line}, weak)
		} else {
			head, _, _ := strings.Cut(name, ".")
			sc.bind(head, &binding{imp: &importRef{module: head}, line: line}, weak)
		}
		if !r.accept(",") {
			return nil
		}
	}
}

func (r *reader) fromImport(sc *scope, weak bool) error {
	line := r.peek().line
	dots := ""
	for r.at(".") || r.at("...") {
		dots += r.next().val
	}
	mod := ""
	if !r.at("import") {
		var err error
		if mod, err = r.dottedName(); err != nil {
			return err
		}
	}
	if err := r.expect("import"); err != nil {
		return err
	}
	paren := r.accept("(")
	for {
		if paren && r.accept(")") {
			return nil
		}
		n := r.next()
		if n.is("*") {
			if sc == r.mod.top {
				r.mod.stars = append(r.mod.stars, dots+mod)
			}
			return nil
		}
		if n.kind != tName {
			return &syntaxError{line: n.line, col: n.col, msg: "expected a name to import"}
		}
		local := n.val
		if r.accept("as") {
			local = r.next().val
		}
		if dots == "" && mod == "__future__" && n.val == "annotations" {
			r.mod.future = true
		}
		sc.bind(local, &binding{imp: &importRef{module: dots + mod, attr: n.val}, line: line}, weak)
		if !r.accept(",") {
			if paren {
				return r.expect(")")
			}
			return nil
		}
	}
}
