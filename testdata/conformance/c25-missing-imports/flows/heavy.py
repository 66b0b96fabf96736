import not_installed_dataframe_lib as ndl
from prefect import flow


@flow(name="c25-heavy", description="Needs a library the deploying machine lacks.")
def heavy(rows: int = 10, table: str = "events", scale: float = 1.5):
    return ndl.load(table, rows) * scale


@flow(name="c25-heavy-doc")
def heavy_doc(n: int = 1):
    """Docstring of a flow that cannot be imported."""
    return ndl.load(n)
