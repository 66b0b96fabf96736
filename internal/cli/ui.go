package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"charm.land/lipgloss/v2"
	"github.com/spf13/cobra"

	"github.com/prefectctl/prefectctl/internal/diag"
)

// palette is the one place colours are chosen.
type palette struct {
	err, warn, ok, dim, bold, key, added, removed lipgloss.Style
}

func newPalette(color bool) palette {
	if !color {
		plain := lipgloss.NewStyle()
		return palette{plain, plain, plain, plain, plain, plain, plain, plain}
	}
	s := lipgloss.NewStyle
	return palette{
		err:     s().Foreground(lipgloss.Red).Bold(true),
		warn:    s().Foreground(lipgloss.Yellow),
		ok:      s().Foreground(lipgloss.Green),
		dim:     s().Faint(true),
		bold:    s().Bold(true),
		key:     s().Foreground(lipgloss.Cyan),
		added:   s().Foreground(lipgloss.Green),
		removed: s().Foreground(lipgloss.Red),
	}
}

// ui renders human output: results on Out, everything else on ErrOut.
type ui struct {
	io   *IOStreams
	opts globalOptions
	p    palette
	// mu serialises lines written from concurrent registrations (debug
	// traces of parallel HTTP calls, warnings); ErrOut need not be safe
	// for concurrent use.
	mu sync.Mutex
}

func newUI(s *IOStreams, o globalOptions) *ui {
	return &ui{io: s, opts: o, p: newPalette(s.Color && !o.NoColor)}
}

// reportError writes err to stderr with its location and hint.
func (u *ui) reportError(err error) {
	var silent *silentError
	if errors.As(err, &silent) {
		return
	}
	var list diag.List
	if errors.As(err, &list) && len(list) == 1 {
		err = list[0]
	} else if errors.As(err, &list) {
		fmt.Fprintf(u.io.ErrOut, "%s %d problems found:\n", u.p.err.Render("Error:"), len(list))
		for _, e := range list {
			u.writeProblem(u.io.ErrOut, "  ", e)
		}
		return
	}
	var d *diag.Error
	if !errors.As(err, &d) {
		d = &diag.Error{Msg: err.Error()}
	}
	fmt.Fprint(u.io.ErrOut, u.p.err.Render("Error:")+" ")
	u.writeProblem(u.io.ErrOut, "", d)
}

func (u *ui) writeProblem(w io.Writer, indent string, e *diag.Error) {
	fmt.Fprintf(w, "%s%s\n", indent, e.Error())
	if e.Hint != "" {
		fmt.Fprintf(w, "%s  %s %s\n", indent, u.p.dim.Render("hint:"), e.Hint)
	}
}

// warn prints a warning to stderr unless --quiet.
func (u *ui) warn(e *diag.Warning) {
	if u.opts.Quiet {
		return
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	fmt.Fprint(u.io.ErrOut, u.p.warn.Render("Warning:")+" ")
	u.writeProblem(u.io.ErrOut, "", e)
}

// infof prints progress to stderr unless --quiet.
func (u *ui) infof(format string, args ...any) {
	if u.opts.Quiet {
		return
	}
	fmt.Fprintf(u.io.ErrOut, format+"\n", args...)
}

// debugf prints internal detail to stderr with --debug.
func (u *ui) debugf(format string, args ...any) {
	if u.opts.Debug {
		u.mu.Lock()
		defer u.mu.Unlock()
		fmt.Fprintln(u.io.ErrOut, u.p.dim.Render("debug: "+fmt.Sprintf(format, args...)))
	}
}

type kv struct{ k, v string }

func (u *ui) printKV(w io.Writer, rows []kv) {
	width := 0
	for _, r := range rows {
		width = max(width, len(r.k))
	}
	for _, r := range rows {
		if r.v == "" {
			continue
		}
		fmt.Fprintf(w, "%s%s  %s\n", u.p.key.Render(r.k), strings.Repeat(" ", width-len(r.k)), r.v)
	}
}

// writeJSON writes v indented. Values holding py.Map keep their order
// because Map implements json.Marshaler.
func writeJSON(w io.Writer, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	if err := json.Indent(&b, raw, "", "  "); err != nil {
		return err
	}
	b.WriteByte('\n')
	_, err = w.Write(b.Bytes())
	return err
}

// addOutputFlag adds -o/--output with the formats a script can read.
func addOutputFlag(cmd *cobra.Command, dst *string) {
	cmd.Flags().StringVarP(dst, "output", "o", "text", "output format: text or json")
}

// checkOutput validates an -o value.
func checkOutput(o string) error {
	if o != "text" && o != "json" {
		return usageErr("use -o text or -o json", "unknown output format %q", o)
	}
	return nil
}
