package codelayer

import (
	"encoding/json"
	"fmt"
	"path"
	"strconv"
	"strings"
)

// Analysis says whether a Dockerfile's image can take a code layer and,
// if so, what its lower layers depend on.
type Analysis struct {
	// Ineligible says why not ("" when eligible), Line where.
	Ineligible string
	Line       int
	// Bases are the external images the build starts from (FROM and
	// COPY --from of an image), substituted, in order of first use.
	Bases []string
	// Sources are the context paths read before the project copy (the
	// sources of every other COPY and ADD), cleaned, with their lines.
	Sources []Source
	// Copy is the project copy. Its Dest is empty when it is relative to
	// a WORKDIR the Dockerfile does not set (the base image's): RelDest
	// then holds it.
	Copy    Copy
	RelDest string
	// FinalBase is the external image the target stage starts from ("" for
	// scratch or another stage): its WORKDIR places a relative RelDest.
	FinalBase string
}

// Source is one COPY or ADD source read from the context.
type Source struct {
	Pattern string
	Line    int
}

// instruction is one Dockerfile instruction after continuation lines are
// joined and comments dropped.
type instruction struct {
	cmd   string // upper case
	flags map[string]string
	args  []string // words (shell form) or the JSON array's items
	raw   string   // the text after the command
	line  int      // first line
}

// metadataOnly are the instructions that change no file: after the
// project copy only these (and WORKDIR, checked against the image) may
// follow.
var metadataOnly = map[string]bool{
	"ENV": true, "LABEL": true, "CMD": true, "ENTRYPOINT": true, "EXPOSE": true, "USER": true,
	"VOLUME": true, "STOPSIGNAL": true, "HEALTHCHECK": true, "SHELL": true, "ARG": true,
	"ONBUILD": true, "MAINTAINER": true, "WORKDIR": true,
}

