from typing import Any, Dict, List, Optional

from prefect import flow


@flow(name="c04-etl", description="Extract, transform and load.")
def etl(
    source: str,
    batch_size: int = 100,
    ratio: float = 0.5,
    dry_run: bool = False,
    tables: List[str] = ["a", "b"],
    options: Dict[str, Any] = {},
    note: Optional[str] = None,
):
    return source
