package py

import (
	"strings"
	"testing"
	"time"
)

// TestDateparser reads --start-in and --start-at texts in Paris, where a
// bare time of day and a date are local.
func TestDateparser(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Skip("no tzdata:", err)
	}
	now := time.Date(2026, 11, 26, 20, 30, 15, 0, time.UTC) // 21:30:15 in Paris
	cases := []struct {
		in, at string
		want   string // UTC, RFC 3339
		when   string
	}{
		{in: "5 minutes", want: "2026-11-26T20:35:15Z", when: "in 5 minutes"},
		{in: "in 2 hours", want: "2026-11-26T22:30:15Z", when: "in 2 hours"},
		{in: "1 hour and 30 minutes", want: "2026-11-26T22:00:15Z", when: "in 1 hour"},
		{in: "1.5 hours", want: "2026-11-26T22:00:15Z", when: "in 1 hour"},
		{in: "an hour", want: "2026-11-26T21:30:15Z", when: "in 1 hour"},
		{in: "90s", want: "2026-11-26T20:31:45Z", when: "in 1 minute"},
		{in: "1h30m", want: "2026-11-26T22:00:15Z", when: "in 1 hour"},
		{in: "2 weeks", want: "2026-12-10T20:30:15Z", when: "in 2 weeks"},
		{in: "1 month", want: "2026-12-26T20:30:15Z", when: "in 1 month"},
		{in: "3 days, 2 hours", want: "2026-11-29T22:30:15Z", when: "in 3 days"},
		{at: "2027-08-01T17:30:00Z", want: "2027-08-01T17:30:00Z", when: "in 8 months"},
		{at: "2027-08-01T17:30:00+02:00", want: "2027-08-01T15:30:00Z", when: "in 8 months"},
		{at: "2022-08-01 17:30", want: "2022-08-01T15:30:00Z", when: "4 years ago"},
		{at: "2022-08-01", want: "2022-07-31T22:00:00Z", when: "4 years ago"},
		{at: "17:30", want: "2026-11-27T16:30:00Z", when: "in 19 hours"},
		{at: "23:00", want: "2026-11-26T22:00:00Z", when: "in 1 hour"},
		{at: "5:30pm", want: "2026-11-27T16:30:00Z", when: "in 19 hours"},
		{at: "11pm", want: "2026-11-26T22:00:00Z", when: "in 1 hour"},
		{at: "now", want: "2026-11-26T20:30:15Z", when: "a few seconds ago"},
		{at: "tomorrow", want: "2026-11-27T20:30:15Z", when: "in 1 day"},
		{at: "tomorrow 10:00", want: "2026-11-27T09:00:00Z", when: "in 12 hours"},
		{at: "tomorrow at 9am", want: "2026-11-27T08:00:00Z", when: "in 11 hours"},
		{at: "today 23:00", want: "2026-11-26T22:00:00Z", when: "in 1 hour"},
	}
	for _, c := range cases {
		var got time.Time
		var ok bool
		if c.in != "" {
			got, ok = ParseRelativeTime(c.in, now)
		} else {
			got, ok = ParseDateTime(c.at, now, paris)
		}
		if !ok {
			t.Errorf("%q%q: not read", c.in, c.at)
			continue
		}
		got = got.UTC()
		if when := HumanDiff(got, now); got.Format(time.RFC3339) != c.want || when != c.when {
			t.Errorf("%q%q: got %s (%s), want %s (%s)", c.in, c.at, got.Format(time.RFC3339), when, c.want, c.when)
		}
	}
	for _, bad := range []string{"", "soon", "5 parsecs", "1 month and a bit", "25:00", "13pm", "5"} {
		if _, ok := ParseDateTime(bad+"x", now, paris); ok && bad != "" {
			t.Errorf("--start-at %q accepted", bad+"x")
		}
		if bad == "" {
			continue
		}
		if _, ok := ParseRelativeTime(bad, now); ok {
			t.Errorf("--start-in %q accepted", bad)
		}
	}
}