// AnalyzeDockerfile decides whether the image of the Dockerfile text can
// take a code layer: its target stage's last instruction that changes
// files must be `COPY [--chown=<uid>[:<gid>]] . <dest>`, followed only by
// metadata instructions, and nothing else may read the whole context.
// buildArgs and target are the build step's; buildkit says which builder
// runs it.
func AnalyzeDockerfile(text string, buildArgs map[string]*string, target string, buildkit bool) *Analysis {
	a := &Analysis{}
	ins, problem, line := parseDockerfile(text, buildkit)
	if problem != "" {
		a.Ineligible, a.Line = problem, line
		return a
	}
	fail := func(line int, format string, x ...any) *Analysis {
		a.Ineligible, a.Line = fmt.Sprintf(format, x...), line
		return a
	}

	// Stages, with the global ARGs (before the first FROM) for FROM lines.
	type stage struct {
		name  string
		ins   []instruction
		start int
	}
	global := map[string]string{}
	var stages []*stage
	for _, in := range ins {
		if in.cmd == "FROM" {
			st := &stage{start: in.line}
			if len(in.args) >= 3 && strings.EqualFold(in.args[len(in.args)-2], "AS") {
				st.name = strings.ToLower(in.args[len(in.args)-1])
			}
			stages = append(stages, st)
			st.ins = append(st.ins, in)
			continue
		}
		if len(stages) == 0 {
			if in.cmd != "ARG" {
				return fail(in.line, "%s comes before the first FROM", in.cmd)
			}
			for _, w := range in.args {
				k, v, hasDefault := strings.Cut(w, "=")
				if ba, ok := buildArgs[k]; ok && ba != nil {
					global[k] = *ba
				} else if hasDefault {
					global[k] = unquote(v)
				} else {
					global[k] = ""
				}
			}
			continue
		}
		last := stages[len(stages)-1]
		last.ins = append(last.ins, in)
	}
	if len(stages) == 0 {
		return fail(0, "the Dockerfile has no FROM")
	}
	final := len(stages) - 1
	if target != "" {
		final = -1
		for i, st := range stages {
			if st.name == strings.ToLower(target) {
				final = i
				break
			}
		}
		if final < 0 {
			return fail(0, "the target stage %q is not in the Dockerfile", target)
		}
	}
	stages = stages[:final+1]
	isStage := func(name string, before int) bool {
		name = strings.ToLower(name)
		if n, err := strconv.Atoi(name); err == nil {
			return n >= 0 && n < before
		}
		for _, st := range stages[:before] {
			if st.name == name {
				return true
			}
		}
		return false
	}
	seenBase := map[string]bool{}
	addBase := func(ref string) {
		if ref == "" || strings.EqualFold(ref, "scratch") || seenBase[ref] {
			return
		}
		seenBase[ref] = true
		a.Bases = append(a.Bases, ref)
	}

	// The project copy: the final stage's last instruction that changes files.
	finalSt := stages[final]
	copyIdx := -1
	for i := len(finalSt.ins) - 1; i >= 1; i-- {
		in := finalSt.ins[i]
		if metadataOnly[in.cmd] {
			continue
		}
		if in.cmd != "COPY" {
			return fail(in.line, "the last instruction that changes files is %s at line %d, not `COPY . <dest>`: only a final copy of the whole context can be replaced", in.cmd, in.line)
		}
		copyIdx = i
		break
	}
	if copyIdx < 0 {
		return fail(finalSt.start, "the final stage copies no project files (`COPY . <dest>` as its last file change)")
	}
	pc := finalSt.ins[copyIdx]
	if len(pc.args) != 2 || !wholeContext(pc.args[0]) {
		return fail(pc.line, "the last instruction that changes files (line %d) is not `COPY . <dest>`: only a final copy of the whole context can be replaced", pc.line)
	}
	for f, v := range pc.flags {
		switch f {
		case "chown":
			uid, gid, ok := numericOwner(v)
			if !ok {
				return fail(pc.line, "COPY --chown=%s at line %d names a user or group: only numeric owners (--chown=1000:1000) can be written without the image's /etc/passwd", v, pc.line)
			}
			a.Copy.Chown = fmt.Sprintf("%d:%d", uid, gid)
		default:
			return fail(pc.line, "COPY --%s at line %d is not supported for code layers", f, pc.line)
		}
	}

	for si, st := range stages {
		env := map[string]string{}
		for k, v := range global {
			env[k] = v
		}
		workdir, workdirKnown := "", false
		for ii, in := range st.ins {
			sub := func(s string) (string, bool) { return substitute(s, env) }
			switch in.cmd {
			case "FROM":
				ref := ""
				for _, w := range in.args {
					if strings.HasPrefix(w, "--") {
						continue
					}
					ref = w
					break
				}
				r, ok := substitute(ref, global)
				if !ok {
					return fail(in.line, "FROM at line %d uses a variable the Dockerfile does not set", in.line)
				}
				if !isStage(r, si) {
					addBase(r)
					if si == final && !strings.EqualFold(r, "scratch") {
						a.FinalBase = r
					}
				}
			case "ARG":
				for _, w := range in.args {
					k, v, hasDefault := strings.Cut(w, "=")
					switch {
					case buildArgs[k] != nil:
						env[k] = *buildArgs[k]
					case hasDefault:
						s, ok := sub(unquote(v))
						if !ok {
							return fail(in.line, "ARG at line %d uses a variable the Dockerfile does not set", in.line)
						}
						env[k] = s
					default:
						if _, ok := global[k]; !ok {
							env[k] = ""
						}
					}
				}
			case "ENV":
				kv, ok := envPairs(in.args)
				if !ok {
					return fail(in.line, "ENV at line %d could not be read", in.line)
				}
				for _, p := range kv {
					s, ok := sub(p[1])
					if !ok {
						return fail(in.line, "ENV at line %d uses a variable the Dockerfile does not set", in.line)
					}
					env[p[0]] = s
				}
			case "WORKDIR":
				if len(in.args) == 0 {
					continue
				}
				w, ok := sub(strings.Join(in.args, " "))
				if !ok {
					return fail(in.line, "WORKDIR at line %d uses a variable the Dockerfile does not set (the base image's environment is not known here)", in.line)
				}
				if path.IsAbs(w) {
					workdir, workdirKnown = path.Clean(w), true
				} else {
					// Relative to the WORKDIR before it (the base image's
					// when the stage sets none).
					workdir = path.Join(workdir, w)
				}
			case "RUN":
				if m, ok := in.flags["mount"]; ok && mountReadsContext(m) {
					return fail(in.line, "RUN --mount at line %d reads the build context", in.line)
				}
				if from := mountFrom(in.flags["mount"]); from != "" && !isStage(from, si) {
					addBase(from)
				}
			case "COPY", "ADD":
				if from, ok := in.flags["from"]; ok {
					f, ok := sub(from)
					if !ok {
						return fail(in.line, "%s --from at line %d uses a variable the Dockerfile does not set", in.cmd, in.line)
					}
					if !isStage(f, si) {
						addBase(f)
					}
					continue
				}
				if si == final && ii == copyIdx {
					d, ok := sub(in.args[1])
					if !ok {
						return fail(in.line, "the destination at line %d uses a variable the Dockerfile does not set", in.line)
					}
					a.Copy.Line = in.line
					switch {
					case path.IsAbs(d):
						a.Copy.Dest = dirPath(d)
					case workdirKnown:
						a.Copy.Dest = dirPath(path.Join(workdir, d))
					default:
						a.RelDest = path.Join(workdir, d)
					}
					continue
				}
				if len(in.args) < 2 {
					return fail(in.line, "%s at line %d has no destination", in.cmd, in.line)
				}
				for _, src := range in.args[:len(in.args)-1] {
					s, ok := sub(src)
					if !ok {
						return fail(in.line, "%s at line %d uses a variable the Dockerfile does not set", in.cmd, in.line)
					}
					if in.cmd == "ADD" && (strings.Contains(s, "://") || strings.HasPrefix(s, "git@")) {
						return fail(in.line, "ADD %s at line %d downloads content that can change while the Dockerfile does not", s, in.line)
					}
					if wholeContext(s) || strings.Trim(s, "/.") == "*" {
						return fail(in.line, "%s at line %d copies the whole build context before the project copy, so every code change needs a full build", in.cmd, in.line)
					}
					a.Sources = append(a.Sources, Source{Pattern: cleanSource(s), Line: in.line})
				}
			}
		}
	}
	return a
}

