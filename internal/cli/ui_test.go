package cli

import (
	"bytes"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/prefectctl/prefectctl/internal/diag"
)

var sgrRE = regexp.MustCompile(`\x1b\[[0-9;]*m`)

// TestColorChoice: colour only on a terminal, never with NO_COLOR,
// --no-color or TERM=dumb. PREFECTCTL_FORCE_TTY stands in for a terminal
// (the tmux test covers a real one).
func TestColorChoice(t *testing.T) {
	cases := []struct {
		name      string
		env       map[string]string
		args      []string
		wantColor bool
	}{
		{"pipe", nil, nil, false},
		{"terminal", map[string]string{"PREFECTCTL_FORCE_TTY": "1"}, nil, true},
		{"terminal NO_COLOR", map[string]string{"PREFECTCTL_FORCE_TTY": "1", "NO_COLOR": "1"}, nil, false},
		{"terminal --no-color", map[string]string{"PREFECTCTL_FORCE_TTY": "1"}, []string{"--no-color"}, false},
		{"pipe NO_COLOR", map[string]string{"NO_COLOR": "1"}, nil, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv("NO_COLOR", "")
			t.Setenv("PREFECTCTL_FORCE_TTY", "")
			t.Setenv("TERM", "xterm-256color")
			for k, v := range c.env {
				t.Setenv(k, v)
			}
			if _, set := c.env["NO_COLOR"]; !set {
				unsetenv(t, "NO_COLOR")
			}
			var out, errOut bytes.Buffer
			code := Main(append(c.args, "version", "--bogus"), strings.NewReader(""), &out, &errOut)
			if code != ExitUsage {
				t.Fatalf("exit %d", code)
			}
			if !strings.Contains(errOut.String(), "unknown flag: --bogus") {
				t.Fatalf("stderr %q", errOut.String())
			}
			if got := sgrRE.MatchString(errOut.String()); got != c.wantColor {
				t.Errorf("colour %v, want %v: %q", got, c.wantColor, errOut.String())
			}
		})
	}
}

// TestQuietHidesInfoAndWarnings: --quiet keeps errors and results only.
func TestQuietHidesInfoAndWarnings(t *testing.T) {
	for _, quiet := range []bool{false, true} {
		var out, errOut bytes.Buffer
		u := newUI(&IOStreams{Out: &out, ErrOut: &errOut}, globalOptions{Quiet: quiet})
		u.infof("step %d", 1)
		u.warn(&diag.Warning{Msg: "careful"})
		u.debugf("hidden without --debug")
		u.reportError(&diag.Error{Msg: "broken", Hint: "fix it"})
		got := errOut.String()
		if strings.Contains(got, "step 1") == quiet || strings.Contains(got, "careful") == quiet {
			t.Errorf("quiet=%v: %q", quiet, got)
		}
		if !strings.Contains(got, "Error: broken") || !strings.Contains(got, "hint: fix it") || strings.Contains(got, "hidden") {
			t.Errorf("quiet=%v: %q", quiet, got)
		}
	}
}

// TestProgressMode: the live list only on a terminal that can redraw, and
// not when the user asked for every detail.
func TestProgressMode(t *testing.T) {
	cases := []struct {
		name string
		tty  bool
		opts globalOptions
		term string
		live bool
	}{
		{"terminal", true, globalOptions{}, "xterm", true},
		{"terminal no colour", true, globalOptions{NoColor: true}, "xterm", true},
		{"pipe", false, globalOptions{}, "xterm", false},
		{"quiet", true, globalOptions{Quiet: true}, "xterm", false},
		{"verbose", true, globalOptions{Verbose: true}, "xterm", false},
		{"debug", true, globalOptions{Debug: true}, "xterm", false},
		{"dumb terminal", true, globalOptions{}, "dumb", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv("TERM", c.term)
			var errOut bytes.Buffer
			a := &app{io: &IOStreams{Out: &bytes.Buffer{}, ErrOut: &errOut, ErrTTY: c.tty}, opts: c.opts}
			a.ensureUI()
			pr := startProgress(a)
			defer pr.stop()
			if pr.live != c.live {
				t.Errorf("live = %v, want %v", pr.live, c.live)
			}
		})
	}
}

// unsetenv removes k for the test; t.Setenv restores it afterwards.
func unsetenv(t *testing.T, k string) {
	t.Setenv(k, "")
	if err := os.Unsetenv(k); err != nil {
		t.Fatal(err)
	}
}
