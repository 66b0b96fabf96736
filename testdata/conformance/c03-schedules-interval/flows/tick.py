from prefect import flow


@flow(name="c03-tick")
def tick(n: int = 1):
    return n
