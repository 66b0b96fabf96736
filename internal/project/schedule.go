package project

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

var (
	reISODur  = regexp.MustCompile(`^([-+])?P(?:(\d+(?:\.\d+)?)Y)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$`)
	reClock   = regexp.MustCompile(`^([-+])?(?:(\d+)\s*(?:d|days?),?\s*)?(?:(\d{1,2}):)?(\d{1,2}):(\d{1,2}(?:\.\d+)?)$`)
	reDayOnly = regexp.MustCompile(`^([-+])?(\d+)\s*(?:d|days?)$`)
)

// IntervalSeconds reads an interval the way pydantic reads a timedelta:
// seconds as a number, an ISO 8601 duration, or [D days,] HH:MM:SS. The
// result must be positive, as Prefect's IntervalSchedule requires.
func IntervalSeconds(x any) (float64, error) {
	var secs float64
	switch t := x.(type) {
	case bool:
		if t {
			secs = 1
		}
	case int64:
		secs = float64(t)
	case float64:
		secs = t
	case string:
		s := strings.TrimSpace(t)
		var err error
		if secs, err = parseDuration(s); err != nil {
			return 0, err
		}
	default:
		return 0, fmt.Errorf("expected a number of seconds or a duration string, got %T", x)
	}
	if secs <= 0 {
		return 0, errors.New("the interval must be greater than 0")
	}
	return secs, nil
}

func parseDuration(s string) (float64, error) {
	num := func(x string) float64 { f, _ := strconv.ParseFloat(x, 64); return f }
	sign := func(x string) float64 {
		if x == "-" {
			return -1
		}
		return 1
	}
	if m := reISODur.FindStringSubmatch(s); m != nil && s != "P" && s != "PT" && !strings.HasSuffix(s, "T") {
		total := num(m[2])*365*86400 + num(m[3])*30*86400 + num(m[4])*7*86400 + num(m[5])*86400 +
			num(m[6])*3600 + num(m[7])*60 + num(m[8])
		return sign(m[1]) * total, nil
	}
	if m := reClock.FindStringSubmatch(s); m != nil {
		return sign(m[1]) * (num(m[2])*86400 + num(m[3])*3600 + num(m[4])*60 + num(m[5])), nil
	}
	if m := reDayOnly.FindStringSubmatch(s); m != nil {
		return sign(m[1]) * num(m[2]) * 86400, nil
	}
	return 0, fmt.Errorf("not a duration")
}

var cronAliases = map[string]bool{"@yearly": true, "@annually": true, "@monthly": true, "@weekly": true, "@daily": true, "@midnight": true, "@hourly": true}

var cronFields = []struct {
	name     string
	min, max int
	names    []string
}{
	{"minute", 0, 59, nil},
	{"hour", 0, 23, nil},
	{"day of month", 1, 31, nil},
	{"month", 1, 12, []string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}},
	{"day of week", 0, 7, []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}},
	{"second", 0, 59, nil},
}

// ValidateCron checks a cron expression as croniter (Prefect's parser)
// would accept it: five fields, or six with seconds last; @aliases; lists,
// ranges, steps, month and day names, L and #. Random (R) and hashed (H)
// expressions are rejected, as Prefect rejects them.
func ValidateCron(expr string) error {
	e := strings.TrimSpace(expr)
	if cronAliases[strings.ToLower(e)] {
		return nil
	}
	fields := strings.Fields(e)
	if len(fields) != 5 && len(fields) != 6 {
		return fmt.Errorf("expected 5 fields, found %d", len(fields))
	}
	for i, f := range fields {
		spec := cronFields[i]
		for _, part := range strings.Split(f, ",") {
			if err := cronPart(part, spec.min, spec.max, spec.names, i); err != nil {
				return fmt.Errorf("%s field %q: %v", spec.name, f, err)
			}
		}
	}
	return nil
}

func cronPart(p string, lo, hi int, names []string, field int) error {
	if p == "" {
		return errors.New("empty list item")
	}
	if strings.ContainsAny(p, "RH") && !strings.ContainsAny(strings.ToLower(p), "abcdefgijklmnopqrstuvwxyz") {
		return errors.New("random (R) and hashed (H) expressions are not supported by Prefect")
	}
	rng, step, hasStep := strings.Cut(p, "/")
	if hasStep {
		n, err := strconv.Atoi(step)
		if err != nil || n <= 0 {
			return fmt.Errorf("invalid step %q", step)
		}
	}
	if rng == "*" || rng == "?" {
		return nil
	}
	// Day-of-month L, day-of-week 5L and 1#2 forms.
	if (field == 2 && (rng == "L" || rng == "l")) || (field == 4 && (strings.HasSuffix(strings.ToLower(rng), "l") || strings.Contains(rng, "#"))) {
		base := strings.TrimRight(strings.SplitN(rng, "#", 2)[0], "Ll")
		if base == "" {
			return nil
		}
		_, err := cronValue(base, lo, hi, names)
		return err
	}
	a, b, isRange := strings.Cut(rng, "-")
	x, err := cronValue(a, lo, hi, names)
	if err != nil {
		return err
	}
	if isRange {
		y, err := cronValue(b, lo, hi, names)
		if err != nil {
			return err
		}
		_ = x
		_ = y
	}
	return nil
}

func cronValue(s string, lo, hi int, names []string) (int, error) {
	for i, n := range names {
		if strings.EqualFold(s, n) {
			return i + lo, nil
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	if n < lo || n > hi {
		return 0, fmt.Errorf("%d is out of range %d-%d", n, lo, hi)
	}
	return n, nil
}

var rruleKeys = map[string]bool{"FREQ": true, "UNTIL": true, "COUNT": true, "INTERVAL": true, "BYSECOND": true, "BYMINUTE": true, "BYHOUR": true, "BYDAY": true, "BYMONTHDAY": true, "BYYEARDAY": true, "BYWEEKNO": true, "BYMONTH": true, "BYSETPOS": true, "WKST": true, "BYEASTER": true, "BYWEEKDAY": true}
var rruleFreq = map[string]bool{"YEARLY": true, "MONTHLY": true, "WEEKLY": true, "DAILY": true, "HOURLY": true, "MINUTELY": true, "SECONDLY": true}

// ValidateRRule checks the RRULE part of an RFC 5545 string (with optional
// DTSTART/EXDATE lines). A JSON object string is accepted as Prefect
// accepts it.
func ValidateRRule(s string) error {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "{") {
		return nil
	}
	found := false
	for _, line := range strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' }) {
		line = strings.TrimSpace(line)
		body := line
		if name, rest, ok := strings.Cut(line, ":"); ok && !strings.Contains(name, "=") {
			switch strings.ToUpper(strings.SplitN(name, ";", 2)[0]) {
			case "RRULE", "EXRULE":
				body = rest
			case "DTSTART", "EXDATE", "RDATE":
				continue
			default:
				return fmt.Errorf("unknown property %q", name)
			}
		}
		freq := false
		for _, kv := range strings.Split(body, ";") {
			k, v, ok := strings.Cut(kv, "=")
			k = strings.ToUpper(strings.TrimSpace(k))
			if !ok || !rruleKeys[k] {
				return fmt.Errorf("unknown rule part %q", kv)
			}
			if k == "FREQ" {
				if !rruleFreq[strings.ToUpper(v)] {
					return fmt.Errorf("unknown FREQ %q", v)
				}
				freq = true
			}
		}
		if !freq {
			return errors.New("FREQ is required")
		}
		found = true
	}
	if !found {
		return errors.New("no RRULE found")
	}
	return nil
}
