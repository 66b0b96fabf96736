package steps

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/prefectctl/prefectctl/internal/diag"
	"github.com/prefectctl/prefectctl/internal/py"
	"github.com/prefectctl/prefectctl/internal/steps/docker"
	"github.com/prefectctl/prefectctl/internal/template"
)

// Env is what steps see of the outside world.
type Env struct {
	// Dir is the working directory (Prefect's CWD). A set_working_directory
	// build or push step moves the Runner's directory (see Runner.Dir) for
	// the steps after it; Env itself is not modified.
	Dir string
	// Environ looks up environment variables; nil means the process
	// environment. Child processes get os.Environ() filtered through it.
	Environ func(string) (string, bool)
	// Resolver reads blocks and variables; nil fails steps that use them.
	// A step reads each placeholder's value more than once (to mask it in
	// failures, then to fill it in): give the invocation's
	// template.NewCachedResolver, which also shares the reads with
	// planning.
	Resolver template.Resolver
	// Stdout and Stderr receive streamed step output; progress lines go
	// to Stderr.
	Stdout, Stderr io.Writer
	// Python is the user's interpreter for steps prefectctl does not
	// implement; empty means python3 on PATH.
	Python string
	// AllowPipInstall lets the bridge pip-install a step's requires.
	AllowPipInstall bool
	// Docker configures the Docker steps; Dir, Environ, Stderr and Python
	// are filled in from Env when empty.
	Docker docker.Options
}

func (e *Env) lookup(k string) (string, bool) {
	if e.Environ == nil {
		return os.LookupEnv(k)
	}
	return e.Environ(k)
}

// environ lists the child-process environment: the process's variables as
// Environ sees them.
func (e *Env) environ() []string {
	if e.Environ == nil {
		return os.Environ()
	}
	var out []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if v, ok := e.Environ(k); ok {
			out = append(out, k+"="+v)
		}
	}
	return out
}

func (e *Env) stdout() io.Writer {
	if e.Stdout == nil {
		return io.Discard
	}
	return e.Stdout
}

func (e *Env) stderr() io.Writer {
	if e.Stderr == nil {
		return io.Discard
	}
	return e.Stderr
}

// Runner runs steps for one prefectctl invocation. It holds the Docker
// steps' memo (identical Docker steps run once), so one Runner must
// serve every deployment of a
// `deploy --all`.
//
// A Runner may be shared by goroutines; steps run in the order of each
// Run call, and identical Docker steps running at once share one build.
type Runner struct {
	env    *Env
	docker *docker.Steps
	mu     sync.Mutex
	dir    string
	warned map[string]bool
	// hints are the deployment context PlanImages found for each build
	// step, which the step gets when it runs.
	hints map[*Step]*docker.Hints
}

// NewRunner returns a Runner over env.
func NewRunner(env *Env) *Runner {
	d := env.Docker
	if d.Environ == nil {
		d.Environ = env.lookup
	}
	if d.Stderr == nil {
		d.Stderr = env.stderr()
	}
	if d.Python == "" {
		d.Python = env.Python
	}
	return &Runner{env: env, dir: env.Dir, docker: docker.New(d, docker.Deps{}), warned: map[string]bool{}}
}

// Close releases the Docker connection.
func (r *Runner) Close() error { return r.docker.Close() }

// Pushed lists the images pushed so far with their registry digests.
func (r *Runner) Pushed() []docker.Pushed { return r.docker.Pushed() }

// Dir is the current working directory, after any set_working_directory.
func (r *Runner) Dir() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.dir
}

// stepEnv is Env as the next step sees it: with the current directory.
func (r *Runner) stepEnv() *Env {
	e := *r.env
	e.Dir = r.Dir()
	return &e
}

func (r *Runner) warnOnce(msg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.warned[msg] {
		return
	}
	r.warned[msg] = true
	fmt.Fprintln(r.env.stderr(), msg)
}

