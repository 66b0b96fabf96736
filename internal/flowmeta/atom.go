package flowmeta

import (
	"errors"
	"strings"
)

func (p *parser) atom() (expr, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	t := p.next()
	switch t.kind {
	case tName:
		switch t.val {
		case "None":
			return &eConst{v: nil, line: t.line}, nil
		case "True":
			return &eConst{v: true, line: t.line}, nil
		case "False":
			return &eConst{v: false, line: t.line}, nil
		case "yield":
			if p.accept("from") {
				if _, err := p.test(); err != nil {
					return nil, err
				}
			} else if !p.endOfList() {
				if _, err := p.exprList(); err != nil {
					return nil, err
				}
			}
			return &eOpaque{what: "yield", line: t.line}, nil
		}
		if keywords[t.val] {
			return nil, &syntaxError{line: t.line, col: t.col, msg: "unexpected keyword " + quoteTok(t.val)}
		}
		return &eName{id: t.val, line: t.line}, nil
	case tNumber:
		v, err := parseNumber(t.val)
		if err != nil {
			return nil, &syntaxError{line: t.line, col: t.col, msg: err.Error()}
		}
		return &eConst{v: v, line: t.line}, nil
	case tString:
		return p.strings(t)
	case tOp:
		switch t.val {
		case "...":
			return &eConst{v: pyEllipsis{}, line: t.line}, nil
		case "(":
			if p.accept(")") {
				return &eList{kind: "tuple", line: t.line}, nil
			}
			return p.sequence(t, "tuple", ")")
		case "[":
			if p.accept("]") {
				return &eList{kind: "list", line: t.line}, nil
			}
			return p.sequence(t, "list", "]")
		case "{":
			return p.braces(t)
		}
	}
	return nil, &syntaxError{line: t.line, col: t.col, msg: "unexpected " + describe(t)}
}

// sequence parses a parenthesised or bracketed display after its opener.
func (p *parser) sequence(open token, kind, closer string) (expr, error) {
	first, err := p.starOrExpr()
	if err != nil {
		return nil, err
	}
	if p.peek().kind == tName && (p.peek().val == "for" || p.peek().val == "async") {
		if err := p.compFor(); err != nil {
			return nil, err
		}
		if err := p.expect(closer); err != nil {
			return nil, err
		}
		return &eOpaque{what: "comprehension", line: open.line}, nil
	}
	if kind == "tuple" && p.accept(")") {
		return first, nil // parenthesised expression
	}
	elts := []expr{first}
	for p.accept(",") {
		if p.at(closer) {
			break
		}
		e, err := p.starOrExpr()
		if err != nil {
			return nil, err
		}
		elts = append(elts, e)
	}
	if err := p.expect(closer); err != nil {
		return nil, err
	}
	return &eList{elts: elts, kind: kind, line: open.line}, nil
}

func (p *parser) braces(open token) (expr, error) {
	if p.accept("}") {
		return &eDict{line: open.line}, nil
	}
	d := &eDict{line: open.line}
	isDict := false
	var set []expr
	for i := 0; ; i++ {
		if p.accept("**") {
			v, err := p.orExpr()
			if err != nil {
				return nil, err
			}
			isDict = true
			d.keys, d.vals = append(d.keys, nil), append(d.vals, v)
		} else {
			k, err := p.starOrExpr()
			if err != nil {
				return nil, err
			}
			if (i == 0 || isDict) && p.accept(":") {
				isDict = true
				v, err := p.test()
				if err != nil {
					return nil, err
				}
				d.keys, d.vals = append(d.keys, k), append(d.vals, v)
			} else {
				set = append(set, k)
			}
		}
		if i == 0 && p.peek().kind == tName && (p.peek().val == "for" || p.peek().val == "async") {
			if err := p.compFor(); err != nil {
				return nil, err
			}
			if err := p.expect("}"); err != nil {
				return nil, err
			}
			return &eOpaque{what: "comprehension", line: open.line}, nil
		}
		if !p.accept(",") || p.at("}") {
			break
		}
	}
	if err := p.expect("}"); err != nil {
		return nil, err
	}
	if isDict {
		return d, nil
	}
	return &eList{elts: set, kind: "set", line: open.line}, nil
}

