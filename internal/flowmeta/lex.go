package flowmeta

import (
	"fmt"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// tokKind is the class of a Python token. Comments and non-logical newlines
// are dropped by the lexer: the reader never needs them.
type tokKind uint8

const (
	tEOF tokKind = iota
	tNewline
	tIndent
	tDedent
	tName
	tNumber
	tString // any string literal, f-strings included; val is the raw source text
	tOp
)

type token struct {
	val  string
	line int
	col  int
	kind tokKind
}

func (t token) is(op string) bool { return (t.kind == tOp || t.kind == tName) && t.val == op }

// syntaxError is a problem the lexer or parser cannot get past.
type syntaxError struct {
	line, col int
	msg       string
}

func (e *syntaxError) Error() string { return fmt.Sprintf("line %d:%d: %s", e.line, e.col, e.msg) }

// maxTokens bounds the work done on one file, so a hostile or generated
// input cannot make the reader spin; real flow files are far below it.
const maxTokens = 4_000_000

const ops1 = "+-*/%@&|^~<>()[]{},:;.=!"

// lex turns Python source (already decoded, newlines normalised to \n) into
// tokens, following the rules of CPython's tokenizer for indentation
// (tabs to the next multiple of 8), implicit line joining inside brackets,
// explicit joining with a backslash, and string prefixes.
func lex(src string) ([]token, error) {
	return lexInto(src, make([]token, 0, len(src)/3+16))
}

// lexInto lexes into buf (reused across files through tokenPool: token
// slices are the reader's largest allocation and never outlive a parse).
func lexInto(src string, buf []token) ([]token, error) {
	lx := &lexer{src: src, line: 1, indents: []int{0}, atLineStart: true, toks: buf[:0]}
	if err := lx.run(); err != nil {
		return lx.toks, err
	}
	return lx.toks, nil
}

var tokenPool = sync.Pool{New: func() any { s := make([]token, 0, 4096); return &s }}

type lexer struct {
	src         string
	pos         int
	line        int
	lineStart   int
	depth       int // bracket nesting
	indents     []int
	atLineStart bool
	toks        []token

	// Function bodies after their first statement (which may be the
	// docstring) are scanned but not emitted: the reader never looks at
	// them, and not storing their tokens is most of the reader's speed.
	lineTok     int  // index of the current logical line's first token
	pendingBody bool // a def header just ended with ':' NEWLINE
	bodyFirst   bool // inside the first logical line of a def body
	suppress    bool // scanning a def body without emitting tokens
	bodyIndent  int
}

func (lx *lexer) errf(format string, a ...any) error {
	return &syntaxError{line: lx.line, col: lx.pos - lx.lineStart + 1, msg: fmt.Sprintf(format, a...)}
}

func (lx *lexer) emit(k tokKind, val string, line, col int) error {
	if lx.suppress {
		return nil
	}
	if len(lx.toks) >= maxTokens {
		return lx.errf("file too large to read")
	}
	lx.toks = append(lx.toks, token{val: val, line: line, col: col, kind: k})
	return nil
}

func (lx *lexer) newline() {
	lx.line++
	lx.lineStart = lx.pos
}

func (lx *lexer) run() error {
	src := lx.src
	for {
		if lx.atLineStart && lx.depth == 0 {
			blank, err := lx.indentation()
			if err != nil {
				return err
			}
			if blank {
				continue
			}
		}
		if lx.pos >= len(src) {
			break
		}
		c := src[lx.pos]
		switch {
		case c == ' ' || c == '\t' || c == '\f':
			lx.pos++
		case c == '#':
			for lx.pos < len(src) && src[lx.pos] != '\n' {
				lx.pos++
			}
		case c == '\n':
			lx.pos++
			if lx.depth == 0 {
				if !lx.suppress {
					lx.endLogicalLine()
				}
				if err := lx.emit(tNewline, "", lx.line, lx.pos-lx.lineStart); err != nil {
					return err
				}
				if lx.bodyFirst {
					lx.bodyFirst, lx.suppress = false, true
				}
				lx.atLineStart = true
			}
			lx.newline()
		case c == '\\':
			if lx.pos+1 < len(src) && src[lx.pos+1] == '\n' {
				lx.pos += 2
				lx.newline()
				continue
			}
			if lx.pos+1 >= len(src) {
				return lx.errf("unexpected end of file after line continuation")
			}
			return lx.errf("unexpected character after line continuation")
		case c >= '0' && c <= '9' || c == '.' && lx.pos+1 < len(src) && src[lx.pos+1] >= '0' && src[lx.pos+1] <= '9':
			if err := lx.number(); err != nil {
				return err
			}
		case c == '"' || c == '\'':
			if err := lx.str(lx.pos, lx.pos); err != nil {
				return err
			}
		default:
			r, size := utf8.DecodeRuneInString(src[lx.pos:])
			if isIDStart(r) {
				start := lx.pos
				lx.pos += size
				for lx.pos < len(src) {
					if c := src[lx.pos]; c < utf8.RuneSelf { // ASCII fast path
						if !asciiID[c] {
							break
						}
						lx.pos++
						continue
					}
					r, size = utf8.DecodeRuneInString(src[lx.pos:])
					if !isIDContinue(r) {
						break
					}
					lx.pos += size
				}
				// A name directly followed by a quote is a string prefix.
				if lx.pos < len(src) && (src[lx.pos] == '"' || src[lx.pos] == '\'') && isStringPrefix(src[start:lx.pos]) {
					if err := lx.str(start, lx.pos); err != nil {
						return err
					}
					continue
				}
				if err := lx.emit(tName, src[start:lx.pos], lx.line, start-lx.lineStart+1); err != nil {
					return err
				}
				continue
			}
			if err := lx.op(); err != nil {
				return err
			}
		}
	}
	line := lx.line
	lx.suppress = false
	if n := len(lx.toks); n > 0 && lx.toks[n-1].kind != tNewline && lx.toks[n-1].kind != tDedent && lx.toks[n-1].kind != tIndent {
		if err := lx.emit(tNewline, "", line, 0); err != nil {
			return err
		}
	}
	for len(lx.indents) > 1 {
		lx.indents = lx.indents[:len(lx.indents)-1]
		if err := lx.emit(tDedent, "", line, 0); err != nil {
			return err
		}
	}
	return lx.emit(tEOF, "", line, 0)
}

// endLogicalLine notes whether the line that just ended was a def header
// whose body starts on the next line.
func (lx *lexer) endLogicalLine() {
	t := lx.toks[lx.lineTok:]
	if len(t) < 2 || !t[len(t)-1].is(":") {
		return
	}
	if t[0].kind == tName && (t[0].val == "def" || t[0].val == "async" && len(t) > 1 && t[1].kind == tName && t[1].val == "def") {
		lx.pendingBody = true
	}
}

// indentation measures the start of a logical line and emits INDENT/DEDENT.
// It reports blank (whitespace or comment only) lines, which do not count.
func (lx *lexer) indentation() (blank bool, err error) {
	src := lx.src
	col := 0
	for lx.pos < len(src) {
		switch src[lx.pos] {
		case ' ':
			col++
		case '\t':
			col = (col/8 + 1) * 8
		case '\f':
			col = 0
		default:
			goto done
		}
		lx.pos++
	}
done:
	if lx.pos >= len(src) {
		lx.atLineStart = false
		return false, nil
	}
	switch src[lx.pos] {
	case '#':
		for lx.pos < len(src) && src[lx.pos] != '\n' {
			lx.pos++
		}
		fallthrough
	case '\n':
		if lx.pos < len(src) {
			lx.pos++
			lx.newline()
		}
		return true, nil
	case '\\':
		// A continuation right after indentation: the line goes on.
		if lx.pos+1 < len(src) && src[lx.pos+1] == '\n' {
			lx.pos += 2
			lx.newline()
		}
	}
	lx.atLineStart = false
	if lx.suppress {
		if col >= lx.bodyIndent {
			return false, nil
		}
		lx.suppress = false
	}
	lx.lineTok = len(lx.toks)
	cur := lx.indents[len(lx.indents)-1]
	pending := lx.pendingBody
	lx.pendingBody = false
	switch {
	case col > cur:
		lx.indents = append(lx.indents, col)
		if pending {
			lx.bodyFirst, lx.bodyIndent = true, col
		}
		return false, lx.emit(tIndent, "", lx.line, 1)
	case col < cur:
		for col < lx.indents[len(lx.indents)-1] {
			lx.indents = lx.indents[:len(lx.indents)-1]
			if err := lx.emit(tDedent, "", lx.line, 1); err != nil {
				return false, err
			}
		}
		if col != lx.indents[len(lx.indents)-1] {
			return false, lx.errf("unindent does not match any outer indentation level")
		}
	}
	return false, nil
}

func (lx *lexer) number() error {
	src := lx.src
	start := lx.pos
	isDigit := func(c byte) bool { return c >= '0' && c <= '9' || c == '_' }
	if src[lx.pos] == '0' && lx.pos+1 < len(src) && strings.IndexByte("xXoObB", src[lx.pos+1]) >= 0 {
		lx.pos += 2
		for lx.pos < len(src) && (isHex(src[lx.pos]) || src[lx.pos] == '_') {
			lx.pos++
		}
	} else {
		for lx.pos < len(src) && isDigit(src[lx.pos]) {
			lx.pos++
		}
		if lx.pos < len(src) && src[lx.pos] == '.' {
			lx.pos++
			for lx.pos < len(src) && isDigit(src[lx.pos]) {
				lx.pos++
			}
		}
		if lx.pos < len(src) && (src[lx.pos] == 'e' || src[lx.pos] == 'E') {
			p := lx.pos + 1
			if p < len(src) && (src[p] == '+' || src[p] == '-') {
				p++
			}
			if p < len(src) && src[p] >= '0' && src[p] <= '9' {
				lx.pos = p
				for lx.pos < len(src) && isDigit(src[lx.pos]) {
					lx.pos++
				}
			}
		}
		if lx.pos < len(src) && (src[lx.pos] == 'j' || src[lx.pos] == 'J') {
			lx.pos++
		}
	}
	return lx.emit(tNumber, src[start:lx.pos], lx.line, start-lx.lineStart+1)
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func isStringPrefix(p string) bool {
	switch strings.ToLower(p) {
	case "r", "u", "b", "br", "rb", "f", "fr", "rf", "t", "tr", "rt":
		return true
	}
	return false
}

// str scans a string literal whose prefix starts at start and whose quote
// is at q. f-strings are scanned with their replacement fields, which may
// hold nested strings using any quote (Python 3.12 rules, a superset of
// the older ones).
func (lx *lexer) str(start, q int) error {
	line, col := lx.line, start-lx.lineStart+1
	prefix := strings.ToLower(lx.src[start:q])
	lx.pos = q
	if err := lx.scanString(strings.ContainsAny(prefix, "ft"), 0); err != nil {
		return err
	}
	return lx.emit(tString, lx.src[start:lx.pos], line, col)
}

// scanString advances past one quoted body starting at the opening quote.
func (lx *lexer) scanString(fmtString bool, nest int) error {
	if nest > 200 {
		return lx.errf("f-string nesting too deep")
	}
	src := lx.src
	quote := src[lx.pos : lx.pos+1]
	if strings.HasPrefix(src[lx.pos:], strings.Repeat(quote, 3)) {
		quote = strings.Repeat(quote, 3)
	}
	lx.pos += len(quote)
	for {
		if lx.pos >= len(src) {
			return lx.errf("unterminated string literal")
		}
		c := src[lx.pos]
		switch {
		case strings.HasPrefix(src[lx.pos:], quote):
			lx.pos += len(quote)
			return nil
		case c == '\\':
			lx.pos++
			if lx.pos < len(src) {
				switch {
				case src[lx.pos] == '\n':
					lx.pos++
					lx.newline()
				case fmtString && (src[lx.pos] == '{' || src[lx.pos] == '}'):
					// not an escape: the brace still opens or closes a field
				default:
					// a backslash protects the next character from closing
					// the string, in raw strings too
					lx.pos++
				}
			}
		case c == '\n':
			if len(quote) == 1 {
				return lx.errf("unterminated string literal")
			}
			lx.pos++
			lx.newline()
		case fmtString && c == '{':
			if strings.HasPrefix(src[lx.pos:], "{{") {
				lx.pos += 2
				continue
			}
			lx.pos++
			if err := lx.replacementField(nest); err != nil {
				return err
			}
		default:
			lx.pos++
		}
	}
}

// replacementField skips an f-string `{expr!conv:spec}` after its `{`.
func (lx *lexer) replacementField(nest int) error {
	src := lx.src
	depth := 0
	inSpec := false
	for {
		if lx.pos >= len(src) {
			return lx.errf("unterminated f-string replacement field")
		}
		c := src[lx.pos]
		switch {
		case inSpec && c == '{':
			lx.pos++
			if err := lx.replacementField(nest + 1); err != nil {
				return err
			}
		case c == '}' && depth == 0:
			lx.pos++
			return nil
		case inSpec:
			if c == '\n' {
				lx.newline()
			}
			lx.pos++
		case c == '"' || c == '\'':
			if err := lx.scanString(false, nest+1); err != nil {
				return err
			}
		case c == '(' || c == '[' || c == '{':
			depth++
			lx.pos++
		case c == ')' || c == ']' || c == '}':
			depth--
			lx.pos++
		case c == ':' && depth == 0:
			inSpec = true
			lx.pos++
		case c == '\n':
			lx.pos++
			lx.newline()
		default:
			r, size := utf8.DecodeRuneInString(src[lx.pos:])
			// An identifier directly before a quote may be a nested prefixed string.
			if isIDStart(r) {
				start := lx.pos
				for lx.pos < len(src) {
					r, size = utf8.DecodeRuneInString(src[lx.pos:])
					if !isIDContinue(r) {
						break
					}
					lx.pos += size
				}
				if lx.pos < len(src) && (src[lx.pos] == '"' || src[lx.pos] == '\'') && isStringPrefix(src[start:lx.pos]) {
					p := strings.ToLower(src[start:lx.pos])
					if err := lx.scanString(strings.ContainsAny(p, "ft"), nest+1); err != nil {
						return err
					}
				}
				continue
			}
			lx.pos += size
		}
	}
}

func (lx *lexer) op() error {
	src := lx.src
	start := lx.pos
	n := opLen(src[lx.pos:])
	if n == 0 {
		r, _ := utf8.DecodeRuneInString(src[lx.pos:])
		return lx.errf("invalid character %q", r)
	}
	lx.pos += n
	if n == 1 {
		switch c := src[start]; c {
		case '(', '[', '{':
			lx.depth++
		case ')', ']', '}':
			if lx.depth == 0 {
				return lx.errf("unmatched %q", c)
			}
			lx.depth--
		}
	}
	return lx.emit(tOp, src[start:lx.pos], lx.line, start-lx.lineStart+1)
}

// opLen is the length of the operator at the start of s (longest match),
// or 0 when s does not start with one.
func opLen(s string) int {
	if len(s) >= 3 {
		switch s[:3] {
		case "**=", "//=", ">>=", "<<=", "...":
			return 3
		}
	}
	if len(s) >= 2 {
		switch s[:2] {
		case "**", "//", ">>", "<<", "<=", ">=", "==", "!=", "->", ":=", "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "@=":
			return 2
		}
	}
	if len(s) >= 1 && strings.IndexByte(ops1, s[0]) >= 0 {
		return 1
	}
	return 0
}

// asciiID marks the ASCII bytes that may continue an identifier.
var asciiID = func() (t [utf8.RuneSelf]bool) {
	for c := 0; c < utf8.RuneSelf; c++ {
		t[c] = c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
	}
	return t
}()

func isIDStart(r rune) bool {
	return r == '_' || r < utf8.RuneSelf && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') ||
		r >= utf8.RuneSelf && (unicode.IsLetter(r) || unicode.Is(unicode.Nl, r) || unicode.Is(unicode.Other_ID_Start, r))
}

func isIDContinue(r rune) bool {
	return isIDStart(r) || r < utf8.RuneSelf && r >= '0' && r <= '9' ||
		r >= utf8.RuneSelf && (unicode.In(r, unicode.Mn, unicode.Mc, unicode.Nd, unicode.Pc) || unicode.Is(unicode.Other_ID_Continue, r))
}
