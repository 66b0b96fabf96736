# Embedded by internal/flowmeta (LoadWithPython): asks the user's Prefect for
# the exact flow metadata, the way `prefect deploy` computes it. Run with the
# project directory as the working directory; prints one JSON object.
import json
import os
import sys


def main():
    entrypoint = sys.argv[1]
    sys.path.insert(0, os.getcwd())
    try:
        from prefect.flows import load_flow_from_entrypoint
        from prefect.utilities.callables import parameter_schema
    except Exception as exc:  # prefect missing or broken
        print(json.dumps({"error": "import", "message": f"{type(exc).__name__}: {exc}"}))
        return
    try:
        flow = load_flow_from_entrypoint(entrypoint)
        out = {
            "name": flow.name,
            "description": flow.description,
            "version": None if flow.version is None else str(flow.version),
            "function_name": flow.fn.__name__,
            "parameter_openapi_schema": parameter_schema(flow).model_dump(
                mode="json", exclude_unset=True
            ),
        }
    except Exception as exc:
        out = {"error": "load", "message": f"{type(exc).__name__}: {exc}"}
    print(json.dumps(out))


main()
