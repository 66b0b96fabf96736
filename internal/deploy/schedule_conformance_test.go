package deploy

import (
	"testing"
	"time"

	"github.com/prefectctl/prefectctl/internal/py"
)

// The expected strings are what Prefect 3.9.1's normalize_rrule_string
// returns for the same rule, timezone and now.
func TestWithDTSTARTLikePrefect(t *testing.T) {
	now := time.Date(2026, 11, 26, 21, 3, 22, 0, time.UTC)
	cases := []struct{ rule, tz, want string }{
		{"FREQ=HOURLY", "UTC", "DTSTART:20200101T000000\nFREQ=HOURLY"},
		{"RRULE:FREQ=DAILY;BYHOUR=9", "UTC", "DTSTART:20200101T000000\nRRULE:FREQ=DAILY;BYHOUR=9"},
		{"FREQ=MINUTELY;INTERVAL=5", "Asia/Tokyo", "DTSTART:20261127T060000\nFREQ=MINUTELY;INTERVAL=5"},
		{"FREQ=MINUTELY;INTERVAL=7", "UTC", "DTSTART:20261126T210200\nFREQ=MINUTELY;INTERVAL=7"},
		{"FREQ=SECONDLY;INTERVAL=45", "America/New_York", "DTSTART:20261126T160300\nFREQ=SECONDLY;INTERVAL=45"},
		{"FREQ=MINUTELY;COUNT=3", "UTC", "DTSTART:20200101T000000\nFREQ=MINUTELY;COUNT=3"},
		{"DTSTART:20240101T060000\nRRULE:FREQ=DAILY", "UTC", "DTSTART:20240101T060000\nRRULE:FREQ=DAILY"},
		{"dtstart:20240101T060000\nRRULE:FREQ=DAILY", "UTC", "dtstart:20240101T060000\nRRULE:FREQ=DAILY"},
		{"RRULE:FREQ=DAILY\nEXDATE:20260101T000000", "UTC", "DTSTART:20200101T000000\nRRULE:FREQ=DAILY\nEXDATE:20260101T000000"},
		{"FREQ=NOPE", "UTC", "FREQ=NOPE"},
		{"FREQ=minutely", "UTC", "DTSTART:20261126T210300\nFREQ=minutely"},
	}
	for _, c := range cases {
		if got := withDTSTART(c.rule, c.tz, now); got != c.want {
			t.Errorf("withDTSTART(%q, %q) = %q, want %q", c.rule, c.tz, got, c.want)
		}
	}
}

// The expected update forms are the schedules Prefect 3.9.1 sent in its
// PATCH /deployments/{id} for the same prefect.yaml entries (recorded with
// the conformance proxy).
func TestScheduleUpdateLikePrefect(t *testing.T) {
	now := time.Date(2026, 11, 26, 21, 3, 22, 0, time.UTC)
	cases := []struct{ cfg, want string }{
		{`{"interval": 600}`, `{"schedule":{"interval":600.0,"timezone":"UTC"}}`},
		{`{"interval": 600, "timezone": "Europe/Paris", "anchor_date": "2026-01-01"}`,
			`{"schedule":{"interval":600.0,"anchor_date":"2026-01-01T00:00:00Z","timezone":"Europe/Paris"}}`},
		{`{"cron": "0 1 * * *"}`, `{"schedule":{"cron":"0 1 * * *"}}`},
		{`{"cron": "0 1 * * *", "timezone": "UTC", "day_or": false, "active": true}`,
			`{"schedule":{"cron":"0 1 * * *","timezone":"UTC","day_or":false},"active":true}`},
		{`{"rrule": "FREQ=HOURLY"}`, `{"schedule":{"rrule":"DTSTART:20200101T000000\nFREQ=HOURLY","timezone":"UTC"}}`},
		{`{"cron": "0 7 * * *", "slug": "early", "replaces": "morning", "parameters": {"n": 1}}`,
			`{"schedule":{"cron":"0 7 * * *"},"parameters":{"n":1},"slug":"early","replaces":"morning"}`},
	}
	for _, c := range cases {
		v, err := py.DecodeJSON([]byte(c.cfg))
		if err != nil {
			t.Fatal(err)
		}
		cfg := v.(*py.Map)
		full, err := convertSchedule(cfg, now, false)
		if err != nil {
			t.Fatalf("%s: %v", c.cfg, err)
		}
		b, err := py.EncodeJSON(scheduleUpdate(cfg, full))
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.cfg, b, c.want)
		}
	}
}
