package flowmeta

import (
	"fmt"
	"math"
	"math/big"
	"net/netip"
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

// pyFloatFromString is float(str) for the spellings Python accepts.
func pyFloatFromString(s string) (float64, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	switch strings.TrimLeft(t, "+-") {
	case "inf", "infinity":
		return math.Inf(map[bool]int{true: -1, false: 1}[strings.HasPrefix(t, "-")]), nil
	case "nan":
		return math.NaN(), nil
	}
	if strings.Contains(t, "__") || strings.HasPrefix(t, "_") || strings.HasSuffix(t, "_") || strings.HasPrefix(t, "0x") {
		return 0, fmt.Errorf("invalid float")
	}
	return strconv.ParseFloat(strings.ReplaceAll(t, "_", ""), 64)
}

// decimalStr is str(Decimal(v)) for a string, an int or a float.
func decimalStr(v any) (string, error) {
	switch x := v.(type) {
	case bool, int64, *big.Int:
		b, _ := toBig(x)
		return b.String(), nil
	case float64:
		switch {
		case math.IsNaN(x):
			return "NaN", nil
		case math.IsInf(x, 1):
			return "Infinity", nil
		case math.IsInf(x, -1):
			return "-Infinity", nil
		}
		// Decimal.from_float: n/d with d a power of two, n*5**k / 10**k
		r := new(big.Rat).SetFloat64(math.Abs(x))
		k := r.Denom().BitLen() - 1
		coeff := new(big.Int).Mul(r.Num(), new(big.Int).Exp(big.NewInt(5), big.NewInt(int64(k)), nil))
		return sciString(math.Signbit(x), coeff.String(), -k), nil
	case string:
		return parseDecimal(x)
	case pyTuple: // (sign, digits, exponent)
		if len(x) != 3 {
			break
		}
		sign, okS := x[0].(int64)
		digits, okD := x[1].(pyTuple)
		exp, okE := x[2].(int64)
		if !okS || !okD || !okE || sign != 0 && sign != 1 || exp > 1e6 || exp < -1e6 {
			break
		}
		var b strings.Builder
		for _, d := range digits {
			n, ok := d.(int64)
			if !ok || n < 0 || n > 9 {
				return "", fmt.Errorf("invalid digits")
			}
			b.WriteByte(byte('0' + n))
		}
		coeff, ok := new(big.Int).SetString(b.String(), 10)
		if !ok {
			coeff = new(big.Int)
		}
		return sciString(sign == 1, coeff.String(), int(exp)), nil
	}
	return "", fmt.Errorf("unsupported value")
}

// parseDecimal reads Python's Decimal string syntax and formats the value
// like Decimal.__str__.
func parseDecimal(s string) (string, error) {
	t := strings.TrimSpace(s)
	neg := false
	if t != "" && (t[0] == '+' || t[0] == '-') {
		neg = t[0] == '-'
		t = t[1:]
	}
	sign := map[bool]string{true: "-", false: ""}[neg]
	switch lt := strings.ToLower(t); {
	case lt == "inf" || lt == "infinity":
		return sign + "Infinity", nil
	case lt == "nan":
		return sign + "NaN", nil
	case strings.HasPrefix(lt, "nan") || strings.HasPrefix(lt, "snan"):
		return "", fmt.Errorf("NaN with diagnostic digits")
	}
	mant, exp := t, "0"
	if i := strings.IndexAny(t, "eE"); i >= 0 {
		mant, exp = t[:i], t[i+1:]
	}
	digitsOnly := func(d string) bool {
		if strings.HasPrefix(d, "_") || strings.HasSuffix(d, "_") || strings.Contains(d, "__") {
			return false
		}
		for _, r := range d {
			if (r < '0' || r > '9') && r != '_' {
				return false
			}
		}
		return true
	}
	intPart, frac := mant, ""
	if i := strings.IndexByte(mant, '.'); i >= 0 {
		intPart, frac = mant[:i], mant[i+1:]
	}
	if intPart+frac == "" || !digitsOnly(intPart) || !digitsOnly(frac) {
		return "", fmt.Errorf("invalid literal %q", s)
	}
	es := exp
	if es != "" && (es[0] == '+' || es[0] == '-') {
		es = es[1:]
	}
	if es == "" || !digitsOnly(es) {
		return "", fmt.Errorf("invalid exponent in %q", s)
	}
	e, err := strconv.Atoi(strings.ReplaceAll(exp, "_", ""))
	if err != nil || e > 1e6 || e < -1e6 {
		return "", fmt.Errorf("exponent out of range")
	}
	digits := strings.ReplaceAll(intPart+frac, "_", "")
	coeff, _ := new(big.Int).SetString(digits, 10)
	return sciString(neg, coeff.String(), e-len(strings.ReplaceAll(frac, "_", ""))), nil
}

// sciString is Decimal.__str__ (to_sci_string) for a finite value.
func sciString(neg bool, intStr string, exp int) string {
	leftdigits := exp + len(intStr)
	dotplace := 1
	if exp <= 0 && leftdigits > -6 {
		dotplace = leftdigits
	}
	var intpart, fracpart string
	switch {
	case dotplace <= 0:
		intpart, fracpart = "0", "."+strings.Repeat("0", -dotplace)+intStr
	case dotplace >= len(intStr):
		intpart = intStr + strings.Repeat("0", dotplace-len(intStr))
	default:
		intpart, fracpart = intStr[:dotplace], "."+intStr[dotplace:]
	}
	e := ""
	if leftdigits != dotplace {
		e = fmt.Sprintf("E%+d", leftdigits-dotplace)
	}
	sign := ""
	if neg {
		sign = "-"
	}
	return sign + intpart + fracpart + e
}

// ipString builds ipaddress objects from a string (or an int for
// addresses) and formats them as Python 3.11 does.
func ipString(fn string, v any) (string, error) {
	wantV4 := strings.HasPrefix(fn, "IPv4")
	wantV6 := strings.HasPrefix(fn, "IPv6")
	check := func(a netip.Addr) error {
		switch {
		case wantV4 && !a.Is4(), wantV6 && !a.Is6():
			return fmt.Errorf("wrong address family")
		case a.Is4In6() || a.Zone() != "":
			return fmt.Errorf("IPv4-mapped and scoped IPv6 addresses print differently across Python versions")
		}
		return nil
	}
	if n, isInt := v.(int64); isInt && strings.Contains(strings.ToLower(fn), "address") {
		if n < 0 || wantV6 {
			return "", fmt.Errorf("integer address")
		}
		if n < 1<<32 {
			var b [4]byte
			for i := 0; i < 4; i++ {
				b[3-i] = byte(n >> (8 * i))
			}
			return netip.AddrFrom4(b).String(), nil
		}
		return "", fmt.Errorf("integer address")
	}
	s, isStr := v.(string)
	if !isStr || strings.ContainsAny(s, " \t") {
		return "", fmt.Errorf("unsupported argument")
	}
	if strings.Contains(s, ":") && strings.Contains(s, ".") {
		return "", fmt.Errorf("IPv6 with an embedded IPv4 address")
	}
	switch {
	case strings.HasSuffix(fn, "Address") || fn == "ip_address":
		a, err := netip.ParseAddr(s)
		if err != nil {
			return "", err
		}
		if err := check(a); err != nil {
			return "", err
		}
		return a.String(), nil
	default:
		network := strings.HasSuffix(fn, "Network") || fn == "ip_network"
		p, err := netip.ParsePrefix(s)
		if !strings.Contains(s, "/") {
			a, aerr := netip.ParseAddr(s)
			if aerr != nil {
				return "", aerr
			}
			p, err = netip.PrefixFrom(a, a.BitLen()), nil
		}
		if err != nil {
			return "", err
		}
		if err := check(p.Addr()); err != nil {
			return "", err
		}
		if network && p.Masked() != p {
			return "", fmt.Errorf("%s has host bits set", s)
		}
		return p.Addr().String() + "/" + strconv.Itoa(p.Bits()), nil
	}
}

// specialPorts are the WHATWG special schemes and their default ports.
var specialPorts = map[string]string{"http": "80", "https": "443", "ws": "80", "wss": "443", "ftp": "21", "file": ""}

// normalizeURL is str(AnyUrl(s)) for the URLs whose normalisation the
// reader knows (the WHATWG rules pydantic-core applies: scheme and host
// lowercased, default port dropped, "/" as the empty path of special
// schemes); anything it would have to percent-encode or resolve is refused.
func normalizeURL(s, kind string) (string, error) {
	for _, r := range s {
		if r <= ' ' || r >= 0x7f || strings.ContainsRune("\"<>`{}|\\^", r) {
			return "", fmt.Errorf("characters pydantic would encode")
		}
	}
	if len(s) > 2083 && kind == "HttpUrl" {
		return "", fmt.Errorf("URL longer than 2083 characters")
	}
	i := strings.IndexByte(s, ':')
	if i <= 0 {
		return "", fmt.Errorf("relative URL")
	}
	scheme := strings.ToLower(s[:i])
	for j, r := range scheme {
		if !(r >= 'a' && r <= 'z' || j > 0 && (r >= '0' && r <= '9' || r == '+' || r == '-' || r == '.')) {
			return "", fmt.Errorf("invalid scheme")
		}
	}
	if (kind == "HttpUrl" || kind == "AnyHttpUrl") && scheme != "http" && scheme != "https" {
		return "", fmt.Errorf("URL scheme should be 'http' or 'https'")
	}
	rest := s[i+1:]
	defPort, special := specialPorts[scheme]
	if !strings.HasPrefix(rest, "//") {
		if special {
			return "", fmt.Errorf("special URL without //")
		}
		return scheme + ":" + rest, nil
	}
	rest = rest[2:]
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	authority, tail := rest[:end], rest[end:]
	userinfo, hostport := "", authority
	if k := strings.LastIndexByte(authority, '@'); k >= 0 {
		userinfo, hostport = authority[:k+1], authority[k+1:]
	}
	host, port := hostport, ""
	if k := strings.LastIndexByte(hostport, ':'); k >= 0 {
		host, port = hostport[:k], hostport[k+1:]
		if port != "" {
			n, err := strconv.Atoi(port)
			if err != nil || n > 65535 || port[0] == '0' && len(port) > 1 {
				return "", fmt.Errorf("invalid port")
			}
		}
	}
	if strings.HasPrefix(host, "[") || strings.Contains(host, "%") {
		return "", fmt.Errorf("host the reader does not normalise")
	}
	path, query := tail, ""
	if k := strings.IndexAny(tail, "?#"); k >= 0 {
		path, query = tail[:k], tail[k:]
	}
	if special {
		if scheme == "file" {
			if host != "" || userinfo != "" || port != "" {
				return "", fmt.Errorf("file URL with a host")
			}
		} else if host == "" {
			return "", fmt.Errorf("empty host")
		}
		host = strings.ToLower(host)
		labels := strings.Split(host, ".")
		for _, r := range host {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '.' || r == '_') {
				return "", fmt.Errorf("host the reader does not normalise")
			}
		}
		if last := labels[len(labels)-1]; last != "" && strings.Trim(last, "0123456789") == "" || strings.HasPrefix(last, "0x") {
			if a, err := netip.ParseAddr(host); err != nil || !a.Is4() {
				return "", fmt.Errorf("numeric host the reader does not normalise")
			}
		}
		if port == defPort {
			port = ""
		}
		if path == "" {
			path = "/"
		}
		for _, seg := range strings.Split(path, "/") {
			if l := strings.ToLower(seg); l == "." || l == ".." || strings.Contains(l, "%2e") {
				return "", fmt.Errorf("path with dot segments")
			}
		}
	}
	out := scheme + "://" + userinfo + host
	if port != "" {
		out += ":" + port
	}
	return out + path + query, nil
}

