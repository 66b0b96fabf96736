from prefect import flow


@flow(name="c01-hello")
def hello(name: str = "Marvin"):
    """Say hello to someone.

    Longer text that is part of the description too.
    """
    print(f"Hello, {name}!")
