package py

import "strings"

// ShlexError is shlex.split's ValueError.
type ShlexError struct{ Msg string }

func (e *ShlexError) Error() string { return e.Msg }

// ShlexSplit is Python's shlex.split(s) (POSIX mode, no comments): words
// split on space, tab, CR and LF; single quotes keep everything; double
// quotes keep everything but let a backslash escape `"` and `\`; outside
// quotes a backslash escapes any character; quoted empty strings are
// words.
func ShlexSplit(s string) ([]string, error) {
	var out []string
	var cur strings.Builder
	inWord := false
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		c := rs[i]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			if inWord {
				out = append(out, cur.String())
				cur.Reset()
				inWord = false
			}
		case c == '\\':
			inWord = true
			if i+1 >= len(rs) {
				return nil, &ShlexError{"No escaped character"}
			}
			i++
			cur.WriteRune(rs[i])
		case c == '\'':
			inWord = true
			j := i + 1
			for j < len(rs) && rs[j] != '\'' {
				j++
			}
			if j >= len(rs) {
				return nil, &ShlexError{"No closing quotation"}
			}
			cur.WriteString(string(rs[i+1 : j]))
			i = j
		case c == '"':
			inWord = true
			j := i + 1
			for ; j < len(rs) && rs[j] != '"'; j++ {
				if rs[j] == '\\' {
					if j+1 >= len(rs) {
						return nil, &ShlexError{"No escaped character"}
					}
					if n := rs[j+1]; n == '"' || n == '\\' {
						cur.WriteRune(n)
						j++
						continue
					}
				}
				cur.WriteRune(rs[j])
			}
			if j >= len(rs) {
				return nil, &ShlexError{"No closing quotation"}
			}
			i = j
		default:
			inWord = true
			cur.WriteRune(c)
		}
	}
	if inWord {
		out = append(out, cur.String())
	}
	return out, nil
}
