from prefect import flow


@flow(name="sales-report")
def sales_report(recipients: list[str]):
    """Render yesterday's sales and mail them."""
    return len(recipients)
