from prefect import flow


@flow(name="c24-custom")
def custom(count: int = 0, data: dict = {}):
    pass
