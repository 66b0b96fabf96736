// Package diag defines the problems prefectctl reports: each says where
// (file, line, column, field path), what went wrong, and how to fix it, and
// carries a Kind from which the CLI picks the exit code in one place.
package diag

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Kind classifies a problem; internal/cli maps each Kind to an exit code.
type Kind int

const (
	// Runtime is a failure while doing the work: a step, the API, Docker.
	Runtime Kind = iota
	// Usage is a wrong command line.
	Usage
	// Invalid is a project that cannot be deployed as written.
	Invalid
	// RunFailed is a watched flow run that ended FAILED, CRASHED or CANCELLED.
	RunFailed
	// Timeout is a watch or wait that ran out of time.
	Timeout
	// Interrupted is Ctrl-C or SIGTERM.
	Interrupted
)

// Error is one problem. Only Msg is required.
type Error struct {
	Kind Kind
	File string // file the problem is in, as the user named it
	Line int    // 1-based; 0 when unknown
	Col  int    // 1-based; 0 when unknown
	Path string // field path such as deployments[1].work_pool.name
	Msg  string // what is wrong
	Hint string // how to fix it
	Err  error  // the cause, if any
}

func (e *Error) Error() string {
	var b strings.Builder
	if loc := e.Location(); loc != "" {
		b.WriteString(loc)
		b.WriteString(": ")
	}
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	if e.Err != nil && !strings.Contains(e.Msg, e.Err.Error()) {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Location returns "file:line:col", or a shorter form when parts are unknown.
func (e *Error) Location() string {
	switch {
	case e.File == "":
		return ""
	case e.Line == 0:
		return e.File
	case e.Col == 0:
		return fmt.Sprintf("%s:%d", e.File, e.Line)
	default:
		return fmt.Sprintf("%s:%d:%d", e.File, e.Line, e.Col)
	}
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf makes a problem of kind k.
func Errorf(k Kind, hint, format string, args ...any) *Error {
	return &Error{Kind: k, Msg: fmt.Sprintf(format, args...), Hint: hint}
}

// Wrap gives err a kind, a message and a hint, keeping it as the cause.
func Wrap(k Kind, err error, hint, format string, args ...any) *Error {
	return &Error{Kind: k, Msg: fmt.Sprintf(format, args...), Hint: hint, Err: err}
}

// List is several problems reported together; it is an error when
// non-empty.
type List []*Error

func (l List) Error() string {
	parts := make([]string, len(l))
	for i, e := range l {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "\n")
}

// Unwrap exposes the members to errors.Is and errors.As.
func (l List) Unwrap() []error {
	errs := make([]error, len(l))
	for i, e := range l {
		errs[i] = e
	}
	return errs
}

// Err returns l as an error, or nil when it is empty.
func (l List) Err() error {
	if len(l) == 0 {
		return nil
	}
	return l
}

// AsList gives any error as problems: a List as it is, an *Error (anywhere
// in err's chain) as a List of one, anything else as one Runtime problem,
// nil as nil.
func AsList(err error) List {
	if err == nil {
		return nil
	}
	var l List
	if errors.As(err, &l) {
		return l
	}
	var e *Error
	if errors.As(err, &e) {
		return List{e}
	}
	return List{{Kind: Runtime, Msg: err.Error()}}
}

// Sort orders problems by file, line, column and path so reports are stable.
func (l List) Sort() {
	sort.SliceStable(l, func(i, j int) bool {
		a, b := l[i], l[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		if a.Col != b.Col {
			return a.Col < b.Col
		}
		return a.Path < b.Path
	})
}

// KindOf returns the kind of the first *Error in err's chain, or Runtime.
// A List takes the most severe member kind: Usage and Invalid win because
// they mean nothing was attempted.
func KindOf(err error) Kind {
	var l List
	if errors.As(err, &l) && len(l) > 0 {
		k := l[0].Kind
		for _, e := range l {
			if e.Kind == Invalid || e.Kind == Usage {
				return e.Kind
			}
		}
		return k
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Runtime
}

// Warning is a problem that does not stop the work.
type Warning = Error
