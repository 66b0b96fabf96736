from prefect import *  # noqa: F403


@flow(name="starred")  # noqa: F405
def star_flow(a: int = 1):
    pass
