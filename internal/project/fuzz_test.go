package project

import (
	"strings"
	"testing"
)

// FuzzLoad feeds arbitrary bytes to the loader: it must never panic, and a
// file it accepts must select without panicking either.
func FuzzLoad(f *testing.F) {
	seeds := []string{
		threeConfigs,
		"deployments:\n- name: a\n  entrypoint: f.py:g\n  schedules: [{cron: '0 9 * * *', timezone: UTC}, {interval: PT1H}, {rrule: 'FREQ=DAILY'}]\n",
		"definitions:\n  wp: &wp {name: p, job_variables: {image: '{{ build-image.image }}'}}\ndeployments:\n- {name: a, work_pool: *wp, entrypoint: 'a.py:f'}\n- <<: {name: b}\n  work_pool: *wp\n",
		"build: {prefect.deployments.steps.run_shell_script: {script: echo}}\ndeployments: []\n",
		"a: &a [*a]\n",
		"k: !!binary aGVsbG8=\n",
		"deployments:\n- concurrency_limit: {limit: '3', collision_strategy: ENQUEUE, grace_period_seconds: 60}\n",
		"x: 2001-12-14t21:59:43.10-05:00\ny: 1:30:00\nz: 0x1F\n",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<16 {
			return
		}
		file, err := Parse("fuzz.yaml", data)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("an error without a message")
			}
			return
		}
		p, err := validate(file)
		if err != nil {
			if !strings.Contains(err.Error(), "fuzz.yaml") {
				t.Fatalf("a validation error that does not name the file: %v", err)
			}
			return
		}
		_, _ = p.Select(SelectOptions{All: true})
		_, _ = p.Select(SelectOptions{Names: []string{"*"}})
	})
}

// FuzzOverlay merges arbitrary overlays over arbitrary files and replaces
// values: never a panic, and every problem names one of the two files.
func FuzzOverlay(f *testing.F) {
	f.Add([]byte(overlayBase), []byte("deployments:\n- name: etl/daily\n  tags: [prod]\n  work_pool: {name: (( values.pool ))}\nprefectctl: {values: {pool: p}}\n"))
	f.Add([]byte(overlayBase), []byte("deployments:\n  report/daily: null\n  hourly: {name: h2, schedules: null}\n"))
	f.Add([]byte(valuesBase), []byte("prefectctl: {values: {image: {tag: x}, replicas: [1]}}\n"))
	f.Add([]byte("deployments: [1, {name: a}]\n"), []byte("deployments: [{name: a, x: null}, {name: a}]\n"))
	f.Add([]byte("- a\n"), []byte("deployments: {a: 3}\n"))
	f.Fuzz(func(t *testing.T, base, over []byte) {
		if len(base)+len(over) > 1<<16 {
			return
		}
		file, err := Parse("base.yaml", base)
		if err != nil {
			return
		}
		o, err := Parse("over.yaml", over)
		if err != nil {
			return
		}
		var problems []error
		problems = append(problems, mergeOverlay(file, o))
		_, err = applyValues(file)
		problems = append(problems, err)
		p, err := validate(file)
		problems = append(problems, err)
		for _, err := range problems {
			if err != nil && !strings.Contains(err.Error(), "base.yaml") && !strings.Contains(err.Error(), "over.yaml") {
				t.Fatalf("a problem that names no file: %v", err)
			}
		}
		if p != nil {
			_ = p.YAML()
			_, _ = p.Select(SelectOptions{All: true})
		}
	})
}
