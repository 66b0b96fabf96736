from prefect import flow


@flow(name="c13-versioned", version="2024.06.1")
def versioned():
    pass


@flow(name="c13-hashed")
def hashed():
    pass