// Run runs steps in order, each seeing the outputs of everything before
// it, and returns a copy of outputs with theirs merged in: under the
// step's id and flat, the latest step winning. The first failure stops the
// run; the error is a *diag.Error naming the step.
func (r *Runner) Run(ctx context.Context, steps []*Step, outputs *py.Map) (*py.Map, error) {
	if outputs == nil {
		outputs = py.NewMap()
	} else {
		outputs = py.Clone(outputs).(*py.Map)
	}
	if len(steps) > 0 {
		fmt.Fprintf(r.env.stderr(), "Running deployment %s steps...\n", steps[0].Section)
	}
	for _, s := range steps {
		if s == nil {
			continue
		}
		if err := ctx.Err(); err != nil {
			return nil, &diag.Error{Kind: diag.Interrupted, Msg: fmt.Sprintf("interrupted before %s (%s)", s.Written, s.Where()), Err: err}
		}
		fmt.Fprintf(r.env.stderr(), " > Running %s step...\n", s.Name())
		out, err := r.runStep(ctx, s, outputs)
		if err != nil {
			return nil, err
		}
		if out == nil {
			continue // Prefect ignores a non-mapping result
		}
		if s.ID != "" {
			outputs.Set(s.ID, py.Clone(out))
		}
		outputs.Update(out)
	}
	return outputs, nil
}

func (r *Runner) runStep(ctx context.Context, s *Step, upstream *py.Map) (*py.Map, error) {
	if s.Legacy {
		r.warnOnce(fmt.Sprintf("Warning: %s is a Prefect 2 step name that Prefect 3 cannot import; prefectctl runs %s instead. Rename it in prefect.yaml.", s.Written, s.FQN))
	}
	inputs, secrets, err := r.template(ctx, s, upstream)
	if err != nil {
		return nil, r.fail(s, r.stepEnv(), err, nil)
	}
	env := r.stepEnv()
	var out *py.Map
	switch s.FQN {
	case RunShellScript:
		var o *ShellOptions
		if o, err = parseShell(inputs); err == nil {
			out, err = RunShell(ctx, o, env)
		}
	case SetWorkingDirectory:
		out, err = r.setWorkingDirectory(env, inputs)
	case PipInstallRequirements:
		out, err = r.pipInstall(ctx, env, inputs)
	case BuildDockerImage:
		out, err = r.docker.BuildImageWith(ctx, env.Dir, inputs, r.hintsFor(s))
	case PushDockerImage:
		out, err = r.docker.PushImage(ctx, env.Dir, inputs)
	default:
		out, err = r.bridge(ctx, env, s, inputs)
	}
	if err != nil {
		return nil, r.fail(s, env, err, secrets)
	}
	return out, nil
}

// template resolves a step's inputs exactly as Prefect's run_step does:
// step outputs (remove_notset), then blocks, then variables, then the
// environment. It also returns the strings blocks and variables brought
// in, so failures can keep them out of messages.
func (r *Runner) template(ctx context.Context, s *Step, upstream *py.Map) (*py.Map, []string, error) {
	opt := template.Options{RemoveNotSet: true, Env: r.env.lookup}
	v, err := template.ApplyValues(s.Inputs, upstream, opt)
	if err != nil {
		return nil, nil, err
	}
	var secrets []string
	if r.env.Resolver == nil {
		phs, err := template.FindPlaceholders(v)
		if err != nil {
			return nil, nil, err
		}
		for _, p := range phs {
			if p.Kind == template.BlockDocument || p.Kind == template.Variable {
				return nil, nil, &diag.Error{Kind: diag.Runtime, Msg: fmt.Sprintf("%s needs the Prefect API to resolve {{ %s }}", s.Written, p.Name),
					Hint: "set PREFECT_API_URL (or select a profile) so blocks and variables can be read"}
			}
		}
	} else {
		res := r.env.Resolver
		if secrets, err = resolvedValues(ctx, v, res); err != nil {
			return nil, nil, err
		}
		if v, err = template.ResolveBlockReferences(ctx, v, res); err != nil {
			return nil, nil, err
		}
		if v, err = template.ResolveVariables(ctx, v, res); err != nil {
			return nil, nil, err
		}
	}
	if v, err = template.ApplyValues(v, template.EnvValues(r.env.Environ), opt); err != nil {
		return nil, secrets, err
	}
	m, ok := v.(*py.Map)
	if !ok {
		return nil, secrets, fmt.Errorf("templated inputs are %s, not a mapping", py.TypeName(v))
	}
	return m, secrets, nil
}

// resolvedValues returns the strings each block and variable placeholder
// in v stands for, longest first: they may be secret, so failures mask
// them.
func resolvedValues(ctx context.Context, v any, res template.Resolver) ([]string, error) {
	phs, err := template.FindPlaceholders(v)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []string
	for _, p := range phs {
		var x any
		switch p.Kind {
		case template.BlockDocument:
			x, err = template.ResolveBlockReferences(ctx, "{{ "+p.Name+" }}", res)
		case template.Variable:
			x, err = template.ResolveVariables(ctx, "{{ "+p.Name+" }}", res)
		default:
			continue
		}
		if err != nil {
			return nil, err
		}
		walkStrings(x, func(s string) {
			if len(s) >= 3 && !seen[s] {
				seen[s] = true
				out = append(out, s)
			}
		})
	}
	// Longest first, so a secret containing another is masked whole.
	sort.Slice(out, func(i, j int) bool { return len(out[i]) > len(out[j]) })
	return out, nil
}

