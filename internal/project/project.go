// Package project loads prefect.yaml: it reads the file the way Prefect's
// PyYAML does, validates it against the rules of Prefect's pydantic models
// with precise positions, and selects the deployments a command acts on.
package project

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/prefectctl/prefectctl/internal/diag"
	"github.com/prefectctl/prefectctl/internal/py"
)

// DefaultFile is the file name prefect deploy reads by default.
const DefaultFile = "prefect.yaml"

// MaxFileSize bounds what is read: a prefect.yaml is a few kilobytes, and a
// huge file is almost certainly the wrong file.
const MaxFileSize = 8 << 20

// Project is a loaded and validated prefect.yaml.
type Project struct {
	File *File

	PrefectVersion string
	Name           string
	// FlowMetadata is prefectctl's own setting (`prefectctl: {flow_metadata: python}`):
	// how flow metadata is read when no flag or environment variable says.
	FlowMetadata string

	// Build, Push and Pull are the top-level actions.
	Build, Push, Pull Action

	Deployments []*Deployment

	// Env is the environment the project was loaded for ("" for none), and
	// EnvFile the overlay merged over the file, as named ("" for none).
	Env, EnvFile string

	// Warnings are problems that do not stop a deploy, such as unknown keys.
	Warnings []*diag.Error
}

// Action is a build, push or pull section as written.
type Action struct {
	Set   bool  // the key is present
	Null  bool  // present with null (or an empty mapping, which Prefect keeps as {})
	Steps []any // the steps, each a *py.Map; a single mapping is wrapped into a list
}

// Explicit reports whether the section is present and is exactly [] (no
// steps, deliberately).
func (a Action) Explicit() bool { return a.Set && !a.Null && len(a.Steps) == 0 }

// Deployment is one entry of `deployments:`.
type Deployment struct {
	Index int
	// Config holds exactly the keys the user wrote, after validation and the
	// same normalisation Prefect's model_dump(mode="json", exclude_unset=True)
	// applies (dates become ISO strings, single-step actions become lists,
	// `schedule` stays as written).
	Config *py.Map
}

// Name returns the deployment name as written, or "".
func (d *Deployment) Name() string { s, _ := d.Config.Get("name"); str, _ := s.(string); return str }

// Entrypoint returns the entrypoint as written, or "".
func (d *Deployment) Entrypoint() string {
	s, _ := d.Config.Get("entrypoint")
	str, _ := s.(string)
	return str
}

// Label names the deployment for messages: its name, or #index.
func (d *Deployment) Label() string {
	if n := d.Name(); n != "" {
		return n
	}
	return fmt.Sprintf("#%d", d.Index)
}

// Path is the field path of the deployment, e.g. deployments[1].
func (d *Deployment) Path() string { return fmt.Sprintf("deployments[%d]", d.Index) }

// File is the parsed document with the position of every value.
type File struct {
	Path   string // as the user named it
	Abs    string
	Dir    string // absolute directory holding the file
	Raw    any    // the whole document as PyYAML would load it
	pos    map[string]Pos
	keyPos map[string]Pos
}

// Pos returns the position of the value at path, or of its nearest parent.
// Its File is the file that set the value: this one, or the overlay of an
// environment (overlay.go).
func (f *File) Pos(path string) Pos {
	for p := path; ; {
		if pos, ok := f.pos[p]; ok {
			return f.own(pos)
		}
		i := strings.LastIndexAny(p, ".[")
		if i < 0 {
			if pos, ok := f.pos[""]; ok {
				return f.own(pos)
			}
			return Pos{File: f.Path}
		}
		p = p[:i]
	}
}

// KeyPos returns the position of the key naming path, or Pos(path).
func (f *File) KeyPos(path string) Pos {
	if pos, ok := f.keyPos[path]; ok {
		return f.own(pos)
	}
	return f.Pos(path)
}

// own names this file in a position recorded without a file.
func (f *File) own(p Pos) Pos {
	if p.File == "" {
		p.File = f.Path
	}
	return p
}

// Errorf makes an Invalid problem located at path, in the file that set it.
func (f *File) Errorf(path, hint, format string, args ...any) *diag.Error {
	p := f.Pos(path)
	return &diag.Error{Kind: diag.Invalid, File: p.File, Line: p.Line, Col: p.Col, Path: path, Msg: fmt.Sprintf(format, args...), Hint: hint}
}

