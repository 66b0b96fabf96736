import asyncio

from prefect import flow


@flow(name="c20-async-job", retries=2, log_prints=True)
async def async_job(delay: float = 0.1, names: list[str] | None = None):
    """Waits a little.

    Args:
        delay: seconds to wait
        names: who to greet
    """
    await asyncio.sleep(delay)


@flow(name="c20-sync-job")
def c20_sync_job(*, mode: str = "fast", limit: int | None = None):
    return mode
