from prefect import flow


@flow(name="c27-watched")
def watched(source: str = ""):
    """Started by events, until it is not."""
