package flowmeta

import (
	"slices"
	"strings"
)

// expr is a parsed Python expression. Only the forms the reader evaluates
// get their own node; everything else parses fully (so the token stream
// stays in step) and becomes an opaque node that remembers its source line.
type expr interface{ pos() int }

type (
	eName struct {
		id   string
		line int
	}
	eAttr struct {
		x    expr
		name string
		line int
	}
	eCall struct {
		fn   expr
		args []expr
		kws  []kwArg
		line int
		star bool // *args or **kwargs present: not evaluated
	}
	eSub struct {
		x     expr
		index []expr // several when the index is a bare tuple
		line  int
	}
	eConst struct {
		v    any // nil, bool, string, pyBytes, int64, *big.Int, float64, pyComplex, pyEllipsis
		line int
	}
	eList struct {
		elts []expr
		kind string // list, tuple, set
		line int
	}
	eDict struct {
		keys, vals []expr // a nil key is a ** unpacking
		line       int
	}
	eUnary struct {
		op   string
		x    expr
		line int
	}
	eBin struct {
		op   string
		l, r expr
		line int
	}
	// eFString is an f-string (possibly joined with plain literals): text
	// parts and replacement fields.
	eFString struct {
		parts []fPart
		line  int
	}
	eOpaque struct {
		what string // lambda, comprehension, conditional, ...
		line int
	}
)

type kwArg struct {
	name string
	v    expr
}

func (e *eName) pos() int    { return e.line }
func (e *eAttr) pos() int    { return e.line }
func (e *eCall) pos() int    { return e.line }
func (e *eSub) pos() int     { return e.line }
func (e *eConst) pos() int   { return e.line }
func (e *eList) pos() int    { return e.line }
func (e *eDict) pos() int    { return e.line }
func (e *eUnary) pos() int   { return e.line }
func (e *eBin) pos() int     { return e.line }
func (e *eOpaque) pos() int  { return e.line }
func (e *eFString) pos() int { return e.line }

type fPart struct {
	text string
	e    expr // nil for text
	conv byte // 0, 's', 'r' or 'a'
}

// dotted returns "a.b.c" for a chain of names and attributes.
func dotted(e expr) (string, bool) {
	switch x := e.(type) {
	case *eName:
		return x.id, true
	case *eAttr:
		p, ok := dotted(x.x)
		return p + "." + x.name, ok
	}
	return "", false
}

// parser reads expressions and statements from a token slice.
type parser struct {
	toks  []token
	i     int
	depth int
}

const maxNesting = 200

func (p *parser) peek() token { return p.toks[p.i] }
func (p *parser) next() token {
	t := p.toks[p.i]
	if p.i < len(p.toks)-1 {
		p.i++
	}
	return t
}
func (p *parser) at(op string) bool { return p.peek().is(op) }
func (p *parser) accept(op string) bool {
	if p.at(op) {
		p.next()
		return true
	}
	return false
}

func (p *parser) fail(msg string) error {
	t := p.peek()
	return &syntaxError{line: t.line, col: t.col, msg: msg}
}

func (p *parser) expect(op string) error {
	if !p.accept(op) {
		return p.fail("expected " + quoteTok(op) + ", found " + describe(p.peek()))
	}
	return nil
}

func quoteTok(s string) string { return "'" + s + "'" }

func describe(t token) string {
	switch t.kind {
	case tEOF:
		return "end of file"
	case tNewline:
		return "end of line"
	case tIndent:
		return "indent"
	case tDedent:
		return "dedent"
	}
	return quoteTok(t.val)
}

var keywords = map[string]bool{
	"False": true, "None": true, "True": true, "and": true, "as": true, "assert": true, "async": true,
	"await": true, "break": true, "class": true, "continue": true, "def": true, "del": true, "elif": true,
	"else": true, "except": true, "finally": true, "for": true, "from": true, "global": true, "if": true,
	"import": true, "in": true, "is": true, "lambda": true, "nonlocal": true, "not": true, "or": true,
	"pass": true, "raise": true, "return": true, "try": true, "while": true, "with": true, "yield": true,
}

func (p *parser) enter() error {
	p.depth++
	if p.depth > maxNesting {
		return p.fail("expression nested too deeply")
	}
	return nil
}

// exprList parses `a, b, *c` (a bare tuple when there is a comma).
func (p *parser) exprList() (expr, error) {
	line := p.peek().line
	first, err := p.starOrExpr()
	if err != nil {
		return nil, err
	}
	if !p.at(",") {
		return first, nil
	}
	elts := []expr{first}
	for p.accept(",") {
		if p.endOfList() {
			break
		}
		e, err := p.starOrExpr()
		if err != nil {
			return nil, err
		}
		elts = append(elts, e)
	}
	return &eList{elts: elts, kind: "tuple", line: line}, nil
}