func walkStrings(v any, fn func(string)) {
	switch t := v.(type) {
	case string:
		fn(t)
	case []any:
		for _, x := range t {
			walkStrings(x, fn)
		}
	case *py.Map:
		for _, k := range t.Keys() {
			x, _ := t.Get(k)
			walkStrings(x, fn)
		}
	}
}

func redact(s string, secrets []string) string {
	for _, sec := range secrets {
		s = strings.ReplaceAll(s, sec, "********")
	}
	return s
}

// hinter is an error that knows how to fix itself.
type hinter interface{ Hint() string }

// fail turns a step's error into Prefect's "Encountered error while
// running <fqn>", naming the section, index and id, keeping the cause's
// hint and kind and masking block and variable values.
func (r *Runner) fail(s *Step, env *Env, err error, secrets []string) error {
	kind := diag.Runtime
	hint := ""
	var de *diag.Error
	if errors.As(err, &de) {
		hint = de.Hint
		if de.Kind != diag.Runtime {
			kind = de.Kind
		}
	}
	var h hinter
	if hint == "" && errors.As(err, &h) {
		hint = h.Hint()
	}
	if errors.Is(err, context.Canceled) {
		kind = diag.Interrupted
	}
	var se *ShellError
	if errors.As(err, &se) && hint == "" {
		hint = "the script's stderr is shown above; run the line by hand in " + env.Dir + " to debug it"
	}
	msg := fmt.Sprintf("Encountered error while running %s (%s)", s.Written, s.Where())
	cause := redact(err.Error(), secrets)
	return &diag.Error{Kind: kind, Path: fmt.Sprintf("%s[%d]", s.Section, s.Index), Msg: msg + ": " + cause, Hint: hint, Err: redactedErr{err, cause}}
}

// redactedErr keeps the cause for errors.Is/As but prints the masked text.
type redactedErr struct {
	err error
	msg string
}

func (e redactedErr) Error() string { return e.msg }
func (e redactedErr) Unwrap() error { return e.err }

func (r *Runner) setWorkingDirectory(env *Env, in *py.Map) (*py.Map, error) {
	if err := pullSignatures[SetWorkingDirectory].Bind(in); err != nil {
		return nil, err
	}
	v, _ := in.Get("directory")
	d, ok := v.(string)
	if !ok {
		return nil, fmt.Errorf("set_working_directory: directory must be a string, got %s", py.TypeName(v))
	}
	if !filepath.IsAbs(d) {
		d = filepath.Join(env.Dir, d)
	}
	st, err := os.Stat(d)
	if err != nil {
		return nil, fmt.Errorf("[Errno 2] No such file or directory: %s", py.Repr(d))
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("[Errno 20] Not a directory: %s", py.Repr(d))
	}
	abs, err := filepath.EvalSymlinks(d)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.dir = abs
	r.mu.Unlock()
	return py.MapOf("directory", abs), nil
}

func (r *Runner) pipInstall(ctx context.Context, env *Env, in *py.Map) (*py.Map, error) {
	if err := pullSignatures[PipInstallRequirements].Bind(in); err != nil {
		return nil, err
	}
	o := &ShellOptions{StreamOutput: true}
	req := "requirements.txt"
	if v, ok := in.Get("requirements_file"); ok {
		req = py.Str(v)
	}
	if v, ok := in.Get("directory"); ok && v != nil {
		o.Directory = py.Str(v)
	}
	if v, ok := in.Get("stream_output"); ok {
		o.StreamOutput = py.Truthy(v)
	}
	py, err := python(env)
	if err != nil {
		return nil, err
	}
	// Quoted for py.ShlexSplit; the interpreter runs directly, no shell.
	o.Script = shellQuote(py) + " -m pip install -r " + shellQuote(req)
	out, err := RunShell(ctx, o, env)
	var se *ShellError
	if errors.As(err, &se) {
		return nil, fmt.Errorf("pip_install_requirements failed with error code %d: %s", se.Code, se.Stderr)
	}
	return out, err
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'"'"'`) + "'" }

// CheckDocker reports whether the Docker daemon the Docker steps would use
// answers.
func (r *Runner) CheckDocker(ctx context.Context) error { return r.docker.CheckDaemon(ctx) }
