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
