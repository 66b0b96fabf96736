from prefect import flow


@flow(name="c14-gitty")
def gitty():
    """Versioned by git."""
