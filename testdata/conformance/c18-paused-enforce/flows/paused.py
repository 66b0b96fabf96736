from prefect import flow


@flow(name="c18-paused")
def paused(n: int = 1):
    """Sometimes paused."""
