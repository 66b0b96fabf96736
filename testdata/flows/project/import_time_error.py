"""Code that fails when the module is imported (a missing setting): Prefect reads the flow from its source."""
import os

from prefect import flow

BUCKET = os.environ["PREFECTCTL_TEST_UNSET_BUCKET"]
RETRIES = 3


@flow
def import_error_flow(retries: int = RETRIES, region: str = "eu"):
    pass
