from prefect import flow


@flow(name="c19-hello")
def hello(name: str = "Marvin"):
    print(f"Hello, {name}!")
