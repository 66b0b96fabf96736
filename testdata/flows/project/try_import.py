"""try/except imports: an optional dependency that is missing, and a fallback decorator."""
try:
    from prefect import flow
except ImportError:  # pragma: no cover - Prefect is installed wherever this deploys
    def flow(fn=None, **kwargs):
        return fn

try:
    from prefectctl_missing_settings import BATCH
except ImportError:
    BATCH = 500


@flow
def tolerant_flow(batch: int = BATCH, label: str = "x"):
    pass
