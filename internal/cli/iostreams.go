package cli

import (
	"io"
	"os"

	"golang.org/x/term"
)

// IOStreams are the process's standard streams plus what is known about
// the terminal. Results go to Out, progress, warnings and errors to ErrOut.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer

	OutTTY bool // Out is a terminal
	ErrTTY bool // ErrOut is a terminal
	Color  bool // styles may be used on ErrOut/Out
}

func newIOStreams(in io.Reader, out, errOut io.Writer) *IOStreams {
	s := &IOStreams{In: in, Out: out, ErrOut: errOut}
	s.OutTTY = isTerminal(out)
	s.ErrTTY = isTerminal(errOut)
	_, noColor := os.LookupEnv("NO_COLOR")
	s.Color = (s.OutTTY || s.ErrTTY) && !noColor && os.Getenv("TERM") != "dumb"
	if os.Getenv("PREFECTCTL_FORCE_TTY") == "1" { // tests of the TTY path
		s.OutTTY, s.ErrTTY = true, true
		s.Color = !noColor
	}
	return s
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
