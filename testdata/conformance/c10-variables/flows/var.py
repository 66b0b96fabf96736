from prefect import flow


@flow(name="c10-var")
def var(config: dict = {}, label: str = ""):
    """Reads variables."""
