// What the reader skips: blocks it does not read, and branches on sys.version_info.

package flowmeta

import (
	"regexp"
	"strconv"
)

var versionCond = regexp.MustCompile(`^sys \. version_info (?:\[ : 2 \] )?(>=|>|<|<=) \( 3 , (\d+) \) :$`)

// versionCondition evaluates `sys.version_info >= (3, N)` and the like for
// the Pythons Prefect 3.9.1 supports (3.11 and later): 1 when always true,
// -1 when always false, 0 when it depends.
func versionCondition(h string) int {
	m := versionCond.FindStringSubmatch(h)
	if m == nil {
		return 0
	}
	n, err := strconv.Atoi(m[2])
	if err != nil {
		return 0
	}
	const minor = 11 // the oldest Python Prefect 3.9.1 installs on
	switch {
	case m[1] == ">=" && n <= minor, m[1] == ">" && n < minor:
		return 1
	case m[1] == "<" && n <= minor, m[1] == "<=" && n < minor:
		return -1
	}
	return 0
}

// skipHeader advances past the colon that ends a compound statement's
// header (the lexer already hides newlines inside brackets).
func (r *reader) skipHeader() error {
	depth := 0 // a colon inside brackets is a slice or a dict, not the end
	for {
		t := r.next()
		switch {
		case t.kind == tEOF || t.kind == tNewline:
			return &syntaxError{line: t.line, col: t.col, msg: "expected ':'"}
		case t.is("(") || t.is("[") || t.is("{"):
			depth++
		case t.is(")") || t.is("]") || t.is("}"):
			depth--
		case t.is(":") && depth <= 0:
			return nil
		case t.is("lambda"):
			for !r.at(":") && r.peek().kind != tNewline && r.peek().kind != tEOF {
				r.next()
			}
			r.next()
		}
	}
}

func (r *reader) skipLine() error {
	for r.peek().kind != tNewline && r.peek().kind != tEOF {
		r.next()
	}
	r.next()
	return nil
}

// skipBlock skips an indented block after its INDENT.
func (r *reader) skipBlock() error {
	depth := 1
	for depth > 0 {
		t := r.next()
		switch t.kind {
		case tIndent:
			depth++
		case tDedent:
			depth--
		case tEOF:
			return nil
		}
	}
	return nil
}

func (r *reader) subscriptSkip() ([]expr, error) {
	r.next()
	return r.subscript()
}
