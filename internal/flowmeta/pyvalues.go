package flowmeta

import (
	"math"
	"math/big"
	"strings"

	"github.com/prefectctl/prefectctl/internal/py"
)

func iterable(v any) ([]any, bool) {
	switch t := v.(type) {
	case []any:
		return t, true
	case pyTuple:
		return t, true
	case pySet:
		return t, true
	case string:
		var out []any
		for _, r := range t {
			out = append(out, string(r))
		}
		return out, true
	case *pyDict:
		return t.keys, true
	}
	return nil, false
}

// pyPath joins and normalises like pathlib.PurePosixPath's str().
func pyPath(parts []string) string {
	p := ""
	for _, s := range parts {
		if strings.HasPrefix(s, "/") || p == "" {
			p = s
		} else if s != "" {
			p = p + "/" + s
		}
	}
	if p == "" {
		return "."
	}
	lead := ""
	switch {
	case strings.HasPrefix(p, "//") && !strings.HasPrefix(p, "///"):
		lead = "//"
	case strings.HasPrefix(p, "/"):
		lead = "/"
	}
	var segs []string
	for _, s := range strings.Split(p, "/") {
		if s != "" && s != "." {
			segs = append(segs, s)
		}
	}
	out := lead + strings.Join(segs, "/")
	if out == "" {
		return "."
	}
	return out
}

func canonicalUUID(s string) (string, bool) {
	h := strings.ToLower(strings.NewReplacer("urn:uuid:", "", "{", "", "}", "", "-", "").Replace(strings.TrimSpace(s)))
	if len(h) != 32 {
		return "", false
	}
	for i := 0; i < len(h); i++ {
		if !isHex(h[i]) {
			return "", false
		}
	}
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:], true
}

func (d *pyDict) set(k, v any) {
	for i, x := range d.keys {
		if pyEqual(x, k) {
			d.vals[i] = v
			return
		}
	}
	d.keys = append(d.keys, k)
	d.vals = append(d.vals, v)
}

// pyEqual is == for hashable literal values (1 == 1.0 == True).
func pyEqual(a, b any) bool {
	fa, oka := numeric(a)
	fb, okb := numeric(b)
	if oka && okb {
		return fa.Cmp(fb) == 0
	}
	switch x := a.(type) {
	case nil:
		return b == nil
	case string:
		y, ok := b.(string)
		return ok && x == y
	case pyBytes:
		y, ok := b.(pyBytes)
		return ok && x == y
	case enumMember:
		y, ok := b.(enumMember)
		return ok && x.cls == y.cls && x.name == y.name
	case pyTuple:
		y, ok := b.(pyTuple)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !pyEqual(x[i], y[i]) {
				return false
			}
		}
		return true
	case strLike:
		y, ok := b.(strLike)
		return ok && x == y
	}
	return false
}

func numeric(v any) (*big.Float, bool) {
	switch t := v.(type) {
	case bool:
		if t {
			return big.NewFloat(1), true
		}
		return big.NewFloat(0), true
	case int64:
		return new(big.Float).SetInt64(t), true
	case *big.Int:
		return new(big.Float).SetInt(t), true
	case float64:
		if math.IsNaN(t) || math.IsInf(t, 0) {
			return nil, false
		}
		return big.NewFloat(t), true
	}
	return nil, false
}

func toBig(v any) (*big.Int, bool) {
	switch t := v.(type) {
	case bool:
		if t {
			return big.NewInt(1), true
		}
		return big.NewInt(0), true
	case int64:
		return big.NewInt(t), true
	case *big.Int:
		return t, true
	}
	return nil, false
}

func normInt(b *big.Int) any {
	if b.IsInt64() {
		return b.Int64()
	}
	return b
}

func toFloat(v any) (float64, bool) {
	switch t := v.(type) {
	case float64:
		return t, true
	case bool, int64, *big.Int:
		b, _ := toBig(t)
		f, _ := new(big.Float).SetInt(b).Float64()
		return f, true
	}
	return 0, false
}

func unary(op string, v any, line int) (any, error) {
	if c, ok := v.(pyComplex); ok && op == "-" {
		return pyComplex{-c.real, -c.imag}, nil
	}
	if b, ok := toBig(v); ok {
		switch op {
		case "-":
			return normInt(new(big.Int).Neg(b)), nil
		case "+":
			return normInt(b), nil
		case "~":
			return normInt(new(big.Int).Not(b)), nil
		}
	}
	if f, ok := v.(float64); ok {
		switch op {
		case "-":
			return -f, nil
		case "+":
			return f, nil
		}
	}
	return nil, opaque(line, "unary %s on %s", op, pyTypeName(v))
}

