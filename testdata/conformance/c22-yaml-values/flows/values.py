from prefect import flow


@flow(name="c22-values")
def values(payload: dict = {}, when: str = "", items: list = []):
    """Pays attention to YAML — and unicode: ünïcödé ✓."""
