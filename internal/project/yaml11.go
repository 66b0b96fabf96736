package project

import (
	"encoding/base64"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/prefectctl/prefectctl/internal/py"
)

// Prefect reads prefect.yaml with PyYAML's safe_load, which implements YAML
// 1.1; yaml.v3 resolves plain scalars by YAML 1.2. So yaml.v3 is used only
// as the parser, and this file turns its node tree into values the way
// PyYAML 6.0.4 (the version Prefect 3.9.1 installs) would: its implicit
// resolvers, its constructors, and its merge-key quirks.

// The implicit resolvers of PyYAML's Resolver, in the order it tries them.
var (
	reBool  = regexp.MustCompile(`^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$`)
	reInt   = regexp.MustCompile(`^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$`)
	reFloat = regexp.MustCompile(`^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9_]+(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$`)
	reNull  = regexp.MustCompile(`^(?:~|null|Null|NULL|)$`)
	reTime  = regexp.MustCompile(`^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$`)
	// PyYAML's timestamp constructor pattern, with groups.
	reTimeParts = regexp.MustCompile(`^([0-9][0-9][0-9][0-9])-([0-9][0-9]?)-([0-9][0-9]?)(?:(?:[Tt]|[ \t]+)([0-9][0-9]?):([0-9][0-9]):([0-9][0-9])(?:\.([0-9]*))?(?:[ \t]*(Z|([-+])([0-9][0-9]?)(?::([0-9][0-9]))?))?)?$`)
)

// resolvesToString reports whether PyYAML reads s, written plain, as a
// string: whether no implicit resolver claims it.
func resolvesToString(s string) bool {
	for _, re := range []*regexp.Regexp{reBool, reInt, reFloat, reNull, reTime} {
		if re.MatchString(s) {
			return false
		}
	}
	return true
}

// Pos is a place in a file, 1-based. File names the file when it is not the
// one the positions belong to: a value an environment's overlay set.
type Pos struct {
	Line, Col int
	File      string
}

// converter turns a yaml.v3 node tree into values and records where each
// value and key came from, by field path.
type converter struct {
	file   string
	pos    map[string]Pos // path → position of the value
	keyPos map[string]Pos // path → position of the key naming it
	depth  int
	nodes  int // nodes converted so far, bounded against alias bombs
}

// yamlError is a problem found while converting, with its position.
type yamlError struct {
	pos Pos
	msg string
}

func (e *yamlError) Error() string { return e.msg }

func (c *converter) fail(n *yaml.Node, format string, args ...any) error {
	return &yamlError{pos: Pos{Line: n.Line, Col: n.Column}, msg: fmt.Sprintf(format, args...)}
}

// maxDepth bounds nesting so hostile input (alias bombs, deep nesting)
// cannot exhaust the stack.
const maxDepth = 200

// maxNodes bounds the expanded size of a document.
const maxNodes = 1_000_000

func (c *converter) convert(n *yaml.Node, path string) (any, error) {
	c.depth++
	defer func() { c.depth-- }()
	if c.depth > maxDepth {
		return nil, c.fail(n, "the document nests deeper than %d levels", maxDepth)
	}
	if c.nodes++; c.nodes > maxNodes {
		return nil, c.fail(n, "the document expands to more than %d values (aliases repeated too often?)", maxNodes)
	}
	if _, seen := c.pos[path]; !seen {
		c.pos[path] = Pos{Line: n.Line, Col: n.Column}
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return c.convert(n.Content[0], path)
	case yaml.AliasNode:
		return c.convert(n.Alias, path)
	case yaml.ScalarNode:
		return c.scalar(n)
	case yaml.SequenceNode:
		if t := explicitTag(n); t != "" && t != "!!seq" {
			return nil, c.fail(n, "could not determine a constructor for the tag %q", n.Tag)
		}
		out := make([]any, 0, len(n.Content))
		for i, item := range n.Content {
			v, err := c.convert(item, fmt.Sprintf("%s[%d]", path, i))
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case yaml.MappingNode:
		return c.mapping(n, path)
	}
	return nil, c.fail(n, "unsupported YAML node")
}

func explicitTag(n *yaml.Node) string {
	if n.Style&yaml.TaggedStyle == 0 {
		return ""
	}
	return n.ShortTag()
}

type pair struct{ k, v *yaml.Node }

// flatten reproduces PyYAML 6.0.4's flatten_mapping: merged pairs come
// first, in the order the merged mappings are listed, then the mapping's own
// pairs; later pairs overwrite earlier ones. PyYAML drops a merged pair whose
// key *string object* it has seen before, which in CPython only happens for
// one-character keys (they are cached singletons) or the same node merged
// twice; so for those the first merged value wins, for all others the last.
func (c *converter) flatten(n *yaml.Node, visiting map[*yaml.Node]bool) ([]pair, error) {
	if visiting[n] {
		return nil, c.fail(n, "recursive merge key")
	}
	visiting[n] = true
	defer delete(visiting, n)
	var merged, own []pair
	seen := map[string]bool{}
	seenNode := map[*yaml.Node]bool{}
	add := func(p pair) {
		k := p.k.Value
		if seenNode[p.k] || (p.k.Kind == yaml.ScalarNode && len([]rune(k)) <= 1 && (k == "" || []rune(k)[0] < 256) && seen[k]) {
			return
		}
		seenNode[p.k] = true
		seen[k] = true
		merged = append(merged, p)
	}
	mergeOne := func(m *yaml.Node) error {
		m = resolveAlias(m)
		if m.Kind != yaml.MappingNode {
			return c.fail(m, "expected a mapping for merging, but found %s", kindName(m))
		}
		ps, err := c.flatten(m, visiting)
		if err != nil {
			return err
		}
		for _, p := range ps {
			add(p)
		}
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.Value == "<<" && (k.Tag == "!!merge" || k.ShortTag() == "!!merge") && k.Style&(yaml.SingleQuotedStyle|yaml.DoubleQuotedStyle) == 0 {
			rv := resolveAlias(v)
			switch rv.Kind {
			case yaml.MappingNode:
				if err := mergeOne(rv); err != nil {
					return nil, err
				}
			case yaml.SequenceNode:
				for _, item := range rv.Content {
					if err := mergeOne(item); err != nil {
						return nil, err
					}
				}
			default:
				return nil, c.fail(v, "expected a mapping or list of mappings for merging, but found %s", kindName(rv))
			}
			continue
		}
		own = append(own, pair{k, v})
	}
	return append(merged, own...), nil
}

func resolveAlias(n *yaml.Node) *yaml.Node {
	for i := 0; n.Kind == yaml.AliasNode && n.Alias != nil && i < maxDepth; i++ {
		n = n.Alias
	}
	return n
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.ScalarNode:
		return "scalar"
	case yaml.SequenceNode:
		return "sequence"
	case yaml.MappingNode:
		return "mapping"
	}
	return "node"
}

