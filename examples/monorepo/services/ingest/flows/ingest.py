from prefect import flow


@flow(log_prints=True)
def ingest(source: str, days: int = 1):
    """Copy the last days of a source into the warehouse."""
    print(f"ingesting {days} day(s) of {source}")
