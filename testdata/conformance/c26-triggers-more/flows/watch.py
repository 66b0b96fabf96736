from prefect import flow


@flow(name="c26-watch")
def watch(who: str = "nobody"):
    """Watches events."""
