package py

import (
	"fmt"
	"strings"
)

// Signature is the parameters of a Python function that is called with
// keyword arguments only, f(**kwargs), as Prefect calls a step with its
// inputs.
type Signature struct {
	Name     string   // the function's name, as Python's TypeError names it
	Required []string // parameters without a default, in order
	Optional []string // parameters with a default
	VarKw    bool     // the function takes **kwargs
}

// ArgumentError is the TypeError Python raises when keyword arguments do
// not fit a signature: an unexpected keyword (reported first, as Python
// does) or missing required arguments.
type ArgumentError struct {
	Func       string
	Unexpected string   // the first keyword the function does not take
	Missing    []string // required parameters not given, in order
}

func (e *ArgumentError) Error() string {
	if e.Unexpected != "" {
		return fmt.Sprintf("%s() got an unexpected keyword argument '%s'", e.Func, e.Unexpected)
	}
	quoted := make([]string, len(e.Missing))
	for i, m := range e.Missing {
		quoted[i] = "'" + m + "'"
	}
	noun, list := "argument", quoted[0]
	switch n := len(quoted); {
	case n == 2:
		noun, list = "arguments", quoted[0]+" and "+quoted[1]
	case n > 2:
		noun, list = "arguments", strings.Join(quoted[:n-1], ", ")+", and "+quoted[n-1]
	}
	return fmt.Sprintf("%s() missing %d required positional %s: %s", e.Func, len(quoted), noun, list)
}

// Bind checks kwargs against the signature the way a call f(**kwargs)
// would, and returns the *ArgumentError it would raise, or nil.
func (s Signature) Bind(kwargs *Map) error {
	if !s.VarKw {
		for _, k := range kwargs.Keys() {
			if !s.takes(k) {
				return &ArgumentError{Func: s.Name, Unexpected: k}
			}
		}
	}
	var missing []string
	for _, r := range s.Required {
		if !kwargs.Has(r) {
			missing = append(missing, r)
		}
	}
	if len(missing) > 0 {
		return &ArgumentError{Func: s.Name, Missing: missing}
	}
	return nil
}

// Parameters lists every named parameter, required ones first.
func (s Signature) Parameters() []string {
	return append(append([]string{}, s.Required...), s.Optional...)
}

func (s Signature) takes(k string) bool {
	for _, p := range s.Required {
		if p == k {
			return true
		}
	}
	for _, p := range s.Optional {
		if p == k {
			return true
		}
	}
	return false
}
