// Reading a Python source file as Python does: its encoding (PEP 263 cookie, BOM) and newlines.

package flowmeta

import (
	"bytes"
	"regexp"
	"strings"
	"unicode/utf8"
)

var codingCookie = regexp.MustCompile(`^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)`)

// decodeSource applies PEP 263: UTF-8 unless a coding cookie on one of the
// first two lines says otherwise. Latin-1 is decoded; other encodings are
// refused rather than misread.
func decodeSource(src []byte) (string, error) {
	enc := "utf-8"
	rest := src
	for i := 0; i < 2 && len(rest) > 0; i++ {
		line := rest
		if j := bytes.IndexByte(rest, '\n'); j >= 0 {
			line, rest = rest[:j], rest[j+1:]
		} else {
			rest = nil
		}
		if m := codingCookie.FindSubmatch(line); m != nil {
			enc = strings.ToLower(strings.ReplaceAll(string(m[1]), "_", "-"))
			break
		}
		if t := bytes.TrimLeft(line, " \t\f\r"); len(t) > 0 && t[0] != '#' {
			break // the cookie must come before any code
		}
	}
	switch {
	case enc == "utf-8" || enc == "utf8" || strings.HasPrefix(enc, "utf-8-"):
		if !utf8.Valid(src) {
			return "", &syntaxError{line: 1, col: 1, msg: "the file is not valid UTF-8 and declares no other encoding"}
		}
		return string(src), nil
	case enc == "latin-1" || enc == "iso-8859-1" || enc == "iso8859-1" || enc == "latin1" || strings.HasPrefix(enc, "iso-latin-1"):
		var b strings.Builder
		for _, c := range src {
			b.WriteRune(rune(c))
		}
		return b.String(), nil
	case enc == "ascii" || enc == "us-ascii":
		for i, c := range src {
			if c >= utf8.RuneSelf {
				return "", &syntaxError{line: 1 + bytes.Count(src[:i], []byte("\n")), col: 1, msg: "non-ASCII byte in a file declared ascii"}
			}
		}
		return string(src), nil
	}
	return "", &syntaxError{line: 1, col: 1, msg: "source encoding " + enc + " is not supported by the static reader (use --flow-metadata=python)"}
}

// normaliseSource drops a UTF-8 BOM and turns CRLF and CR into LF, as
// Python's universal newlines do before the tokenizer sees the text.
func normaliseSource(text string) string {
	s := strings.TrimPrefix(text, "\ufeff")
	if strings.Contains(s, "\r") {
		s = strings.ReplaceAll(s, "\r\n", "\n")
		s = strings.ReplaceAll(s, "\r", "\n")
	}
	return s
}
