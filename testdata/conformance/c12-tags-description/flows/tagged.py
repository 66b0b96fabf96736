from prefect import flow


@flow(name="c12-tagged", description="Description given to the decorator.")
def tagged():
    """The docstring loses against the decorator."""
