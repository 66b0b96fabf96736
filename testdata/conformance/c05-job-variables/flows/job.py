from prefect import flow


@flow(name="c05-job")
def job():
    """Runs with custom job variables."""
