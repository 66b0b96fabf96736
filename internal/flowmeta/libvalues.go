package flowmeta

import (
	"fmt"
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"
)

// Default values built from standard-library and pydantic types (time,
// aware datetimes, Decimal, IP addresses, URLs, secrets, patterns,
// fractions), rendered the way pydantic's JSON mode writes them into a
// schema (pydantic_core.to_jsonable_python).

type (
	// pyTime is a datetime.time; tz is nil for a naive time.
	pyTime struct {
		h, mi, s, us int
		tz           *tzOffset
	}
	// awareDT is a datetime.datetime with a fixed-offset tzinfo.
	awareDT struct {
		dt pyDT
		tz tzOffset
	}
	// tzOffset is a datetime.timezone (a fixed UTC offset, in seconds).
	tzOffset struct{ off int }
	// secretValue is a pydantic SecretStr or SecretBytes.
	secretValue struct{ empty bool }
)

// jsonValue is a value that knows its JSON form (see toJSON).
type jsonValue interface{ pydanticJSON() (any, bool, error) }

func (t pyTime) pydanticJSON() (any, bool, error) {
	s := fmt.Sprintf("%02d:%02d:%02d", t.h, t.mi, t.s)
	if t.us != 0 {
		s += fmt.Sprintf(".%06d", t.us)
	}
	if t.tz != nil {
		s += t.tz.suffix()
	}
	return s, true, nil
}

func (d awareDT) pydanticJSON() (any, bool, error) {
	j, ok, err := toJSON(d.dt)
	if err != nil || !ok {
		return j, ok, err
	}
	return j.(string) + d.tz.suffix(), true, nil
}

// suffix is the offset as pydantic writes it: Z for UTC, else ±HH:MM.
func (z tzOffset) suffix() string {
	if z.off == 0 {
		return "Z"
	}
	sign, off := '+', z.off
	if off < 0 {
		sign, off = '-', -off
	}
	return fmt.Sprintf("%c%02d:%02d", sign, off/3600, off%3600/60)
}

func (s secretValue) pydanticJSON() (any, bool, error) {
	if s.empty {
		return "", true, nil
	}
	return "**********", true, nil
}

// pydanticComplex is how pydantic-core writes a complex number: the
// imaginary part with "j", preceded by the real part when it is not zero
// (floats in Rust's shortest form, without exponent).
func pydanticComplex(c pyComplex) string {
	s := rustFloat(c.imag) + "j"
	if c.real != 0 {
		sign := "+"
		if math.Signbit(c.imag) || math.IsNaN(c.imag) {
			sign = ""
		}
		s = rustFloat(c.real) + sign + s
	}
	return s
}

