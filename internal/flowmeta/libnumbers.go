// Library default values that are numbers: Decimal, Fraction, and Python's float() of a string.

package flowmeta

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
)

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
