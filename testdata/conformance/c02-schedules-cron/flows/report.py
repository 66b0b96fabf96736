from prefect import flow


@flow(name="c02-report")
def report(region: str = "eu", verbose: bool = False):
    print(region, verbose)
