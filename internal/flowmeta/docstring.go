package flowmeta

import (
	"regexp"
	"strings"
)

// cleandoc is inspect.cleandoc: tabs expanded, the first line's leading
// whitespace and the other lines' common indentation removed, and blank
// lines dropped at both ends.
func cleandoc(doc string) string {
	lines := strings.Split(expandTabs(doc), "\n")
	margin := -1
	for _, l := range lines[1:] {
		content := len(strings.TrimLeft(l, " "))
		if content > 0 {
			ind := len(l) - content
			if margin < 0 || ind < margin {
				margin = ind
			}
		}
	}
	lines[0] = strings.TrimLeft(lines[0], " ")
	if margin >= 0 {
		for i := 1; i < len(lines); i++ {
			if len(lines[i]) >= margin {
				lines[i] = lines[i][margin:]
			} else {
				lines[i] = strings.TrimLeft(lines[i], " ")
			}
		}
	}
	for len(lines) > 0 && lines[0] == "" {
		lines = lines[1:]
	}
	for len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return strings.Join(lines, "\n")
}

// expandTabs is str.expandtabs(8) (columns counted in code points).
func expandTabs(s string) string {
	if !strings.Contains(s, "\t") {
		return s
	}
	var b strings.Builder
	col := 0
	for _, r := range s {
		switch r {
		case '\t':
			n := 8 - col%8
			b.WriteString(strings.Repeat(" ", n))
			col += n
		case '\n', '\r':
			b.WriteRune(r)
			col = 0
		default:
			b.WriteRune(r)
			col++
		}
	}
	return b.String()
}

// Section titles of a Google docstring that hold parameters (griffe).
var paramSections = map[string]bool{"args": true, "arguments": true, "params": true, "parameters": true}

// Other section titles griffe knows; they end a section but hold no
// parameter descriptions.
var otherSections = map[string]bool{
	"keyword args": true, "keyword arguments": true, "other args": true, "other arguments": true,
	"other params": true, "other parameters": true, "type args": true, "type arguments": true,
	"type params": true, "type parameters": true, "raises": true, "exceptions": true, "returns": true,
	"yields": true, "receives": true, "examples": true, "attributes": true, "functions": true,
	"methods": true, "classes": true, "modules": true, "warns": true, "warnings": true,
	"type aliases": true,
}

var reAdmonition = regexp.MustCompile(`^([\p{L}\p{N}_][\s\p{L}\p{N}_-]*):(\s+([^\s].*))?\s*$`)

func isEmptyLine(l string) bool { return strings.TrimSpace(l) == "" }

// paramDocs reads parameter descriptions from a Google-style docstring the
// way Prefect does through griffe: the docstring Prefect passes is
// inspect.getdoc's result, which griffe cleans a second time.
func paramDocs(doc string) map[string]string {
	out := map[string]string{}
	if doc == "" {
		return out
	}
	lines := strings.Split(cleandoc(strings.TrimRight(doc, " \t\n\r\f\v")), "\n")
	inCode := false
	for off := 0; off < len(lines); off++ {
		line := lines[off]
		fence := strings.HasPrefix(strings.TrimLeft(line, " "), "```")
		if inCode {
			if fence {
				inCode = false
			}
			continue
		}
		if fence {
			inCode = true
			continue
		}
		if !strings.Contains(line, ":") {
			continue
		}
		m := reAdmonition.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		kind := strings.ToLower(m[1])
		blankAbove := off == 0 || isEmptyLine(lines[off-1])
		hasNext := off < len(lines)-1
		hasNext2 := off < len(lines)-2
		blankBelow := hasNext && isEmptyLine(lines[off+1])
		blank2Below := hasNext2 && isEmptyLine(lines[off+2])
		indentedBelow := hasNext && !blankBelow && strings.HasPrefix(lines[off+1], " ")
		indented2Below := hasNext2 && !blank2Below && strings.HasPrefix(lines[off+2], " ")
		if !(indentedBelow || indented2Below) {
			continue
		}
		if !blankAbove || indented2Below && blankBelow {
			continue // griffe: "possible section skipped"
		}
		if paramSections[kind] {
			items, next := readBlockItems(lines, off+1)
			docs := map[string]string{}
			for _, it := range items {
				nameType, desc, ok := strings.Cut(it[0], ":")
				if !ok {
					continue
				}
				desc = strings.TrimRight(strings.Join(append([]string{strings.TrimLeft(desc, " \t\n\r\f\v")}, it[1:]...), "\n"), "\n")
				name := nameType
				if strings.Contains(nameType, "(") && strings.HasSuffix(nameType, ")") {
					name, _, _ = strings.Cut(nameType, "(")
					name = strings.TrimSpace(name)
				}
				docs[name] = desc
			}
			out = docs // a later parameters section replaces an earlier one
			off = next
			continue
		}
		if otherSections[kind] {
			_, next := readBlockItems(lines, off+1)
			off = next
			continue
		}
		// an admonition: its indented block is skipped
		next, ok := readBlock(lines, off+1)
		if ok {
			off = next
		}
	}
	return out
}

// readBlockItems follows griffe's _read_block_items: items start at the
// block's indentation; deeper lines continue the current item.
func readBlockItems(lines []string, off int) ([][]string, int) {
	if off >= len(lines) {
		return nil, off
	}
	n := off
	for n < len(lines) && isEmptyLine(lines[n]) {
		n++
	}
	if n >= len(lines) {
		return nil, n - 1
	}
	indent := len(lines[n]) - len(strings.TrimLeft(lines[n], " \t\n\r\f\v"))
	if indent == 0 {
		return nil, n - 1
	}
	var items [][]string
	cur := []string{lines[n][indent:]}
	n++
	for ; n < len(lines); n++ {
		l := lines[n]
		switch {
		case isEmptyLine(l):
			cur = append(cur, "")
		case strings.HasPrefix(l, strings.Repeat(" ", indent*2)):
			cur = append(cur, l[indent*2:])
		case strings.HasPrefix(l, strings.Repeat(" ", indent+1)):
			cur = append(cur, strings.TrimLeft(l, " \t\n\r\f\v"))
		case strings.HasPrefix(l, strings.Repeat(" ", indent)):
			items = append(items, cur)
			cur = []string{l[indent:]}
		default:
			items = append(items, cur)
			return items, n - 1
		}
	}
	items = append(items, cur)
	return items, n - 1
}

// readBlock follows griffe's _read_block for admonitions.
func readBlock(lines []string, off int) (int, bool) {
	if off >= len(lines) {
		return off, false
	}
	n := off
	for n < len(lines) && isEmptyLine(lines[n]) {
		n++
	}
	if n >= len(lines) {
		return n - 1, false
	}
	indent := len(lines[n]) - len(strings.TrimLeft(lines[n], " "))
	if indent == 0 {
		return n - 1, false
	}
	for ; n < len(lines); n++ {
		if !isEmptyLine(lines[n]) && !strings.HasPrefix(lines[n], strings.Repeat(" ", indent)) {
			break
		}
	}
	return n - 1, true
}