// Parse reads prefect.yaml bytes. name is used in messages.
func Parse(name string, data []byte) (*File, error) {
	abs, _ := filepath.Abs(name)
	f := &File{Path: name, Abs: abs, Dir: filepath.Dir(abs), pos: map[string]Pos{}, keyPos: map[string]Pos{}}
	if len(data) > MaxFileSize {
		return nil, &diag.Error{Kind: diag.Invalid, File: name, Msg: fmt.Sprintf("the file is %d bytes; prefect.yaml files over %d bytes are not read", len(data), MaxFileSize), Hint: "check that --prefect-file names the right file"}
	}
	if bytes.IndexByte(data, 0) >= 0 {
		return nil, &diag.Error{Kind: diag.Invalid, File: name, Line: 1 + bytes.Count(data[:bytes.IndexByte(data, 0)], []byte("\n")), Msg: "the file contains a NUL byte: it is not a YAML text file", Hint: "check that --prefect-file names the right file"}
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, errEOF) || err.Error() == "EOF" {
			return f, nil // an empty file loads as None
		}
		return nil, yamlSyntaxError(name, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, &diag.Error{Kind: diag.Invalid, File: name, Line: extra.Line, Col: extra.Column, Msg: "expected a single document in the stream, but found another document", Hint: "remove the extra '---' document; prefect.yaml holds one document"}
	}
	c := &converter{file: name, pos: f.pos, keyPos: f.keyPos}
	v, err := c.convert(&doc, "")
	if err != nil {
		var ye *yamlError
		if errors.As(err, &ye) {
			return nil, &diag.Error{Kind: diag.Invalid, File: name, Line: ye.pos.Line, Col: ye.pos.Col, Msg: ye.msg, Hint: "fix the YAML at this position"}
		}
		return nil, err
	}
	f.Raw = v
	return f, nil
}

var errEOF = errors.New("EOF")

// yamlSyntaxError turns a yaml.v3 error ("yaml: line 3: ...") into a
// located problem.
func yamlSyntaxError(name string, err error) *diag.Error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if n, rest, ok := strings.Cut(msg, ": "); ok && strings.HasPrefix(n, "line ") {
		fmt.Sscanf(n, "line %d", &line)
		msg = rest
	}
	return &diag.Error{Kind: diag.Invalid, File: name, Line: line, Msg: "invalid YAML: " + msg, Hint: "fix the YAML syntax; a YAML linter or your editor's YAML support shows the exact spot"}
}

// Load reads and validates the prefect.yaml at path. A missing file is an
// error (Prefect carries on with an empty configuration; see
// docs/differences.md).
func Load(path string) (*Project, error) { return LoadWith(path, LoadOptions{}) }

// LoadWith reads the prefect.yaml at path, merges the overlay of the
// environment opt names over it (overlay.go), replaces the
// (( values.NAME )) placeholders (values.go) and validates the result.
// Problems name the file that set the value at fault.
func LoadWith(path string, opt LoadOptions) (*Project, error) {
	if path == "" {
		path = DefaultFile
	}
	f, err := readYAMLFile(path)
	if err != nil {
		return nil, err
	}
	// The problems of the overlay, the values and the merged file are
	// reported together.
	var problems diag.List
	var envFile string
	if opt.Overlaid() {
		o, err := readOverlay(path, opt)
		if err != nil {
			return nil, err
		}
		problems = append(problems, diag.AsList(mergeOverlay(f, o))...)
		envFile = o.Path
	}
	valueWarnings, err := applyValues(f)
	valueProblems := diag.AsList(err)
	problems = append(problems, valueProblems...)
	p, err := validate(f)
	if len(problems) > 0 {
		for _, e := range diag.AsList(err) {
			// A placeholder without a value is reported once, not also as
			// a value of the wrong type.
			if !slices.ContainsFunc(valueProblems, func(v *diag.Error) bool { return v.Path == e.Path }) {
				problems = append(problems, e)
			}
		}
		problems.Sort()
		return nil, problems
	}
	if err != nil {
		return nil, err
	}
	p.Env, p.EnvFile = opt.Env, envFile
	p.Warnings = append(p.Warnings, valueWarnings...)
	return p, nil
}

// readYAMLFile reads and parses a YAML file of the project.
func readYAMLFile(path string) (*File, error) {
	st, err := os.Stat(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil, &diag.Error{Kind: diag.Invalid, File: path, Msg: "no such file", Hint: "run prefectctl in the project directory, or pass --prefect-file PATH"}
	case err != nil:
		return nil, &diag.Error{Kind: diag.Invalid, File: path, Msg: "cannot read the file", Err: err, Hint: "check the path and its permissions"}
	case st.IsDir():
		return nil, &diag.Error{Kind: diag.Invalid, File: path, Msg: "is a directory, not a prefect.yaml file", Hint: "pass the file itself: --prefect-file " + filepath.Join(path, DefaultFile)}
	case st.Size() > MaxFileSize:
		return nil, &diag.Error{Kind: diag.Invalid, File: path, Msg: fmt.Sprintf("the file is %d bytes; prefect.yaml files over %d bytes are not read", st.Size(), MaxFileSize), Hint: "check that --prefect-file names the right file"}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &diag.Error{Kind: diag.Invalid, File: path, Msg: "cannot read the file", Err: err, Hint: "check the path and its permissions"}
	}
	return Parse(path, data)
}