func (p *parser) endOfList() bool {
	t := p.peek()
	return t.kind == tNewline || t.kind == tEOF || t.is(")") || t.is("]") || t.is("}") || t.is("=") || t.is(":") || t.is(";") || t.kind == tOp && strings.HasSuffix(t.val, "=") && t.val != "==" && t.val != "<=" && t.val != ">=" && t.val != "!="
}

func (p *parser) starOrExpr() (expr, error) {
	if t := p.peek(); t.is("*") {
		p.next()
		if _, err := p.orExpr(); err != nil {
			return nil, err
		}
		return &eOpaque{what: "starred expression", line: t.line}, nil
	}
	return p.namedExpr()
}

// namedExpr handles the walrus operator.
func (p *parser) namedExpr() (expr, error) {
	e, err := p.test()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.is(":=") {
		p.next()
		if _, err := p.test(); err != nil {
			return nil, err
		}
		return &eOpaque{what: "assignment expression", line: t.line}, nil
	}
	return e, nil
}

// test is a full expression: lambda or a conditional expression.
func (p *parser) test() (expr, error) {
	if e, ok, err := p.simpleAtom(); ok {
		return e, err
	}
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	t := p.peek()
	if t.kind == tName && t.val == "lambda" {
		p.next()
		for !p.at(":") {
			if p.peek().kind == tEOF || p.peek().kind == tNewline {
				return nil, p.fail("unterminated lambda")
			}
			if p.at("=") {
				p.next()
				if _, err := p.test(); err != nil {
					return nil, err
				}
				continue
			}
			p.next()
		}
		p.next()
		if _, err := p.test(); err != nil {
			return nil, err
		}
		return &eOpaque{what: "lambda", line: t.line}, nil
	}
	e, err := p.orTest()
	if err != nil {
		return nil, err
	}
	if p.peek().kind == tName && p.peek().val == "if" {
		p.next()
		if _, err := p.orTest(); err != nil {
			return nil, err
		}
		if !(p.peek().kind == tName && p.peek().val == "else") {
			return nil, p.fail("expected 'else' in conditional expression")
		}
		p.next()
		if _, err := p.test(); err != nil {
			return nil, err
		}
		return &eOpaque{what: "conditional expression", line: t.line}, nil
	}
	return e, nil
}

// simpleAtom is a fast path for the most common expressions: a name,
// number or string with trailers (`int`, `Optional[str]`, `flow(name=..)`)
// followed by a delimiter. It skips the precedence chain; when the
// expression goes on (an operator follows) it rewinds and lets the full
// parser read it.
func (p *parser) simpleAtom() (expr, bool, error) {
	t := p.peek()
	switch t.kind {
	case tName:
		if keywords[t.val] && t.val != "None" && t.val != "True" && t.val != "False" {
			return nil, false, nil
		}
	case tNumber, tString:
	default:
		return nil, false, nil
	}
	save := p.i
	e, err := p.primary()
	if err == nil {
		n := p.peek()
		if n.kind == tNewline || n.kind == tOp && (n.val == "," || n.val == ")" || n.val == "]" || n.val == "}" || n.val == "=" || n.val == ":") {
			return e, true, nil
		}
	}
	p.i = save
	return nil, false, nil
}

// orTest is a boolean expression without a conditional expression.
func (p *parser) orTest() (expr, error) {
	e, err := p.andTest()
	if err != nil {
		return nil, err
	}
	for p.peek().kind == tName && p.peek().val == "or" {
		t := p.next()
		if _, err := p.andTest(); err != nil {
			return nil, err
		}
		e = &eOpaque{what: "boolean expression", line: t.line}
	}
	return e, nil
}

func (p *parser) andTest() (expr, error) {
	e, err := p.notTest()
	if err != nil {
		return nil, err
	}
	for p.peek().kind == tName && p.peek().val == "and" {
		t := p.next()
		if _, err := p.notTest(); err != nil {
			return nil, err
		}
		e = &eOpaque{what: "boolean expression", line: t.line}
	}
	return e, nil
}

func (p *parser) notTest() (expr, error) {
	if t := p.peek(); t.kind == tName && t.val == "not" {
		p.next()
		if err := p.enter(); err != nil {
			return nil, err
		}
		defer func() { p.depth-- }()
		if _, err := p.notTest(); err != nil {
			return nil, err
		}
		return &eOpaque{what: "boolean expression", line: t.line}, nil
	}
	return p.comparison()
}

func (p *parser) comparison() (expr, error) {
	e, err := p.orExpr()
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		isCmp := t.kind == tOp && (t.val == "<" || t.val == ">" || t.val == "==" || t.val == ">=" || t.val == "<=" || t.val == "!=") ||
			t.kind == tName && (t.val == "in" || t.val == "is" || t.val == "not" && p.toks[p.i+1].is("in"))
		if !isCmp {
			return e, nil
		}
		p.next()
		if t.val == "not" || t.val == "is" && p.at("not") {
			p.next()
		}
		if _, err := p.orExpr(); err != nil {
			return nil, err
		}
		e = &eOpaque{what: "comparison", line: t.line}
	}
}

