from prefect import flow


@flow(name="c17-triggered")
def triggered(event_name: str = "", source: str = ""):
    """Started by events."""
