package cli

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prefectctl/prefectctl/internal/deploy"
)

// golden compares got with testdata/<name>, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs\n--- want\n%s\n--- got\n%s", path, want, got)
	}
}

// screen is a minimal terminal: enough of VT100 (cursor up, erase line,
// erase below, carriage return; colours ignored) to see what a person sees
// after the live status list has been redrawn in place.
type screen struct {
	lines    [][]rune
	row, col int
}

func (s *screen) write(b []byte) {
	r := []rune(string(b))
	for i := 0; i < len(r); i++ {
		for len(s.lines) <= s.row {
			s.lines = append(s.lines, nil)
		}
		switch c := r[i]; {
		case c == '\n':
			s.row, s.col = s.row+1, 0
		case c == '\r':
			s.col = 0
		case c == 0x1b && i+1 < len(r) && r[i+1] == '[':
			j := i + 2
			for j < len(r) && (r[j] >= '0' && r[j] <= '9' || r[j] == ';') {
				j++
			}
			if j == len(r) {
				return
			}
			n, _ := strconv.Atoi(string(r[i+2 : j]))
			switch r[j] {
			case 'A':
				s.row = max(0, s.row-max(n, 1))
			case 'K':
				if s.col < len(s.lines[s.row]) {
					s.lines[s.row] = s.lines[s.row][:s.col]
				}
			case 'J':
				if s.col < len(s.lines[s.row]) {
					s.lines[s.row] = s.lines[s.row][:s.col]
				}
				s.lines = s.lines[:s.row+1]
			}
			i = j
		default:
			line := s.lines[s.row]
			for len(line) < s.col {
				line = append(line, ' ')
			}
			if s.col < len(line) {
				line[s.col] = c
			} else {
				line = append(line, c)
			}
			s.lines[s.row] = line
			s.col++
		}
	}
}

func (s *screen) String() string {
	var b strings.Builder
	for _, l := range s.lines {
		b.WriteString(strings.TrimRight(string(l), " "))
		b.WriteByte('\n')
	}
	return strings.TrimRight(b.String(), "\n") + "\n"
}

// playApply feeds the events of a three-deployment apply to pr, with step
// output in between as the Docker steps write it; each event is one
// second after the previous one.
func playApply(pr *progress, clock *time.Time, stderr func(string)) {
	ev := func(k deploy.EventKind, name, msg string) {
		*clock = clock.Add(time.Second)
		pr.event(deploy.Event{Kind: k, Name: name, Message: msg})
	}
	for _, n := range []string{"etl/daily", "etl/hourly", "report/weekly"} {
		ev(deploy.EventPrepared, n, "ready")
	}
	ev(deploy.EventRunningSteps, "etl/daily", "running build and push steps")
	stderr("Step 1/2 : FROM prefecthq/prefect:3.9.1-python3.11\n")
	stderr("Step 2/2 : COPY . /opt/prefect/flows\n")
	ev(deploy.EventSteps, "etl/daily", "steps done")
	ev(deploy.EventRunningSteps, "etl/hourly", "running build and push steps")
	stderr("a7b3: Pushing ")
	stderr("100% of 12.0MB\n")
	ev(deploy.EventSteps, "etl/hourly", "steps done")
	ev(deploy.EventRunningSteps, "report/weekly", "running build and push steps")
	ev(deploy.EventSteps, "report/weekly", "steps done")
	ev(deploy.EventRegistering, "etl/daily", "registering")
	ev(deploy.EventRegistering, "etl/hourly", "registering")
	ev(deploy.EventApplied, "etl/daily", "created 6f1c0b9e-0000-4000-8000-000000000001")
	ev(deploy.EventRegistering, "report/weekly", "registering")
	ev(deploy.EventFailed, "etl/hourly", "work pool 'k8s' rejected the job variables\nsecond line")
	ev(deploy.EventApplied, "report/weekly", "updated 6f1c0b9e-0000-4000-8000-000000000003")
}

