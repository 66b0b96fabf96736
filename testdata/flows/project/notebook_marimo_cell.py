import marimo

app = marimo.App()


@app.cell
def _():
    from prefect import flow

    @flow
    def cell_flow(n: int = 1):
        return n

    return (cell_flow,)


if __name__ == "__main__":
    app.run()
