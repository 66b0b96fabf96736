package flowmeta

import (
	"math"
	"math/big"
	"slices"
)

func newTimedelta(args []any, kws map[string]any, line int) (any, error) {
	names := []string{"days", "seconds", "microseconds", "milliseconds", "minutes", "hours", "weeks"}
	scale := map[string]*big.Rat{
		"days": big.NewRat(86400e6, 1), "seconds": big.NewRat(1e6, 1), "microseconds": big.NewRat(1, 1),
		"milliseconds": big.NewRat(1000, 1), "minutes": big.NewRat(60e6, 1), "hours": big.NewRat(3600e6, 1),
		"weeks": big.NewRat(7*86400e6, 1),
	}
	if len(args) > len(names) {
		return nil, opaque(line, "timedelta with too many arguments")
	}
	total := new(big.Rat)
	add := func(name string, v any) error {
		var r *big.Rat
		if b, ok := toBig(v); ok {
			r = new(big.Rat).SetInt(b)
		} else if f, ok := v.(float64); ok && !math.IsInf(f, 0) && !math.IsNaN(f) {
			r = new(big.Rat)
			r.SetFloat64(f)
		} else {
			return opaque(line, "timedelta(%s=%s)", name, pyTypeName(v))
		}
		total.Add(total, new(big.Rat).Mul(r, scale[name]))
		return nil
	}
	for i, a := range args {
		if err := add(names[i], a); err != nil {
			return nil, err
		}
	}
	for k, v := range kws {
		if _, ok := scale[k]; !ok {
			return nil, opaque(line, "timedelta keyword %s", k)
		}
		if err := add(k, v); err != nil {
			return nil, err
		}
	}
	if !total.IsInt() {
		// Python rounds half to even to whole microseconds.
		f, _ := total.Float64()
		return timedelta{big.NewInt(int64(math.RoundToEven(f)))}, nil
	}
	return timedelta{new(big.Int).Set(total.Num())}, nil
}

func newDate(isDT bool, args []any, kws map[string]any, line int) (any, error) {
	names := []string{"year", "month", "day", "hour", "minute", "second", "microsecond"}
	if !isDT {
		names = names[:3]
	}
	vals := map[string]int{}
	if len(args) > len(names) {
		return nil, opaque(line, "date with too many arguments")
	}
	for i, a := range args {
		n, ok := a.(int64)
		if !ok {
			return nil, opaque(line, "date argument %s", pyTypeName(a))
		}
		vals[names[i]] = int(n)
	}
	for k, v := range kws {
		n, ok := v.(int64)
		if !ok || !slices.Contains(names, k) {
			return nil, opaque(line, "date keyword %s", k)
		}
		vals[k] = int(n)
	}
	for _, req := range []string{"year", "month", "day"} {
		if _, ok := vals[req]; !ok {
			return nil, opaque(line, "date without %s", req)
		}
	}
	d := pyDate{vals["year"], vals["month"], vals["day"]}
	if d.mo < 1 || d.mo > 12 || d.d < 1 || d.d > daysIn(d.y, d.mo) || d.y < 1 || d.y > 9999 {
		return nil, opaque(line, "invalid date")
	}
	if !isDT {
		return d, nil
	}
	dt := pyDT{date: d, h: vals["hour"], mi: vals["minute"], s: vals["second"], us: vals["microsecond"], isDTm: true}
	if dt.h < 0 || dt.h > 23 || dt.mi < 0 || dt.mi > 59 || dt.s < 0 || dt.s > 59 || dt.us < 0 || dt.us > 999999 {
		return nil, opaque(line, "invalid datetime")
	}
	return dt, nil
}

func daysIn(y, m int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}
