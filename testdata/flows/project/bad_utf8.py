from prefect import flow


@flow
def bad_bytes(name: str = "café"):
    pass