// parseDockerfile splits text into instructions the way Docker's parser
// does: parser directives at the top (escape, syntax), comment lines
// dropped everywhere, lines continued by the escape character.
func parseDockerfile(text string, buildkit bool) ([]instruction, string, int) {
	lines := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	escape := byte('\\')
	i := 0
	for ; i < len(lines); i++ {
		l := strings.TrimSpace(lines[i])
		if !strings.HasPrefix(l, "#") {
			break
		}
		k, v, ok := strings.Cut(strings.TrimSpace(strings.TrimPrefix(l, "#")), "=")
		if !ok || strings.ContainsAny(strings.TrimSpace(k), " \t") {
			break
		}
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "escape":
			v = strings.TrimSpace(v)
			if v != "`" && v != "\\" {
				return nil, fmt.Sprintf("invalid escape directive %q", v), i + 1
			}
			escape = v[0]
		case "syntax":
			if buildkit {
				return nil, fmt.Sprintf("the Dockerfile selects a BuildKit frontend (# syntax=%s), whose instructions prefectctl does not analyse", strings.TrimSpace(v)), i + 1
			}
		}
	}
	var out []instruction
	var cur strings.Builder
	start := 0
	for ; i < len(lines); i++ {
		raw := lines[i]
		trimmed := strings.TrimSpace(raw)
		if strings.HasPrefix(trimmed, "#") {
			continue
		}
		if trimmed == "" {
			if cur.Len() == 0 {
				continue
			}
			// An empty line inside a continued instruction is skipped.
			continue
		}
		if cur.Len() == 0 {
			start = i + 1
		}
		body := strings.TrimRight(raw, " \t")
		if len(body) > 0 && body[len(body)-1] == escape {
			cur.WriteString(body[:len(body)-1])
			cur.WriteString(" ")
			continue
		}
		cur.WriteString(body)
		in, problem := parseInstruction(cur.String(), start)
		if problem != "" {
			return nil, problem, start
		}
		out = append(out, in)
		cur.Reset()
	}
	if cur.Len() > 0 {
		in, problem := parseInstruction(cur.String(), start)
		if problem != "" {
			return nil, problem, start
		}
		out = append(out, in)
	}
	return out, "", 0
}

