# prefectctl's bridge to a Python step function. It reads one request as
# JSON on stdin, imports the step's function the way Prefect's
# import_object does, calls it with the inputs, and writes the outcome as
# JSON to file descriptor 3 so the step's own prints stay on stdout/stderr.
import asyncio
import importlib
import importlib.util
import inspect
import json
import os
import re
import subprocess
import sys
import traceback

EXTRAS = {
    "prefect-aws": "prefect[aws]",
    "prefect-gcp": "prefect[gcp]",
    "prefect-azure": "prefect[azure]",
    "prefect-docker": "prefect[docker]",
    "prefect-kubernetes": "prefect[kubernetes]",
}


def reply(obj):
    with os.fdopen(3, "w", encoding="utf-8") as f:
        json.dump(obj, f, default=str)


def load_object(path):
    cwd = os.getcwd()
    if ".py:" in path:
        script, attr = path.rsplit(":", 1)
        script = os.path.abspath(script)
        parent = os.path.dirname(script)
        sys.path.insert(0, parent)
        spec = importlib.util.spec_from_file_location("__prefect_step__", script)
        if spec is None or spec.loader is None:
            raise ImportError("cannot load script " + script)
        module = importlib.util.module_from_spec(spec)
        sys.modules["__prefect_step__"] = module
        spec.loader.exec_module(module)
    else:
        if ":" in path:
            mod, attr = path.rsplit(":", 1)
        elif "." in path:
            mod, attr = path.rsplit(".", 1)
        else:
            raise ValueError("Invalid format for object import. Received %r." % path)
        sys.path.insert(0, cwd)
        try:
            module = importlib.import_module(mod)
        finally:
            sys.path.remove(cwd)
    obj = module
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


def bare(req):
    return re.split(r"[<>=!~]", req)[0].strip()


def find_function(fqn, requires):
    for pkg in requires:
        importlib.import_module(bare(pkg).replace("-", "_"))
    return load_object(fqn)


def main():
    req = json.load(sys.stdin)
    fqn, requires = req["fqn"], req.get("requires") or []
    try:
        fn = find_function(fqn, requires)
    except ImportError as exc:
        if not requires or not req.get("install"):
            reply({"status": "import_error", "message": "%s: %s" % (type(exc).__name__, exc)})
            return
        print("Unable to load step function: %s. Attempting install of %s." % (fqn, requires), flush=True)
        pkgs = [EXTRAS.get(p, p) for p in requires if p]
        rc = subprocess.call([sys.executable, "-m", "pip", "install", *pkgs])
        if rc != 0:
            print("Unable to install required packages for %s" % fqn, file=sys.stderr, flush=True)
        importlib.invalidate_caches()
        try:
            fn = load_object(fqn)
        except ImportError as exc2:
            reply({"status": "import_error", "message": "%s: %s" % (type(exc2).__name__, exc2), "installed": rc == 0})
            return
    except Exception as exc:
        reply({"status": "import_error", "message": "%s: %s" % (type(exc).__name__, exc)})
        return
    try:
        result = fn(**req["inputs"])
        if inspect.isawaitable(result):
            async def wait():
                return await result
            result = asyncio.run(wait())
    except BaseException as exc:
        reply({"status": "error", "type": type(exc).__name__, "message": str(exc),
               "traceback": traceback.format_exc()})
        return
    if isinstance(result, dict):
        reply({"status": "ok", "outputs": result})
    else:
        reply({"status": "ok", "outputs": None, "type": type(result).__name__})


main()