// TestDateparserAgainstPython checks the documented subset against the
// dateparser call Prefect makes, in UTC, for inputs where both agree by
// design.
func TestDateparserAgainstPython(t *testing.T) {
	inputs := []string{"in 5 minutes", "in 2 hours", "in 1 hour and 30 minutes", "in 1.5 hours", "in an hour", "in 90s",
		"in 1h", "in 2 weeks", "in 1 day", "in 5 mins", "in 1 month", "at 2022-08-01 17:30", "at 2022-08-01 17:30:00",
		"at 2022-08-01", "at 2027-08-01T17:30:00Z", "at 2027-08-01T17:30:00+02:00", "at 17:30", "at 23:00", "at 5:30pm",
		"at 5pm", "at now", "at tomorrow", "at tomorrow 10:00", "at today 23:00", "in foobar", "at foobar"}
	script := `
import json, sys, warnings
from datetime import datetime, timezone
import dateparser
warnings.filterwarnings("ignore")
base = datetime(2026, 11, 26, 20, 30, 15, tzinfo=timezone.utc)
out = []
for s in json.load(sys.stdin):
    r = dateparser.parse(s, settings={"TO_TIMEZONE": "UTC", "RETURN_AS_TIMEZONE_AWARE": False,
        "PREFER_DATES_FROM": "future", "RELATIVE_BASE": base})
    out.append(r.strftime("%Y-%m-%dT%H:%M:%SZ") if r else None)
print(json.dumps(out))
`
	var want []*string
	askPython(t, script, inputs, &want)
	now := time.Date(2026, 11, 26, 20, 30, 15, 0, time.UTC)
	for i, in := range inputs {
		kind, text, _ := strings.Cut(in, " ")
		var got time.Time
		var ok bool
		if kind == "in" {
			got, ok = ParseRelativeTime(text, now)
		} else {
			got, ok = ParseDateTime(text, now, time.UTC)
		}
		got = got.UTC()
		switch {
		case want[i] == nil && ok:
			t.Errorf("%q: dateparser rejects it, prefectctl gives %s", in, got)
		case want[i] != nil && !ok:
			t.Errorf("%q: dateparser gives %s, prefectctl does not read it", in, *want[i])
		case want[i] != nil && got.Format(time.RFC3339) != *want[i]:
			t.Errorf("%q: dateparser gives %s, prefectctl %s", in, *want[i], got.Format(time.RFC3339))
		}
	}
}

// TestHumanDiffAgainstPendulum compares with Prefect's human_friendly_diff.
func TestHumanDiffAgainstPendulum(t *testing.T) {
	secs := []float64{3, 10.5, 11, 59, 60, 119, 120, 3599, 3600, 5400, 7200, 79200, 86399, 86400, 6 * 86400, 7 * 86400,
		10 * 86400, 11 * 86400, 13 * 86400, 30 * 86400, 45 * 86400, 200 * 86400, 340 * 86400, 365 * 86400, 600 * 86400,
		-30, -300, -3 * 86400, -400 * 86400}
	script := `
import json, sys
from datetime import datetime, timedelta, timezone
import pendulum
base = pendulum.datetime(2026, 1, 15, 12, 0, 0, tz="UTC")
out = []
for s in json.load(sys.stdin):
    out.append(pendulum.instance(base + timedelta(seconds=s)).diff_for_humans(base))
print(json.dumps(out))
`
	var want []string
	askPython(t, script, secs, &want)
	base := time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)
	for i, s := range secs {
		got := HumanDiff(base.Add(time.Duration(s*float64(time.Second))), base)
		// Prefect's diff is relative to now; pendulum's "after"/"before"
		// wording for an explicit base is turned back into "in"/"ago".
		w := want[i]
		if strings.HasSuffix(w, " after") {
			w = "in " + strings.TrimSuffix(w, " after")
		} else if strings.HasSuffix(w, " before") {
			w = strings.TrimSuffix(w, " before") + " ago"
		}
		if got != w {
			t.Errorf("%vs: pendulum %q, prefectctl %q", s, w, got)
		}
	}
}