func parseInstruction(s string, line int) (instruction, string) {
	s = strings.TrimSpace(s)
	cmd, rest, _ := strings.Cut(s, " ")
	if t := strings.IndexByte(cmd, '\t'); t >= 0 {
		cmd, rest = cmd[:t], cmd[t+1:]+" "+rest
	}
	in := instruction{cmd: strings.ToUpper(cmd), raw: strings.TrimSpace(rest), line: line, flags: map[string]string{}}
	body := in.raw
	switch in.cmd {
	case "COPY", "ADD", "RUN", "FROM":
		for strings.HasPrefix(body, "--") {
			word, after, _ := strings.Cut(body, " ")
			k, v, _ := strings.Cut(strings.TrimPrefix(word, "--"), "=")
			if in.cmd == "RUN" && k == "mount" && in.flags[k] != "" {
				v = in.flags[k] + ";" + v
			}
			in.flags[strings.ToLower(k)] = v
			body = strings.TrimSpace(after)
		}
	}
	if (in.cmd == "COPY" || in.cmd == "ADD" || in.cmd == "RUN") && heredoc(body) {
		return in, fmt.Sprintf("%s at line %d uses a heredoc, which prefectctl does not analyse", in.cmd, line)
	}
	if strings.HasPrefix(body, "[") {
		var arr []string
		if err := json.Unmarshal([]byte(body), &arr); err == nil {
			in.args = arr
			return in, ""
		}
	}
	in.args = strings.Fields(body)
	return in, ""
}

func heredoc(s string) bool {
	for i := strings.Index(s, "<<"); i >= 0; {
		rest := strings.TrimPrefix(s[i+2:], "-")
		rest = strings.TrimLeft(rest, `"'`)
		if rest != "" && (rest[0] == '_' || rest[0] >= 'A' && rest[0] <= 'Z' || rest[0] >= 'a' && rest[0] <= 'z') {
			return true
		}
		j := strings.Index(s[i+2:], "<<")
		if j < 0 {
			break
		}
		i += 2 + j
	}
	return false
}

// wholeContext reports whether a COPY source names the context root.
func wholeContext(s string) bool {
	c := path.Clean("/" + strings.TrimSpace(s))
	return c == "/"
}

// cleanSource is a source as a context-relative pattern.
func cleanSource(s string) string {
	c := path.Clean("/" + s)
	return strings.TrimPrefix(c, "/")
}

func dirPath(p string) string {
	c := path.Clean(p)
	if c == "/" {
		return "/"
	}
	return c + "/"
}

func numericOwner(s string) (uid, gid int, ok bool) {
	u, g, hasGroup := strings.Cut(s, ":")
	uid, err := strconv.Atoi(u)
	if err != nil || uid < 0 {
		return 0, 0, false
	}
	gid = uid
	if hasGroup {
		if gid, err = strconv.Atoi(g); err != nil || gid < 0 {
			return 0, 0, false
		}
	}
	return uid, gid, true
}

