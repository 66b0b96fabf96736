package py

import "strings"

// pydantic's lax mode, which Prefect's models and settings apply to what
// prefect.yaml and the environment give them: a value of another type is
// accepted when it reads unambiguously as the one wanted.

// LaxBool is pydantic's lax bool: a bool, 0 or 1, or one of the words
// 0/off/f/false/n/no and 1/on/t/true/y/yes in any case (and without
// surrounding spaces). ok is false for anything else.
func LaxBool(x any) (b, ok bool) {
	switch t := x.(type) {
	case bool:
		return t, true
	case int64:
		if t == 0 || t == 1 {
			return t == 1, true
		}
	case float64:
		if t == 0 || t == 1 {
			return t == 1, true
		}
	case string:
		switch strings.ToLower(t) {
		case "0", "off", "f", "false", "n", "no":
			return false, true
		case "1", "on", "t", "true", "y", "yes":
			return true, true
		}
	}
	return false, false
}

// LaxInt is pydantic's lax int: an int, a float with no fractional part, a
// bool, or a string of ASCII digits that Python's int() reads once
// surrounding spaces and a fraction of zeros ("1.00") are dropped.
func LaxInt(x any) (n int64, ok bool) {
	switch t := x.(type) {
	case int64:
		return t, true
	case float64:
		if t == float64(int64(t)) {
			return int64(t), true
		}
	case string:
		s := Strip(t)
		if whole, frac, dot := strings.Cut(s, "."); dot && whole != "" && frac != "" && strings.Trim(frac, "0") == "" {
			s = whole
		}
		if !IsASCII(s) {
			return 0, false // pydantic reads ASCII digits only
		}
		return ParseInt(s)
	case bool:
		if t {
			return 1, true
		}
		return 0, true
	}
	return 0, false
}
