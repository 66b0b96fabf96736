package py

import (
	"fmt"
	"time"
)

// Date is a calendar date, what PyYAML gives for an unquoted 2024-01-01.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// DateTime is what PyYAML gives for an unquoted timestamp. Naive reports a
// timestamp without a zone (Python's naive datetime).
type DateTime struct {
	Time  time.Time
	Naive bool
}

// ISO returns the date as date.isoformat() and pydantic's JSON mode write it.
func (d Date) ISO() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day) }

// ISO returns the timestamp as pydantic's JSON mode writes it: a "T"
// separator, microseconds only when non-zero, "Z" for UTC, and no zone for a
// naive value.
func (d DateTime) ISO() string {
	if !d.Naive {
		if _, off := d.Time.Zone(); off == 0 {
			return d.wall('T') + "Z"
		}
	}
	return d.isoformat('T')
}

// isoformat is datetime.isoformat(sep): microseconds only when non-zero,
// and the UTC offset as +HH:MM (+HH:MM:SS when it has seconds) unless the
// value is naive.
func (d DateTime) isoformat(sep byte) string {
	s := d.wall(sep)
	if d.Naive {
		return s
	}
	_, off := d.Time.Zone()
	sign := byte('+')
	if off < 0 {
		sign, off = '-', -off
	}
	s += fmt.Sprintf("%c%02d:%02d", sign, off/3600, off%3600/60)
	if off%60 != 0 {
		s += fmt.Sprintf(":%02d", off%60)
	}
	return s
}

func (d DateTime) wall(sep byte) string {
	t := d.Time
	s := fmt.Sprintf("%04d-%02d-%02d%c%02d:%02d:%02d", t.Year(), int(t.Month()), t.Day(), sep, t.Hour(), t.Minute(), t.Second())
	if us := t.Nanosecond() / 1000; us != 0 {
		s += fmt.Sprintf(".%06d", us)
	}
	return s
}

// ISOFormat is datetime.isoformat() of an aware datetime at t's instant in
// t's zone: "2026-08-01T12:00:00+00:00", microseconds only when non-zero.
func ISOFormat(t time.Time) string { return DateTime{Time: t}.isoformat('T') }