// fractionStr is str(Fraction(...)) for integers and "a/b" strings.
func fractionStr(args []any, kws map[string]any) (string, error) {
	if len(kws) > 0 || len(args) == 0 || len(args) > 2 {
		return "", fmt.Errorf("arguments")
	}
	num, den := new(big.Int), big.NewInt(1)
	switch x := args[0].(type) {
	case bool, int64, *big.Int:
		b, _ := toBig(x)
		num.Set(b)
	case string:
		t := strings.TrimSpace(x)
		n, d, hasSlash := strings.Cut(t, "/")
		if _, ok := num.SetString(n, 10); !ok || strings.ContainsAny(n, "_ ") {
			return "", fmt.Errorf("string")
		}
		if hasSlash {
			if _, ok := den.SetString(d, 10); !ok || strings.ContainsAny(d, "+-_ ") {
				return "", fmt.Errorf("string")
			}
		}
	default:
		return "", fmt.Errorf("%s", pyTypeName(x))
	}
	if len(args) == 2 {
		if _, isStr := args[0].(string); isStr {
			return "", fmt.Errorf("arguments")
		}
		b, ok := toBig(args[1])
		if !ok {
			return "", fmt.Errorf("denominator")
		}
		den.Set(b)
	}
	if den.Sign() == 0 {
		return "", fmt.Errorf("zero denominator")
	}
	r := new(big.Rat).SetFrac(num, den)
	if r.IsInt() {
		return r.Num().String(), nil
	}
	return r.Num().String() + "/" + r.Denom().String(), nil
}