var binLevels = [][]string{{"|"}, {"^"}, {"&"}, {"<<", ">>"}, {"+", "-"}, {"*", "/", "//", "%", "@"}}

func (p *parser) orExpr() (expr, error) { return p.binary(0) }

func (p *parser) binary(level int) (expr, error) {
	if level == len(binLevels) {
		return p.factor()
	}
	e, err := p.binary(level + 1)
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		if t.kind != tOp || !slices.Contains(binLevels[level], t.val) {
			return e, nil
		}
		p.next()
		r, err := p.binary(level + 1)
		if err != nil {
			return nil, err
		}
		e = &eBin{op: t.val, l: e, r: r, line: t.line}
	}
}

func (p *parser) factor() (expr, error) {
	t := p.peek()
	if t.kind == tOp && (t.val == "-" || t.val == "+" || t.val == "~") {
		p.next()
		if err := p.enter(); err != nil {
			return nil, err
		}
		defer func() { p.depth-- }()
		x, err := p.factor()
		if err != nil {
			return nil, err
		}
		return &eUnary{op: t.val, x: x, line: t.line}, nil
	}
	return p.power()
}

func (p *parser) power() (expr, error) {
	t := p.peek()
	await := t.kind == tName && t.val == "await"
	if await {
		p.next()
	}
	e, err := p.primary()
	if err != nil {
		return nil, err
	}
	if await {
		e = &eOpaque{what: "await", line: t.line}
	}
	if op := p.peek(); op.is("**") {
		p.next()
		r, err := p.factor()
		if err != nil {
			return nil, err
		}
		e = &eBin{op: "**", l: e, r: r, line: op.line}
	}
	return e, nil
}

func (p *parser) primary() (expr, error) {
	e, err := p.atom()
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		switch {
		case t.is("."):
			p.next()
			n := p.next()
			if n.kind != tName {
				return nil, p.fail("expected a name after '.'")
			}
			e = &eAttr{x: e, name: n.val, line: n.line}
		case t.is("("):
			p.next()
			c := &eCall{fn: e, line: t.line}
			if err := p.callArgs(c); err != nil {
				return nil, err
			}
			e = c
		case t.is("["):
			p.next()
			idx, err := p.subscript()
			if err != nil {
				return nil, err
			}
			e = &eSub{x: e, index: idx, line: t.line}
		default:
			return e, nil
		}
	}
}

func (p *parser) callArgs(c *eCall) error {
	for !p.accept(")") {
		t := p.peek()
		switch {
		case t.is("*") || t.is("**"):
			p.next()
			if _, err := p.test(); err != nil {
				return err
			}
			c.star = true
		case t.kind == tName && p.toks[p.i+1].is("=") && !keywords[t.val]:
			p.next()
			p.next()
			v, err := p.test()
			if err != nil {
				return err
			}
			c.kws = append(c.kws, kwArg{name: t.val, v: v})
		default:
			v, err := p.namedExpr()
			if err != nil {
				return err
			}
			if p.peek().kind == tName && (p.peek().val == "for" || p.peek().val == "async") {
				if err := p.compFor(); err != nil {
					return err
				}
				v = &eOpaque{what: "generator expression", line: t.line}
			}
			c.args = append(c.args, v)
		}
		if !p.accept(",") {
			return p.expect(")")
		}
	}
	return nil
}

// subscript parses the inside of [...] up to and including "]".
func (p *parser) subscript() ([]expr, error) {
	var idx []expr
	for !p.accept("]") {
		line := p.peek().line
		var e expr
		if !p.at(":") {
			var err error
			if e, err = p.starOrExpr(); err != nil {
				return nil, err
			}
		}
		if p.at(":") { // a slice
			for p.accept(":") {
				if !p.at(":") && !p.at(",") && !p.at("]") {
					if _, err := p.test(); err != nil {
						return nil, err
					}
				}
			}
			e = &eOpaque{what: "slice", line: line}
		}
		idx = append(idx, e)
		if !p.accept(",") {
			if err := p.expect("]"); err != nil {
				return nil, err
			}
			break
		}
	}
	return idx, nil
}

func (p *parser) compFor() error {
	for {
		t := p.peek()
		if t.kind == tName && t.val == "async" {
			p.next()
			t = p.peek()
		}
		if !(t.kind == tName && t.val == "for") {
			return nil
		}
		p.next()
		// targets up to `in`
		for !(p.peek().kind == tName && p.peek().val == "in") {
			if p.peek().kind == tEOF || p.peek().kind == tNewline {
				return p.fail("expected 'in' in comprehension")
			}
			p.accept("*")
			if _, err := p.orExpr(); err != nil {
				return err
			}
			p.accept(",")
		}
		p.next()
		if _, err := p.orTest(); err != nil {
			return err
		}
		for p.peek().kind == tName && p.peek().val == "if" {
			p.next()
			if _, err := p.orTest(); err != nil { // `if` ends the condition
				return err
			}
		}
	}
}
