"""Print, as JSON, the settings Prefect itself resolves in the current
directory and environment. Used by config's oracle test as the reference.

Usage: python settings_oracle.py [PROFILE]   (PROFILE acts like `prefect --profile PROFILE`)

`prefect config view` is not used as the oracle: it re-derives sources on
its own (case-sensitive .env keys, merged packaged profiles) and can show
values the client would not use.
"""
import json
import os
import sys

profile = sys.argv[1] if len(sys.argv) > 1 else ""
# Prefect's profile loader reads `--profile` from argv when argv[0] is the prefect script.
sys.argv = ["/usr/local/bin/prefect"] + (["--profile", profile] if profile else [])

import prefect.context  # noqa: E402  (argv must be set first)
from prefect.settings import get_current_settings  # noqa: E402


def secret(v):
    return v.get_secret_value() if v is not None else ""


def dump(name, s):
    print(json.dumps({
        "PREFECT_PROFILE": name,
        "PREFECT_API_URL": s.api.url or "",
        "PREFECT_API_KEY": secret(s.api.key),
        "PREFECT_API_AUTH_STRING": secret(s.api.auth_string),
        "PREFECT_API_REQUEST_TIMEOUT": str(s.api.request_timeout),
        "PREFECT_UI_URL": s.ui_url or "",
        "PREFECT_CLOUD_UI_URL": s.cloud.ui_url or "",
        "PREFECT_DEPLOYMENTS_DEFAULT_WORK_POOL_NAME": s.deployments.default_work_pool_name or "",
        "PREFECT_CLIENT_MAX_RETRIES": str(s.client.max_retries),
        "PREFECT_CLIENT_RETRY_EXTRA_CODES": ",".join(str(c) for c in sorted(s.client.retry_extra_codes)),
        "is_cloud": s.connected_to_cloud,
        "profiles_path": os.path.abspath(str(s.profiles_path)),
    }))


ctx = prefect.context.get_settings_context()
if profile and ctx.profile.name != profile:
    # What the CLI does for a --profile the root context did not select.
    try:
        with prefect.context.use_profile(profile, override_environment_variables=True) as c:
            dump(c.profile.name, c.settings)
    except KeyError:
        print(json.dumps({"error": "unknown profile"}))
else:
    dump(ctx.profile.name, get_current_settings())