func TestProgressPlain(t *testing.T) {
	for _, quiet := range []bool{false, true} {
		t.Run(fmt.Sprintf("quiet=%v", quiet), func(t *testing.T) {
			var errOut bytes.Buffer
			a := &app{io: &IOStreams{Out: &bytes.Buffer{}, ErrOut: &errOut}, opts: globalOptions{Quiet: quiet}}
			a.ensureUI()
			clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			pr := startProgressWith(a, false, func() time.Time { return clock }, time.Hour)
			playApply(pr, &clock, func(s string) { fmt.Fprint(a.io.ErrOut, s) })
			pr.stop()
			if quiet {
				if !strings.HasPrefix(errOut.String(), "Step 1/2") || strings.Contains(errOut.String(), "etl/daily") {
					t.Errorf("--quiet printed events:\n%s", errOut.String())
				}
				return
			}
			if strings.Contains(errOut.String(), "\x1b") {
				t.Errorf("plain output has escape sequences: %q", errOut.String())
			}
			golden(t, "progress/plain.golden", errOut.String())
		})
	}
}

func TestProgressLive(t *testing.T) {
	for _, color := range []bool{false, true} {
		t.Run(fmt.Sprintf("color=%v", color), func(t *testing.T) {
			var raw bytes.Buffer
			a := &app{io: &IOStreams{Out: &bytes.Buffer{}, ErrOut: &raw, ErrTTY: true, Color: color}}
			a.ensureUI()
			clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			pr := startProgressWith(a, true, func() time.Time { return clock }, time.Hour)
			if a.io.ErrOut == &raw {
				t.Fatal("stderr is not routed through the live renderer")
			}
			var sc screen
			playApply(pr, &clock, func(s string) { fmt.Fprint(a.io.ErrOut, s) })
			pr.stop()
			if a.io.ErrOut != &raw {
				t.Error("stop did not give stderr back")
			}
			sc.write(raw.Bytes())
			if sgr := regexp.MustCompile(`\x1b\[[0-9;]*m`).MatchString(raw.String()); sgr != color {
				t.Errorf("colour=%v but colour codes present=%v: %q", color, sgr, raw.String())
			}
			golden(t, "progress/live.golden", sc.String())
			// Redrawn in place: each deployment is on screen exactly once.
			for _, n := range []string{"etl/daily", "etl/hourly", "report/weekly"} {
				if c := strings.Count(sc.String(), n); c != 1 {
					t.Errorf("%s appears %d times on screen:\n%s", n, c, sc.String())
				}
			}
		})
	}
}

// TestProgressLiveMidway checks a snapshot while work is going on: the
// running deployment has a spinner and its elapsed time, the others their
// state, and step output sits above the list.
func TestProgressLiveMidway(t *testing.T) {
	var raw bytes.Buffer
	a := &app{io: &IOStreams{Out: &bytes.Buffer{}, ErrOut: &raw, ErrTTY: true}}
	a.ensureUI()
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	pr := startProgressWith(a, true, func() time.Time { return clock }, time.Hour)
	defer pr.stop()
	for _, n := range []string{"a/one", "b/two"} {
		pr.event(deploy.Event{Kind: deploy.EventPrepared, Name: n})
	}
	pr.event(deploy.Event{Kind: deploy.EventRunningSteps, Name: "a/one"})
	fmt.Fprint(a.io.ErrOut, "building\n")
	clock = clock.Add(3 * time.Second)
	fmt.Fprint(a.io.ErrOut, "still building\n")
	var sc screen
	sc.write(raw.Bytes())
	want := "building\nstill building\n" +
		"⠋ a/one  running build and push steps 3s\n" +
		"· b/two  prepared\n" +
		"0/2 applied · 3.0s\n"
	if sc.String() != want {
		t.Errorf("screen:\n%s\nwant:\n%s", sc.String(), want)
	}
}