func (c *converter) mapping(n *yaml.Node, path string) (any, error) {
	if t := explicitTag(n); t != "" && t != "!!map" {
		if t == "!!set" {
			// PyYAML builds a Python set; pydantic then rejects it in every
			// field prefect.yaml has, so it is reported as unsupported.
			return nil, c.fail(n, "a YAML !!set is not supported in prefect.yaml")
		}
		return nil, c.fail(n, "could not determine a constructor for the tag %q", n.Tag)
	}
	pairs, err := c.flatten(n, map[*yaml.Node]bool{})
	if err != nil {
		return nil, err
	}
	m := py.NewMap()
	for _, p := range pairs {
		kv, err := c.convert(p.k, path+".<key>")
		if err != nil {
			return nil, err
		}
		key, err := c.keyString(p.k, kv)
		if err != nil {
			return nil, err
		}
		child := joinPath(path, key)
		c.keyPos[child] = Pos{Line: p.k.Line, Col: p.k.Column}
		// A later duplicate key wins, as in PyYAML; its position is the one
		// reported.
		delete(c.pos, child)
		v, err := c.convert(p.v, child)
		if err != nil {
			return nil, err
		}
		m.Set(key, v)
	}
	return m, nil
}

// keyString turns a mapping key into the string the value package stores.
// Python keeps non-string keys (True, 1, None) as they are; JSON-mode dumps
// turn them into "true", "1", "null", which is what reaches the server.
func (c *converter) keyString(n *yaml.Node, k any) (string, error) {
	switch t := k.(type) {
	case string:
		return t, nil
	case bool:
		return strconv.FormatBool(t), nil
	case nil:
		return "null", nil
	case int64:
		return strconv.FormatInt(t, 10), nil
	case float64:
		return py.FloatRepr(t), nil
	case py.Date:
		return t.ISO(), nil
	case py.DateTime:
		return t.ISO(), nil
	default:
		return "", c.fail(n, "a mapping key must be a scalar, found %s", py.TypeName(k))
	}
}

// joinPath appends a mapping key to a field path.
func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func (c *converter) scalar(n *yaml.Node) (any, error) {
	s := n.Value
	if t := explicitTag(n); t != "" {
		switch t {
		case "!!str":
			return s, nil
		case "!!null":
			return nil, nil
		case "!!bool":
			if reBool.MatchString(s) {
				return parseBool(s), nil
			}
		case "!!int":
			if v, ok := parseInt(s); ok {
				return v, nil
			}
		case "!!float":
			if v, ok := parseFloat(s); ok {
				return v, nil
			}
			if v, ok := parseInt(s); ok { // float("10") works in PyYAML
				return float64(v), nil
			}
		case "!!timestamp":
			if v, ok := parseTimestamp(s); ok {
				return v, nil
			}
		case "!!binary":
			if _, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(s), "")); err == nil {
				return nil, c.fail(n, "binary values (!!binary) are not supported in prefect.yaml")
			}
		default:
			return nil, c.fail(n, "could not determine a constructor for the tag %q", n.Tag)
		}
		return nil, c.fail(n, "cannot read %q as %s", s, t)
	}
	if n.Style&(yaml.SingleQuotedStyle|yaml.DoubleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
		return s, nil
	}
	switch {
	case reBool.MatchString(s):
		return parseBool(s), nil
	case reInt.MatchString(s):
		if v, ok := parseInt(s); ok {
			return v, nil
		}
		return nil, c.fail(n, "the integer %s is too large", s)
	case reFloat.MatchString(s):
		v, _ := parseFloat(s)
		return v, nil
	case reNull.MatchString(s):
		return nil, nil
	case reTime.MatchString(s):
		if v, ok := parseTimestamp(s); ok {
			return v, nil
		}
		return nil, c.fail(n, "invalid date or time %q", s)
	}
	return s, nil
}

