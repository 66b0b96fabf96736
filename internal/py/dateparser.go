package py

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// dateparser and pendulum are what Prefect's `deployment run` uses to read
// --start-in/--start-at and to say when a run starts; prefectctl reads the
// documented subset below and says it the way pendulum does.

var durTerm = regexp.MustCompile(`^(\d+(?:\.\d+)?|\.\d+|an?)\s*([a-z]+)`)

var durUnits = map[string]time.Duration{
	"s": time.Second, "sec": time.Second, "secs": time.Second, "second": time.Second, "seconds": time.Second,
	"m": time.Minute, "min": time.Minute, "mins": time.Minute, "minute": time.Minute, "minutes": time.Minute,
	"h": time.Hour, "hr": time.Hour, "hrs": time.Hour, "hour": time.Hour, "hours": time.Hour,
	"d": 24 * time.Hour, "day": 24 * time.Hour, "days": 24 * time.Hour,
	"w": 7 * 24 * time.Hour, "week": 7 * 24 * time.Hour, "weeks": 7 * 24 * time.Hour,
}

// ParseRelativeTime is dateparser.parse("in " + s) for the durations
// people write after --start-in: "5 minutes", "in 2 hours", "1 hour and 30
// minutes", "1.5 hours", "an hour", "90s", "1h30m"; units s/sec/second,
// m/min/minute, h/hr/hour, d/day, w/week, month and year (plurals too).
// ok is false for anything else.
func ParseRelativeTime(s string, now time.Time) (time.Time, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	s = strings.TrimSpace(strings.TrimPrefix(s, "in "))
	t := now
	terms := 0
	for s != "" {
		m := durTerm.FindStringSubmatch(s)
		if m == nil {
			return time.Time{}, false
		}
		n := 1.0
		if m[1] != "a" && m[1] != "an" {
			n, _ = strconv.ParseFloat(m[1], 64)
		}
		switch m[2] {
		case "month", "months", "year", "years":
			if n != math.Trunc(n) {
				return time.Time{}, false
			}
			if m[2][0] == 'm' {
				t = t.AddDate(0, int(n), 0)
			} else {
				t = t.AddDate(int(n), 0, 0)
			}
		default:
			u, ok := durUnits[m[2]]
			if !ok {
				return time.Time{}, false
			}
			t = t.Add(time.Duration(n * float64(u)))
		}
		terms++
		s = strings.TrimLeft(s[len(m[0]):], " ,")
		s = strings.TrimSpace(strings.TrimPrefix(s, "and "))
	}
	return t, terms > 0
}

var (
	startClockRe = regexp.MustCompile(`^(\d{1,2})(?::(\d{2}))?(?::(\d{2}))?\s*(am|pm)?$`)
	startDayRe   = regexp.MustCompile(`^(today|tomorrow)(?:\s+(?:at\s+)?(.+))?$`)
)

// ParseDateTime is dateparser.parse(s) with PREFER_DATES_FROM=future for
// the forms people write after --start-at: ISO 8601 with a zone
// ("2026-08-01T17:30:00Z", "...+02:00"), "2026-08-01 17:30[:00]",
// "2026-08-01" (midnight), "17:30", "5pm", "5:30pm", "now", and
// "today"/"tomorrow" optionally followed by [at] a time. Times without a
// zone are in loc, as dateparser assumes the local zone; a bare time of
// day already past today means tomorrow; "tomorrow" alone is this time
// tomorrow. ok is false for anything else.
func ParseDateTime(s string, now time.Time, loc *time.Location) (time.Time, bool) {
	s = strings.TrimSpace(s)
	lower := strings.ToLower(s)
	if lower == "now" {
		return now, true
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04Z07:00", "2006-01-02 15:04:05Z07:00", "2006-01-02 15:04Z07:00"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	for _, layout := range []string{"2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999", "2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, true
		}
	}
	localNow := now.In(loc)
	if m := startDayRe.FindStringSubmatch(lower); m != nil {
		add := 0
		if m[1] == "tomorrow" {
			add = 1
		}
		if m[2] == "" {
			return now.AddDate(0, 0, add), true
		}
		h, mi, sec, ok := parseClock(m[2])
		if !ok {
			return time.Time{}, false
		}
		y, mo, d := localNow.Date()
		return time.Date(y, mo, d+add, h, mi, sec, 0, loc), true
	}
	if h, mi, sec, ok := parseClock(lower); ok {
		y, mo, d := localNow.Date()
		t := time.Date(y, mo, d, h, mi, sec, 0, loc)
		if t.Before(now) {
			t = time.Date(y, mo, d+1, h, mi, sec, 0, loc)
		}
		return t, true
	}
	return time.Time{}, false
}

// parseClock reads "17:30", "17:30:05", "5pm", "5:30 pm".
func parseClock(s string) (h, m, sec int, ok bool) {
	c := startClockRe.FindStringSubmatch(strings.TrimSpace(s))
	if c == nil || (c[2] == "" && c[4] == "") { // a bare number is not a time
		return 0, 0, 0, false
	}
	h, _ = strconv.Atoi(c[1])
	if c[2] != "" {
		m, _ = strconv.Atoi(c[2])
	}
	if c[3] != "" {
		sec, _ = strconv.Atoi(c[3])
	}
	switch c[4] {
	case "am", "pm":
		if h < 1 || h > 12 {
			return 0, 0, 0, false
		}
		h %= 12
		if c[4] == "pm" {
			h += 12
		}
	}
	return h, m, sec, h < 24 && m < 60 && sec < 60
}
