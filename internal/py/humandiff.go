package py

import (
	"fmt"
	"time"
)

// HumanDiff says how far t is from now the way Prefect prints it
// (pendulum's diff_for_humans, English): "in a few seconds", "in 5
// minutes", "in 1 day", "3 days ago".
func HumanDiff(t, now time.Time) string {
	future := t.After(now)
	a, b := now.UTC(), t.UTC()
	if !future {
		a, b = b, a
	}
	// Calendar difference a → b, as pendulum's precise_diff computes it.
	years := b.Year() - a.Year()
	months := int(b.Month()) - int(a.Month())
	if months < 0 {
		months += 12
		years--
	}
	anchor := a.AddDate(years, months, 0)
	if anchor.After(b) {
		months--
		if months < 0 {
			months += 12
			years--
		}
		anchor = a.AddDate(years, months, 0)
	}
	rest := b.Sub(anchor)
	days := int(rest / (24 * time.Hour))
	rest -= time.Duration(days) * 24 * time.Hour
	hours := int(rest / time.Hour)
	rest -= time.Duration(hours) * time.Hour
	minutes := int(rest / time.Minute)
	seconds := int((rest - time.Duration(minutes)*time.Minute) / time.Second)
	weeks, remDays := days/7, days%7

	var unit string
	var count int
	switch {
	case years > 0:
		unit, count = "year", years
		if months > 6 {
			count++
		}
	case months == 11 && weeks*7+remDays > 15:
		unit, count = "year", 1
	case months > 0:
		unit, count = "month", months
		if weeks*7+remDays >= 27 {
			count++
		}
	case weeks > 0:
		unit, count = "week", weeks
		if remDays > 3 {
			count++
		}
	case remDays > 0:
		unit, count = "day", remDays
		if hours >= 22 {
			count++
		}
	case hours > 0:
		unit, count = "hour", hours
	case minutes > 0:
		unit, count = "minute", minutes
	case seconds > 10 && seconds < 60:
		unit, count = "second", seconds
	default:
		if future {
			return "in a few seconds"
		}
		return "a few seconds ago"
	}
	if count == 0 {
		count = 1
	}
	text := fmt.Sprintf("%d %s", count, unit)
	if count != 1 {
		text += "s"
	}
	if future {
		return "in " + text
	}
	return text + " ago"
}