func parseBool(s string) bool {
	switch strings.ToLower(s) {
	case "yes", "true", "on":
		return true
	}
	return false
}

// parseInt follows PyYAML's construct_yaml_int.
func parseInt(s string) (int64, bool) {
	s = strings.ReplaceAll(s, "_", "")
	sign := int64(1)
	if s != "" && (s[0] == '-' || s[0] == '+') {
		if s[0] == '-' {
			sign = -1
		}
		s = s[1:]
	}
	var v int64
	var err error
	switch {
	case s == "0":
		return 0, true
	case strings.HasPrefix(s, "0b"):
		v, err = strconv.ParseInt(s[2:], 2, 64)
	case strings.HasPrefix(s, "0x"):
		v, err = strconv.ParseInt(s[2:], 16, 64)
	case strings.HasPrefix(s, "0") && !strings.Contains(s, ":"):
		v, err = strconv.ParseInt(s[1:], 8, 64)
	case strings.Contains(s, ":"):
		base := int64(1)
		for _, d := range reverse(strings.Split(s, ":")) {
			x, e := strconv.ParseInt(d, 10, 64)
			if e != nil {
				return 0, false
			}
			v += x * base
			base *= 60
		}
	default:
		v, err = strconv.ParseInt(s, 10, 64)
	}
	if err != nil {
		return 0, false
	}
	return sign * v, true
}

// parseFloat follows PyYAML's construct_yaml_float.
func parseFloat(s string) (float64, bool) {
	s = strings.ToLower(strings.ReplaceAll(s, "_", ""))
	sign := 1.0
	if s != "" && (s[0] == '-' || s[0] == '+') {
		if s[0] == '-' {
			sign = -1
		}
		s = s[1:]
	}
	switch {
	case s == ".inf":
		return sign * math.Inf(1), true
	case s == ".nan":
		return math.NaN(), true
	case strings.Contains(s, ":"):
		var v float64
		base := 1.0
		for _, d := range reverse(strings.Split(s, ":")) {
			x, err := strconv.ParseFloat(d, 64)
			if err != nil {
				return 0, false
			}
			v += x * base
			base *= 60
		}
		return sign * v, true
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, false
	}
	return sign * v, true
}

func reverse(s []string) []string {
	for i, j := 0, len(s)-1; i < j; i, j = i+1, j-1 {
		s[i], s[j] = s[j], s[i]
	}
	return s
}

// parseTimestamp follows PyYAML's construct_yaml_timestamp: a date alone is
// a date; otherwise a datetime, aware when a zone is given.
func parseTimestamp(s string) (any, bool) {
	m := reTimeParts.FindStringSubmatch(s)
	if m == nil {
		return nil, false
	}
	year, _ := strconv.Atoi(m[1])
	month, _ := strconv.Atoi(m[2])
	day, _ := strconv.Atoi(m[3])
	if m[4] == "" {
		d := time.Date(year, time.Month(month), day, 0, 0, 0, 0, time.UTC)
		if d.Day() != day || int(d.Month()) != month {
			return nil, false
		}
		return py.Date{Year: year, Month: time.Month(month), Day: day}, true
	}
	hour, _ := strconv.Atoi(m[4])
	minute, _ := strconv.Atoi(m[5])
	second, _ := strconv.Atoi(m[6])
	frac := m[7]
	if len(frac) > 6 {
		frac = frac[:6]
	}
	for len(frac) < 6 {
		frac += "0"
	}
	us, _ := strconv.Atoi(frac)
	if month < 1 || month > 12 || hour > 23 || minute > 59 || second > 59 {
		return nil, false
	}
	loc := time.UTC
	naive := m[8] == ""
	if !naive && m[8] != "Z" {
		h, _ := strconv.Atoi(m[10])
		mm, _ := strconv.Atoi(m[11])
		off := h*3600 + mm*60
		if m[9] == "-" {
			off = -off
		}
		loc = time.FixedZone("", off)
	}
	t := time.Date(year, time.Month(month), day, hour, minute, second, us*1000, loc)
	if t.Day() != day {
		return nil, false
	}
	return py.DateTime{Time: t, Naive: naive}, true
}
