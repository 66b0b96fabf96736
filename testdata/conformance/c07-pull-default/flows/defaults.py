from prefect import flow


@flow(name="c07-defaults")
def defaults(x: int = 1):
    return x
