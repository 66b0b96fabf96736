package config

import (
	"bufio"
	"bytes"
	"fmt"
	"strings"
)

// dotenvEntry is one KEY=value line of a .env file, with its line number
// so errors and `config view` can point at it.
type dotenvEntry struct {
	Key, Value string
	Line       int
}

// parseDotenv reads the subset of python-dotenv's format that settings
// files use: `KEY=value`, an optional `export ` prefix, single or double
// quotes (double quotes honour \n, \t, \" and \\), and `#` comments after
// unquoted values. Lines without `=` are ignored, and lines it cannot
// parse (an unterminated quote) are skipped and reported in bad, as
// python-dotenv warns and goes on.
func parseDotenv(data []byte) (out []dotenvEntry, bad []int, err error) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	line := 0
	for sc.Scan() {
		line++
		s := strings.TrimSpace(sc.Text())
		if line == 1 {
			s = strings.TrimPrefix(s, "\ufeff")
		}
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		s = strings.TrimSpace(strings.TrimPrefix(s, "export "))
		key, rest, ok := strings.Cut(s, "=")
		if !ok {
			continue
		}
		key = strings.TrimSpace(key)
		if key == "" {
			continue
		}
		val, verr := dotenvValue(strings.TrimSpace(rest))
		if verr != nil {
			bad = append(bad, line)
			continue
		}
		out = append(out, dotenvEntry{Key: key, Value: val, Line: line})
	}
	return out, bad, sc.Err()
}

func dotenvValue(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	switch q := s[0]; q {
	case '\'', '"':
		end := -1
		for i := 1; i < len(s); i++ {
			if q == '"' && s[i] == '\\' {
				i++
				continue
			}
			if s[i] == q {
				end = i
				break
			}
		}
		if end < 0 {
			return "", fmt.Errorf("unterminated %c quote", q)
		}
		body := s[1:end]
		if q == '\'' {
			return body, nil
		}
		r := strings.NewReplacer(`\n`, "\n", `\t`, "\t", `\r`, "\r", `\"`, `"`, `\\`, `\`)
		return r.Replace(body), nil
	}
	// An unquoted value ends at a " #" comment.
	if i := strings.Index(s, " #"); i >= 0 {
		s = s[:i]
	}
	return strings.TrimSpace(s), nil
}
