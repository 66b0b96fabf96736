from prefect import flow


@flow(name="c06-pulled")
def pulled():
    pass
