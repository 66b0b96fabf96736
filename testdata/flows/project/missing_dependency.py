"""Imports a package that is not installed where deploy runs: Prefect reads the flow from its source."""
from warehouse_client import NOT_SET, default_charset

from prefect import flow


@flow
def missing_dep_flow(db_charset: str = NOT_SET, table: str = "events", charset: str = default_charset("utf8")):
    """Loads a table."""
