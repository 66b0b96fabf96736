# Reference oracle for steps tests: answers questions with Prefect's own
# run_steps. Reads JSON requests on stdin, writes JSON answers on stdout.
# (shlex, splitlines and safe_substitute are checked in internal/py.)
import json
import sys


def answer(req):
    kind = req["kind"]
    try:
        if kind == "run_steps":
            import asyncio
            import contextlib
            import os
            from prefect.deployments.steps.core import run_steps
            os.chdir(req["dir"])
            # Streamed step output must not mix with the JSON answer.
            with contextlib.redirect_stdout(sys.stderr):
                out = asyncio.run(run_steps(req["steps"], {}, print_function=lambda *a, **k: None))
            return {"ok": out}
    except Exception as exc:
        cause = exc.__cause__ or exc
        return {"error": "%s: %s" % (type(cause).__name__, cause)}
    return {"error": "unknown kind " + kind}


reqs = json.load(sys.stdin)
json.dump([answer(r) for r in reqs], sys.stdout)
