from prefect import flow


@flow(name="c08-envy")
def envy(target: str = "dev", count: int = 0):
    """Deployed with values from the environment."""
