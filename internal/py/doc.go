// Package py is Python's data model and Python's behaviour, as far as
// prefect.yaml, Prefect's client and Prefect's server expose them to
// prefectctl. Everything that must come out exactly as Prefect's Python
// code would produce it has its one implementation here, each checked
// against real Python by its conformance table (testdata/ and the
// *_test.go files that run the Prefect venv).
//
// The values: nil, bool, int64, float64, string, []any, *Map (a dict that
// keeps insertion order), Date and DateTime (what PyYAML reads from an
// unquoted date). Every package that walks a value tree relies on this
// closed set.
//
// The behaviour: str(), repr(), ascii(), bool() and type().__name__
// (builtins.go); json.loads and json.dumps (json.go); str.format
// (format.go); date and datetime text forms (datetime.go); dateparser's
// and pendulum's readings of "in 5 minutes" (dateparser.go,
// humandiff.go); str's whitespace and line rules (str.go); shlex.split
// (shlex.go); and the binding of keyword arguments to a signature
// (kwargs.go).
//
// The values and the behaviour share one package on purpose: json.loads
// builds dicts, repr and json.dumps walk them, and equality is Python's
// (1 == 1.0), so a package of values without the behaviour would either
// import this one back (a cycle) or carry copies.
package py
