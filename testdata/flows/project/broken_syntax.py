from prefect import flow


@flow
def broken(a: int = 1
    pass
