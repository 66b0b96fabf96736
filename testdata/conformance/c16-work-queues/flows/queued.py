from prefect import flow


@flow(name="c16-queued")
def queued():
    """Queued."""
