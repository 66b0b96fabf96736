package flowmeta

import (
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/prefectctl/prefectctl/internal/py"
)

// toJSON turns a default into what pydantic writes into the schema
// (to_jsonable_python in JSON mode). ok is false for values pydantic
// leaves out (functions and the like).
func toJSON(v any) (out any, ok bool, err error) {
	switch t := v.(type) {
	case nil, bool, int64, string:
		return t, true, nil
	case *big.Int:
		return json.Number(t.String()), true, nil
	case float64:
		if math.IsInf(t, 0) || math.IsNaN(t) {
			return nil, false, fmt.Errorf("non-finite float default")
		}
		return t, true, nil
	case pyBytes:
		// pydantic writes bytes defaults as UTF-8 text
		if !utf8.ValidString(string(t)) {
			return nil, false, fmt.Errorf("bytes default that is not UTF-8")
		}
		return string(t), true, nil
	case pyComplex:
		return pydanticComplex(t), true, nil
	case jsonValue:
		return t.pydanticJSON()
	case []any:
		return listJSON(t)
	case pyTuple:
		return listJSON(t)
	case pySet:
		if len(t) > 1 {
			return nil, false, fmt.Errorf("set default with several items (its order depends on Python's hashing)")
		}
		return listJSON(t)
	case *pyDict:
		m := py.NewMap()
		for i, k := range t.keys {
			ks, err := keyString(k)
			if err != nil {
				return nil, false, err
			}
			jv, ok, err := toJSON(t.vals[i])
			if err != nil || !ok {
				return nil, ok, err
			}
			m.Set(ks, jv)
		}
		return m, true, nil
	case enumMember:
		return toJSON(t.value)
	case modelValue:
		return toJSON(t.fields)
	case timedelta:
		return isoDuration(t.micros), true, nil
	case pyDate:
		return py.Date{Year: t.y, Month: time.Month(t.mo), Day: t.d}.ISO(), true, nil
	case pyDT:
		at := time.Date(t.date.y, time.Month(t.date.mo), t.date.d, t.h, t.mi, t.s, t.us*1000, time.UTC)
		return py.DateTime{Time: at, Naive: true}.ISO(), true, nil
	case strLike:
		return t.s, true, nil
	case unserializable:
		return nil, false, nil
	case pyEllipsis:
		return nil, false, nil
	}
	return nil, false, fmt.Errorf("default of type %T", v)
}

func listJSON(items []any) (any, bool, error) {
	out := make([]any, 0, len(items))
	for _, it := range items {
		j, ok, err := toJSON(it)
		if err != nil || !ok {
			return nil, ok, err
		}
		out = append(out, j)
	}
	return out, true, nil
}

func keyString(k any) (string, error) {
	switch t := k.(type) {
	case string:
		return t, nil
	case nil:
		return "None", nil
	case bool:
		if t {
			return "true", nil
		}
		return "false", nil
	case int64:
		return strconv.FormatInt(t, 10), nil
	case *big.Int:
		return t.String(), nil
	case float64:
		return py.FloatRepr(t), nil
	case enumMember:
		return keyString(t.value)
	}
	return "", fmt.Errorf("dict key of type %s", pyTypeName(k))
}

func complexRepr(c pyComplex) string {
	im := py.FloatRepr(c.imag)
	im = strings.TrimSuffix(im, ".0")
	if c.real == 0 && !math.Signbit(c.real) {
		return im + "j"
	}
	re := strings.TrimSuffix(py.FloatRepr(c.real), ".0")
	sign := "+"
	if c.imag < 0 || math.Signbit(c.imag) {
		sign = ""
	}
	return "(" + re + sign + im + "j)"
}

// isoDuration formats a timedelta the way pydantic's JSON mode does.
func isoDuration(micros *big.Int) string {
	neg := micros.Sign() < 0
	m := new(big.Int).Abs(micros)
	day := big.NewInt(86400e6)
	days, rest := new(big.Int).QuoRem(m, day, new(big.Int))
	r := rest.Int64()
	h := r / 3600e6
	r %= 3600e6
	mi := r / 60e6
	r %= 60e6
	s := r / 1e6
	us := r % 1e6
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	b.WriteByte('P')
	if days.Sign() != 0 {
		b.WriteString(days.String())
		b.WriteByte('D')
	}
	if h != 0 || mi != 0 || s != 0 || us != 0 || days.Sign() == 0 {
		b.WriteByte('T')
		if h != 0 {
			fmt.Fprintf(&b, "%dH", h)
		}
		if mi != 0 {
			fmt.Fprintf(&b, "%dM", mi)
		}
		if s != 0 || us != 0 || h == 0 && mi == 0 {
			if us != 0 {
				frac := strings.TrimRight(fmt.Sprintf("%06d", us), "0")
				fmt.Fprintf(&b, "%d.%sS", s, frac)
			} else {
				fmt.Fprintf(&b, "%dS", s)
			}
		}
	}
	return b.String()
}
