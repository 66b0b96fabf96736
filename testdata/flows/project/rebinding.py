from prefect import flow

LIMIT = 1


@flow
def early_default(limit: int = LIMIT):
    pass


LIMIT = 2
