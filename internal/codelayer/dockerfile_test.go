package codelayer

import (
	"strings"
	"testing"
)

func strp(s string) *string { return &s }

func TestAnalyzeDockerfile(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		args       map[string]*string
		target     string
		buildkit   bool
		// want: "ok" plus details, or the start of the reason.
		dest, chown, rel, bases, sources string
		bad                              string
		line                             int
	}{
		{name: "generated, with requirements", text: "FROM prefecthq/prefect:3.9.1-python3.11\nCOPY requirements.txt /opt/prefect/flows/requirements.txt\nRUN uv pip install -r /opt/prefect/flows/requirements.txt\nCOPY . /opt/prefect/flows/\nWORKDIR /opt/prefect/flows/\n",
			dest: "/opt/prefect/flows/", bases: "prefecthq/prefect:3.9.1-python3.11", sources: "requirements.txt"},
		{name: "generated, no requirements", text: "FROM prefecthq/prefect:3.9.1-python3.11\nCOPY . /opt/prefect/flows/\nWORKDIR /opt/prefect/flows/\n",
			dest: "/opt/prefect/flows/", bases: "prefecthq/prefect:3.9.1-python3.11"},
		{name: "relative to WORKDIR", text: "FROM python:3.11-slim\nWORKDIR /app\nCOPY pyproject.toml poetry.lock ./\nRUN pip install .\nCOPY . .\nENV PYTHONPATH=/app\nCMD [\"python\"]\n",
			dest: "/app/", bases: "python:3.11-slim", sources: "pyproject.toml poetry.lock"},
		{name: "relative to the base's WORKDIR", text: "FROM prefecthq/prefect:3-latest\nCOPY . flows\n",
			rel: "flows", bases: "prefecthq/prefect:3-latest"},
		{name: "numeric chown, JSON form, continuation", text: "FROM alpine\nCOPY --chown=1000:2000 [\"./\", \\\n  \"/srv/app/\"]\nUSER 1000\n",
			dest: "/srv/app/", chown: "1000:2000", bases: "alpine"},
		{name: "ARG in FROM", text: "ARG PY=3.10\nFROM python:${PY}-slim\nCOPY . /app\n", args: map[string]*string{"PY": strp("3.12")},
			dest: "/app/", bases: "python:3.12-slim"},
		{name: "ENV in WORKDIR", text: "FROM alpine\nENV HOME_DIR=/home/app\nWORKDIR $HOME_DIR/src\nCOPY . .\n", dest: "/home/app/src/", bases: "alpine"},
		{name: "multi-stage", text: "FROM golang:1.22 AS build\nCOPY go.mod main.go ./\nRUN go build -o /out/tool .\n\nFROM python:3.11\nCOPY --from=build /out/tool /usr/local/bin/tool\nCOPY --from=ghcr.io/astral-sh/uv:0.4 /uv /bin/uv\nCOPY requirements.txt .\nRUN uv pip install --system -r requirements.txt\nCOPY . /opt/app/\n",
			dest: "/opt/app/", bases: "golang:1.22 python:3.11 ghcr.io/astral-sh/uv:0.4", sources: "go.mod main.go requirements.txt"},
		{name: "target stage", text: "FROM python:3.11 AS app\nCOPY . /app\nFROM app AS test\nRUN pytest\n", target: "app", dest: "/app/", bases: "python:3.11"},
		{name: "escape directive", text: "# escape=`\nFROM alpine\nCOPY . `\n  /app\n", dest: "/app/", bases: "alpine"},
		{name: "comments inside a continuation", text: "FROM alpine\nRUN echo a \\\n# a comment\n  && echo b\nCOPY . /app\n", dest: "/app/", bases: "alpine"},

		{name: "RUN after the copy", text: "FROM python:3.11\nCOPY . /app\nRUN pip install /app\n", bad: "the last instruction that changes files is RUN", line: 3},
		{name: "COPY of a part", text: "FROM python:3.11\nCOPY flows /app/flows\n", bad: "the last instruction that changes files (line 2) is not `COPY . <dest>`", line: 2},
		{name: "named owner", text: "FROM python:3.11\nCOPY --chown=app:app . /app\n", bad: "COPY --chown=app:app at line 2 names a user", line: 2},
		{name: "chmod", text: "FROM python:3.11\nCOPY --chmod=755 . /app\n", bad: "COPY --chmod at line 2", line: 2},
		{name: "link", text: "FROM python:3.11\nCOPY --link . /app\n", bad: "COPY --link at line 2", line: 2},
		{name: "whole context earlier", text: "FROM python:3.11\nCOPY . /src\nRUN pip install /src\nCOPY . /app\n", bad: "COPY at line 2 copies the whole build context", line: 2},
		{name: "ADD url", text: "FROM python:3.11\nADD https://example.com/x.tgz /x\nCOPY . /app\n", bad: "ADD https://example.com/x.tgz at line 2 downloads", line: 2},
		{name: "bind mount", text: "FROM python:3.11\nRUN --mount=type=cache,target=/root/.cache --mount=target=/src pip install /src\nCOPY . /app\n", bad: "RUN --mount at line 2 reads the build context", line: 2},
		{name: "heredoc", text: "FROM python:3.11\nRUN <<EOF\necho hi\nEOF\nCOPY . /app\n", bad: "RUN at line 2 uses a heredoc", line: 2},
		{name: "frontend under BuildKit", text: "# syntax=docker/dockerfile:1.7\nFROM python:3.11\nCOPY . /app\n", buildkit: true, bad: "the Dockerfile selects a BuildKit frontend", line: 1},
		{name: "base env in WORKDIR", text: "FROM python:3.11\nWORKDIR $HOME/app\nCOPY . .\n", bad: "WORKDIR at line 2 uses a variable", line: 2},
		{name: "no FROM", text: "COPY . /app\n", bad: "COPY comes before the first FROM", line: 1},
		{name: "nothing copied", text: "FROM python:3.11\nENV A=1\n", bad: "the final stage copies no project files", line: 1},
		{name: "unknown target", text: "FROM python:3.11\nCOPY . /app\n", target: "prod", bad: `the target stage "prod" is not in the Dockerfile`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := AnalyzeDockerfile(tc.text, tc.args, tc.target, tc.buildkit)
			if tc.bad != "" {
				if !strings.HasPrefix(a.Ineligible, tc.bad) || a.Line != tc.line {
					t.Fatalf("got %q at line %d, want %q at line %d", a.Ineligible, a.Line, tc.bad, tc.line)
				}
				return
			}
			if a.Ineligible != "" {
				t.Fatalf("ineligible: %s (line %d)", a.Ineligible, a.Line)
			}
			var srcs []string
			for _, s := range a.Sources {
				srcs = append(srcs, s.Pattern)
			}
			got := []string{a.Copy.Dest, a.Copy.Chown, a.RelDest, strings.Join(a.Bases, " "), strings.Join(srcs, " ")}
			want := []string{tc.dest, tc.chown, tc.rel, tc.bases, tc.sources}
			for i := range got {
				if got[i] != want[i] {
					t.Errorf("dest, chown, rel, bases, sources = %q\nwant %q", got, want)
					break
				}
			}
		})
	}
}

func TestPreFiles(t *testing.T) {
	paths := []string{"requirements.txt", "src/a.py", "src/b/c.py", "srcx", "conf/x.yaml", "conf/y.json", "setup.py"}
	got := PreFiles([]Source{{Pattern: "requirements.txt"}, {Pattern: "src"}, {Pattern: "conf/*.yaml"}, {Pattern: "set*"}}, paths)
	want := "requirements.txt src/a.py src/b/c.py conf/x.yaml setup.py"
	if strings.Join(got, " ") != want {
		t.Fatalf("PreFiles = %v, want %s", got, want)
	}
}

func TestSubstitute(t *testing.T) {
	vars := map[string]string{"A": "1", "EMPTY": ""}
	for in, want := range map[string]string{
		"x$A": "x1", "${A}y": "1y", "${EMPTY:-d}": "d", "${A:-d}": "1", "${A:+alt}": "alt", "${EMPTY:+alt}": "", `\$A`: "$A", "$": "$",
	} {
		if got, ok := substitute(in, vars); !ok || got != want {
			t.Errorf("substitute(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	if _, ok := substitute("$HOME/x", vars); ok {
		t.Error("an unknown variable was expanded")
	}
}