func rustFloat(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case math.IsNaN(f):
		return "NaN"
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// libraryConstant gives module and class attributes used as defaults.
func libraryConstant(q string) (any, bool) {
	switch q {
	case "datetime.timezone.utc", "datetime.UTC":
		return tzOffset{0}, true
	case "datetime.date.min":
		return pyDate{1, 1, 1}, true
	case "datetime.date.max":
		return pyDate{9999, 12, 31}, true
	case "datetime.datetime.min":
		return pyDT{date: pyDate{1, 1, 1}, isDTm: true}, true
	case "datetime.datetime.max":
		return pyDT{date: pyDate{9999, 12, 31}, h: 23, mi: 59, s: 59, us: 999999, isDTm: true}, true
	case "datetime.time.min":
		return pyTime{}, true
	case "datetime.time.max":
		return pyTime{h: 23, mi: 59, s: 59, us: 999999}, true
	case "datetime.timedelta.min":
		return timedelta{new(big.Int).Mul(big.NewInt(-999999999), big.NewInt(86400e6))}, true
	case "datetime.timedelta.max":
		return timedelta{new(big.Int).Sub(new(big.Int).Mul(big.NewInt(1000000000), big.NewInt(86400e6)), big.NewInt(1))}, true
	case "datetime.timedelta.resolution":
		return timedelta{big.NewInt(1)}, true
	}
	return nil, false
}

// libraryCall evaluates calls of library constructors; ok is false when q
// is not one of them (the caller goes on with its own cases).
func libraryCall(q string, args []any, kws map[string]any, line int) (v any, ok bool, err error) {
	bad := func(format string, a ...any) (any, bool, error) { return nil, true, opaque(line, format, a...) }
	arg := func(i int, name string) (any, bool) {
		if i >= 0 && i < len(args) {
			return args[i], true
		}
		v, ok := kws[name]
		return v, ok
	}
	onlyArgs := func(n int, names ...string) bool {
		if len(args) > n {
			return false
		}
		for k := range kws {
			if !slices.Contains(names, k) {
				return false
			}
		}
		return true
	}
	switch q {
	case "datetime.time":
		if !onlyArgs(5, "hour", "minute", "second", "microsecond", "tzinfo", "fold") {
			return bad("time(...) arguments")
		}
		var t pyTime
		for i, p := range []*int{&t.h, &t.mi, &t.s, &t.us} {
			name := []string{"hour", "minute", "second", "microsecond"}[i]
			if a, given := arg(i, name); given {
				n, isInt := a.(int64)
				if !isInt {
					return bad("time(%s=%s)", name, pyTypeName(a))
				}
				*p = int(n)
			}
		}
		if t.h < 0 || t.h > 23 || t.mi < 0 || t.mi > 59 || t.s < 0 || t.s > 59 || t.us < 0 || t.us > 999999 {
			return bad("invalid time")
		}
		if z, given := arg(4, "tzinfo"); given && z != nil {
			tz, isTZ := z.(tzOffset)
			if !isTZ {
				return bad("time with a tzinfo the reader cannot read")
			}
			t.tz = &tz
		}
		return t, true, nil
	case "datetime.datetime":
		var tz any
		if len(args) > 7 {
			tz, args = args[7], args[:7]
		}
		if z, given := kws["tzinfo"]; given {
			tz = z
		}
		rest := map[string]any{}
		for k, v := range kws {
			if k != "tzinfo" && k != "fold" {
				rest[k] = v
			}
		}
		d, err := newDate(true, args, rest, line)
		if err != nil || tz == nil {
			return d, true, err
		}
		z, isTZ := tz.(tzOffset)
		if !isTZ {
			return bad("datetime with a tzinfo the reader cannot read")
		}
		return awareDT{dt: d.(pyDT), tz: z}, true, nil
	case "datetime.timezone":
		if !onlyArgs(2, "offset", "name") {
			return bad("timezone(...) arguments")
		}
		a, _ := arg(0, "offset")
		td, isTD := a.(timedelta)
		if !isTD || !td.micros.IsInt64() {
			return bad("timezone(...) offset")
		}
		us := td.micros.Int64()
		if us%60e6 != 0 || us <= -86400e6 || us >= 86400e6 {
			return bad("timezone offset that is not whole minutes")
		}
		return tzOffset{int(us / 1e6)}, true, nil
	case "decimal.Decimal":
		if !onlyArgs(1, "value") {
			return bad("Decimal(...) with a context")
		}
		a, given := arg(0, "value")
		if !given {
			return strLike{"decimal", "0"}, true, nil
		}
		s, err := decimalStr(a)
		if err != nil {
			return bad("Decimal(%s): %v", pyTypeName(a), err)
		}
		return strLike{"decimal", s}, true, nil
	case "uuid.UUID":
		if h, given := kws["hex"]; given && len(args) == 0 && len(kws) == 1 {
			if s, isStr := h.(string); isStr {
				if u, ok := canonicalUUID(s); ok {
					return strLike{"uuid", u}, true, nil
				}
			}
			return bad("invalid UUID")
		}
		return nil, false, nil
	case "ipaddress.IPv4Address", "ipaddress.IPv6Address", "ipaddress.ip_address",
		"ipaddress.IPv4Network", "ipaddress.IPv6Network", "ipaddress.ip_network",
		"ipaddress.IPv4Interface", "ipaddress.IPv6Interface", "ipaddress.ip_interface":
		if !onlyArgs(1) {
			return bad("%s(...) arguments", q)
		}
		a, _ := arg(0, "")
		s, err := ipString(q[len("ipaddress."):], a)
		if err != nil {
			return bad("%s(...): %v", q[len("ipaddress."):], err)
		}
		return strLike{"ip", s}, true, nil
	case "pydantic.SecretStr", "pydantic.SecretBytes":
		if !onlyArgs(1, "secret_value") {
			return bad("%s(...) arguments", q)
		}
		a, _ := arg(0, "secret_value")
		switch x := a.(type) {
		case string:
			if q == "pydantic.SecretStr" {
				return secretValue{empty: x == ""}, true, nil
			}
		case pyBytes:
			if q == "pydantic.SecretBytes" {
				return secretValue{empty: x == ""}, true, nil
			}
		}
		return bad("%s(%s)", q, pyTypeName(a))
	case "pydantic.AnyUrl", "pydantic.AnyHttpUrl", "pydantic.HttpUrl", "pydantic.networks.AnyUrl", "pydantic.networks.HttpUrl":
		if !onlyArgs(1, "url") {
			return bad("%s(...) arguments", q)
		}
		a, _ := arg(0, "url")
		s, isStr := a.(string)
		if !isStr {
			return bad("%s(%s)", q, pyTypeName(a))
		}
		u, err := normalizeURL(s, q[strings.LastIndex(q, ".")+1:])
		if err != nil {
			return bad("%s(%q): %v", q, s, err)
		}
		return strLike{"url", u}, true, nil
	case "re.compile":
		if !onlyArgs(2, "pattern", "flags") {
			return bad("re.compile(...) arguments")
		}
		a, _ := arg(0, "pattern")
		if s, isStr := a.(string); isStr {
			return strLike{"pattern", s}, true, nil
		}
		return bad("re.compile(%s)", pyTypeName(a))
	case "fractions.Fraction":
		s, err := fractionStr(args, kws)
		if err != nil {
			return bad("Fraction(...): %v", err)
		}
		return strLike{"fraction", s}, true, nil
	case "builtins.float":
		if !onlyArgs(1) {
			return bad("float(...) arguments")
		}
		if len(args) == 0 {
			return 0.0, true, nil
		}
		switch x := args[0].(type) {
		case float64:
			return x, true, nil
		case bool, int64, *big.Int:
			f, _ := toFloat(x)
			return f, true, nil
		case string:
			f, err := pyFloatFromString(x)
			if err != nil {
				return bad("float(%q)", x)
			}
			return f, true, nil
		}
		return bad("float(%s)", pyTypeName(args[0]))
	case "builtins.int":
		if len(args) == 1 && len(kws) == 0 {
			switch x := args[0].(type) {
			case bool, int64, *big.Int:
				b, _ := toBig(x)
				return normInt(b), true, nil
			case string:
				if n, err := parseNumber(strings.TrimSpace(x)); err == nil && !strings.ContainsAny(x, ".eExXoObBjJ") {
					if _, isInt := n.(int64); isInt || n != nil {
						if _, isF := n.(float64); !isF {
							return n, true, nil
						}
					}
				}
			}
		}
		return nil, false, nil
	case "collections.deque":
		if len(kws) == 0 && len(args) <= 1 {
			if len(args) == 0 {
				return []any{}, true, nil
			}
			if items, ok := iterable(args[0]); ok {
				return append([]any{}, items...), true, nil
			}
		}
		return bad("deque(...) arguments")
	case "collections.defaultdict":
		// pydantic cannot serialise a defaultdict default (it has no
		// factory to give its type adapter) and leaves it out.
		return unserializable{"defaultdict"}, true, nil
	case "collections.OrderedDict":
		rest := args
		d := newDict()
		if len(rest) > 1 || len(kws) > 1 {
			return bad("%s(...) arguments", q) // the order of several keywords is not kept
		}
		if len(rest) == 1 {
			switch x := rest[0].(type) {
			case *pyDict:
				d.update(x)
			default:
				pairs, ok := iterable(x)
				if !ok {
					return bad("%s(%s)", q, pyTypeName(x))
				}
				for _, p := range pairs {
					kv, ok := iterable(p)
					if !ok || len(kv) != 2 {
						return bad("%s(...) items", q)
					}
					d.set(kv[0], kv[1])
				}
			}
		}
		for k, v := range kws {
			d.set(k, v)
		}
		return d, true, nil
	case "collections.Counter":
		d := newDict()
		if len(args) > 1 || len(kws) > 0 {
			return bad("Counter(...) arguments")
		}
		if len(args) == 1 {
			if src, ok := args[0].(*pyDict); ok {
				d.update(src)
				return d, true, nil
			}
			items, ok := iterable(args[0])
			if !ok {
				return bad("Counter(%s)", pyTypeName(args[0]))
			}
			for _, it := range items {
				n := int64(0)
				for i, k := range d.keys {
					if pyEqual(k, it) {
						n = d.vals[i].(int64)
					}
				}
				d.set(it, n+1)
			}
		}
		return d, true, nil
	case "builtins.bytes", "builtins.bytearray":
		if len(args) == 1 && len(kws) == 0 {
			if b, isBytes := args[0].(pyBytes); isBytes {
				return b, true, nil
			}
		}
		if len(args) == 0 && len(kws) == 0 {
			return pyBytes(""), true, nil
		}
	case "builtins.complex":
		if onlyArgs(2, "real", "imag") {
			re, _ := arg(0, "real")
			im, _ := arg(1, "imag")
			var c pyComplex
			if re != nil {
				f, ok := toFloat(re)
				if !ok {
					return bad("complex(%s)", pyTypeName(re))
				}
				c.real = f
			}
			if im != nil {
				f, ok := toFloat(im)
				if !ok {
					return bad("complex(..., %s)", pyTypeName(im))
				}
				c.imag = f
			}
			return c, true, nil
		}
	}
	return nil, false, nil
}
