package docker

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"path"
	"regexp"
	"strings"
	"unicode/utf8"
)

// ignorePattern is one compiled .dockerignore line.
type ignorePattern struct {
	text      string // cleaned pattern, slash separated
	exclusion bool   // the line started with "!"
	re        *regexp.Regexp
}

// Ignore decides which context files Docker leaves out, with the rules of
// Docker's .dockerignore: Go filepath.Match-style globs where "**" spans
// any number of directories, later lines win, "!" re-includes, and a
// pattern that matches a directory excludes everything below it.
type Ignore struct {
	patterns []ignorePattern
}

// ParseDockerignore reads .dockerignore content the way the Docker CLI
// does: '#' comments and blank lines skipped, surrounding spaces trimmed,
// paths cleaned, and a leading "/" dropped (patterns are relative to the
// context root anyway).
func ParseDockerignore(r io.Reader) (*Ignore, error) {
	var lines []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	first := true
	for sc.Scan() {
		line := sc.Text()
		if first {
			line = strings.TrimPrefix(line, "\ufeff")
			first = false
		}
		lines = append(lines, line)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return NewIgnore(lines)
}

// NewIgnore compiles raw .dockerignore lines.
func NewIgnore(lines []string) (*Ignore, error) {
	ig := &Ignore{}
	for _, raw := range lines {
		if strings.HasPrefix(raw, "#") {
			continue
		}
		p := strings.TrimSpace(raw)
		if p == "" {
			continue
		}
		if !utf8.ValidString(p) {
			return nil, fmt.Errorf("invalid .dockerignore pattern %q: not valid UTF-8", raw)
		}
		excl := false
		if p[0] == '!' {
			if len(p) == 1 {
				return nil, fmt.Errorf("illegal exclusion pattern: %q", "!")
			}
			excl = true
			p = strings.TrimSpace(p[1:])
		}
		p = path.Clean(p)
		if len(p) > 1 && p[0] == '/' {
			p = p[1:]
		}
		if _, err := path.Match(p, "."); err != nil {
			return nil, fmt.Errorf("invalid .dockerignore pattern %q: %w", raw, err)
		}
		re, err := compileIgnore(p)
		if err != nil {
			return nil, fmt.Errorf("invalid .dockerignore pattern %q: %w", raw, err)
		}
		ig.patterns = append(ig.patterns, ignorePattern{text: p, exclusion: excl, re: re})
	}
	return ig, nil
}

// compileIgnore turns a cleaned pattern into an anchored regexp.
func compileIgnore(p string) (*regexp.Regexp, error) {
	var b strings.Builder
	b.WriteByte('^')
	rs := []rune(p)
	inClass := false
	for i := 0; i < len(rs); i++ {
		c := rs[i]
		switch {
		case c == '*' && !inClass:
			if i+1 < len(rs) && rs[i+1] == '*' {
				i++
				// "**/" means the same as "**".
				if i+1 < len(rs) && rs[i+1] == '/' {
					i++
				}
				if i+1 == len(rs) {
					b.WriteString(".*")
				} else {
					b.WriteString("(.*/)?")
				}
			} else {
				b.WriteString("[^/]*")
			}
		case c == '?' && !inClass:
			b.WriteString("[^/]")
		case c == '\\':
			if i+1 < len(rs) {
				i++
				b.WriteString(regexp.QuoteMeta(string(rs[i])))
			} else {
				b.WriteString(`\\`)
			}
		case c == '[' && !inClass:
			// Character classes pass through: filepath.Match and regexp
			// share the "[a-z]" and "[^a]" syntax.
			inClass = true
			b.WriteByte('[')
			if i+1 < len(rs) && rs[i+1] == '^' {
				i++
				b.WriteByte('^')
			}
		case c == ']' && inClass:
			inClass = false
			b.WriteByte(']')
		case inClass && c == '-':
			b.WriteByte('-')
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteByte('$')
	return regexp.Compile(b.String())
}

// Excluded reports whether the context-relative, slash-separated file is
// left out of the build context. A path is excluded when it or one of its
// parent directories matches, unless a later "!" pattern re-includes it.
func (ig *Ignore) Excluded(file string) bool {
	if ig == nil {
		return false
	}
	matched := false
	parent := path.Dir(file)
	var parents []string
	if parent != "." {
		parents = strings.Split(parent, "/")
	}
	for _, p := range ig.patterns {
		// An inclusion only matters while not excluded, an exclusion
		// only while excluded.
		if p.exclusion != matched {
			continue
		}
		m := p.re.MatchString(file)
		for i := 0; !m && i < len(parents); i++ {
			m = p.re.MatchString(strings.Join(parents[:i+1], "/"))
		}
		if m {
			matched = !p.exclusion
		}
	}
	return matched
}

// mayReinclude reports whether some "!" pattern could re-include a file
// below the excluded directory dir, so the walk must still descend into it.
func (ig *Ignore) mayReinclude(dir string) bool {
	if ig == nil {
		return false
	}
	for _, p := range ig.patterns {
		if !p.exclusion {
			continue
		}
		if strings.ContainsAny(p.text, "*?[\\") || strings.HasPrefix(p.text, dir+"/") {
			return true
		}
	}
	return false
}

// Patterns returns the cleaned patterns, "!" kept, for messages and tests.
func (ig *Ignore) Patterns() []string {
	out := make([]string, len(ig.patterns))
	for i, p := range ig.patterns {
		if p.exclusion {
			out[i] = "!" + p.text
		} else {
			out[i] = p.text
		}
	}
	return out
}

// readIgnoreBytes is ParseDockerignore over a byte slice.
func readIgnoreBytes(b []byte) (*Ignore, error) { return ParseDockerignore(bytes.NewReader(b)) }
