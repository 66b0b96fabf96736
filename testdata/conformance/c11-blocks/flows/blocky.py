from prefect import flow


@flow(name="c11-blocky")
def blocky(settings: dict = {}, host: str = ""):
    """Reads blocks."""
