"""Golden oracle for internal/flowmeta.

Loads every entrypoint listed in testdata/flows/entrypoints.txt the way
`prefect deploy` does (prefect.flows.load_flow_from_entrypoint, with the
project directory as the working directory) and writes, per entrypoint,
what `prefect deploy` would register: the flow name, description, version
and the parameter_openapi_schema it sends (ParameterSchema.model_dump with
exclude_unset=True). An entrypoint Prefect refuses is recorded as an error.

Usage: python flow-oracle.py TESTDATA_FLOWS_DIR OUT_DIR
"""

import json
import os
import sys
import warnings


def golden_name(entrypoint):
    # Stable, filesystem-safe key; the Go test derives the same name.
    out = []
    for ch in entrypoint:
        out.append(ch if ch.isalnum() or ch in "-_" else "_")
    return "".join(out) + ".json"


def main():
    flows_dir, out_dir = (os.path.abspath(a) for a in sys.argv[1:3])
    project = os.path.join(flows_dir, "project")
    with open(os.path.join(flows_dir, "entrypoints.txt"), encoding="utf-8") as f:
        entrypoints = [
            ln.strip() for ln in f if ln.strip() and not ln.lstrip().startswith("#")
        ]
    os.chdir(project)
    sys.path.insert(0, project)
    warnings.simplefilter("ignore")

    from prefect.flows import load_flow_from_entrypoint
    from prefect.utilities.callables import parameter_schema

    os.makedirs(out_dir, exist_ok=True)
    for ep in entrypoints:
        try:
            flow = load_flow_from_entrypoint(ep)
            rec = {
                "entrypoint": ep,
                "name": flow.name,
                "description": flow.description,
                "version": flow.version,
                "parameter_openapi_schema": parameter_schema(flow).model_dump(
                    exclude_unset=True
                ),
            }
        except Exception as exc:  # recorded: the Go side must refuse it too
            rec = {"entrypoint": ep, "error": type(exc).__name__}
        with open(os.path.join(out_dir, golden_name(ep)), "w", encoding="utf-8") as f:
            json.dump(rec, f, indent=2, sort_keys=True, ensure_ascii=False)
            f.write("\n")


if __name__ == "__main__":
    main()
