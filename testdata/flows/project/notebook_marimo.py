import marimo

__generated_with = "0.13.0"
app = marimo.App(width="medium")

with app.setup:
    # marimo runs this block before any cell: the notebook's imports.
    from prefect import flow


@app.function
@flow(name="marimo-etl")
def notebook_flow(rows: int = 100, table: str = "events"):
    """A flow defined in a marimo notebook."""
    return rows


@app.cell
def _():
    notebook_flow()
    return


if __name__ == "__main__":
    app.run()
