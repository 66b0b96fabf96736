from prefect import flow


@flow(name="c09-stepped")
def stepped(build_id: str = "none", active: bool = True):
    """Uses step outputs."""