func binop(op string, l, r any, line int) (any, error) {
	li, lok := toBig(l)
	ri, rok := toBig(r)
	if lok && rok {
		switch op {
		case "+":
			return normInt(new(big.Int).Add(li, ri)), nil
		case "-":
			return normInt(new(big.Int).Sub(li, ri)), nil
		case "*":
			return normInt(new(big.Int).Mul(li, ri)), nil
		case "//", "%":
			if ri.Sign() == 0 {
				return nil, opaque(line, "division by zero")
			}
			q, m := new(big.Int).DivMod(li, ri, new(big.Int))
			// Python floors toward negative infinity; DivMod is Euclidean.
			if m.Sign() != 0 && ri.Sign() < 0 {
				q.Add(q, big.NewInt(1))
				m.Add(m, ri)
			}
			if op == "//" {
				return normInt(q), nil
			}
			return normInt(m), nil
		case "**":
			if ri.Sign() >= 0 && ri.IsInt64() && ri.Int64() <= 4096 {
				return normInt(new(big.Int).Exp(li, ri, nil)), nil
			}
		case "/":
			if ri.Sign() == 0 {
				return nil, opaque(line, "division by zero")
			}
			f, _ := new(big.Rat).SetFrac(li, ri).Float64()
			return f, nil
		case "|", "&", "^", "<<", ">>":
			switch op {
			case "|":
				return normInt(new(big.Int).Or(li, ri)), nil
			case "&":
				return normInt(new(big.Int).And(li, ri)), nil
			case "^":
				return normInt(new(big.Int).Xor(li, ri)), nil
			case "<<":
				if ri.IsInt64() && ri.Int64() >= 0 && ri.Int64() <= 4096 {
					return normInt(new(big.Int).Lsh(li, uint(ri.Int64()))), nil
				}
			case ">>":
				if ri.IsInt64() && ri.Int64() >= 0 {
					return normInt(new(big.Int).Rsh(li, uint(min(ri.Int64(), 1<<20)))), nil
				}
			}
		}
		return nil, opaque(line, "integer operation %s", op)
	}
	lf, lok := toFloat(l)
	rf, rok := toFloat(r)
	if lok && rok {
		switch op {
		case "+":
			return lf + rf, nil
		case "-":
			return lf - rf, nil
		case "*":
			return lf * rf, nil
		case "/":
			if rf != 0 {
				return lf / rf, nil
			}
		case "**":
			if lf > 0 || rf == math.Trunc(rf) {
				return math.Pow(lf, rf), nil
			}
		}
		return nil, opaque(line, "float operation %s", op)
	}
	switch a := l.(type) {
	case string:
		if b, ok := r.(string); ok && op == "+" {
			return a + b, nil
		}
		if n, ok := r.(int64); ok && op == "*" && n*int64(len(a)) <= 1<<16 {
			return strings.Repeat(a, int(max(n, 0))), nil
		}
	case []any:
		if b, ok := r.([]any); ok && op == "+" {
			return append(append([]any{}, a...), b...), nil
		}
	case pyTuple:
		if b, ok := r.(pyTuple); ok && op == "+" {
			return append(append(pyTuple{}, a...), b...), nil
		}
	case pyComplex:
		if f, ok := toFloat(r); ok && (op == "+" || op == "-") {
			if op == "-" {
				f = -f
			}
			return pyComplex{a.real + f, a.imag}, nil
		}
	}
	if c, ok := r.(pyComplex); ok && (op == "+" || op == "-") {
		if f, ok := toFloat(l); ok {
			if op == "-" {
				c = pyComplex{-c.real, -c.imag}
			}
			return pyComplex{c.real + f, c.imag}, nil
		}
	}
	return nil, opaque(line, "operation %s on %s and %s", op, pyTypeName(l), pyTypeName(r))
}

// pyTypeName is type(v).__name__ for the evaluator's values: its own
// Python types here, the rest as py.TypeName names them.
func pyTypeName(v any) string {
	switch v.(type) {
	case *big.Int:
		return "int"
	case pyBytes:
		return "bytes"
	case pyTuple:
		return "tuple"
	case pySet:
		return "set"
	case *pyDict:
		return "dict"
	}
	return py.TypeName(v)
}