// mountReadsContext reports whether RUN --mount values bind the context
// (a bind mount, the default type, without from=).
func mountReadsContext(spec string) bool {
	for _, m := range strings.Split(spec, ";") {
		typ, from := "bind", ""
		for _, kv := range strings.Split(m, ",") {
			k, v, _ := strings.Cut(kv, "=")
			switch strings.TrimSpace(k) {
			case "type":
				typ = v
			case "from":
				from = v
			}
		}
		if typ == "bind" && from == "" {
			return true
		}
	}
	return false
}

func mountFrom(spec string) string {
	for _, m := range strings.Split(spec, ";") {
		for _, kv := range strings.Split(m, ",") {
			if k, v, _ := strings.Cut(kv, "="); strings.TrimSpace(k) == "from" {
				return v
			}
		}
	}
	return ""
}

// envPairs reads ENV's key=value pairs (or the legacy `ENV key value`).
func envPairs(args []string) ([][2]string, bool) {
	if len(args) == 0 {
		return nil, false
	}
	if !strings.Contains(args[0], "=") {
		return [][2]string{{args[0], strings.Join(args[1:], " ")}}, true
	}
	var out [][2]string
	for _, w := range args {
		k, v, ok := strings.Cut(w, "=")
		if !ok {
			return nil, false
		}
		out = append(out, [2]string{k, unquote(v)})
	}
	return out, true
}

func unquote(s string) string {
	if len(s) >= 2 && (s[0] == '"' && s[len(s)-1] == '"' || s[0] == '\'' && s[len(s)-1] == '\'') {
		return s[1 : len(s)-1]
	}
	return s
}

// substitute expands $VAR, ${VAR}, ${VAR:-default} and ${VAR:+alt} from
// vars; ok is false when a variable is not in vars (it would come from
// the base image's environment, which is not known here).
func substitute(s string, vars map[string]string) (string, bool) {
	if !strings.Contains(s, "$") {
		return s, true
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\\' && i+1 < len(s) && s[i+1] == '$' {
			b.WriteByte('$')
			i++
			continue
		}
		if c != '$' || i+1 >= len(s) {
			b.WriteByte(c)
			continue
		}
		if s[i+1] == '{' {
			end := strings.IndexByte(s[i:], '}')
			if end < 0 {
				return "", false
			}
			expr := s[i+2 : i+end]
			i += end
			name, op, word := expr, "", ""
			if k := strings.Index(expr, ":"); k >= 0 && k+1 < len(expr) {
				name, op, word = expr[:k], expr[k:k+2], expr[k+2:]
			}
			v, set := vars[name]
			switch op {
			case ":-":
				if !set || v == "" {
					v, set = word, true
				}
			case ":+":
				if set && v != "" {
					v = word
				}
				set = true
			case "":
			default:
				return "", false
			}
			if !set {
				return "", false
			}
			b.WriteString(v)
			continue
		}
		j := i + 1
		for j < len(s) && (s[j] == '_' || s[j] >= 'A' && s[j] <= 'Z' || s[j] >= 'a' && s[j] <= 'z' || j > i+1 && s[j] >= '0' && s[j] <= '9') {
			j++
		}
		if j == i+1 {
			b.WriteByte(c)
			continue
		}
		v, set := vars[s[i+1:j]]
		if !set {
			return "", false
		}
		b.WriteString(v)
		i = j - 1
	}
	return b.String(), true
}

// PreFiles lists the context paths (from paths, slash separated) that the
// sources read: the path itself, everything under a directory, or what a
// glob matches.
func PreFiles(sources []Source, paths []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range sources {
		for _, p := range paths {
			if seen[p] {
				continue
			}
			if readsPath(s.Pattern, p) {
				seen[p] = true
				out = append(out, p)
			}
		}
	}
	return out
}

func readsPath(pattern, p string) bool {
	if pattern == p || strings.HasPrefix(p, pattern+"/") {
		return true
	}
	// A glob matches whole paths; whatever is under a matched directory
	// is copied too.
	for q := p; q != "." && q != "/" && q != ""; q = path.Dir(q) {
		if ok, _ := path.Match(pattern, q); ok {
			return true
		}
	}
	return false
}
