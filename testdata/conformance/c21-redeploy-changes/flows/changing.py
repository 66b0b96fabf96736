from prefect import flow


@flow(name="c21-changing")
def changing(level: int = 1):
    """Changes between deploys."""
