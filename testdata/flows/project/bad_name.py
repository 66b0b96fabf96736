from prefect import flow


@flow(name="bad/name")
def bad_name():
    pass
