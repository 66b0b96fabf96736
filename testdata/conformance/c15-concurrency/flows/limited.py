from prefect import flow


@flow(name="c15-limited")
def limited():
    """Limited concurrency."""