// strings joins adjacent literals as Python does; a mix of bytes and text
// is an error, an f-string the reader cannot split is opaque.
func (p *parser) strings(first token) (expr, error) {
	parts := []token{first}
	for p.peek().kind == tString {
		parts = append(parts, p.next())
	}
	var sb strings.Builder
	var fparts []fPart
	isBytes, fstr := false, false
	for i, t := range parts {
		s, b, f, err := decodeStringLiteral(t.val)
		if f && err == nil {
			fp, ok := parseFString(t.val, t.line)
			if !ok {
				return &eOpaque{what: "f-string", line: t.line}, nil
			}
			if sb.Len() > 0 {
				fparts = append(fparts, fPart{text: sb.String()})
				sb.Reset()
			}
			fparts = append(fparts, fp...)
			fstr = true
			continue
		}
		if errors.Is(err, errUnicodeName) {
			return &eOpaque{what: `string with a \N{...} escape`, line: t.line}, nil
		}
		if err != nil {
			return nil, &syntaxError{line: t.line, col: t.col, msg: err.Error()}
		}
		if i > 0 && b != isBytes {
			return nil, &syntaxError{line: t.line, col: t.col, msg: "cannot mix bytes and nonbytes literals"}
		}
		isBytes = b
		sb.WriteString(s)
	}
	if fstr {
		if sb.Len() > 0 {
			fparts = append(fparts, fPart{text: sb.String()})
		}
		return &eFString{parts: fparts, line: first.line}, nil
	}
	if isBytes {
		return &eConst{v: pyBytes(sb.String()), line: first.line}, nil
	}
	return &eConst{v: sb.String(), line: first.line}, nil
}

// parseFString splits an f-string token into text and replacement fields.
// Format specs, `=` self-documenting fields and \N{...} escapes are left
// to Python (ok is false).
func parseFString(tok string, line int) ([]fPart, bool) {
	prefix, body := splitStringLiteral(tok)
	raw := strings.Contains(prefix, "r")
	if !raw && strings.Contains(body, `\N{`) {
		return nil, false
	}
	var parts []fPart
	var lit strings.Builder
	flush := func() bool {
		if lit.Len() == 0 {
			return true
		}
		text := lit.String()
		if !raw {
			var err error
			if text, err = unescape(text, false); err != nil {
				return false
			}
		}
		parts = append(parts, fPart{text: text})
		lit.Reset()
		return true
	}
	for j := 0; j < len(body); {
		c := body[j]
		switch {
		case c == '{' && j+1 < len(body) && body[j+1] == '{', c == '}' && j+1 < len(body) && body[j+1] == '}':
			lit.WriteByte(c)
			j += 2
		case c == '{':
			end, ok := fieldEnd(body, j+1)
			if !ok || !flush() {
				return nil, false
			}
			field := body[j+1 : end]
			j = end + 1
			src, conv, ok := splitField(field)
			if !ok {
				return nil, false
			}
			toks, err := lex("(" + src + ")")
			if err != nil {
				return nil, false
			}
			p := &parser{toks: toks}
			e, err := p.test()
			if err != nil || p.peek().kind != tNewline {
				return nil, false
			}
			parts = append(parts, fPart{e: e, conv: conv})
		case c == '}':
			return nil, false
		default:
			lit.WriteByte(c)
			j++
		}
	}
	if !flush() {
		return nil, false
	}
	return parts, true
}

// fieldEnd finds the '}' closing a replacement field that starts at i.
func fieldEnd(s string, i int) (int, bool) {
	depth := 0
	for i < len(s) {
		switch c := s[i]; c {
		case '\'', '"':
			j := strings.IndexByte(s[i+1:], c)
			if j < 0 {
				return 0, false
			}
			i += j + 2
			continue
		case '(', '[', '{':
			depth++
		case ')', ']':
			depth--
		case '}':
			if depth == 0 {
				return i, true
			}
			depth--
		}
		i++
	}
	return 0, false
}

// splitField separates a field's expression from its !conversion; a format
// spec or a trailing '=' make it unsupported.
func splitField(f string) (string, byte, bool) {
	depth := 0
	for i := 0; i < len(f); i++ {
		switch c := f[i]; c {
		case '\'', '"':
			j := strings.IndexByte(f[i+1:], c)
			if j < 0 {
				return "", 0, false
			}
			i += j + 1
		case '(', '[', '{':
			depth++
		case ')', ']', '}':
			depth--
		case ':':
			if depth == 0 {
				return "", 0, false
			}
		case '!':
			if depth == 0 && i+1 < len(f) && f[i+1] != '=' {
				conv := f[i+1:]
				if conv != "s" && conv != "r" && conv != "a" {
					return "", 0, false
				}
				return f[:i], conv[0], true
			}
		case '=':
			if depth == 0 && strings.TrimSpace(f[i+1:]) == "" && i > 0 && !strings.ContainsRune("=!<>", rune(f[i-1])) {
				return "", 0, false
			}
		}
	}
	return f, 0, strings.TrimSpace(f) != ""
}
